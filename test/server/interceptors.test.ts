// Server interceptors: continuation-style `(ctx, next)` interceptors around handlers, and
// grpcio-style `interceptService(continuation, details)` interceptors that pick the handler.
import { afterEach, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import {
  Code,
  ErrorCode,
  RpcError,
  Server,
  SwitchboardError,
  unaryUnaryRpcMethodHandler,
  type HandlerCallDetails,
  type ResolvedHandler,
  type ServerInterceptor,
  type ServiceInterceptor,
} from "../../src/index.js";
import { Greeter } from "../../examples/gen/helloworld/helloworld_pb.js";
import { expectCode, Harness, T } from "./helpers.js";

const h = new Harness();
afterEach(() => h.close());

function md(entries: Record<string, string>): grpc.Metadata {
  const m = new grpc.Metadata();
  for (const [k, v] of Object.entries(entries)) m.set(k, v);
  return m;
}

describe("continuation interceptors (ctx, next)", () => {
  it("run in order around the handler (outermost first) -> OK", T, async () => {
    const events: string[] = [];
    const tag =
      (name: string): ServerInterceptor =>
      async (_ctx, next) => {
        events.push(`${name}:before`);
        await next();
        events.push(`${name}:after`);
      };
    const { target } = await h.start(
      (s) =>
        s.addService(Greeter, {
          sayHello() {
            events.push("handler");
            return { message: "ok" };
          },
        }),
      { interceptors: [tag("a"), tag("b"), tag("c")] },
    );
    const res = await h.greeter(target).sayHello("x", { deadlineMs: 3000 });
    assert.equal(res.responses[0]!.message, "ok");
    assert.deepEqual(events, ["a:before", "b:before", "c:before", "handler", "c:after", "b:after", "a:after"]);
  });

  it("can read and rewrite ctx.metadata before the handler sees it", T, async () => {
    let seenByInterceptor: unknown;
    let seenByHandler: unknown[] = [];
    const rewrite: ServerInterceptor = async (ctx, next) => {
      seenByInterceptor = ctx.metadata.get("authorization");
      ctx.metadata.delete("authorization");
      ctx.metadata.set("x-user", "alice");
      await next();
    };
    const { target } = await h.start(
      (s) =>
        s.addService(Greeter, {
          sayHello(_req, ctx) {
            seenByHandler = [ctx.metadata.get("authorization"), ctx.metadata.get("x-user")];
            return { message: `hi ${String(ctx.metadata.get("x-user"))}` };
          },
        }),
      { interceptors: [rewrite] },
    );
    const res = await h.greeter(target).sayHello("x", { metadata: md({ authorization: "Bearer secret" }), deadlineMs: 3000 });
    assert.equal(seenByInterceptor, "Bearer secret");
    assert.deepEqual(seenByHandler, [undefined, "alice"]);
    assert.equal(res.responses[0]!.message, "hi alice");
  });

  it("can set trailing metadata, before next() and after it (once the outcome is known)", T, async () => {
    const timing: ServerInterceptor = async (ctx, next) => {
      ctx.trailingMetadata.set("x-before", "1");
      const started = performance.now();
      try {
        await next();
      } finally {
        ctx.trailingMetadata.set("x-elapsed-ms", String(Math.round(performance.now() - started)));
      }
    };
    const { target } = await h.start(
      (s) =>
        s.addService(Greeter, {
          sayHello(req) {
            if (req.name === "fail") throw new RpcError(Code.NOT_FOUND, "nope");
            return { message: "ok" };
          },
        }),
      { interceptors: [timing] },
    );
    const g = h.greeter(target);
    const ok = await g.sayHello("ok", { deadlineMs: 3000 });
    assert.deepEqual(ok.status.metadata.get("x-before"), ["1"]);
    assert.match(String(ok.status.metadata.get("x-elapsed-ms")[0]), /^\d+$/);
    const err = await expectCode(g.sayHello("fail", { deadlineMs: 3000 }), grpc.status.NOT_FOUND, "nope");
    assert.deepEqual(err.metadata.get("x-before"), ["1"]);
    assert.match(String(err.metadata.get("x-elapsed-ms")[0]), /^\d+$/);
  });

  it("short-circuits by throwing RpcError(UNAUTHENTICATED): the handler never runs, later interceptors neither", T, async () => {
    let handlerRan = false;
    let innerRan = false;
    const auth: ServerInterceptor = async (ctx, next) => {
      if (ctx.metadata.get("authorization") !== "Bearer good") throw new RpcError(Code.UNAUTHENTICATED, "missing or bad token");
      await next();
    };
    const inner: ServerInterceptor = async (_ctx, next) => {
      innerRan = true;
      await next();
    };
    const { target } = await h.start(
      (s) =>
        s.addService(Greeter, {
          sayHello() {
            handlerRan = true;
            return { message: "secret" };
          },
        }),
      { interceptors: [auth, inner] },
    );
    const g = h.greeter(target);
    await expectCode(g.sayHello("x", { deadlineMs: 3000 }), grpc.status.UNAUTHENTICATED, "missing or bad token");
    await expectCode(g.sayHello("x", { metadata: md({ authorization: "Bearer bad" }), deadlineMs: 3000 }), grpc.status.UNAUTHENTICATED);
    assert.equal(handlerRan, false);
    assert.equal(innerRan, false);
    const ok = await g.sayHello("x", { metadata: md({ authorization: "Bearer good" }), deadlineMs: 3000 });
    assert.equal(ok.responses[0]!.message, "secret");
    assert.equal(handlerRan, true);
  });

  it("observe the outcome after next(): success (ctx.code OK), RpcError, plain Error, setCode", T, async () => {
    const outcomes: string[] = [];
    const observe: ServerInterceptor = async (ctx, next) => {
      try {
        await next();
        outcomes.push(`${ctx.method.name}:returned:${Code[ctx.code]}`);
      } catch (err) {
        outcomes.push(`${ctx.method.name}:threw:${err instanceof RpcError ? Code[err.code] : (err as Error).message}`);
        throw err;
      }
    };
    const { target } = await h.start(
      (s) =>
        s.addService(Greeter, {
          sayHello(req, ctx) {
            if (req.name === "rpc") throw new RpcError(Code.ABORTED, "aborted");
            if (req.name === "plain") throw new Error("plain failure");
            if (req.name === "setcode") ctx.setCode(Code.OUT_OF_RANGE);
            return { message: "ok" };
          },
        }),
      { interceptors: [observe] },
    );
    const g = h.greeter(target);
    await g.sayHello("ok", { deadlineMs: 3000 });
    await expectCode(g.sayHello("rpc", { deadlineMs: 3000 }), grpc.status.ABORTED);
    await expectCode(g.sayHello("plain", { deadlineMs: 3000 }), grpc.status.UNKNOWN, /plain failure/);
    await expectCode(g.sayHello("setcode", { deadlineMs: 3000 }), grpc.status.OUT_OF_RANGE);
    assert.deepEqual(outcomes, ["SayHello:returned:OK", "SayHello:threw:ABORTED", "SayHello:threw:plain failure", "SayHello:returned:OUT_OF_RANGE"]);
  });

  it("can translate errors: catching after next() and throwing another RpcError changes the status", T, async () => {
    const translate: ServerInterceptor = async (_ctx, next) => {
      try {
        await next();
      } catch (err) {
        if (err instanceof RpcError) throw err;
        throw new RpcError(Code.INTERNAL, "internal error (details hidden)");
      }
    };
    const { target } = await h.start(
      (s) =>
        s.addService(Greeter, {
          sayHello() {
            throw new Error("SELECT * FROM secrets failed");
          },
        }),
      { interceptors: [translate] },
    );
    await expectCode(h.greeter(target).sayHello("x", { deadlineMs: 3000 }), grpc.status.INTERNAL, "internal error (details hidden)");
  });

  it("wraps streaming calls too: it sees the whole server stream finish", T, async () => {
    const events: string[] = [];
    const wrap: ServerInterceptor = async (ctx, next) => {
      events.push(`start ${ctx.method.kind}`);
      await next();
      events.push("end");
    };
    const { target } = await h.start(
      (s) =>
        s.addService(Greeter, {
          async *sayHelloStream() {
            for (let i = 0; i < 3; i++) {
              events.push(`yield ${i}`);
              yield { message: String(i) };
            }
          },
        }),
      { interceptors: [wrap] },
    );
    const res = await h.greeter(target).sayHelloStream("x", { deadlineMs: 3000 });
    assert.equal(res.responses.length, 3);
    assert.deepEqual(events, ["start server_streaming", "yield 0", "yield 1", "yield 2", "end"]);
  });

  it("calling next() twice rejects; the call still ends with one status", T, async () => {
    let second: unknown;
    let handlerRuns = 0;
    const twice: ServerInterceptor = async (_ctx, next) => {
      await next();
      try {
        await next();
      } catch (err) {
        second = err;
      }
    };
    const { target } = await h.start(
      (s) =>
        s.addService(Greeter, {
          sayHello() {
            handlerRuns++;
            return { message: "once" };
          },
        }),
      { interceptors: [twice] },
    );
    const res = await h.greeter(target).sayHello("x", { deadlineMs: 3000 });
    assert.equal(res.responses[0]!.message, "once");
    assert.equal(handlerRuns, 1);
    assert.match(String(second), /more than once/);
  });
});

describe("grpcio-style interceptService interceptors", () => {
  it("can swap in another handler (unaryUnaryRpcMethodHandler aborting UNAUTHENTICATED) or pass through", T, async () => {
    const seen: { method: string; token: unknown }[] = [];
    let handlerRan = 0;
    // Explicit type arguments: inferred from a behavior that only aborts, Res would be `never`,
    // which does not fit ResolvedHandler (see the report).
    const deny = unaryUnaryRpcMethodHandler<Uint8Array, Uint8Array>((_req, ctx) => ctx.abort(Code.UNAUTHENTICATED, "token required"));
    const authInterceptor: ServiceInterceptor = {
      interceptService(continuation, details: HandlerCallDetails): ResolvedHandler | null | undefined {
        seen.push({ method: details.method, token: details.invocationMetadata.get("x-token") });
        return details.invocationMetadata.get("x-token") === "let-me-in" ? continuation(details) : deny;
      },
    };
    const { target } = await h.start(
      (s) =>
        s.addService(Greeter, {
          sayHello(req) {
            handlerRan++;
            return { message: `welcome ${req.name}` };
          },
        }),
      { interceptors: [authInterceptor] },
    );
    const g = h.greeter(target);
    await expectCode(g.sayHello("mallory", { deadlineMs: 3000 }), grpc.status.UNAUTHENTICATED, "token required");
    assert.equal(handlerRan, 0);
    const ok = await g.sayHello("alice", { metadata: md({ "x-token": "let-me-in" }), deadlineMs: 3000 });
    assert.equal(ok.responses[0]!.message, "welcome alice");
    assert.equal(handlerRan, 1);
    assert.deepEqual(seen, [
      { method: "/helloworld.Greeter/SayHello", token: undefined },
      { method: "/helloworld.Greeter/SayHello", token: "let-me-in" },
    ]);
  });

  it("returning null -> UNIMPLEMENTED even for a registered method", T, async () => {
    let handlerRan = false;
    const hide: ServiceInterceptor = {
      interceptService: (continuation, details) => (details.method.endsWith("/SayHello") ? null : continuation(details)),
    };
    const { target } = await h.start(
      (s) =>
        s.addService(Greeter, {
          sayHello() {
            handlerRan = true;
            return {};
          },
          async *sayHelloStream() {
            yield { message: "visible" };
          },
        }),
      { interceptors: [hide] },
    );
    const g = h.greeter(target);
    await expectCode(g.sayHello("x", { deadlineMs: 3000 }), grpc.status.UNIMPLEMENTED);
    assert.equal(handlerRan, false);
    assert.deepEqual(
      (await g.sayHelloStream("x", { deadlineMs: 3000 })).responses.map((r) => r.message),
      ["visible"],
    );
  });

  it("an interceptService that throws -> UNKNOWN for that call (grpcio), the handler never runs, and the server keeps serving", T, async () => {
    let handlerRan = false;
    let calls = 0;
    const flaky: ServiceInterceptor = {
      interceptService: (continuation, details) => {
        if (++calls === 1) throw new Error("interceptor broke");
        return continuation(details);
      },
    };
    const { target } = await h.start(
      (s) =>
        s.addService(Greeter, {
          sayHello(req) {
            handlerRan = true;
            return { message: `hi ${req.name}` };
          },
          async *sayHelloStream() {},
        }),
      { interceptors: [flaky] },
    );
    const g = h.greeter(target);
    const err = await expectCode(g.sayHello("x", { deadlineMs: 3000 }), grpc.status.UNKNOWN);
    assert.equal(err.details, "interceptor broke");
    assert.equal(handlerRan, false);
    assert.equal((await g.sayHello("y", { deadlineMs: 3000 })).responses[0]!.message, "hi y");
  });

  it("an interceptService throwing RpcError(UNAUTHENTICATED) -> UNAUTHENTICATED; a plain Error with exposeErrors false -> UNKNOWN \"Internal error\", told to onError", T, async () => {
    const reported: unknown[] = [];
    const gate: ServiceInterceptor = {
      interceptService: (continuation, details) => {
        if (details.method.endsWith("/SayHello")) throw new RpcError(Code.UNAUTHENTICATED, "who are you");
        throw new Error("SELECT * FROM secrets failed");
      },
    };
    const { target } = await h.start(
      (s) =>
        s.addService(Greeter, {
          sayHello: () => ({}),
          async *sayHelloStream() {},
        }),
      { interceptors: [gate], exposeErrors: false, onError: (err) => void reported.push(err) },
    );
    const g = h.greeter(target);
    await expectCode(g.sayHello("x", { deadlineMs: 3000 }), grpc.status.UNAUTHENTICATED, "who are you");
    await expectCode(g.sayHelloStream("x", { deadlineMs: 3000 }), grpc.status.UNKNOWN, "Internal error");
    assert.deepEqual(reported.map((e) => (e as Error).message), ["SELECT * FROM secrets failed"]);
  });

  it("several interceptService interceptors chain outermost first; both kinds of interceptor combine", T, async () => {
    const order: string[] = [];
    const svc =
      (name: string): ServiceInterceptor => ({
        interceptService(continuation, details) {
          order.push(`svc ${name}`);
          return continuation(details);
        },
      });
    const cont: ServerInterceptor = async (_ctx, next) => {
      order.push("continuation");
      await next();
    };
    const { target } = await h.start(
      (s) =>
        s.addService(Greeter, {
          sayHello() {
            order.push("handler");
            return { message: "ok" };
          },
        }),
      { interceptors: [svc("outer"), cont, svc("inner")] },
    );
    await h.greeter(target).sayHello("x", { deadlineMs: 3000 });
    assert.deepEqual(order, ["svc outer", "svc inner", "continuation", "handler"]);
  });

  it("an interceptor object without interceptService (or a non-function) is rejected with ERR_SB_BAD_OPTION", T, () => {
    for (const bad of [{ nope: true }, 42, null]) {
      assert.throws(
        () => new Server({ interceptors: [bad as never] }),
        (err: unknown) => err instanceof SwitchboardError && err.code === ErrorCode.BAD_OPTION,
      );
    }
  });
});
