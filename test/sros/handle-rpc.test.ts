// The SR OS model: a script adds handlers for package/service/rpc, then each handleRpc() takes
// one RPC, runs its handler and sends the response. Proven with our client on the helloworld
// Greeter (given by descriptor, so messages are parsed) and on raw-bytes methods.
import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { Code, createClient, ErrorCode, RpcError, SwitchboardError } from "../../src/index.js";
import { Context, type GrpcServerOptions } from "../../src/sros/index.js";
import { Greeter, type HelloRequest } from "../../examples/gen/helloworld/helloworld_pb.js";
import { Fixture, rejection, settledAfterRoundTrip, T, until, within } from "./helpers.js";

let fixture: Fixture | undefined;
afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
});

async function start(options: GrpcServerOptions = { services: [Greeter] }): Promise<Fixture> {
  fixture = await Fixture.start(options);
  return fixture;
}

const hello = (request: HelloRequest) => ({ message: `Hello, ${request.name}!` });

describe("addHandler(service, rpc, handler, { package }) and handleRpc()", () => {
  it("serves /package.Service/Rpc: the handler gets the parsed request, its plain-object response is sent (OK)", T, async () => {
    const f = await start();
    let seen: HelloRequest | undefined;
    f.grpc.addHandler("Greeter", "SayHello", (request: HelloRequest) => ((seen = request), hello(request)), { package: "helloworld" });
    const reply = f.client(Greeter).sayHello({ name: "Ada" });
    await within(f.grpc.handleRpc(), 5000, "handleRpc()");
    assert.equal((await reply).message, "Hello, Ada!");
    assert.equal(seen?.$typeName, "helloworld.HelloRequest");
    assert.equal(seen?.name, "Ada");
  });

  it("handles exactly one RPC per call: a second RPC waits for the next handleRpc() (then OK)", T, async () => {
    const f = await start();
    f.grpc.addHandler("Greeter", "SayHello", hello, { package: "helloworld" });
    const channel = f.channel();
    const greeter = createClient(Greeter, channel);
    const first = greeter.sayHello({ name: "one" });
    const second = greeter.sayHello({ name: "two" });
    await within(f.grpc.handleRpc(), 5000, "first handleRpc()");
    // Arrival order decides which is handled first; one is answered, the other still waits.
    const answered = await Promise.race([first.then(() => "one"), second.then(() => "two")]);
    assert.equal(await settledAfterRoundTrip(answered === "one" ? second : first, channel), false, "the other RPC was handled without a handleRpc()");
    await within(f.grpc.handleRpc(), 5000, "second handleRpc()");
    assert.equal((await first).message, "Hello, one!");
    assert.equal((await second).message, "Hello, two!");
  });

  it("waits for an RPC that has not arrived yet, and resolves only after it was handled (OK)", T, async () => {
    const f = await start();
    f.grpc.addHandler("Greeter", "SayHello", hello, { package: "helloworld" });
    const handled = f.grpc.handleRpc();
    assert.equal(await settledAfterRoundTrip(handled, f.channel()), false, "handleRpc() resolved without an RPC for the script");
    const reply = f.client(Greeter).sayHello({ name: "late" });
    await within(handled, 5000, "handleRpc()");
    assert.equal((await reply).message, "Hello, late!");
  });

  it("without package the service is unqualified: /Service/Rpc, bytes in and out (OK)", T, async () => {
    const f = await start({});
    f.grpc.addHandler("Echo", "Say", (request: Uint8Array) => new Uint8Array([...request].reverse()));
    const reply = f.raw("/Echo/Say", "unary")(new Uint8Array([1, 2, 3]));
    await within(f.grpc.handleRpc(), 5000, "handleRpc()");
    assert.deepEqual([...(await reply)], [3, 2, 1]);
  });

  it("looks the handler up when handleRpc() takes the RPC: added after the RPC arrived, it serves it (OK)", T, async () => {
    const f = await start();
    const reply = f.client(Greeter).sayHello({ name: "early" });
    await until(() => f.server.activeCalls === 1, 5000, "the RPC arriving");
    f.grpc.addHandler("Greeter", "SayHello", hello, { package: "helloworld" });
    await within(f.grpc.handleRpc(), 5000, "handleRpc()");
    assert.equal((await reply).message, "Hello, early!");
  });

  it("a later addHandler for the same rpc replaces the handler", T, async () => {
    const f = await start();
    f.grpc.addHandler("Greeter", "SayHello", hello, { package: "helloworld" });
    f.grpc.addHandler("Greeter", "SayHello", () => ({ message: "replaced" }), { package: "helloworld" });
    const reply = f.client(Greeter).sayHello({ name: "x" });
    await within(f.grpc.handleRpc(), 5000, "handleRpc()");
    assert.equal((await reply).message, "replaced");
  });

  it("rejects bad registrations with ERR_SB_BAD_HANDLER: names, handler, an rpc the descriptor lacks, a kind it contradicts", T, async () => {
    const f = await start();
    const bad = (fn: () => void) => assert.throws(fn, (e: unknown) => e instanceof SwitchboardError && e.code === ErrorCode.BAD_HANDLER);
    bad(() => f.grpc.addHandler("", "SayHello", hello));
    bad(() => f.grpc.addHandler("Greeter", "Say/Hello", hello, { package: "helloworld" }));
    bad(() => f.grpc.addHandler("Greeter", "SayHello", "nope" as never, { package: "helloworld" }));
    bad(() => f.grpc.addHandler("Greeter", "SayGoodbye", hello, { package: "helloworld" }));
    bad(() => f.grpc.addHandler("Greeter", "SayHello", hello, { package: "helloworld", kind: "bidi_streaming" }));
    bad(() => f.grpc.addHandler("Echo", "Say", hello, { kind: "sideways" as never }));
  });
});

describe("Context", () => {
  it("context.rpc names the RPC with package and service: /helloworld.Greeter/SayHello", T, async () => {
    const f = await start();
    let context: Context | undefined;
    f.grpc.addHandler("Greeter", "SayHello", (r: HelloRequest, ctx: Context) => ((context = ctx), hello(r)), { package: "helloworld" });
    const reply = f.client(Greeter).sayHello({ name: "Ada" });
    await within(f.grpc.handleRpc(), 5000, "handleRpc()");
    await reply;
    assert.ok(context instanceof Context);
    assert.equal(context.rpc, "/helloworld.Greeter/SayHello");
    // The Switchboard call is reachable too (not in the seed): metadata, deadline, signal.
    assert.equal(context.call.method.path, "/helloworld.Greeter/SayHello");
  });
});

describe("waiting, bounded", () => {
  it("handleRpc({ timeoutMs }) rejects with ERR_SB_WAIT_TIMEOUT when no RPC arrives", T, async () => {
    const f = await start();
    const err = await rejection(f.grpc.handleRpc({ timeoutMs: 50 }));
    assert.ok(err instanceof SwitchboardError);
    assert.equal(err.code, ErrorCode.WAIT_TIMEOUT);
  });

  it("handleRpc({ signal }) rejects with the signal's reason", T, async () => {
    const f = await start();
    const controller = new AbortController();
    const waiting = f.grpc.handleRpc({ signal: controller.signal });
    controller.abort(new Error("script shutting down"));
    assert.equal((await rejection(waiting)).message, "script shutting down");
  });

  it("server.stop() rejects a waiting handleRpc() and later ones with ERR_SB_STOPPED", T, async () => {
    const f = await start();
    const waiting = f.grpc.handleRpc();
    await within(f.server.stop(0), 5000, "stop");
    const err = await rejection(waiting);
    assert.equal(err.code, ErrorCode.STOPPED);
    assert.equal((await rejection(f.grpc.handleRpc())).code, ErrorCode.STOPPED);
  });

  it("an RPC no handleRpc() takes within pendingTimeoutMs gets UNAVAILABLE", T, async () => {
    const f = await start({ services: [Greeter], pendingTimeoutMs: 100 });
    f.grpc.addHandler("Greeter", "SayHello", hello, { package: "helloworld" });
    const err = await rejection(f.client(Greeter).sayHello({ name: "x" }));
    assert.ok(err instanceof RpcError);
    assert.equal(err.code, Code.UNAVAILABLE);
  });

  it("RPCs beyond maxPendingRpcs get RESOURCE_EXHAUSTED; the waiting ones are still handled (OK)", T, async () => {
    const f = await start({ services: [Greeter], maxPendingRpcs: 1 });
    f.grpc.addHandler("Greeter", "SayHello", hello, { package: "helloworld" });
    const greeter = f.client(Greeter);
    const first = greeter.sayHello({ name: "first" });
    await until(() => f.server.activeCalls === 1, 5000, "the RPC arriving");
    const err = await rejection(greeter.sayHello({ name: "second" }));
    assert.equal(err.code, Code.RESOURCE_EXHAUSTED);
    await within(f.grpc.handleRpc(), 5000, "handleRpc()");
    assert.equal((await first).message, "Hello, first!");
  });

  it("a client that cancels while its RPC waits is dropped: the next handleRpc() gets the next RPC (CANCELLED)", T, async () => {
    const f = await start();
    f.grpc.addHandler("Greeter", "SayHello", hello, { package: "helloworld" });
    const greeter = f.client(Greeter);
    const controller = new AbortController();
    const cancelled = greeter.sayHello({ name: "gone" }, { signal: controller.signal });
    await until(() => f.server.activeCalls === 1, 5000, "the RPC arriving");
    controller.abort();
    assert.equal((await rejection(cancelled)).code, Code.CANCELLED);
    await until(() => f.server.activeCalls === 0, 5000, "the server seeing the cancel");
    const next = greeter.sayHello({ name: "next" });
    await within(f.grpc.handleRpc(), 5000, "handleRpc()");
    assert.equal((await next).message, "Hello, next!");
  });
});
