// The status on the wire: grpc-message percent-encoding byte for byte, rich details in
// grpc-status-details-bin, and client cancellation (RST_STREAM CANCEL) reaching the handler.
import { after, before, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import { fromBinary } from "@bufbuild/protobuf";
import { Code, RpcError, unaryStreamRpcMethodHandler, unaryUnaryRpcMethodHandler, type ServerCallContext } from "../../src/index.js";
import { StatusSchema } from "../../src/gen/google/rpc/status_pb.js";
import { assertAnswersNormalCall, deferred, sleep, startServer, within, type WireServer } from "./fixture.js";
import { callOnce, FRAME, grpcFrame, H2_ERROR, RawH2Connection, startCall } from "./raw-h2.js";

const FAIL = "/wire.Status/Fail";
const DETAILS = "/wire.Status/Details";
const RAW_DETAILS = "/wire.Status/RawDetails";
const HANG = "/wire.Status/Hang";
const TICKER = "/wire.Status/Ticker";

const DETAIL = { typeUrl: "type.googleapis.com/wire.test.Detail", value: Uint8Array.from([1, 2, 3, 250]) };
/** A google.rpc.Status encoded by hand: code 9, message "pre-encoded". */
const PRE_ENCODED = Uint8Array.from([0x08, 0x09, 0x12, 0x0b, ...Buffer.from("pre-encoded")]);

let ws: WireServer;

/** What a cancellable handler saw: that it started, and its signal's abort reason. */
interface Watch {
  started: ReturnType<typeof deferred<void>>;
  aborted: ReturnType<typeof deferred<unknown>>;
}
let watch: Watch = newWatch();
function newWatch(): Watch {
  return { started: deferred(), aborted: deferred<unknown>() };
}
function observe(ctx: ServerCallContext, w: Watch): void {
  const signal = ctx.signal;
  if (signal.aborted) w.aborted.resolve(signal.reason);
  else signal.addEventListener("abort", () => w.aborted.resolve(signal.reason), { once: true });
  w.started.resolve();
}

before(async () => {
  ws = await startServer((server) => {
    server.addRegisteredMethodHandlers("wire.Status", {
      // The request body is the status message to fail with.
      Fail: unaryUnaryRpcMethodHandler<Uint8Array, Uint8Array>((req) => {
        throw new RpcError(Code.INVALID_ARGUMENT, Buffer.from(req).toString("utf8"));
      }),
      Details: unaryUnaryRpcMethodHandler<Uint8Array, Uint8Array>(() => {
        throw new RpcError(Code.FAILED_PRECONDITION, "with details", { details: [DETAIL] });
      }),
      RawDetails: unaryUnaryRpcMethodHandler<Uint8Array, Uint8Array>((_req, ctx) => {
        return ctx.abortWithStatus({ code: Code.FAILED_PRECONDITION, message: "pre-encoded", statusDetailsBin: PRE_ENCODED });
      }),
      Hang: unaryUnaryRpcMethodHandler(async (_req: Uint8Array, ctx) => {
        const w = watch;
        observe(ctx, w);
        await within(w.aborted.promise, 5000, "abort").catch(() => {});
        return Buffer.from("late");
      }),
      Ticker: unaryStreamRpcMethodHandler(async function* (_req: Uint8Array, ctx) {
        const w = watch;
        observe(ctx, w);
        for (let i = 0; i < 500 && !ctx.signal.aborted; i++) {
          yield Buffer.from(`tick ${i}`);
          await sleep(10);
        }
      }),
    });
  });
});

after(async () => {
  await ws.stop();
});

async function failWith(message: string) {
  const res = await callOnce(ws.port, FAIL, { body: grpcFrame(Buffer.from(message, "utf8")) });
  assert.equal(res.grpcStatus, Code.INVALID_ARGUMENT, res.describe());
  return res;
}

describe("grpc-message encoding", () => {
  it("non-ASCII, '%', and control characters are percent-encoded as UTF-8 bytes (exact wire bytes)", async () => {
    const res = await failWith("café 100% ✓\n\tok");
    assert.equal(res.grpcMessage, "caf%C3%A9 100%25 %E2%9C%93%0A%09ok");
  });

  it("a 4-byte UTF-8 character (emoji) is encoded as its four bytes", async () => {
    const res = await failWith("x🙂");
    assert.equal(res.grpcMessage, "x%F0%9F%99%82");
  });

  it("printable ASCII other than '%' goes out unchanged", async () => {
    const printable = " !\"#$&'()*+,-./0123456789:;<=>?@AZ[\\]^_`az{|}~";
    const res = await failWith(printable);
    assert.equal(res.grpcMessage, printable);
  });

  it("an already percent-looking message is escaped again ('%41' -> '%2541')", async () => {
    const res = await failWith("%41");
    assert.equal(res.grpcMessage, "%2541");
  });

  // Header values reach dispatch as latin1 strings (one char per byte); they must be read
  // back as UTF-8 before percent-encoding, or C3 A9 would come back as %C3%83%C2%A9.
  it("non-ASCII bytes of an unknown :path are percent-encoded once in grpc-message", async () => {
    const path = Buffer.from("/café.Svc/M", "utf8").toString("latin1");
    const res = await callOnce(ws.port, path, { body: grpcFrame(Buffer.from("x")) });
    assert.equal(res.grpcStatus, Code.UNIMPLEMENTED, res.describe());
    assert.equal(res.grpcMessage, "method not found: /caf%C3%A9.Svc/M");
  });

  // Statuses the server makes itself after dispatch (receive errors, deadline) must send the
  // raw message, not RpcError's "CODE_NAME: " display form.
  for (const [what, options, code] of [
    ["an oversized message", { body: grpcFrame(Buffer.alloc(0), 0, 0xffffffff), keepOpen: true }, Code.RESOURCE_EXHAUSTED],
    ["a truncated message", { body: grpcFrame(Buffer.from("ab"), 0, 9) }, Code.INTERNAL],
    ["a passed deadline", { body: grpcFrame(Buffer.from("x")), extra: [["grpc-timeout", "50m"]] as const }, Code.DEADLINE_EXCEEDED],
  ] as const) {
    it(`the grpc-message for ${what} carries no "${Code[code]}:" prefix`, async () => {
      watch = newWatch();
      const res = await callOnce(ws.port, HANG, options);
      assert.equal(res.grpcStatus, code, res.describe());
      assert.ok(res.grpcMessage, "a message is sent");
      assert.ok(!res.grpcMessage.startsWith(`${Code[code]}:`), `grpc-message ${JSON.stringify(res.grpcMessage)}`);
    });
  }
});

describe("grpc-status-details-bin", () => {
  it("an RpcError with details sends grpc-status-details-bin, a google.rpc.Status matching the status", async () => {
    const res = await callOnce(ws.port, DETAILS, { body: grpcFrame(Buffer.from("x")) });
    assert.equal(res.grpcStatus, Code.FAILED_PRECONDITION, res.describe());
    assert.equal(res.grpcMessage, "with details");
    const bin = res.trailer("grpc-status-details-bin");
    assert.ok(bin, "grpc-status-details-bin present");
    assert.match(bin, /^[A-Za-z0-9+/]+={0,2}$/, "base64");
    const status = fromBinary(StatusSchema, Buffer.from(bin, "base64"));
    assert.equal(status.code, Code.FAILED_PRECONDITION);
    assert.equal(status.message, "with details");
    assert.equal(status.details.length, 1);
    assert.equal(status.details[0]!.typeUrl, DETAIL.typeUrl);
    assert.deepEqual(Uint8Array.from(status.details[0]!.value), DETAIL.value);
  });

  it("a pre-encoded statusDetailsBin is sent byte for byte", async () => {
    const res = await callOnce(ws.port, RAW_DETAILS, { body: grpcFrame(Buffer.from("x")) });
    assert.equal(res.grpcStatus, Code.FAILED_PRECONDITION, res.describe());
    assert.deepEqual(Uint8Array.from(Buffer.from(res.trailer("grpc-status-details-bin") ?? "", "base64")), PRE_ENCODED);
  });

  it("an RpcError without details sends no grpc-status-details-bin", async () => {
    const res = await failWith("plain");
    assert.equal(res.trailer("grpc-status-details-bin"), undefined);
  });
});

describe("client cancellation", () => {
  it("RST_STREAM(CANCEL) from the client aborts the handler's ctx.signal (within 2 s) with CANCELLED", async () => {
    watch = newWatch();
    const w = watch;
    const conn = await RawH2Connection.connect(ws.port);
    try {
      const id = startCall(conn, HANG, { body: grpcFrame(Buffer.from("x")) });
      await within(w.started.promise, 2000, "handler start");
      conn.sendRst(id, H2_ERROR.CANCEL);
      const reason = await within(w.aborted.promise, 2000, "ctx.signal abort");
      assert.ok(reason instanceof RpcError, `abort reason ${String(reason)}`);
      assert.equal(reason.code, Code.CANCELLED);
    } finally {
      conn.close();
    }
  });

  it("RST_STREAM(CANCEL) in the middle of a server stream aborts ctx.signal and stops the stream", async () => {
    watch = newWatch();
    const w = watch;
    const conn = await RawH2Connection.connect(ws.port);
    try {
      const id = startCall(conn, TICKER, { body: grpcFrame(Buffer.from("x")) });
      await within(w.started.promise, 2000, "handler start");
      await conn.responseHeaders(id);
      conn.sendRst(id, H2_ERROR.CANCEL);
      const reason = await within(w.aborted.promise, 2000, "ctx.signal abort");
      assert.ok(reason instanceof RpcError && reason.code === Code.CANCELLED, `abort reason ${String(reason)}`);
      // The connection survives and serves another call.
      const next = startCall(conn, FAIL, { body: grpcFrame(Buffer.from("after cancel")) });
      const res = await conn.response(next);
      assert.equal(res.grpcStatus, Code.INVALID_ARGUMENT, res.describe());
      assert.equal(conn.goaway, undefined);
      assert.ok(!conn.frameLog.some((f) => f.type === FRAME.GOAWAY));
    } finally {
      conn.close();
    }
  });

  it("closing the TCP connection mid-call aborts ctx.signal (within 2 s)", async () => {
    watch = newWatch();
    const w = watch;
    const conn = await RawH2Connection.connect(ws.port);
    startCall(conn, HANG, { body: grpcFrame(Buffer.from("x")) });
    await within(w.started.promise, 2000, "handler start");
    conn.close();
    const reason = await within(w.aborted.promise, 2000, "ctx.signal abort");
    assert.ok(reason instanceof RpcError && reason.code === Code.CANCELLED, `abort reason ${String(reason)}`);
  });
});

describe("after the status tests", () => {
  it("the server is still alive and answers a normal call", async () => {
    await assertAnswersNormalCall(ws.port);
  });
});
