// Statuses through the SR OS facade, seen by our client and by the script: abort() with and
// without details, a handler exception (INTERNAL to the client, rethrown to the script), no
// handler (UNIMPLEMENTED / NotImplementedError), responses that do not fit (INTERNAL /
// TypeError), a call that ends under the handler (RpcError), and the StatusCode values.
import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { Code, ErrorCode, type ServerOptions } from "../../src/index.js";
import {
  AbortError,
  NotImplementedError,
  ResponseTypeError,
  RpcError,
  StatusCode,
  type Context,
  type GrpcServerOptions,
} from "../../src/sros/index.js";
import { Greeter, type HelloRequest } from "../../examples/gen/helloworld/helloworld_pb.js";
import { deferred, Fixture, rejection, T, within } from "./helpers.js";

let fixture: Fixture | undefined;
afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
});

async function start(options: GrpcServerOptions = { services: [Greeter] }, serverOptions: ServerOptions = {}): Promise<Fixture> {
  fixture = await Fixture.start(options, serverOptions);
  return fixture;
}

/** One SayHello through `handler`: the client's outcome and handleRpc()'s. */
async function sayHello(handler: (r: HelloRequest, ctx: Context) => unknown, name = "Ada") {
  const f = await start();
  f.grpc.addHandler("Greeter", "SayHello", handler, { package: "helloworld" });
  const reply = f.client(Greeter).sayHello({ name }).then(
    (r) => ({ ok: r }),
    (err: unknown) => ({ err: err as RpcError }),
  );
  const handled = f.grpc.handleRpc().then(
    () => ({ ok: true as const }),
    (err: unknown) => ({ err }),
  );
  return { client: await within(reply, 5000, "the reply"), script: await within(handled, 5000, "handleRpc()") };
}

describe("StatusCode", () => {
  it("has the 17 gRPC codes OK = 0 .. UNAUTHENTICATED = 16, the same values as Code", () => {
    const names = ["OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED",
      "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"];
    names.forEach((name, value) => {
      assert.equal(StatusCode[name as keyof typeof StatusCode], value, name);
      assert.equal(StatusCode[value], name);
    });
    assert.equal(StatusCode, Code);
  });
});

describe("Context.abort(code, details?)", () => {
  it("sends the code and details to the client (NOT_FOUND); handleRpc() resolves", T, async () => {
    const { client, script } = await sayHello((r, ctx) => ctx.abort(StatusCode.NOT_FOUND, `no user ${r.name}`));
    assert.ok("err" in client);
    assert.equal(client.err.code, Code.NOT_FOUND);
    assert.equal(client.err.rawMessage, "no user Ada");
    assert.deepEqual(script, { ok: true });
  });

  it("without details derives them from the code: its name (PERMISSION_DENIED)", T, async () => {
    const { client, script } = await sayHello((_r, ctx) => ctx.abort(StatusCode.PERMISSION_DENIED));
    assert.ok("err" in client);
    assert.equal(client.err.code, Code.PERMISSION_DENIED);
    assert.equal(client.err.rawMessage, "PERMISSION_DENIED");
    assert.deepEqual(script, { ok: true });
  });

  it("throws AbortError to end the handler; code 99 (not a status) becomes UNKNOWN", T, async () => {
    let thrown: unknown;
    let after = false;
    const { client } = await sayHello((_r, ctx) => {
      try {
        ctx.abort(99);
      } catch (err) {
        thrown = err;
      }
      after = true;
      return { message: "ignored after abort" };
    });
    assert.ok(thrown instanceof AbortError);
    assert.equal(thrown.statusCode, Code.UNKNOWN);
    assert.equal(thrown.details, "UNKNOWN");
    // The status is set even though the handler caught the AbortError and returned a response.
    assert.ok(after);
    assert.ok("err" in client);
    assert.equal(client.err.code, Code.UNKNOWN);
  });

  it("abort(OK) on a unary RPC ends it OK without a message: our client reports the missing response (UNIMPLEMENTED)", T, async () => {
    const { client, script } = await sayHello((_r, ctx) => ctx.abort(StatusCode.OK, "nothing to say"));
    assert.ok("err" in client);
    assert.equal(client.err.code, Code.UNIMPLEMENTED);
    assert.match(client.err.rawMessage, /no response message/);
    assert.deepEqual(script, { ok: true });
  });
});

describe("handler exceptions", () => {
  it("the client gets INTERNAL; handleRpc() rejects with the very exception", T, async () => {
    const boom = new RangeError("index out of range");
    const { client, script } = await sayHello(() => {
      throw boom;
    });
    assert.ok("err" in client);
    assert.equal(client.err.code, Code.INTERNAL);
    assert.match(client.err.rawMessage, /index out of range/);
    assert.ok("err" in script);
    assert.equal(script.err, boom);
  });

  it("an async handler's rejection is handled the same way (INTERNAL, rethrown)", T, async () => {
    const boom = new Error("async failure");
    const { client, script } = await sayHello(async () => {
      await new Promise((resolve) => setTimeout(resolve, 10));
      throw boom;
    });
    assert.ok("err" in client);
    assert.equal(client.err.code, Code.INTERNAL);
    assert.ok("err" in script);
    assert.equal(script.err, boom);
  });

  it("a status abort() set stands when the handler throws afterwards (FAILED_PRECONDITION), the exception still reaches the script", T, async () => {
    const boom = new Error("cleanup failed");
    const { client, script } = await sayHello((_r, ctx) => {
      try {
        ctx.abort(StatusCode.FAILED_PRECONDITION, "not ready");
      } finally {
        throw boom;
      }
    });
    assert.ok("err" in client);
    assert.equal(client.err.code, Code.FAILED_PRECONDITION);
    assert.ok("err" in script);
    assert.equal(script.err, boom);
  });
});

describe("no handler", () => {
  it("an RPC of a configured service without a handler: client UNIMPLEMENTED, handleRpc() rejects NotImplementedError (ERR_SB_NO_HANDLER)", T, async () => {
    const f = await start();
    f.grpc.addHandler("Greeter", "SayHello", () => ({ message: "hi" }), { package: "helloworld" });
    const stream = f.client(Greeter).sayHelloStream({ name: "Ada" });
    const err = await rejection(f.grpc.handleRpc());
    assert.ok(err instanceof NotImplementedError);
    assert.equal(err.code, ErrorCode.NO_HANDLER);
    assert.equal(err.rpc, "/helloworld.Greeter/SayHelloStream");
    const clientErr = await rejection((async () => {
      for await (const _ of stream) assert.fail("no response expected");
    })());
    assert.equal(clientErr.code, Code.UNIMPLEMENTED);
  });

  it("an RPC outside every configured service never reaches the script: the core answers UNIMPLEMENTED", T, async () => {
    const f = await start();
    const err = await rejection(f.raw("/other.Service/Call", "unary")(new Uint8Array()));
    assert.equal(err.code, Code.UNIMPLEMENTED);
    assert.equal((await rejection(f.grpc.handleRpc({ timeoutMs: 100 }))).code, ErrorCode.WAIT_TIMEOUT);
  });
});

describe("responses that do not fit the response type", () => {
  for (const [what, response, reason] of [
    ["a number for a string field", { message: 5 }, /expected string/],
    ["a field the message lacks", { message: "hi", mood: "good" }, /has no field "mood"/],
    ["a string instead of a message", "Hello", /expected a helloworld.HelloReply/],
    ["another message type", { $typeName: "helloworld.HelloRequest", name: "x" }, /got a helloworld.HelloRequest/],
    ["nothing", undefined, /expected a helloworld.HelloReply/],
  ] as const) {
    it(`${what}: client INTERNAL, handleRpc() rejects a TypeError (ERR_SB_BAD_RESPONSE)`, T, async () => {
      const { client, script } = await sayHello(() => response);
      assert.ok("err" in client);
      assert.equal(client.err.code, Code.INTERNAL);
      assert.ok("err" in script);
      assert.ok(script.err instanceof ResponseTypeError);
      assert.ok(script.err instanceof TypeError);
      assert.equal(script.err.code, ErrorCode.BAD_RESPONSE);
      assert.match(script.err.message, reason);
    });
  }

  it("a bytes method whose handler returns a string: client INTERNAL, TypeError for the script", T, async () => {
    const f = await start({});
    f.grpc.addHandler("Echo", "Say", () => "not bytes");
    const reply = rejection(f.raw("/Echo/Say", "unary")(new Uint8Array([1])));
    const err = await rejection(f.grpc.handleRpc());
    assert.ok(err instanceof ResponseTypeError);
    assert.equal((await reply).code, Code.INTERNAL);
  });
});

describe("the call ends under the handler", () => {
  it("the client cancels while the handler runs: handleRpc() rejects with an RpcError (CANCELLED)", T, async () => {
    const f = await start();
    const controller = new AbortController();
    const running = deferred();
    f.grpc.addHandler(
      "Greeter",
      "SayHello",
      async (_r: HelloRequest, ctx: Context) => {
        running.resolve();
        await new Promise((resolve) => ctx.call.signal.addEventListener("abort", resolve, { once: true }));
        return { message: "too late" };
      },
      { package: "helloworld" },
    );
    const reply = rejection(f.client(Greeter).sayHello({ name: "x" }, { signal: controller.signal }));
    const handled = f.grpc.handleRpc();
    await within(running.promise, 5000, "the handler starting");
    controller.abort();
    const err = await rejection(handled);
    assert.ok(err instanceof RpcError);
    assert.equal(err.code, Code.CANCELLED);
    assert.equal((await reply).code, Code.CANCELLED);
  });

  it("the deadline passes while a stream is sent: handleRpc() rejects with an RpcError (DEADLINE_EXCEEDED)", T, async () => {
    // The server's own cap fires long before the client's timeout, so the server ends the call.
    const f = await start({ services: [Greeter] }, { maxDeadlineMs: 200 });
    f.grpc.addHandler(
      "Greeter",
      "SayHelloStream",
      async function* () {
        for (let i = 0; ; i++) {
          yield { message: `#${i}` };
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      },
      { package: "helloworld" },
    );
    const stream = f.client(Greeter).sayHelloStream({ name: "x" }, { timeout: 10_000 });
    const handled = f.grpc.handleRpc();
    const clientErr = rejection((async () => {
      for await (const _ of stream) {
        // read until the deadline ends the call
      }
    })());
    const err = await rejection(handled);
    assert.ok(err instanceof RpcError);
    assert.equal(err.code, Code.DEADLINE_EXCEEDED);
    assert.equal((await clientErr).code, Code.DEADLINE_EXCEEDED);
  });
});
