// ctx.addCallback(fn), grpcio `add_callback`: fn runs once when the call has terminated,
// whichever way it ended (OK, error status, handler exception, client cancel, deadline,
// server stop), after the stream closed; it returns false (and never runs fn) once the call
// has terminated. Next to it, onCancel keeps covering early ends only.
import { afterEach, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import { Code, ErrorCode, RpcError, SwitchboardError, streamStreamRpcMethodHandler, type ServerCallContext } from "../../src/index.js";
import { Greeter } from "../../examples/gen/helloworld/helloworld_pb.js";
import { bidi, bytesCodec, deferred, expectCode, frame, Harness, rawRequest, T, within } from "./helpers.js";

const h = new Harness();
afterEach(() => h.close());

/** What one addCallback() registration observed. */
interface Watch {
  /** Resolves when the callback runs; with how many times it had run by then. */
  ran: Promise<number>;
  /** addCallback's return value. */
  added: boolean;
  calls(): number;
}

function watch(ctx: ServerCallContext): Watch {
  let n = 0;
  const ran = deferred<number>();
  const added = ctx.addCallback(() => {
    n++;
    ran.resolve(n);
  });
  return { ran: ran.promise, added, calls: () => n };
}

/** A Greeter whose SayHello runs `body` with a Watch installed first. */
async function greeter(body: (ctx: ServerCallContext) => unknown, options = {}) {
  const seen = deferred<{ ctx: ServerCallContext; w: Watch }>();
  const started = await h.start(
    (s) =>
      s.addService(Greeter, {
        async sayHello(_req, ctx) {
          const w = watch(ctx);
          seen.resolve({ ctx, w });
          await body(ctx);
          return { message: "ok" };
        },
        async *sayHelloStream(_req, ctx) {
          const w = watch(ctx);
          seen.resolve({ ctx, w });
          yield { message: "one" };
          yield { message: "two" };
        },
      }),
    options,
  );
  return { ...started, seen: seen.promise };
}

describe("ctx.addCallback (grpcio add_callback): runs on every termination", () => {
  it("OK unary call: the callback runs once, after the status; addCallback returned true", T, async () => {
    const { target, seen } = await greeter(() => {});
    const r = await h.greeter(target).sayHello("x", { deadlineMs: 5000 });
    assert.equal(r.status.code, grpc.status.OK);
    const { ctx, w } = await seen;
    assert.equal(w.added, true);
    assert.equal(await within(w.ran, 2000, "callback"), 1);
    assert.equal(ctx.signal.aborted, false, "an OK call is not cancelled");
  });

  it("OK server-streaming call: the callback runs once after the last message", T, async () => {
    const { target, seen } = await greeter(() => {});
    const r = await h.greeter(target).sayHelloStream("x", { deadlineMs: 5000 });
    assert.deepEqual(r.responses.map((m) => m.message), ["one", "two"]);
    assert.equal(await within((await seen).w.ran, 2000, "callback"), 1);
  });

  it("RpcError from the handler (NOT_FOUND): the callback runs once", T, async () => {
    const { target, seen } = await greeter(() => {
      throw new RpcError(Code.NOT_FOUND, "nope");
    });
    await expectCode(h.greeter(target).sayHello("x", { deadlineMs: 5000 }), grpc.status.NOT_FOUND);
    assert.equal(await within((await seen).w.ran, 2000, "callback"), 1);
  });

  it("a handler exception that is no RpcError (UNKNOWN): the callback runs once", T, async () => {
    const { target, seen } = await greeter(() => {
      throw new Error("boom");
    });
    await expectCode(h.greeter(target).sayHello("x", { deadlineMs: 5000 }), grpc.status.UNKNOWN);
    assert.equal(await within((await seen).w.ran, 2000, "callback"), 1);
  });

  it("client cancel (CANCELLED): the callback runs once, and onCancel runs too", T, async () => {
    const release = deferred();
    const { target, seen } = await greeter(() => release.promise);
    let call: grpc.Call | undefined;
    const result = h.greeter(target).sayHello("x", { deadlineMs: 5000, onCall: (c) => (call = c) });
    const { ctx, w } = await within(seen, 3000, "handler start");
    const cancelled = deferred<unknown>();
    ctx.onCancel((reason) => cancelled.resolve(reason));
    call!.cancel();
    await expectCode(result, grpc.status.CANCELLED);
    assert.equal(await within(w.ran, 2000, "callback"), 1);
    assert.equal(((await within(cancelled.promise, 2000, "onCancel")) as RpcError).code, Code.CANCELLED);
    release.resolve();
  });

  it("server-side deadline (DEADLINE_EXCEEDED): the callback runs once", T, async () => {
    const release = deferred();
    const { port, seen } = await greeter(() => release.promise);
    const raw = await within(rawRequest(h.h2(`http://127.0.0.1:${port}`), "/helloworld.Greeter/SayHello", frame(new Uint8Array()), { "grpc-timeout": "100m" }), 5000, "raw call");
    assert.equal((raw.trailers ?? raw.headers)["grpc-status"], String(Code.DEADLINE_EXCEEDED));
    assert.equal(await within((await seen).w.ran, 2000, "callback"), 1);
    release.resolve();
  });

  it("server stop cutting a running call (UNAVAILABLE or CANCELLED to the client): the callback runs once", T, async () => {
    const { server, target, seen } = await greeter(() => new Promise<void>(() => {}));
    const result = h.greeter(target).sayHello("x", { deadlineMs: 10_000 }).then(
      () => assert.fail("the call must fail"),
      (e: grpc.ServiceError) => e,
    );
    const { w } = await within(seen, 3000, "handler start");
    await server.stop(0);
    const err = await result;
    assert.ok([grpc.status.UNAVAILABLE, grpc.status.CANCELLED].includes(err.code), `status ${err.code}`);
    assert.equal(await within(w.ran, 2000, "callback"), 1);
  });

  it("bidi call ended by the handler after the client half-closed (OK): the callback runs once", T, async () => {
    const ran = deferred<number>();
    let runs = 0;
    const { target } = await h.start((s) =>
      s.addRegisteredMethodHandlers("cb.Bidi", {
        Echo: streamStreamRpcMethodHandler(async function* (requests: AsyncIterable<Uint8Array>, ctx) {
          ctx.addCallback(() => ran.resolve(++runs));
          for await (const r of requests) yield r;
        }),
      }),
    );
    const r = await bidi(h.client(target), "/cb.Bidi/Echo", [Buffer.from("a"), Buffer.from("b")], bytesCodec, bytesCodec, { deadlineMs: 5000 });
    assert.deepEqual(r.responses.map(String), ["a", "b"]);
    assert.equal(await within(ran.promise, 2000, "callback"), 1);
  });

  it("several callbacks run in the order added; one that throws is reported as a warning and the rest still run (OK)", T, async () => {
    const order: string[] = [];
    const last = deferred();
    const warned = deferred<Error>();
    const onWarning = (w: Error) => {
      if (w.message.includes("addCallback")) warned.resolve(w);
    };
    process.on("warning", onWarning);
    try {
      const { target } = await greeter((ctx) => {
        ctx.addCallback(() => order.push("first"));
        ctx.addCallback(() => {
          order.push("throws");
          throw new Error("callback failure");
        });
        ctx.addCallback(() => {
          order.push("third");
          last.resolve();
        });
      });
      const r = await h.greeter(target).sayHello("x", { deadlineMs: 5000 });
      assert.equal(r.status.code, grpc.status.OK);
      await within(last.promise, 2000, "last callback");
      // The watch installed by greeter() was added first.
      assert.deepEqual(order, ["first", "throws", "third"]);
      const warning = await within(warned.promise, 2000, "warning");
      assert.match(warning.message, /\/helloworld\.Greeter\/SayHello.*callback failure/);
      // The server keeps serving.
      assert.equal((await h.greeter(target).sayHello("again", { deadlineMs: 5000 })).status.code, grpc.status.OK);
    } finally {
      process.off("warning", onWarning);
    }
  });

  it("with onError set, a callback that throws is reported there (source handler, the method) and the call stays OK", T, async () => {
    const reported = deferred<{ err: unknown; source: string; method: string | undefined }>();
    const { target } = await greeter(
      (ctx) => {
        ctx.addCallback(() => {
          throw new Error("callback failure");
        });
      },
      { onError: (err: unknown, c: { source: string; method?: string }) => reported.resolve({ err, source: c.source, method: c.method }) },
    );
    const r = await h.greeter(target).sayHello("x", { deadlineMs: 5000 });
    assert.equal(r.status.code, grpc.status.OK);
    const seen = await within(reported.promise, 2000, "onError");
    assert.equal(seen.source, "handler");
    assert.equal(seen.method, "/helloworld.Greeter/SayHello");
    assert.match((seen.err as Error).message, /callback failure/);
  });

  it("after the call terminated, addCallback returns false and the function is not run", T, async () => {
    const { target, seen } = await greeter(() => {});
    await h.greeter(target).sayHello("x", { deadlineMs: 5000 });
    const { ctx, w } = await seen;
    await within(w.ran, 2000, "first callback");
    let late = 0;
    assert.equal(
      ctx.addCallback(() => late++),
      false,
    );
    await new Promise((r) => setImmediate(r));
    assert.equal(late, 0);
    assert.equal(w.calls(), 1, "the first callback ran exactly once");
  });

  it("addCallback with something that is not a function throws ERR_SB_BAD_HANDLER", T, async () => {
    const { target, seen } = await greeter((ctx) => {
      assert.throws(
        () => ctx.addCallback("nope" as never),
        (e: unknown) => e instanceof SwitchboardError && e.code === ErrorCode.BAD_HANDLER,
      );
    });
    await h.greeter(target).sayHello("x", { deadlineMs: 5000 });
    await seen;
  });
});
