// The call context: invocation metadata, user agent, initial and trailing metadata,
// deadline, cancellation (isActive, signal, onCancel) and response compression.
import { afterEach, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import { gunzipSync } from "node:zlib";
import * as grpc from "@grpc/grpc-js";
import { Code, ErrorCode, RpcError, SwitchboardError, type ServerCallContext } from "../../src/index.js";
import { Greeter } from "../../examples/gen/helloworld/helloworld_pb.js";
import { TestService } from "../../examples/gen/grpc/testing/test_pb.js";
import { deferred, expectCode, frame, Harness, rawRequest, serverStream, T, TS, unary, unframe, within } from "./helpers.js";

const h = new Harness();
afterEach(() => h.close());

/** A StreamingOutputCall that the client cancels after `n` messages. */
function serverStreamCancelAfter(client: grpc.Client, n: number, onData: () => void) {
  let seen = 0;
  return serverStream(client, TS.streamingOutputCall, {}, TS.outputRequest, TS.outputResponse, {
    deadlineMs: 5000,
    onCall: (c) => {
      const stream = c as grpc.ClientReadableStream<unknown>;
      stream.on("data", () => {
        onData();
        if (++seen === n) stream.cancel();
      });
    },
  });
}

/** Starts a Greeter whose SayHello hands its context to the test and waits to be released. */
async function heldGreeter(onEnter: (ctx: ServerCallContext) => void, held: Promise<unknown>) {
  return h.start((s) =>
    s.addService(Greeter, {
      async sayHello(_req, ctx) {
        onEnter(ctx);
        await held;
        return { message: "released" };
      },
    }),
  );
}

describe("call context", () => {
  it("invocation metadata (text, -bin, repeated keys) is visible in ctx.metadata; protocol headers are not", T, async () => {
    let md: ServerCallContext["metadata"] | undefined;
    const { target } = await h.start((s) =>
      s.addService(Greeter, {
        sayHello(_req, ctx) {
          md = ctx.metadata;
          return { message: "ok" };
        },
      }),
    );
    const sent = new grpc.Metadata();
    sent.set("x-text", "hello world");
    sent.add("x-multi", "first");
    sent.add("x-multi", "second");
    sent.add("x-data-bin", Buffer.from([0, 1, 2, 255]));
    sent.add("x-data-bin", Buffer.from([42]));
    sent.set("X-Upper-Case", "lowered");
    await h.greeter(target).sayHello("m", { metadata: sent, deadlineMs: 3000 });
    assert.ok(md);
    assert.equal(md.get("x-text"), "hello world");
    assert.deepEqual(md.getAll("x-multi"), ["first", "second"]);
    assert.deepEqual(
      md.getAll("x-data-bin").map((v) => [...(v as Uint8Array)]),
      [[0, 1, 2, 255], [42]],
    );
    assert.equal(md.get("x-upper-case"), "lowered");
    for (const k of [":path", ":authority", "content-type", "te", "grpc-timeout", "grpc-accept-encoding"]) {
      assert.equal(md.has(k), false, `${k} must not be in invocation metadata`);
    }
  });

  it('ctx.userAgent contains "grpc-node-js"; ctx.method, contentType describe the call', T, async () => {
    let ctx: ServerCallContext | undefined;
    const { target } = await h.start((s) =>
      s.addService(Greeter, {
        sayHello(_req, c) {
          ctx = c;
          return {};
        },
      }),
    );
    await h.greeter(target).sayHello("ua", { deadlineMs: 3000 });
    assert.match(ctx!.userAgent ?? "", /grpc-node-js/);
    assert.equal(ctx!.contentType, "application/grpc");
    assert.deepEqual(
      { path: ctx!.method.path, service: ctx!.method.service, name: ctx!.method.name, kind: ctx!.method.kind },
      { path: "/helloworld.Greeter/SayHello", service: "helloworld.Greeter", name: "SayHello", kind: "unary" },
    );
  });

  it("sendInitialMetadata and setTrailingMetadata reach the client (text and -bin); a second sendInitialMetadata throws ERR_SB_CALL_STATE", T, async () => {
    let second: unknown;
    const { target, port } = await h.start((s) =>
      s.addService(Greeter, {
        async sayHello(_req, ctx) {
          await ctx.sendInitialMetadata({ "x-initial": "i", "x-initial-bin": new Uint8Array([1, 2]) });
          try {
            await ctx.sendInitialMetadata({ "x-again": "no" });
          } catch (err) {
            second = err;
          }
          ctx.setTrailingMetadata({ "x-replaced": "gone" });
          ctx.setTrailingMetadata([
            ["x-trailing", "t1"],
            ["x-trailing", "t2"],
            ["x-trailing-bin", new Uint8Array([255])],
          ]);
          assert.deepEqual(ctx.trailingMetadata.getAll("x-trailing"), ["t1", "t2"]);
          return { message: "with metadata" };
        },
      }),
    );
    const res = await h.greeter(target).sayHello("md", { deadlineMs: 3000 });
    assert.equal(res.responses[0]!.message, "with metadata");
    assert.deepEqual(res.initial?.get("x-initial"), ["i"]);
    assert.deepEqual(res.initial?.get("x-initial-bin").map((b) => [...(b as Buffer)]), [[1, 2]]);
    // grpc-js sees repeated fields the way node:http2 joins them.
    assert.deepEqual(res.status.metadata.get("x-trailing"), ["t1, t2"]);
    assert.deepEqual(res.status.metadata.get("x-trailing-bin").map((b) => [...(b as Buffer)]), [[255]]);
    assert.deepEqual(res.status.metadata.get("x-replaced"), [], "setTrailingMetadata replaces");
    assert.ok(second instanceof SwitchboardError && second.code === ErrorCode.CALL_STATE, `got ${String(second)}`);
    // On the wire the repeated key is two separate trailer fields.
    const raw = await rawRequest(h.h2(`http://127.0.0.1:${port}`), "/helloworld.Greeter/SayHello", frame(new Uint8Array()));
    const fields: string[] = [];
    for (let i = 0; i < raw.rawTrailers.length; i += 2) if (raw.rawTrailers[i] === "x-trailing") fields.push(raw.rawTrailers[i + 1]!);
    assert.deepEqual(fields, ["t1", "t2"]);
  });

  it("ctx.deadline and timeRemaining() reflect the client deadline; without one, undefined and Infinity", T, async () => {
    const seen: { deadline: boolean; remaining: number }[] = [];
    const { target } = await h.start((s) =>
      s.addService(Greeter, {
        sayHello(_req, ctx) {
          seen.push({ deadline: ctx.deadline !== undefined, remaining: ctx.timeRemaining() });
          return {};
        },
      }),
    );
    const g = h.greeter(target);
    await g.sayHello("with", { deadlineMs: 5000 });
    await g.sayHello("without");
    assert.equal(seen[0]!.deadline, true);
    assert.ok(seen[0]!.remaining > 3000 && seen[0]!.remaining <= 5000, `timeRemaining ${seen[0]!.remaining}`);
    assert.deepEqual(seen[1], { deadline: false, remaining: Infinity });
  });

  it("client cancel -> CANCELLED: isActive() false, ctx.signal aborts with RpcError(CANCELLED), onCancel runs", T, async () => {
    const entered = deferred<ServerCallContext>();
    const aborted = deferred<{ reason: unknown; active: boolean }>();
    const onCancelReason = deferred<unknown>();
    const never = new Promise<void>(() => {});
    const { target } = await heldGreeter((ctx) => {
      assert.equal(ctx.isActive(), true);
      ctx.onCancel((reason) => onCancelReason.resolve(reason));
      ctx.signal.addEventListener("abort", () => aborted.resolve({ reason: ctx.signal.reason, active: ctx.isActive() }));
      entered.resolve(ctx);
    }, never);
    let call: grpc.Call | undefined;
    const result = h.greeter(target).sayHello("cancel me", { deadlineMs: 5000, onCall: (c) => (call = c) });
    const ctx = await within(entered.promise, 3000, "handler start");
    call!.cancel();
    await expectCode(result, grpc.status.CANCELLED);
    const { reason, active } = await within(aborted.promise, 2000, "signal abort");
    assert.equal(active, false);
    assert.equal(ctx.isActive(), false);
    assert.ok(reason instanceof RpcError, `reason ${String(reason)}`);
    assert.equal(reason.code, Code.CANCELLED);
    assert.equal(await within(onCancelReason.promise, 2000, "onCancel"), reason);
    // A callback added after the fact still runs (asynchronously) with the same reason.
    const late = deferred<unknown>();
    ctx.onCancel((r) => late.resolve(r));
    assert.equal(await within(late.promise, 5000, "late onCancel"), reason);
  });

  it("grpc-js deadline passes -> client DEADLINE_EXCEEDED; the handler's ctx.signal aborts and onCancel runs", T, async () => {
    const aborted = deferred<unknown>();
    const cancelled = deferred<unknown>();
    const { target } = await heldGreeter(
      (ctx) => {
        ctx.onCancel((r) => cancelled.resolve(r));
        ctx.signal.addEventListener("abort", () => aborted.resolve(ctx.signal.reason));
      },
      new Promise<void>(() => {}),
    );
    const g = h.greeter(target);
    // Connected first: the short deadline is spent in the handler, not in dialing (a call that
    // never reached the handler would leave nothing to abort).
    await new Promise<void>((resolve, reject) => g.client.waitForReady(Date.now() + 10_000, (err) => (err ? reject(err) : resolve())));
    await expectCode(g.sayHello("slow", { deadlineMs: 1000 }), grpc.status.DEADLINE_EXCEEDED);
    const reason = await within(aborted.promise, 2000, "signal abort");
    assert.ok(reason instanceof RpcError);
    // grpc-js resets the stream at its own deadline, which races the server's timer for the same
    // deadline: the server may see either its deadline or the client's cancel first.
    assert.ok(reason.code === Code.DEADLINE_EXCEEDED || reason.code === Code.CANCELLED, `reason ${reason.message}`);
    assert.equal(await within(cancelled.promise, 5000, "onCancel"), reason);
  });

  it("grpc-timeout passes on the server (client does not cancel) -> DEADLINE_EXCEEDED status; ctx.signal reason RpcError(DEADLINE_EXCEEDED)", T, async () => {
    const aborted = deferred<{ reason: unknown; active: boolean; at: number }>();
    const cancelled = deferred<unknown>();
    let enteredAt = 0;
    const { port } = await heldGreeter(
      (ctx) => {
        enteredAt = Date.now();
        ctx.onCancel((r) => cancelled.resolve(r));
        ctx.signal.addEventListener("abort", () => aborted.resolve({ reason: ctx.signal.reason, active: ctx.isActive(), at: Date.now() }));
      },
      new Promise<void>(() => {}),
    );
    const raw = await within(rawRequest(h.h2(`http://127.0.0.1:${port}`), "/helloworld.Greeter/SayHello", frame(new Uint8Array()), { "grpc-timeout": "200m" }), 3000, "raw call");
    assert.equal((raw.trailers ?? raw.headers)["grpc-status"], String(Code.DEADLINE_EXCEEDED));
    const { reason, active, at } = await within(aborted.promise, 2000, "signal abort");
    assert.ok(reason instanceof RpcError);
    assert.equal(reason.code, Code.DEADLINE_EXCEEDED);
    assert.equal(active, false);
    assert.equal(await within(cancelled.promise, 5000, "onCancel"), reason);
    // Not before the deadline; that it came from the server's timer shows in the status above.
    assert.ok(at - enteredAt >= 150, `aborted ${at - enteredAt} ms after start with a 200 ms timeout`);
  });

  it("maxDeadlineMs caps a longer grpc-js deadline -> DEADLINE_EXCEEDED from the server with the signal reason DEADLINE_EXCEEDED", T, async () => {
    const aborted = deferred<unknown>();
    let remaining = 0;
    const { target } = await h.start(
      (s) =>
        s.addService(Greeter, {
          async sayHello(_req, ctx) {
            remaining = ctx.timeRemaining();
            ctx.signal.addEventListener("abort", () => aborted.resolve(ctx.signal.reason));
            await new Promise(() => {});
            return {};
          },
        }),
      { maxDeadlineMs: 250 },
    );
    // The client's own deadline is beyond the test's bound: DEADLINE_EXCEEDED is the server's cap.
    await expectCode(h.greeter(target).sayHello("capped", { deadlineMs: 600_000 }), grpc.status.DEADLINE_EXCEEDED);
    assert.ok(remaining <= 250, `timeRemaining ${remaining}`);
    const reason = await within(aborted.promise, 5000, "signal abort");
    assert.ok(reason instanceof RpcError);
    assert.equal(reason.code, Code.DEADLINE_EXCEEDED);
  });

  it("a call that completes normally never runs onCancel nor aborts the signal", T, async () => {
    let ctx: ServerCallContext | undefined;
    let cancelled = false;
    const { server, target } = await h.start((s) =>
      s.addService(Greeter, {
        sayHello(_req, c) {
          ctx = c;
          c.onCancel(() => (cancelled = true));
          return { message: "done" };
        },
      }),
    );
    await h.greeter(target).sayHello("x", { deadlineMs: 10_000 });
    // stop() resolves once every connection and stream is closed: anything the end of this
    // call's stream (or the server going away) could trigger has run by then.
    await within(server.stop(0), 10_000, "server stop");
    assert.equal(cancelled, false);
    assert.equal(ctx!.signal.aborted, false);
    assert.equal(ctx!.isActive(), false, "a finished call is not active");
  });

  it('setCompression("gzip") with a grpc-js client (accepts gzip) returns the right payload', T, async () => {
    const { target, port } = await h.start((s) =>
      s.addService(TestService, {
        unaryCall(req, ctx) {
          ctx.setCompression("gzip");
          return { payload: { body: Buffer.alloc(req.responseSize, "abc") } };
        },
      }),
    );
    const res = await unary(h.client(target), TS.unaryCall, { responseSize: 100_000 }, TS.simpleRequest, TS.simpleResponse, { deadlineMs: 3000 });
    assert.deepEqual(Buffer.from(res.responses[0]!.payload!.body), Buffer.alloc(100_000, "abc"));

    // On the wire: gzip for a client that accepts it, identity for one that does not.
    const session = h.h2(`http://127.0.0.1:${port}`);
    const body = frame(TS.simpleRequest.serialize({ responseSize: 1000 }));
    const gz = await rawRequest(session, TS.unaryCall, body, { "grpc-accept-encoding": "identity,gzip" });
    assert.equal(gz.headers["grpc-encoding"], "gzip");
    const [msg] = unframe(gz.body);
    assert.equal(msg!.flag, 1);
    assert.deepEqual(Buffer.from(TS.simpleResponse.deserialize(gunzipSync(msg!.data)).payload!.body), Buffer.alloc(1000, "abc"));
    const plain = await rawRequest(session, TS.unaryCall, body);
    assert.equal(plain.headers["grpc-encoding"], undefined);
    assert.equal(unframe(plain.body)[0]!.flag, 0);
  });

  it("a gzip-compressed request from grpc-js is decoded: ctx.requestEncoding gzip, lastMessageCompressed true", T, async () => {
    const seen: { encoding?: string; compressed?: boolean; size?: number } = {};
    const { target } = await h.start((s) =>
      s.addService(TestService, {
        unaryCall(req, ctx) {
          Object.assign(seen, { encoding: ctx.requestEncoding, compressed: ctx.lastMessageCompressed, size: req.payload?.body.length });
          return {};
        },
      }),
    );
    const client = h.client(target, grpc.credentials.createInsecure(), { "grpc.default_compression_algorithm": grpc.compressionAlgorithms.gzip });
    await unary(client, TS.unaryCall, { payload: { body: Buffer.alloc(50_000, 1) } }, TS.simpleRequest, TS.simpleResponse, { deadlineMs: 3000 });
    assert.deepEqual(seen, { encoding: "gzip", compressed: true, size: 50_000 });
  });

  it("disableNextMessageCompression() sends just the next message uncompressed", T, async () => {
    const { port } = await h.start((s) =>
      s.addService(TestService, {
        async *streamingOutputCall(_req, ctx) {
          ctx.setCompression("gzip");
          yield { payload: { body: Buffer.alloc(100, 1) } };
          ctx.disableNextMessageCompression();
          yield { payload: { body: Buffer.alloc(100, 2) } };
          yield { payload: { body: Buffer.alloc(100, 3) } };
        },
      }),
    );
    const raw = await rawRequest(h.h2(`http://127.0.0.1:${port}`), TS.streamingOutputCall, frame(new Uint8Array()), { "grpc-accept-encoding": "gzip" });
    assert.equal(raw.headers["grpc-encoding"], "gzip");
    const msgs = unframe(raw.body);
    assert.deepEqual(
      msgs.map((m) => m.flag),
      [1, 0, 1],
    );
    assert.deepEqual(
      msgs.map((m) => TS.outputResponse.deserialize(m.flag ? gunzipSync(m.data) : m.data).payload?.body[0]),
      [1, 2, 3],
    );
  });

  it("a server-streaming generator is closed (its finally runs) when the client cancels -> CANCELLED", T, async () => {
    const closed = deferred<{ yielded: number; aborted: boolean }>();
    const { target } = await h.start((s) =>
      s.addService(TestService, {
        async *streamingOutputCall(_req, ctx) {
          let yielded = 0;
          try {
            for (;;) {
              yield { payload: { body: Buffer.from(String(yielded)) } };
              yielded++;
              await new Promise((r) => setTimeout(r, 10));
            }
          } finally {
            closed.resolve({ yielded, aborted: ctx.signal.aborted });
          }
        },
      }),
    );
    let received = 0;
    await expectCode(
      serverStreamCancelAfter(h.client(target), 3, () => received++),
      grpc.status.CANCELLED,
    );
    const { yielded, aborted } = await within(closed.promise, 2000, "generator finally");
    assert.equal(aborted, true);
    assert.ok(yielded >= 3 && yielded < 50, `yielded ${yielded}`);
    assert.ok(received >= 3);
  });

  it("setCompression with an unknown encoding throws ERR_SB_BAD_COMPRESSION; after headers, ERR_SB_CALL_STATE", T, async () => {
    const errors: unknown[] = [];
    const { target } = await h.start((s) =>
      s.addService(Greeter, {
        async sayHello(_req, ctx) {
          try {
            ctx.setCompression("br" as never);
          } catch (err) {
            errors.push(err);
          }
          await ctx.sendInitialMetadata();
          try {
            ctx.setCompression("gzip");
          } catch (err) {
            errors.push(err);
          }
          return { message: "ok" };
        },
      }),
    );
    await h.greeter(target).sayHello("x", { deadlineMs: 3000 });
    assert.deepEqual(
      errors.map((e) => (e as SwitchboardError).code),
      [ErrorCode.BAD_COMPRESSION, ErrorCode.CALL_STATE],
    );
  });
});

describe("metadata a handler sends that HTTP/2 forbids", () => {
  /** Records uncaught exceptions while `fn` runs, so a crash shows up as a failed assertion. */
  async function catchingUncaught(fn: () => Promise<void>): Promise<unknown[]> {
    const caught: unknown[] = [];
    const on = (err: unknown) => caught.push(err);
    process.on("uncaughtException", on);
    try {
      await fn();
    } finally {
      process.off("uncaughtException", on);
    }
    return caught;
  }

  /** Greeter whose SayHello applies `apply` to its context; returns what the setter threw (if anything). */
  async function greeterApplying(apply: (ctx: ServerCallContext) => Promise<void> | void, rethrow = false) {
    const thrown: unknown[] = [];
    const started = await h.start((s) =>
      s.addService(Greeter, {
        async sayHello(req, ctx) {
          if (req.name === "apply") {
            try {
              await apply(ctx);
            } catch (err) {
              thrown.push(err);
              if (rethrow) throw err;
            }
          }
          return { message: "ok" };
        },
      }),
    );
    return { ...started, thrown };
  }

  // Connection-specific headers are refused as metadata; they would break the HTTP/2 response.
  it('setTrailingMetadata({connection: "close"}) never crashes the process: the setter throws ERR_SB_BAD_METADATA or the call ends with a status', T, async () => {
    const { target, thrown } = await greeterApplying((ctx) => ctx.setTrailingMetadata({ connection: "close" }));
    const g = h.greeter(target);
    let outcome: unknown;
    let after: unknown;
    const caught = await catchingUncaught(async () => {
      outcome = await g.sayHello("apply", { deadlineMs: 10_000 }).then(
        (r) => r.status.code,
        (e: grpc.ServiceError) => e.code,
      );
      // A whole call after it on the same server: a crash the first one caused has happened by then.
      after = (await g.sayHello("x", { deadlineMs: 10_000 })).status.code;
    });
    assert.deepEqual(caught.map(String), [], "no uncaught exception");
    assert.notEqual(outcome, grpc.status.DEADLINE_EXCEEDED, "the call must end with a status, not hang");
    if (thrown.length === 0) assert.notEqual(outcome, grpc.status.OK, "trailers that cannot be sent cannot end in OK");
    else assert.equal((thrown[0] as SwitchboardError).code, ErrorCode.BAD_METADATA);
    assert.equal(after, grpc.status.OK);
  });

  // Trailing metadata node:http2 refuses (a single-value header twice) ends the call with INTERNAL, never a crash.
  it("repeated single-value keys in trailing metadata (authorization twice) never crash the process", T, async () => {
    const { target, thrown } = await greeterApplying((ctx) =>
      ctx.setTrailingMetadata([
        ["authorization", "a"],
        ["authorization", "b"],
      ]),
    );
    const g = h.greeter(target);
    let outcome: unknown;
    let after: unknown;
    const caught = await catchingUncaught(async () => {
      outcome = await g.sayHello("apply", { deadlineMs: 10_000 }).then(
        (r) => r.status.code,
        (e: grpc.ServiceError) => e.code,
      );
      // A whole call after it on the same server: a crash the first one caused has happened by then.
      after = (await g.sayHello("x", { deadlineMs: 10_000 })).status.code;
    });
    assert.deepEqual(caught.map(String), [], "no uncaught exception");
    assert.notEqual(outcome, grpc.status.DEADLINE_EXCEEDED, "the call must end with a status, not hang");
    if (thrown.length > 0) assert.equal((thrown[0] as SwitchboardError).code, ErrorCode.BAD_METADATA);
    assert.equal(after, grpc.status.OK);
  });

  // Initial metadata node:http2 refuses still leaves the call a status to send.
  it('sendInitialMetadata({connection: "close"}) fails; a handler letting that error escape still ends the call with a status before the deadline', T, async () => {
    const { target, thrown } = await greeterApplying((ctx) => ctx.sendInitialMetadata({ connection: "close" }), true);
    const g = h.greeter(target);
    const outcome = await g.sayHello("apply", { deadlineMs: 10_000 }).then(
      (r) => r.status.code,
      (e: grpc.ServiceError) => e.code,
    );
    assert.equal(thrown.length, 1, "sendInitialMetadata must report the problem");
    assert.notEqual(outcome, grpc.status.DEADLINE_EXCEEDED, "the call must end with a status, not hang");
  });

  // The response content-type is the protocol's; metadata cannot replace it.
  it('sendInitialMetadata({"content-type": ...}) cannot replace the application/grpc content type', T, async () => {
    const { port, thrown } = await greeterApplying((ctx) => ctx.sendInitialMetadata({ "content-type": "text/html" }));
    const raw = await rawRequest(h.h2(`http://127.0.0.1:${port}`), "/helloworld.Greeter/SayHello", frame(Buffer.from([10, 5, ...Buffer.from("apply")])));
    if (thrown.length > 0) assert.equal((thrown[0] as SwitchboardError).code, ErrorCode.BAD_METADATA);
    assert.equal(raw.headers["content-type"], "application/grpc");
  });
});
