// Handler failures and explicit statuses: what a client sees for throws, rejections,
// RpcErrors, abort(), setCode()/setDetails(), all 17 codes, and trailers on errors.
import { after, afterEach, before, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import { fromBinary } from "@bufbuild/protobuf";
import { Code, Metadata, RpcError, codeName, type ServiceImpl } from "../../src/index.js";
import { StatusSchema } from "../../src/gen/google/rpc/status_pb.js";
import { Greeter } from "../../examples/gen/helloworld/helloworld_pb.js";
import { TestService } from "../../examples/gen/grpc/testing/test_pb.js";
import { bytesCodec, deferred, expectCode, frame, Harness, rawRequest, serverStream, T, TS, unary, within, type GreeterClient } from "./helpers.js";

const h = new Harness();
afterEach(() => h.close());

// Nothing a handler does may escape as an unhandled rejection or uncaught exception.
const escaped: unknown[] = [];
const onEscape = (err: unknown) => escaped.push(err);
before(() => {
  process.on("unhandledRejection", onEscape);
  process.on("uncaughtException", onEscape);
});
after(() => {
  process.off("unhandledRejection", onEscape);
  process.off("uncaughtException", onEscape);
  assert.deepEqual(escaped, [], "handler failures escaped to the process");
});

/** Starts a Greeter with this SayHello handler and returns a grpc-js client for it. */
async function greeterWith(sayHello: NonNullable<ServiceImpl<typeof Greeter>["sayHello"]>): Promise<GreeterClient> {
  const { target } = await h.start((s) => s.addService(Greeter, { sayHello }));
  return h.greeter(target);
}

async function expectOkAfter(g: GreeterClient): Promise<void> {
  const ok = await g.sayHello("fine", { deadlineMs: 3000 });
  assert.equal(ok.status.code, grpc.status.OK);
}

describe("handler failures", () => {
  it("a sync throw -> UNKNOWN with the error message, for that call only; the next call is OK", T, async () => {
    const g = await greeterWith((req) => {
      if (req.name === "boom") throw new Error("sync kaboom");
      return { message: "ok" };
    });
    await expectCode(g.sayHello("boom", { deadlineMs: 3000 }), grpc.status.UNKNOWN, /sync kaboom/);
    await expectOkAfter(g);
  });

  it("an async rejection -> UNKNOWN; the next call is OK", T, async () => {
    const g = await greeterWith(async (req) => {
      await new Promise((r) => setTimeout(r, 5));
      if (req.name === "boom") throw new Error("async kaboom");
      return { message: "ok" };
    });
    await expectCode(g.sayHello("boom", { deadlineMs: 3000 }), grpc.status.UNKNOWN, /async kaboom/);
    await expectOkAfter(g);
  });

  it("throwing a non-Error (string, undefined) -> UNKNOWN", T, async () => {
    const g = await greeterWith((req) => {
      if (req.name === "string") throw "just a string";
      if (req.name === "undefined") throw undefined;
      return { message: "ok" };
    });
    await expectCode(g.sayHello("string", { deadlineMs: 3000 }), grpc.status.UNKNOWN, /just a string/);
    await expectCode(g.sayHello("undefined", { deadlineMs: 3000 }), grpc.status.UNKNOWN);
    await expectOkAfter(g);
  });

  it("a stream-style handler that throws synchronously (not async) -> UNKNOWN; the next call is OK", T, async () => {
    const { target } = await h.start((s) =>
      s.addStreamService(Greeter, {
        // Not async: the throw happens synchronously inside Server.run(), before any promise exists.
        sayHello: (() => {
          throw new Error("thrown before any promise");
        }) as never,
        async sayHelloStream(stream) {
          while ((await stream.recvMessage()) !== null);
          await stream.sendMessage({ message: "fine" });
        },
      }),
    );
    const g = h.greeter(target);
    await expectCode(g.sayHello("x", { deadlineMs: 3000 }), grpc.status.UNKNOWN, /thrown before any promise/);
    const ok = await g.sayHelloStream("y", { deadlineMs: 3000 });
    assert.deepEqual(
      ok.responses.map((r) => r.message),
      ["fine"],
    );
  });

  it("a server-streaming handler that throws after yielding -> messages arrive, then UNKNOWN", T, async () => {
    const { target } = await h.start((s) =>
      s.addService(Greeter, {
        async *sayHelloStream() {
          yield { message: "one" };
          yield { message: "two" };
          throw new Error("mid-stream failure");
        },
      }),
    );
    const err = await expectCode(h.greeter(target).sayHelloStream("x", { deadlineMs: 3000 }), grpc.status.UNKNOWN, /mid-stream failure/);
    assert.deepEqual(
      err.responses.map((r) => r.message),
      ["one", "two"],
    );
  });

  it("throw after sendTrailingMetadata (stream style) -> the already-sent status (OK, or ABORTED) stands", T, async () => {
    const threw = deferred();
    const { target } = await h.start((s) =>
      s.addStreamService(Greeter, {
        async sayHello(stream) {
          const req = await stream.recvMessage();
          // Read to the end of the request first (the early-finish ordering has its own test in handlers.test.ts).
          assert.equal(await stream.recvMessage(), null);
          if (req?.name === "ok") {
            await stream.sendMessage({ message: "sent" });
            await stream.sendTrailingMetadata();
          } else {
            await stream.sendTrailingMetadata({ status: Code.ABORTED, message: "explicit" });
          }
          threw.resolve();
          throw new Error("too late to matter");
        },
      }),
    );
    const g = h.greeter(target);
    const ok = await g.sayHello("ok", { deadlineMs: 3000 });
    assert.equal(ok.responses[0]!.message, "sent");
    assert.equal(ok.status.code, grpc.status.OK);
    await within(threw.promise, 5000, "handler throw");
    await expectCode(g.sayHello("aborted", { deadlineMs: 3000 }), grpc.status.ABORTED, "explicit");
  });

  it("RpcError keeps its code and message (non-ASCII and % survive the grpc-message encoding)", T, async () => {
    const g = await greeterWith((req) => {
      if (req.name === "plain") throw new RpcError(Code.NOT_FOUND, "no user 42");
      throw new RpcError(Code.INVALID_ARGUMENT, "naïve 100% ✓\nline two");
    });
    const plain = await expectCode(g.sayHello("plain", { deadlineMs: 3000 }), grpc.status.NOT_FOUND, "no user 42");
    assert.equal(plain.code, grpc.status.NOT_FOUND);
    await expectCode(g.sayHello("fancy", { deadlineMs: 3000 }), grpc.status.INVALID_ARGUMENT, "naïve 100% ✓\nline two");
  });

  it("RpcError thrown with code OK becomes UNKNOWN (a failure is never OK)", T, async () => {
    const g = await greeterWith(() => {
      throw new RpcError(Code.OK, "ok?");
    });
    await expectCode(g.sayHello("x", { deadlineMs: 3000 }), grpc.status.UNKNOWN, "ok?");
  });
});

describe("explicit status from the handler", () => {
  it("ctx.abort(code, details) -> that status; ctx.abort(OK) -> UNKNOWN, never OK", T, async () => {
    let afterAbort = false;
    const g = await greeterWith((req, ctx) => {
      if (req.name === "denied") ctx.abort(Code.PERMISSION_DENIED, "not yours");
      if (req.name === "ok") ctx.abort(Code.OK, "pretend success");
      if (req.name === "bare") ctx.abort(Code.RESOURCE_EXHAUSTED);
      afterAbort = true;
      return { message: "ok" };
    });
    await expectCode(g.sayHello("denied", { deadlineMs: 3000 }), grpc.status.PERMISSION_DENIED, "not yours");
    await expectCode(g.sayHello("ok", { deadlineMs: 3000 }), grpc.status.UNKNOWN, "pretend success");
    await expectCode(g.sayHello("bare", { deadlineMs: 3000 }), grpc.status.RESOURCE_EXHAUSTED, "");
    assert.equal(afterAbort, false, "abort() must not return");
  });

  it("ctx.abort(code, details, {metadata}) and abortWithStatus({details}) send trailers and grpc-status-details-bin", T, async () => {
    const g = await greeterWith((req, ctx) => {
      if (req.name === "md") ctx.abort(Code.FAILED_PRECONDITION, "need setup", { metadata: { "x-hint": "run init", "x-blob-bin": new Uint8Array([0, 1, 255]) } });
      return ctx.abortWithStatus({
        code: Code.INVALID_ARGUMENT,
        message: "bad field",
        details: [{ typeUrl: "type.googleapis.com/test.Detail", value: new Uint8Array([8, 1]) }],
        metadata: { "x-field": "name" },
      });
    });
    const md = await expectCode(g.sayHello("md", { deadlineMs: 3000 }), grpc.status.FAILED_PRECONDITION, "need setup");
    assert.deepEqual(md.metadata.get("x-hint"), ["run init"]);
    assert.deepEqual(md.metadata.get("x-blob-bin").map((b) => [...(b as Buffer)]), [[0, 1, 255]]);

    const rich = await expectCode(g.sayHello("rich", { deadlineMs: 3000 }), grpc.status.INVALID_ARGUMENT, "bad field");
    assert.deepEqual(rich.metadata.get("x-field"), ["name"]);
    const bin = rich.metadata.get("grpc-status-details-bin")[0] as Buffer | undefined;
    assert.ok(bin, "grpc-status-details-bin must reach the client");
    const st = fromBinary(StatusSchema, bin);
    assert.equal(st.code, Code.INVALID_ARGUMENT);
    assert.equal(st.message, "bad field");
    assert.deepEqual(
      st.details.map((d) => [d.typeUrl, [...d.value]]),
      [["type.googleapis.com/test.Detail", [8, 1]]],
    );
  });

  it("setCode/setDetails then return -> that status, and no response message is sent", T, async () => {
    const { port, target } = await h.start((s) =>
      s.addService(Greeter, {
        sayHello(_req, ctx) {
          ctx.setCode(Code.ALREADY_EXISTS);
          ctx.setDetails("exists already");
          assert.equal(ctx.code, Code.ALREADY_EXISTS);
          assert.equal(ctx.details, "exists already");
          return { message: "should not be sent" };
        },
      }),
    );
    const err = await expectCode(h.greeter(target).sayHello("x", { deadlineMs: 3000 }), grpc.status.ALREADY_EXISTS, "exists already");
    assert.deepEqual(err.responses, []);
    // And on the wire: no DATA at all.
    const raw = await rawRequest(h.h2(`http://127.0.0.1:${port}`), "/helloworld.Greeter/SayHello", frame(new Uint8Array()));
    assert.equal(raw.body.length, 0);
    assert.equal((raw.trailers ?? raw.headers)["grpc-status"], String(Code.ALREADY_EXISTS));
  });

  it("setCode on a server-streaming call -> messages, then that status", T, async () => {
    const { target } = await h.start((s) =>
      s.addService(Greeter, {
        async *sayHelloStream(_req, ctx) {
          yield { message: "partial" };
          ctx.setCode(Code.OUT_OF_RANGE);
          ctx.setDetails("stopped at 1");
        },
      }),
    );
    const err = await expectCode(h.greeter(target).sayHelloStream("x", { deadlineMs: 3000 }), grpc.status.OUT_OF_RANGE, "stopped at 1");
    assert.deepEqual(
      err.responses.map((r) => r.message),
      ["partial"],
    );
  });

  it("setCode then throw a plain Error -> the set code (with the set details)", T, async () => {
    const g = await greeterWith((req, ctx) => {
      ctx.setCode(Code.UNAVAILABLE);
      if (req.name === "details") ctx.setDetails("backend down");
      throw new Error("connection refused to backend");
    });
    await expectCode(g.sayHello("details", { deadlineMs: 3000 }), grpc.status.UNAVAILABLE, "backend down");
    await expectCode(g.sayHello("nodetails", { deadlineMs: 3000 }), grpc.status.UNAVAILABLE);
  });

  it("setCode then throw an RpcError -> the RpcError's code wins", T, async () => {
    const g = await greeterWith((_req, ctx) => {
      ctx.setCode(Code.UNAVAILABLE);
      throw new RpcError(Code.DATA_LOSS, "explicit error");
    });
    await expectCode(g.sayHello("x", { deadlineMs: 3000 }), grpc.status.DATA_LOSS, "explicit error");
  });

  it("all 17 status codes round-trip to a grpc-js client", T, async () => {
    const { target } = await h.start((s) =>
      s.addService(TestService, {
        unaryCall(req) {
          const code = req.responseStatus?.code ?? 0;
          if (code !== 0) throw new RpcError(code, `status ${codeName(code)}`);
          return {};
        },
      }),
    );
    const client = h.client(target);
    const seen: [number, string][] = [];
    for (let code = 0; code <= 16; code++) {
      const call = unary(client, TS.unaryCall, { responseStatus: { code } }, TS.simpleRequest, TS.simpleResponse, { deadlineMs: 3000 });
      if (code === 0) {
        const ok = await call;
        seen.push([ok.status.code, ok.status.details]);
      } else {
        const err = await expectCode(call, code);
        seen.push([err.code, err.details]);
      }
    }
    assert.deepEqual(
      seen.map(([c]) => c),
      Array.from({ length: 17 }, (_, c) => c),
    );
    for (let code = 1; code <= 16; code++) {
      assert.equal(seen[code]![1], `status ${codeName(code)}`);
      // The number means the same code to grpc-js (its grpc.status enum) as to Switchboard.
      assert.equal(grpc.status[code], codeName(code));
    }
  });

  it("trailing metadata on errors reaches the client: setTrailingMetadata plus the RpcError's own metadata", T, async () => {
    const g = await greeterWith((_req, ctx) => {
      ctx.setTrailingMetadata({ "x-request-id": "r-1", "x-trace-bin": new Uint8Array([9, 8, 7]) });
      throw new RpcError(Code.INTERNAL, "with trailers", { metadata: new Metadata({ "x-error-kind": "db" }) });
    });
    const err = await expectCode(g.sayHello("x", { deadlineMs: 3000 }), grpc.status.INTERNAL, "with trailers");
    assert.deepEqual(err.metadata.get("x-request-id"), ["r-1"]);
    assert.deepEqual(err.metadata.get("x-error-kind"), ["db"]);
    assert.deepEqual(err.metadata.get("x-trace-bin").map((b) => [...(b as Buffer)]), [[9, 8, 7]]);
  });

  it("a plain Error after setTrailingMetadata still sends the trailing metadata with UNKNOWN", T, async () => {
    const { target } = await h.start((s) =>
      s.addRegisteredMethodHandlers("test.Raw", {
        Fail: {
          requestStreaming: false,
          responseStreaming: true,
          async *unaryStream(_req: Uint8Array, ctx) {
            ctx.setTrailingMetadata([["x-step", "3"]]);
            yield Buffer.from("one");
            throw new Error("step 3 failed");
          },
        },
      }),
    );
    const err = await expectCode(serverStream(h.client(target), "/test.Raw/Fail", Buffer.alloc(0), bytesCodec, bytesCodec, { deadlineMs: 3000 }), grpc.status.UNKNOWN, /step 3 failed/);
    assert.deepEqual(err.metadata.get("x-step"), ["3"]);
    assert.deepEqual(err.responses.map(String), ["one"]);
  });
});
