// Message compression on the wire: the compressed flag vs grpc-encoding, unsupported
// encodings, gzip/deflate requests, decompression bombs, and response compression.
import { after, before, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as zlib from "node:zlib";
import { Code, unaryStreamRpcMethodHandler, unaryUnaryRpcMethodHandler } from "../../src/index.js";
import { assertAnswersNormalCall, startServer, type WireServer } from "./fixture.js";
import { callOnce, grpcFrame, type HeaderInput, type RawResponse } from "./raw-h2.js";

const ECHO = "/wire.Zip/Echo";
const GZIP_REPLY = "/wire.Zip/GzipReply";
const MIXED = "/wire.Zip/Mixed";
const MIB = 1024 * 1024;
const PAYLOAD = Buffer.from("compressible ".repeat(200));

let ws: WireServer;
let handlerRuns = 0;

before(async () => {
  ws = await startServer((server) => {
    server.addRegisteredMethodHandlers("wire.Zip", {
      // Answers with the request bytes as decoded by the server, and the flag it saw.
      Echo: unaryUnaryRpcMethodHandler((req: Uint8Array, ctx) => {
        handlerRuns++;
        return Buffer.concat([Buffer.from([ctx.lastMessageCompressed ? 1 : 0]), req]);
      }),
      GzipReply: unaryUnaryRpcMethodHandler((_req: Uint8Array, ctx) => {
        handlerRuns++;
        ctx.setCompression("gzip");
        return PAYLOAD;
      }),
      Mixed: unaryStreamRpcMethodHandler(async function* (_req: Uint8Array, ctx) {
        handlerRuns++;
        ctx.setCompression("gzip");
        yield Buffer.from("first ".repeat(50));
        ctx.disableNextMessageCompression();
        yield Buffer.from("second ".repeat(50));
        yield Buffer.from("third ".repeat(50));
      }),
    });
  });
});

after(async () => {
  await ws.stop();
});

async function refused(path: string, extra: HeaderInput[], body: Uint8Array, code: Code): Promise<RawResponse> {
  const runs = handlerRuns;
  const res = await callOnce(ws.port, path, { extra, body, timeoutMs: 10_000 });
  assert.equal(res.status, 200, res.describe());
  assert.equal(res.grpcStatus, code, res.describe());
  assert.equal(res.messages.length, 0);
  assert.equal(handlerRuns, runs, "the handler body must not run");
  return res;
}

describe("request compression", () => {
  it("compressed flag without grpc-encoding -> INTERNAL", async () => {
    await refused(ECHO, [], grpcFrame(zlib.gzipSync(PAYLOAD), 1), Code.INTERNAL);
  });

  it("compressed flag with grpc-encoding identity -> INTERNAL", async () => {
    await refused(ECHO, [["grpc-encoding", "identity"]], grpcFrame(zlib.gzipSync(PAYLOAD), 1), Code.INTERNAL);
  });

  it("grpc-encoding br -> UNIMPLEMENTED with grpc-accept-encoding listing identity,deflate,gzip", async () => {
    const dispatched = ws.dispatched;
    const res = await refused(ECHO, [["grpc-encoding", "br"]], grpcFrame(Buffer.from("x"), 1), Code.UNIMPLEMENTED);
    assert.ok(res.trailersOnly, res.describe());
    assert.equal(ws.dispatched, dispatched);
    const accepted = (res.trailer("grpc-accept-encoding") ?? "").split(",").map((s) => s.trim());
    assert.deepEqual(accepted.sort(), ["deflate", "gzip", "identity"]);
  });

  for (const [encoding, compress] of [
    ["gzip", zlib.gzipSync],
    ["deflate", zlib.deflateSync],
  ] as const) {
    it(`a ${encoding} request is decoded`, async () => {
      const res = await callOnce(ws.port, ECHO, { extra: [["grpc-encoding", encoding]], body: grpcFrame(compress(PAYLOAD), 1) });
      assert.equal(res.grpcStatus, Code.OK, res.describe());
      const echoed = res.messages[0]!.data;
      assert.equal(echoed[0], 1, "ctx.lastMessageCompressed");
      assert.deepEqual(echoed.subarray(1), PAYLOAD);
    });

    it(`an uncompressed message (flag 0) in a ${encoding} request is taken as is`, async () => {
      const res = await callOnce(ws.port, ECHO, { extra: [["grpc-encoding", encoding]], body: grpcFrame(PAYLOAD, 0) });
      assert.equal(res.grpcStatus, Code.OK, res.describe());
      assert.equal(res.messages[0]!.data[0], 0);
      assert.deepEqual(res.messages[0]!.data.subarray(1), PAYLOAD);
    });

    it(`corrupt ${encoding} data -> INTERNAL`, async () => {
      await refused(ECHO, [["grpc-encoding", encoding]], grpcFrame(Buffer.from("definitely not compressed"), 1), Code.INTERNAL);
    });

    it(`a ${encoding} bomb (64 MiB of zeros, small compressed) -> RESOURCE_EXHAUSTED`, async () => {
      const bomb = compress(Buffer.alloc(64 * MIB));
      assert.ok(bomb.length < 4 * MIB, "the compressed bomb itself is under the receive limit");
      await refused(ECHO, [["grpc-encoding", encoding]], grpcFrame(bomb, 1), Code.RESOURCE_EXHAUSTED);
    });
  }

  it("a gzip message that decompresses to exactly 4 MiB is accepted", async () => {
    const res = await callOnce(ws.port, ECHO, { extra: [["grpc-encoding", "gzip"]], body: grpcFrame(zlib.gzipSync(Buffer.alloc(4 * MIB, 3)), 1), timeoutMs: 20_000 });
    assert.equal(res.grpcStatus, Code.OK, res.describe());
    assert.equal(res.messages[0]!.data.length, 4 * MIB + 1);
  });

  it("a gzip message that decompresses to 4 MiB + 1 -> RESOURCE_EXHAUSTED", async () => {
    await refused(ECHO, [["grpc-encoding", "gzip"]], grpcFrame(zlib.gzipSync(Buffer.alloc(4 * MIB + 1, 3)), 1), Code.RESOURCE_EXHAUSTED);
  });
});

describe("response compression", () => {
  it("ctx.setCompression('gzip') with a client accepting gzip -> grpc-encoding gzip and flag 1", async () => {
    const res = await callOnce(ws.port, GZIP_REPLY, { extra: [["grpc-accept-encoding", "identity, gzip"]], body: grpcFrame(Buffer.from("x")) });
    assert.equal(res.grpcStatus, Code.OK, res.describe());
    assert.equal(res.header("grpc-encoding"), "gzip");
    const [message] = res.messages;
    assert.equal(message?.flag, 1);
    assert.deepEqual(zlib.gunzipSync(message!.data), PAYLOAD);
  });

  for (const accept of [undefined, "identity", "deflate"]) {
    it(`ctx.setCompression('gzip') with grpc-accept-encoding ${accept ?? "absent"} -> identity (no grpc-encoding, flag 0)`, async () => {
      const extra: HeaderInput[] = accept === undefined ? [] : [["grpc-accept-encoding", accept]];
      const res = await callOnce(ws.port, GZIP_REPLY, { extra, body: grpcFrame(Buffer.from("x")) });
      assert.equal(res.grpcStatus, Code.OK, res.describe());
      const enc = res.header("grpc-encoding");
      assert.ok(enc === undefined || enc === "identity", `grpc-encoding ${enc}`);
      const [message] = res.messages;
      assert.equal(message?.flag, 0);
      assert.deepEqual(message!.data, PAYLOAD);
    });
  }

  it("disableNextMessageCompression() sends only the next message with flag 0", async () => {
    const res = await callOnce(ws.port, MIXED, { extra: [["grpc-accept-encoding", "gzip"]], body: grpcFrame(Buffer.from("x")) });
    assert.equal(res.grpcStatus, Code.OK, res.describe());
    assert.equal(res.header("grpc-encoding"), "gzip");
    const messages = res.messages;
    assert.deepEqual(
      messages.map((m) => m.flag),
      [1, 0, 1],
    );
    const text = messages.map((m) => (m.flag === 1 ? zlib.gunzipSync(m.data) : m.data).toString());
    assert.deepEqual(text, ["first ".repeat(50), "second ".repeat(50), "third ".repeat(50)]);
  });
});

describe("after the compression tests", () => {
  it("the server is still alive and answers a normal call", async () => {
    await assertAnswersNormalCall(ws.port);
  });
});
