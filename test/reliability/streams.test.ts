// Reliability rows 17, 20, 21 and 26 (../shared/design/RELIABILITY.md): too many
// concurrent streams, flow-control violations on many connections, clients that never
// read, and mass disconnects mid-stream — against a server in a child process, with the
// stream limit, memory, sessions, file descriptors and handles checked afterwards.
import { describe, it, type TestContext } from "node:test";
import * as assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { assertMemoryReturns, assertServes, KiB, mb, MiB, PATH, pool, waitForStats } from "./harness.js";
import { serverForSuite } from "./suite-server.js";
import { disconnectMidStream, slowReader, windowOverflow } from "./attacks.js";
import { FrameSocket, H2_ERROR, headersFrame, requestBlock } from "./frames.js";

const T = { timeout: 60_000 };
const STREAM_LIMIT = 256;

const server = serverForSuite({});

/** HEADERS for HoldStream on streams first, first+2, ... (n of them). */
function holdStreams(n: number, first = 1): Buffer {
  const block = requestBlock(PATH.holdStream);
  return Buffer.concat(Array.from({ length: n }, (_, i) => headersFrame(first + 2 * i, block)));
}

function rstCodes(fs: FrameSocket): Record<number, number> {
  const out: Record<number, number> = {};
  for (const code of fs.rst.values()) out[code] = (out[code] ?? 0) + 1;
  return out;
}

describe("row 17: 1,000 concurrent streams on one connection into handlers that hold them", () => {
  it("sent after the SETTINGS ack: live handlers never exceed 256; the streams beyond the limit are refused (here: the connection is ended)", T, async (t: TestContext) => {
    const s0 = await server.proc.resetPeak();
    const fs = await FrameSocket.connect(server.proc.port);
    try {
      await fs.serverSettings();
      fs.write(holdStreams(1000));
      // Every stream beyond the limit refused: reset, or above the GOAWAY's last-stream-id.
      const refused = (id: number) => fs.rst.has(id) || (fs.goaway !== undefined && id > fs.goaway.lastStreamId);
      const allRefused = () => Array.from({ length: 1000 - STREAM_LIMIT }, (_, i) => 1 + 2 * (STREAM_LIMIT + i)).every(refused);
      await fs.waitFor(() => fs.isClosed || allRefused(), 10_000);
      const s1 = await server.proc.stats();
      const started = s1.handlersStarted - s0.handlersStarted;
      t.diagnostic(`1000 streams after the ack: handlers started ${started}, max live ${s1.maxLiveHandlers}, RST codes ${JSON.stringify(rstCodes(fs))}, GOAWAY ${JSON.stringify(fs.goaway && { code: fs.goaway.code, lastStreamId: fs.goaway.lastStreamId })}, closed ${fs.isClosed}`);
      assert.ok(s1.maxLiveHandlers <= STREAM_LIMIT, `max live handlers ${s1.maxLiveHandlers}`);
      assert.ok(started <= STREAM_LIMIT, `${started} handlers started`);
      // Every stream beyond the limit was refused: reset, or above the GOAWAY's last-stream-id.
      const lastAdmitted = fs.goaway ? fs.goaway.lastStreamId : Infinity;
      for (let i = STREAM_LIMIT; i < 1000; i++) {
        const id = 1 + 2 * i;
        assert.ok(fs.rst.has(id) || id > lastAdmitted, `stream ${id} was neither reset nor excluded by GOAWAY`);
      }
    } finally {
      fs.destroy();
    }
    await waitForStats(server.proc, (s) => s.liveHandlers === 0, 3000, "held handlers cancelled");
    await assertServes(server.proc);
  });

  it("sent before the SETTINGS ack: 256 held, 744 refused with RST_STREAM REFUSED_STREAM, none queued; the connection lives on", T, async (t: TestContext) => {
    const s0 = await server.proc.resetPeak();
    const fs = await FrameSocket.connect(server.proc.port, { first: holdStreams(1000) });
    try {
      await waitForStats(server.proc, (s) => s.liveHandlers === STREAM_LIMIT, 10_000, "256 live handlers");
      // Every other stream refused (RST_STREAM) is one that can never be queued and start later.
      assert.ok(await fs.waitFor(() => fs.rst.size >= 1000 - STREAM_LIMIT, 10_000), `${fs.rst.size} streams reset, expected ${1000 - STREAM_LIMIT}`);
      const s1 = await server.proc.stats();
      t.diagnostic(`1000 streams before the ack: live ${s1.liveHandlers}, started ${s1.handlersStarted - s0.handlersStarted}, RST codes ${JSON.stringify(rstCodes(fs))}; ` + `RSS +${mb(s1.rss - s0.rss)} MB for ${s1.liveHandlers} held streams`);
      assert.equal(s1.liveHandlers, STREAM_LIMIT);
      assert.equal(s1.handlersStarted - s0.handlersStarted, STREAM_LIMIT, "no extra stream was queued and started later");
      assert.equal(fs.rst.size, 1000 - STREAM_LIMIT);
      assert.ok([...fs.rst.values()].every((c) => c === H2_ERROR.REFUSED_STREAM), JSON.stringify(rstCodes(fs)));
      assert.ok(!fs.isClosed && !fs.goaway, "the connection is not ended");
    } finally {
      fs.destroy();
    }
    await waitForStats(server.proc, (s) => s.liveHandlers === 0, 3000, "held handlers cancelled");
    await assertServes(server.proc);
  });

  it("4 connections x 256 held streams: the memory per held stream is reported and freed on disconnect", T, async (t: TestContext) => {
    const s0 = await server.proc.gc();
    const conns = await Promise.all(Array.from({ length: 4 }, () => FrameSocket.connect(server.proc.port, { first: holdStreams(STREAM_LIMIT) })));
    try {
      await waitForStats(server.proc, (s) => s.liveHandlers === 4 * STREAM_LIMIT, 10_000, "1024 live handlers");
      const s1 = await server.proc.gc();
      const held = s1.liveHandlers;
      t.diagnostic(`${held} streams held: RSS +${mb(s1.rss - s0.rss)} MB = ${((s1.rss - s0.rss) / held / KiB).toFixed(1)} KiB/stream, heap +${((s1.heapUsed - s0.heapUsed) / held / KiB).toFixed(1)} KiB/stream`);
      assert.ok(s1.rss - s0.rss < held * 64 * KiB, "under 64 KiB per held stream");
    } finally {
      for (const c of conns) c.destroy();
    }
    const s2 = await waitForStats(server.proc, (s) => s.liveHandlers === 0 && s.sessions === 0, 5000, "every held handler cancelled");
    assert.equal(s2.handlersCancelled - s0.handlersCancelled, 4 * STREAM_LIMIT, "every held handler saw cancellation");
    await assertMemoryReturns(server.proc, server.baseline.rss, 20 * MiB);
  });
});

describe("row 20: 300 connections overflowing the flow-control windows, then closed", () => {
  it("each gets a flow-control error; afterwards no session, socket, fd or handle is left", T, async (t: TestContext) => {
    const s0 = await waitForStats(server.proc, (s) => s.sessions === 0, 3000, "no sessions before");
    const started = performance.now();
    const results = await pool(
      Array.from({ length: 300 }, (_, i) => i),
      50,
      () => windowOverflow(server.proc.port),
    );
    const ms = performance.now() - started;
    const byOutcome: Record<string, number> = {};
    for (const r of results) {
      const key = r.goaway ? `GOAWAY ${r.goaway.code}` : r.rst !== undefined ? `RST ${r.rst}` : "none";
      byOutcome[key] = (byOutcome[key] ?? 0) + 1;
    }
    const s1 = await waitForStats(server.proc, (s) => s.sessions === 0 && s.sockets === 0 && s.liveHandlers === 0, 5000, "every session released");
    t.diagnostic(`300 connections in ${ms.toFixed(0)} ms: ${JSON.stringify(byOutcome)}; sessions ${s1.sessions}, sockets ${s1.sockets}, fds ${s0.fds} -> ${s1.fds}, handles ${s0.activeHandles} -> ${s1.activeHandles}`);
    assert.ok(
      results.every((r) => r.rst === H2_ERROR.FLOW_CONTROL_ERROR || r.goaway?.code === H2_ERROR.FLOW_CONTROL_ERROR),
      `every connection must get FLOW_CONTROL_ERROR: ${JSON.stringify(byOutcome)}`,
    );
    assert.ok(s1.fds <= s0.fds, `fds ${s0.fds} -> ${s1.fds}`);
    assert.ok(s1.activeHandles <= s0.activeHandles, `handles ${s0.activeHandles} -> ${s1.activeHandles}`);
    await assertServes(server.proc);
    await assertMemoryReturns(server.proc, server.baseline.rss, 20 * MiB);
  });
});

describe("row 21: server streaming to clients that never read (6 s)", () => {
  it("RSS grows < 10 MB while the handlers wait on flow control; cancellation frees them", T, async (t: TestContext) => {
    const s0 = await server.proc.gc();
    const readers = [await slowReader(server.proc.port, "no-window"), await slowReader(server.proc.port, "no-read")];
    let peak = s0.rss;
    let last = s0;
    try {
      await waitForStats(server.proc, (s) => s.liveHandlers === 2, 3000, "both streams running");
      for (let i = 0; i < 6; i++) {
        await sleep(1000);
        last = await server.proc.stats();
        peak = Math.max(peak, last.rss);
      }
      t.diagnostic(`2 non-reading clients for 6 s: RSS growth ${mb(peak - s0.rss)} MB (peak sample), messages handed to the framework ${mb(last.bigBytesYielded - s0.bigBytesYielded)} MB, live ${last.liveHandlers}`);
      assert.equal(last.liveHandlers, 2, "the handlers are still waiting, not failed");
      assert.ok(peak - s0.rss < 10 * MiB, `RSS grew ${mb(peak - s0.rss)} MB`);
      assert.ok(last.bigBytesYielded - s0.bigBytesYielded < 32 * MiB, "the generator was held back by backpressure");
    } finally {
      for (const r of readers) r.close();
    }
    const s1 = await waitForStats(server.proc, (s) => s.liveHandlers === 0, 3000, "handlers cancelled on disconnect");
    assert.equal(s1.handlersCancelled - s0.handlersCancelled, 2);
    const s2 = await assertMemoryReturns(server.proc, s0.rss, 10 * MiB);
    t.diagnostic(`after cancel: RSS ${mb(s0.rss)} -> ${mb(s2.rss)} MB`);
    await assertServes(server.proc);
  });
});

describe("row 26: 2,000 client disconnects mid-stream (10k in npm run attack)", () => {
  it("every handler sees cancellation; sessions, fds and active handles return to the baseline", T, async (t: TestContext) => {
    const s0 = await waitForStats(server.proc, (s) => s.sessions === 0 && s.liveHandlers === 0, 3000, "quiet before");
    const r = await disconnectMidStream(server.proc.port, 2000, 50);
    const s1 = await waitForStats(server.proc, (s) => s.liveHandlers === 0 && s.sessions === 0 && s.sockets === 0, 10_000, "every handler ended");
    const started = s1.handlersStarted - s0.handlersStarted;
    const cancelled = s1.handlersCancelled - s0.handlersCancelled;
    const s2 = await server.proc.gc();
    t.diagnostic(
      `2000 disconnects in ${r.ms.toFixed(0)} ms (${r.sawData} saw data first): handlers started ${started}, cancelled ${cancelled}; ` +
        `handles ${s0.activeHandles} -> ${s2.activeHandles}, fds ${s0.fds} -> ${s2.fds}, RSS ${mb(s0.rss)} -> ${mb(s2.rss)} MB (peak ${mb(s2.peakRss)}), heap ${mb(s0.heapUsed)} -> ${mb(s2.heapUsed)} MB`,
    );
    assert.equal(r.sawData, 2000, "every stream was running when its client left");
    assert.equal(started, 2000);
    assert.equal(cancelled, 2000, "every handler saw cancellation");
    assert.ok(s2.activeHandles <= s0.activeHandles, `handles ${s0.activeHandles} -> ${s2.activeHandles}`);
    assert.ok(s2.fds <= s0.fds, `fds ${s0.fds} -> ${s2.fds}`);
    assert.ok(s2.heapUsed < s0.heapUsed + 5 * MiB, `heap ${mb(s0.heapUsed)} -> ${mb(s2.heapUsed)} MB`);
    await assertServes(server.proc);
    await assertMemoryReturns(server.proc, server.baseline.rss, 20 * MiB);
  });
});
