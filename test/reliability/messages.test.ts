// Reliability rows 12-16 and 24 (../shared/design/RELIABILITY.md): hostile request bodies
// (huge length prefixes, messages at the limit, a gzip bomb, bad compression flags,
// truncated and doubled messages) and handler faults (sync throw, rejection, throw after
// responding), against a server in a child process. test/wire/framing.test.ts and
// compression.test.ts cover the same rules in-process; these add the process, memory and
// dispatch checks of the reliability bar.
import { before, describe, it, type TestContext } from "node:test";
import * as assert from "node:assert/strict";
import * as http2 from "node:http2";
import {
  assertMemoryReturns,
  assertServes,
  grpc,
  grpcClient,
  grpcMessage,
  grpcServerStream,
  grpcUnary,
  h2Call,
  KiB,
  mb,
  MiB,
  PATH,
  waitForStats,
} from "./harness.js";
import { serverForSuite } from "./suite-server.js";
import { gzipZeros } from "./attacks.js";
import { dataFrames, FrameSocket, headersFrame, requestBlock } from "./frames.js";

const T = { timeout: 30_000 };
const LIMIT = 4 * MiB;
const GRPC = { OK: 0, UNKNOWN: 2, RESOURCE_EXHAUSTED: 8, UNIMPLEMENTED: 12, INTERNAL: 13 } as const;
/** CI-sized zip bomb (bench/attack.ts runs the 1 GiB one). */
const BOMB_MIB = 256;

const server = serverForSuite({});

describe("row 12: length prefix 0xFFFFFFFF, then a stall", () => {
  it("RESOURCE_EXHAUSTED at once from the prefix alone, and well under 1 MB held", T, async (t: TestContext) => {
    const s0 = await server.proc.resetPeak();
    const fs = await FrameSocket.connect(server.proc.port);
    try {
      await fs.serverSettings();
      const prefix = Buffer.from([0, 0xff, 0xff, 0xff, 0xff]);
      const sentAt = performance.now();
      // The prefix and 10 KB of "body", then nothing (no END_STREAM): the client stalls.
      fs.write(Buffer.concat([headersFrame(1, requestBlock(PATH.len)), dataFrames(1, Buffer.concat([prefix, Buffer.alloc(10 * KiB, 7)]))]));
      // Waiting for the announced 4 GiB would never end (the request idle timeout is 30 s): any
      // status within this bound came from the prefix alone.
      assert.ok(await fs.waitFor(() => fs.grpcStatus(1) !== undefined, 10_000), "a status must come without the client ending the stream");
      const ms = performance.now() - sentAt;
      const s1 = await server.proc.stats();
      t.diagnostic(`status ${fs.grpcStatus(1)} "${fs.trailer(1, "grpc-message")}" after ${ms.toFixed(0)} ms; server peak RSS growth ${((s1.peakRss - s0.rss) / KiB).toFixed(0)} KiB, heap +${((s1.heapUsed - s0.heapUsed) / KiB).toFixed(0)} KiB`);
      assert.equal(fs.grpcStatus(1), GRPC.RESOURCE_EXHAUSTED);
      assert.ok(s1.peakRss - s0.rss < MiB, `peak RSS grew ${((s1.peakRss - s0.rss) / KiB).toFixed(0)} KiB (limit 1 MiB)`);
    } finally {
      fs.destroy();
    }
    await assertServes(server.proc);
  });
});

describe("row 13: messages at the default 4 MiB limit", () => {
  it("4 MiB -> OK", T, async () => {
    const r = await h2Call(server.proc.port, PATH.len, grpcMessage(Buffer.alloc(LIMIT, 1)), { timeoutMs: 10_000 });
    assert.equal(r.grpcStatus, GRPC.OK, r.grpcMessage);
    assert.equal(r.body.readUInt32BE(5), LIMIT);
  });

  it("4 MiB + 1 -> RESOURCE_EXHAUSTED, handler not run", T, async () => {
    const s0 = await server.proc.stats();
    const r = await h2Call(server.proc.port, PATH.len, grpcMessage(Buffer.alloc(LIMIT + 1, 1)), { timeoutMs: 10_000 }).catch((e: Error) => e);
    // node's client may see the stream closed (RST NO_ERROR) while still sending; the status comes first.
    if (r instanceof Error) throw r;
    assert.equal(r.grpcStatus, GRPC.RESOURCE_EXHAUSTED, r.grpcMessage);
    assert.equal((await server.proc.stats()).handlersStarted, s0.handlersStarted);
    await assertServes(server.proc);
  });
});

describe(`row 14: gzip bomb (${BOMB_MIB} MiB of zeros)`, () => {
  let bomb: Buffer;
  before(async () => {
    bomb = await gzipZeros(BOMB_MIB);
  });

  it(`RESOURCE_EXHAUSTED; the server's peak RSS grows by at most 2 x the 4 MiB limit (+ 4 MiB slack)`, T, async (t: TestContext) => {
    const s0 = await server.proc.resetPeak();
    const r = await h2Call(server.proc.port, PATH.len, grpcMessage(bomb, 1), { headers: { "grpc-encoding": "gzip" }, timeoutMs: 20_000 });
    const s1 = await server.proc.stats();
    const growth = s1.peakRss - s0.rss;
    t.diagnostic(`${BOMB_MIB} MiB of zeros as ${(bomb.length / KiB).toFixed(0)} KiB of gzip: status ${r.grpcStatus} "${r.grpcMessage}" in ${r.ms.toFixed(0)} ms; peak RSS growth ${mb(growth)} MB`);
    assert.equal(r.grpcStatus, GRPC.RESOURCE_EXHAUSTED);
    assert.ok(growth <= 2 * LIMIT + 4 * MiB, `peak RSS grew ${mb(growth)} MB`);
    await assertServes(server.proc);
  });
});

describe("row 15: compression misuse", () => {
  it("compressed flag without grpc-encoding -> INTERNAL", T, async () => {
    const r = await h2Call(server.proc.port, PATH.echo, grpcMessage(Buffer.from("x"), 1));
    assert.equal(r.grpcStatus, GRPC.INTERNAL, r.grpcMessage);
  });

  it("flag byte 2 -> INTERNAL", T, async () => {
    const r = await h2Call(server.proc.port, PATH.echo, grpcMessage(Buffer.from("x"), 2));
    assert.equal(r.grpcStatus, GRPC.INTERNAL, r.grpcMessage);
  });

  it("grpc-encoding br -> UNIMPLEMENTED with grpc-accept-encoding", T, async () => {
    const session = http2.connect(`http://127.0.0.1:${server.proc.port}`);
    session.on("error", () => {});
    try {
      const headers = await new Promise<Record<string, unknown>>((resolve, reject) => {
        const req = session.request({ ":method": "POST", ":path": PATH.echo, "content-type": "application/grpc", te: "trailers", "grpc-encoding": "br" });
        req.on("response", (h) => resolve(h as Record<string, unknown>));
        req.on("error", reject);
        req.end(grpcMessage(Buffer.from("x"), 1));
      });
      assert.equal(headers["grpc-status"], String(GRPC.UNIMPLEMENTED));
      assert.match(String(headers["grpc-accept-encoding"]), /gzip/);
    } finally {
      session.destroy();
    }
  });
});

describe("row 16: broken request framing", () => {
  it("a truncated body (prefix says 10 bytes, 5 arrive, END_STREAM) -> INTERNAL, handler not run", T, async () => {
    const s0 = await server.proc.stats();
    const body = Buffer.concat([Buffer.from([0, 0, 0, 0, 10]), Buffer.from("12345")]);
    const r = await h2Call(server.proc.port, PATH.echo, body);
    assert.equal(r.grpcStatus, GRPC.INTERNAL, r.grpcMessage);
    assert.equal((await server.proc.stats()).handlersStarted, s0.handlersStarted);
  });

  it("two request messages on a unary method -> INTERNAL, handler not run", T, async () => {
    const s0 = await server.proc.stats();
    const r = await h2Call(server.proc.port, PATH.echo, Buffer.concat([grpcMessage(Buffer.from("a")), grpcMessage(Buffer.from("b"))]));
    assert.equal(r.grpcStatus, GRPC.INTERNAL, r.grpcMessage);
    assert.equal((await server.proc.stats()).handlersStarted, s0.handlersStarted);
  });
});

describe("row 24: handler faults", () => {
  it("sync throw, async rejection, throw after responding: UNKNOWN for that call only; calls around them are OK", T, async (t: TestContext) => {
    const client = grpcClient(server.proc.port);
    try {
      const [sync, rejected, after, echo] = await Promise.all([
        grpcUnary(client, PATH.throwSync, Buffer.from("x")),
        grpcUnary(client, PATH.reject, Buffer.from("x")),
        grpcServerStream(client, PATH.throwAfter, Buffer.from("x")),
        grpcUnary(client, PATH.echo, Buffer.from("concurrent")),
      ]);
      t.diagnostic(`sync: ${grpc.status[sync.code]} "${sync.details}"; rejection: ${grpc.status[rejected.code]} "${rejected.details}"; after responding: ${after.messages.length} message(s) then ${grpc.status[after.code]} "${after.details}"`);
      assert.equal(sync.code, grpc.status.UNKNOWN);
      assert.equal(rejected.code, grpc.status.UNKNOWN);
      assert.equal(after.code, grpc.status.UNKNOWN);
      assert.equal(after.messages.length, 1, "the message sent before the throw arrives");
      assert.equal(echo.code, grpc.status.OK, "a concurrent call on the same connection is unaffected");
      for (let i = 0; i < 3; i++) {
        const next = await grpcUnary(client, PATH.echo, Buffer.from(`next ${i}`));
        assert.equal(next.code, grpc.status.OK);
        assert.equal(next.value?.toString(), `next ${i}`);
      }
    } finally {
      client.close();
    }
    await assertServes(server.proc);
  });

  it("100 faulting calls in a row leave nothing behind (no crash, no live calls)", T, async () => {
    const client = grpcClient(server.proc.port);
    try {
      const outcomes = await Promise.all(Array.from({ length: 100 }, (_, i) => grpcUnary(client, i % 2 ? PATH.throwSync : PATH.reject, Buffer.from("x"))));
      assert.ok(outcomes.every((o) => o.code === grpc.status.UNKNOWN));
    } finally {
      client.close();
    }
    const s = await server.proc.stats();
    assert.equal(s.activeCalls, 0);
    await assertServes(server.proc);
  });
});

describe("after every message attack", () => {
  it("the process is alive, serves, and its RSS is back near the baseline", T, async (t: TestContext) => {
    await assertServes(server.proc);
    await waitForStats(server.proc, (s) => s.sessions === 0 && s.sockets === 0 && s.activeCalls === 0, 3000, "every connection released");
    const s = await assertMemoryReturns(server.proc, server.baseline.rss, 15 * MiB);
    t.diagnostic(`RSS ${mb(server.baseline.rss)} -> ${mb(s.rss)} MB; fds ${server.baseline.fds} -> ${s.fds}; handles ${server.baseline.activeHandles} -> ${s.activeHandles}`);
    assert.ok(s.fds <= server.baseline.fds, `fds ${server.baseline.fds} -> ${s.fds}`);
  });
});
