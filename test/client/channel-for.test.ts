// channelFor: a Channel to a Server over real HTTP/2 on an in-memory stream pair (no socket),
// from `[[Service, impl], ...]` or from a Server, serving all four call types, and
// `await using` disposal that closes the channel and stops the server.
import { afterEach, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as net from "node:net";
import { channelFor, Code, createClient, RpcError, Server, type Channel, type ServiceImpl } from "../../src/index.js";
import { Greeter } from "../../examples/gen/helloworld/helloworld_pb.js";
import { TestService } from "../../examples/gen/grpc/testing/test_pb.js";
import { deferred, expectRpcError, Scope, T, within } from "./helpers.js";

const scope = new Scope();
afterEach(() => scope.close());

const text = (b: Uint8Array | undefined) => Buffer.from(b ?? new Uint8Array()).toString();

const testImpl: ServiceImpl<typeof TestService> = {
  unaryCall: (req, ctx) => ({ payload: { body: Buffer.from(`unary ${text(req.payload?.body)} via ${ctx.peer}`) } }),
  async *streamingOutputCall(req) {
    for (const p of req.responseParameters) yield { payload: { body: new Uint8Array(p.size) } };
  },
  async streamingInputCall(requests) {
    let total = 0;
    for await (const r of requests) total += r.payload?.body.length ?? 0;
    return { aggregatedPayloadSize: total };
  },
  async *fullDuplexCall(requests) {
    for await (const r of requests) yield { payload: { body: Buffer.from(`re:${text(r.payload?.body)}`) } };
  },
};

/** Runs one call of each of the four types on `ch`. */
async function allFourCallTypes(ch: Channel): Promise<void> {
  const client = createClient(TestService, ch);
  const unary = await client.unaryCall({ payload: { body: Buffer.from("u") } }, { timeout: 3000 });
  assert.match(text(unary.payload?.body), /^unary u via /);
  const sizes: number[] = [];
  for await (const r of client.streamingOutputCall({ responseParameters: [{ size: 3 }, { size: 1 }, { size: 2 }] }, { timeout: 3000 })) sizes.push(r.payload!.body.length);
  assert.deepEqual(sizes, [3, 1, 2]);
  const agg = await client.streamingInputCall([4, 5].map((n) => ({ payload: { body: new Uint8Array(n) } })), { timeout: 3000 });
  assert.equal(agg.aggregatedPayloadSize, 9);
  const echoes: string[] = [];
  for await (const r of client.fullDuplexCall(["a", "b"].map((s) => ({ payload: { body: Buffer.from(s) } })), { timeout: 3000 })) echoes.push(text(r.payload?.body));
  assert.deepEqual(echoes, ["re:a", "re:b"]);
}

/** Whether anything accepts TCP connections on 127.0.0.1:port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1");
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

describe("channelFor", () => {
  it("channelFor([[Service, impl]]) serves all four call types over in-memory HTTP/2 without any socket (OK)", T, async () => {
    const sockets = () => process.getActiveResourcesInfo().filter((r) => /TCP|Pipe/.test(r)).length;
    const before = sockets();
    await using ch = channelFor([[TestService, testImpl]]);
    await allFourCallTypes(ch);
    assert.equal(ch.state, "ready");
    assert.equal(sockets(), before, `socket handles: ${process.getActiveResourcesInfo().join(", ")}`);
  });

  it("channelFor(server) starts the server if needed and serves calls without binding any port (server.ports is empty, OK)", T, async () => {
    const server = scope.trackServer(new Server());
    server.addService(TestService, testImpl);
    await using ch = channelFor(server);
    await allFourCallTypes(ch);
    assert.deepEqual(server.ports, [], "no TCP port was bound");
    assert.equal(server.activeCalls, 0);
  });

  it("channelFor(server) on a server that also listens on a port: in-memory calls do not use the port (OK)", T, async () => {
    const { server, port } = await scope.server((s) => s.addService(TestService, testImpl));
    const sockets = () => process.getActiveResourcesInfo().filter((r) => /TCP|Pipe/.test(r)).length;
    const before = sockets();
    await using ch = channelFor(server);
    await allFourCallTypes(ch);
    // A connection through the port would add two TCP handles (our client's and the accepted one).
    assert.equal(sockets(), before, `socket handles: ${process.getActiveResourcesInfo().join(", ")}`);
    assert.equal(server.openConnections, 0, "the listener accepted no connection");
    assert.equal(await listening(port), true);
  });

  it("several calls share the in-memory connection concurrently, and errors keep their status (NOT_FOUND)", T, async () => {
    const greeter: ServiceImpl<typeof Greeter> = {
      sayHello: async (req) => {
        if (req.name === "missing") throw new RpcError(Code.NOT_FOUND, "no such name");
        await new Promise((r) => setTimeout(r, 20));
        return { message: `hi ${req.name}` };
      },
    };
    await using ch = channelFor([[Greeter, greeter]]);
    const client = createClient(Greeter, ch);
    const replies = await Promise.all(Array.from({ length: 10 }, (_, i) => client.sayHello({ name: String(i) }, { timeout: 3000 })));
    assert.deepEqual(
      replies.map((r) => r.message),
      Array.from({ length: 10 }, (_, i) => `hi ${i}`),
    );
    await expectRpcError(client.sayHello({ name: "missing" }, { timeout: 3000 }), Code.NOT_FOUND, /no such name/);
  });

  it("`await using` disposal closes the channel and stops the server (new calls fail UNAVAILABLE)", T, async () => {
    const server = scope.trackServer(new Server());
    server.addService(Greeter, { sayHello: (req) => ({ message: req.name }) });
    let outer: Channel | undefined;
    {
      await using ch = channelFor(server);
      outer = ch;
      assert.equal((await createClient(Greeter, ch).sayHello({ name: "in" }, { timeout: 3000 })).message, "in");
    }
    assert.equal(outer.state, "shutdown");
    assert.equal(await within(server.waitForTermination(1000), 2000, "server termination"), true, "the server is stopped");
    await expectRpcError(createClient(Greeter, outer).sayHello({ name: "after" }, { timeout: 3000 }), Code.UNAVAILABLE);
  });

  it("disposal while a call runs is graceful: the running call still ends OK, then the server stops", T, async () => {
    const server = scope.trackServer(new Server());
    const entered = deferred();
    const release = deferred();
    server.addService(Greeter, {
      async sayHello(req) {
        entered.resolve();
        await release.promise;
        return { message: `done ${req.name}` };
      },
    });
    const ch = channelFor(server);
    const call = createClient(Greeter, ch).sayHello({ name: "x" }, { timeout: 10_000 });
    await within(entered.promise, 5000, "handler start");
    // The call is held until disposal has begun, so it is surely running when disposal starts.
    const disposing = ch[Symbol.asyncDispose]();
    release.resolve();
    assert.equal((await within(call, 5000, "running call")).message, "done x");
    await within(disposing, 3000, "dispose");
    assert.equal(await server.waitForTermination(0), true);
  });
});
