// The 5-byte gRPC message prefix on the wire: size limits checked from the prefix alone,
// truncation, message counts for unary requests, unknown flag bits, and reassembly.
import { after, before, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import { Code, streamUnaryRpcMethodHandler, unaryStreamRpcMethodHandler, unaryUnaryRpcMethodHandler } from "../../src/index.js";
import { assertAnswersNormalCall, startServer, type WireServer } from "./fixture.js";
import { call, callOnce, grpcFrame, grpcHeaders, RawH2Connection, startCall, type RawResponse } from "./raw-h2.js";

const SIZE = "/wire.Frame/Size";
const SERVER_STREAM = "/wire.Frame/ServerStream";
const COUNT = "/wire.Frame/Count";
const MIB = 1024 * 1024;

let ws: WireServer;
/** Times a handler body ran, i.e. after the request message was accepted. */
let handlerRuns = 0;

/** The request length as a 4-byte big-endian number. */
function lengthOf(req: Uint8Array): Uint8Array {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(req.length);
  return out;
}

before(async () => {
  ws = await startServer((server) => {
    // No serializers: handlers get and return raw bytes, so any body size can be sent.
    server.addRegisteredMethodHandlers("wire.Frame", {
      Size: unaryUnaryRpcMethodHandler((req: Uint8Array) => {
        handlerRuns++;
        return lengthOf(req);
      }),
      ServerStream: unaryStreamRpcMethodHandler(function* (req: Uint8Array) {
        handlerRuns++;
        yield lengthOf(req);
      }),
      Count: streamUnaryRpcMethodHandler(async (requests: AsyncIterable<Uint8Array>) => {
        handlerRuns++;
        let n = 0;
        for await (const _ of requests) n++;
        return Buffer.from([n]);
      }),
    });
  });
});

after(async () => {
  await ws.stop();
});

function assertStatus(res: RawResponse, code: Code): void {
  assert.equal(res.status, 200, res.describe());
  assert.equal(res.grpcStatus, code, res.describe());
}

/** A call that must be refused before the handler body runs. */
async function refused(path: string, body: Uint8Array, code: Code, options: { keepOpen?: boolean; timeoutMs?: number } = {}): Promise<RawResponse> {
  const runs = handlerRuns;
  const res = await callOnce(ws.port, path, { body, ...options });
  assertStatus(res, code);
  assert.equal(res.messages.length, 0, "no response message");
  assert.equal(handlerRuns, runs, "the handler body must not run");
  return res;
}

describe("message size", () => {
  it("length prefix 0xFFFFFFFF, then a stall -> RESOURCE_EXHAUSTED right away (from the prefix alone)", async () => {
    // Only the prefix is sent and the stream stays open: the answer cannot wait for the body.
    const prefix = grpcFrame(Buffer.alloc(0), 0, 0xffffffff);
    await refused(SIZE, prefix, Code.RESOURCE_EXHAUSTED, { keepOpen: true, timeoutMs: 10_000 });
  });

  it("a 4 MiB message (exactly the default limit) is accepted", async () => {
    const res = await callOnce(ws.port, SIZE, { body: grpcFrame(Buffer.alloc(4 * MIB, 7)), timeoutMs: 20_000 });
    assertStatus(res, Code.OK);
    assert.equal(res.messages[0]?.data.readUInt32BE(0), 4 * MIB);
  });

  it("a 4 MiB + 1 message -> RESOURCE_EXHAUSTED with default limits, handler not run", async () => {
    await refused(SIZE, grpcFrame(Buffer.alloc(4 * MIB + 1, 7)), Code.RESOURCE_EXHAUSTED, { timeoutMs: 20_000 });
  });

  it("a 4 MiB + 1 prefix alone (body never sent) -> RESOURCE_EXHAUSTED", async () => {
    await refused(SIZE, grpcFrame(Buffer.alloc(0), 0, 4 * MIB + 1), Code.RESOURCE_EXHAUSTED, { keepOpen: true, timeoutMs: 10_000 });
  });

  it("an empty message (length 0) is a valid message", async () => {
    const res = await callOnce(ws.port, SIZE, { body: grpcFrame(Buffer.alloc(0)) });
    assertStatus(res, Code.OK);
    assert.equal(res.messages[0]?.data.readUInt32BE(0), 0);
  });
});

describe("truncation", () => {
  it("END_STREAM in the middle of a message body -> INTERNAL", async () => {
    // The prefix announces 10 bytes; only 3 arrive before the client ends the stream.
    await refused(SIZE, grpcFrame(Buffer.from("abc"), 0, 10), Code.INTERNAL);
  });

  it("END_STREAM in the middle of the 5-byte prefix -> INTERNAL", async () => {
    await refused(SIZE, Buffer.from([0, 0, 0]), Code.INTERNAL);
  });

  it("END_STREAM after a whole message plus a partial second prefix -> INTERNAL", async () => {
    await refused(SIZE, Buffer.concat([grpcFrame(Buffer.from("ok")), Buffer.from([0, 0])]), Code.INTERNAL);
  });
});

describe("message count for unary requests", () => {
  it("two messages on a unary method -> INTERNAL, handler not run", async () => {
    await refused(SIZE, Buffer.concat([grpcFrame(Buffer.from("one")), grpcFrame(Buffer.from("two"))]), Code.INTERNAL);
  });

  it("two messages on a server-streaming method -> INTERNAL, handler not run", async () => {
    await refused(SERVER_STREAM, Buffer.concat([grpcFrame(Buffer.from("one")), grpcFrame(Buffer.from("two"))]), Code.INTERNAL);
  });

  it("zero messages on a unary method -> INTERNAL", async () => {
    const runs = handlerRuns;
    const res = await callOnce(ws.port, SIZE, {});
    assertStatus(res, Code.INTERNAL);
    assert.equal(handlerRuns, runs);
  });

  it("zero messages on a unary method with an empty DATA frame carrying END_STREAM -> INTERNAL", async () => {
    await refused(SIZE, Buffer.alloc(0), Code.INTERNAL);
  });

  it("zero messages on a client-streaming method are fine (OK, count 0)", async () => {
    const res = await callOnce(ws.port, COUNT, {});
    assertStatus(res, Code.OK);
    assert.deepEqual(res.messages[0]?.data, Buffer.from([0]));
  });

  it("three messages on a client-streaming method arrive as three", async () => {
    const body = Buffer.concat([grpcFrame(Buffer.from("a")), grpcFrame(Buffer.alloc(0)), grpcFrame(Buffer.from("c"))]);
    const res = await callOnce(ws.port, COUNT, { body });
    assertStatus(res, Code.OK);
    assert.deepEqual(res.messages[0]?.data, Buffer.from([3]));
  });
});

describe("flags and reassembly", () => {
  for (const flag of [2, 0x80, 0xff]) {
    it(`flag byte ${flag} -> INTERNAL, handler not run`, async () => {
      await refused(SIZE, grpcFrame(Buffer.from("x"), flag), Code.INTERNAL);
    });
  }

  it("a message split into 1-byte DATA frames is reassembled", async () => {
    const conn = await RawH2Connection.connect(ws.port);
    try {
      const id = conn.newStreamId();
      conn.sendHeaders(id, grpcHeaders(SIZE));
      const bytes = grpcFrame(Buffer.from("split-me"));
      for (let i = 0; i < bytes.length; i++) conn.sendData(id, bytes.subarray(i, i + 1), { endStream: i === bytes.length - 1 });
      const res = await conn.response(id);
      assertStatus(res, Code.OK);
      assert.equal(res.messages[0]?.data.readUInt32BE(0), "split-me".length);
    } finally {
      conn.close();
    }
  });

  it("several messages in one DATA frame are split apart (client streaming)", async () => {
    const body = Buffer.concat(Array.from({ length: 20 }, (_, i) => grpcFrame(Buffer.alloc(i, 1))));
    const res = await callOnce(ws.port, COUNT, { body });
    assertStatus(res, Code.OK);
    assert.deepEqual(res.messages[0]?.data, Buffer.from([20]));
  });

  it("after a framing error, the next call on the same connection is served", async () => {
    const conn = await RawH2Connection.connect(ws.port);
    try {
      const bad = await call(conn, SIZE, { body: grpcFrame(Buffer.from("x"), 2) });
      assertStatus(bad, Code.INTERNAL);
      const id = startCall(conn, SIZE, { body: grpcFrame(Buffer.from("fine")) });
      const good = await conn.response(id);
      assertStatus(good, Code.OK);
      assert.equal(good.messages[0]?.data.readUInt32BE(0), 4);
    } finally {
      conn.close();
    }
  });
});

describe("after the framing tests", () => {
  it("the server is still alive and answers a normal call", async () => {
    await assertAnswersNormalCall(ws.port);
  });
});
