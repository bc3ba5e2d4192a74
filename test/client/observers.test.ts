// Channel.observe() / ChannelOptions.observers: the client side of the observation seam (client
// metrics stand on it). Each call starts once, counts its messages both ways and ends once with
// the status the client saw (OK, NOT_FOUND).
import { afterEach, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import { Code, createClient, RpcError, type ClientObserver, type ObservedClientCall } from "../../src/index.js";
import { Greeter } from "../../examples/gen/helloworld/helloworld_pb.js";
import { expectRpcError, Scope, T } from "./helpers.js";

const scope = new Scope();
afterEach(() => scope.close());

function recorder() {
  const seen = { started: [] as string[], ended: [] as [string, Code, number, number][], sent: 0, received: 0 };
  const observer: ClientObserver = {
    callStarted: (call: ObservedClientCall) => void seen.started.push(call.method.path),
    messageSent: () => void seen.sent++,
    messageReceived: () => void seen.received++,
    callEnded: (call, code, ms) => {
      assert.ok(ms >= 0);
      seen.ended.push([call.method.path, code, call.messagesSent, call.messagesReceived]);
    },
  };
  return { seen, observer };
}

describe("client observers", () => {
  it("unary OK and NOT_FOUND, and a server stream of 3: started/ended once each with the client's status", T, async () => {
    const { target } = await scope.server((s) =>
      s.addService(Greeter, {
        sayHello: (req) => {
          if (req.name === "missing") throw new RpcError(Code.NOT_FOUND, "no");
          return { message: req.name };
        },
        async *sayHelloStream(req) {
          for (let i = 0; i < 3; i++) yield { message: `${req.name}${i}` };
        },
      }),
    );
    const { seen, observer } = recorder();
    const channel = scope.channel(target, { observers: [observer] });
    const client = createClient(Greeter, channel);
    await client.sayHello({ name: "a" });
    await expectRpcError(client.sayHello({ name: "missing" }), Code.NOT_FOUND);
    const got: string[] = [];
    for await (const r of client.sayHelloStream({ name: "s" })) got.push(r.message);
    assert.equal(got.length, 3);
    const hello = "/helloworld.Greeter/SayHello";
    const stream = "/helloworld.Greeter/SayHelloStream";
    assert.deepEqual(seen.started, [hello, hello, stream]);
    assert.deepEqual(seen.ended, [
      [hello, Code.OK, 1, 1],
      [hello, Code.NOT_FOUND, 1, 0],
      [stream, Code.OK, 1, 3],
    ]);
    assert.equal(seen.sent, 3);
    assert.equal(seen.received, 4);
  });

  it("observe() added later sees only later calls; its unsubscribe stops it", T, async () => {
    const { target } = await scope.server((s) => s.addService(Greeter, { sayHello: (req) => ({ message: req.name }) }));
    const channel = scope.channel(target);
    const client = createClient(Greeter, channel);
    await client.sayHello({ name: "before" });
    const { seen, observer } = recorder();
    const stop = channel.observe(observer);
    await client.sayHello({ name: "during" });
    stop();
    await client.sayHello({ name: "after" });
    assert.equal(seen.ended.length, 1);
  });
});
