// Reliability rows 29 and 30 (../shared/design/RELIABILITY.md): calls whose client sends
// HEADERS and never ends its request (no END_STREAM), held on many connections, and request
// bodies that stop making progress — against a server in a child process.
//
// The rules proven here: a unary-request call (unary, server-streaming) takes its
// maximumConcurrentRpcs slot only once its request is complete, so half-open calls cannot
// lock anyone out; and one whose request makes no progress for requestIdleTimeoutMs is
// ended with CANCELLED and its stream reset.
import { describe, it, type TestContext } from "node:test";
import * as assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { assertMemoryReturns, assertServes, grpc, grpcClient, grpcMessage, grpcUnary, mb, PATH, percentile, ServerProcess, startNormalClient, waitForStats } from "./harness.js";
import { serverForSuite } from "./suite-server.js";
import { halfOpenCalls, pollUntil, streamEndTimes, type HalfOpenConnection } from "./connection-attacks.js";
import { dataFrame, FrameSocket, H2_ERROR, headersFrame, requestBlock } from "./frames.js";

const T = { timeout: 120_000 };
const ATTACKERS = 40;
const STREAMS = 256;
/** RSS allowed to stay above the baseline after 10,240 streams (see the memory note in docs/reliability.md, row 29). */
const RETAINED_SLACK = 40 * 1024 * 1024;

function closeAll(conns: readonly HalfOpenConnection[]): void {
  for (const c of conns) c.fs.destroy();
}

/** Calls that got their status (trailers-only END_STREAM) or a reset, over all connections. */
function endedCount(conns: readonly HalfOpenConnection[]): number {
  let n = 0;
  for (const c of conns) for (const id of c.streamIds) if (c.fs.isStreamDone(id)) n++;
  return n;
}

describe("row 29: 40 connections each hold the advertised maximum of half-open unary calls", () => {
  // Default options: maximumConcurrentRpcs 10,000 < 40 x 256.
  const server = serverForSuite({});

  it("every half-open call is held without taking a slot; a new grpc-js client is served at once (OK), not RESOURCE_EXHAUSTED", T, async (t: TestContext) => {
    const s0 = await server.proc.resetPeak();
    const conns = await halfOpenCalls(server.proc.port, { connections: ATTACKERS, path: PATH.hold });
    try {
      const total = conns.reduce((n, c) => n + c.streamIds.length, 0);
      assert.equal(total, ATTACKERS * STREAMS, "each attacker opened the advertised 256 streams");
      // Every HEADERS was dispatched: held as a call, or answered (refused) at once.
      const s1 = await waitForStats(server.proc, (s) => s.activeCalls + endedCount(conns) >= total, 30_000, "every half-open call dispatched");
      const refused = endedCount(conns);
      const client = grpcClient(server.proc.port);
      try {
        const outcomes = [];
        for (let i = 0; i < 5; i++) outcomes.push(await grpcUnary(client, PATH.echo, Buffer.from(`well-behaved ${i}`), 10_000));
        const s2 = await server.proc.stats();
        const ms = outcomes.map((o) => o.ms);
        t.diagnostic(
          `${total} half-open calls on ${ATTACKERS} connections: held ${s1.activeCalls}, refused ${refused}; ` +
            `RSS +${mb(s2.rss - s0.rss)} MB (${(((s2.rss - s0.rss) / total) * 1024 ** -1).toFixed(1)} KiB per held call), peak +${mb(s2.peakRss - s0.peakRss)} MB; ` +
            `new grpc-js client (new connection): ${outcomes.map((o) => grpc.status[o.code]).join(", ")}, first call ${ms[0]!.toFixed(0)} ms, p50 ${percentile(ms, 50).toFixed(1)} ms`,
        );
        for (const o of outcomes) assert.equal(o.code, grpc.status.OK, `well-behaved call: ${grpc.status[o.code]} ${o.details}`);
        assert.equal(refused, 0, "no half-open call is refused: they do not take maximumConcurrentRpcs slots");
        assert.equal(s1.activeCalls, total);
        assert.equal(endedCount(conns), 0, "the attackers' calls are all still held (the 30 s default idle timeout has not passed)");
        // Bounded: the calls cost memory, not slots (the figure goes into docs/reliability.md).
        assert.ok(s2.rss - s0.rss < 400 * 1024 * 1024, `RSS growth ${mb(s2.rss - s0.rss)} MB`);
      } finally {
        client.close();
      }
    } finally {
      closeAll(conns);
    }
    await waitForStats(server.proc, (s) => s.activeCalls === 0 && s.sessions === 0, 10_000, "every half-open call released");
    // 10,240 streams leave ~25-31 MB of native memory with the allocator (node:http2 does the
    // same with 10,240 running bidi handlers); it does not grow with repeated rounds.
    await assertMemoryReturns(server.proc, server.baseline.rss, RETAINED_SLACK, 15_000);
    await assertServes(server.proc);
  });

  it("maximumConcurrentRpcs still counts running handlers: with 2 held Hold calls (complete requests) and maximumConcurrentRpcs 2, a third complete call -> RESOURCE_EXHAUSTED while 200 half-open calls wait", T, async (t: TestContext) => {
    const small = await ServerProcess.start({ maximumConcurrentRpcs: 2 });
    const conns = await halfOpenCalls(small.port, { connections: 2, streams: 100, path: PATH.hold });
    const fs = await FrameSocket.connect(small.port);
    try {
      await waitForStats(small, (s) => s.activeCalls === 200, 10_000, "200 half-open calls held");
      // Two complete Hold requests: their handlers start and take both slots.
      fs.write(Buffer.concat([headersFrame(1, requestBlock(PATH.hold)), dataFrame(1, grpcMessage(Buffer.alloc(0)), true)]));
      fs.write(Buffer.concat([headersFrame(3, requestBlock(PATH.hold)), dataFrame(3, grpcMessage(Buffer.alloc(0)), true)]));
      await waitForStats(small, (s) => s.liveHandlers === 2, 5000, "two Hold handlers running");
      const client = grpcClient(small.port);
      try {
        const third = await grpcUnary(client, PATH.echo, Buffer.from("third"), 5000);
        t.diagnostic(`third complete call with 2 handlers running and 200 half-open calls: ${grpc.status[third.code]} ${third.details}`);
        assert.equal(third.code, grpc.status.RESOURCE_EXHAUSTED);
        assert.match(third.details, /too many concurrent calls/);
        fs.destroy();
        await waitForStats(small, (s) => s.liveHandlers === 0, 5000, "Hold handlers cancelled");
        const fourth = await grpcUnary(client, PATH.echo, Buffer.from("fourth"), 5000);
        assert.equal(fourth.code, grpc.status.OK, `once the handlers ended: ${grpc.status[fourth.code]} ${fourth.details}`);
      } finally {
        client.close();
      }
    } finally {
      fs.destroy();
      closeAll(conns);
      await small.close();
    }
  });
});

describe("row 29 with requestIdleTimeoutMs 1000: the attackers' calls time out, not everyone else's", () => {
  const server = serverForSuite({ requestIdleTimeoutMs: 1000 });

  it("each of the 10,240 half-open calls ends with CANCELLED (trailers-only) and RST_STREAM NO_ERROR, none before 1 s; the connections live on", T, async (t: TestContext) => {
    const conns = await halfOpenCalls(server.proc.port, { connections: ATTACKERS, path: PATH.hold });
    const total = conns.reduce((n, c) => n + c.streamIds.length, 0);
    const client = grpcClient(server.proc.port);
    try {
      const during = await grpcUnary(client, PATH.echo, Buffer.from("during"), 10_000);
      assert.equal(during.code, grpc.status.OK, `well-behaved call during the attack: ${grpc.status[during.code]} ${during.details}`);
      const allEnded = await pollUntil(() => endedCount(conns) === total, 30_000);
      // The RST_STREAM follows each status on the next turn of the server's event loop.
      await pollUntil(() => conns.every((c) => c.fs.rst.size === c.streamIds.length), 10_000);
      const ends = conns.flatMap(streamEndTimes).filter((v): v is number => v !== undefined);
      const codes = new Map<string, number>();
      for (const c of conns) {
        for (const id of c.streamIds) {
          const key = `${c.fs.grpcStatus(id)}/${c.fs.rst.get(id)}`;
          codes.set(key, (codes.get(key) ?? 0) + 1);
        }
      }
      const sample = conns[0]!;
      t.diagnostic(
        `${ends.length}/${total} ended; after min ${Math.min(...ends).toFixed(0)} / p50 ${percentile(ends, 50).toFixed(0)} / max ${Math.max(...ends).toFixed(0)} ms; ` +
          `grpc-status/RST code: ${JSON.stringify(Object.fromEntries(codes))}; message ${JSON.stringify(sample.fs.trailer(1, "grpc-message"))}`,
      );
      assert.ok(allEnded, `${endedCount(conns)} of ${total} half-open calls ended`);
      for (const c of conns) {
        for (const id of c.streamIds) {
          assert.equal(c.fs.grpcStatus(id), grpc.status.CANCELLED, `stream ${id}: grpc-status`);
          assert.equal(c.fs.rst.get(id), H2_ERROR.NO_ERROR, `stream ${id}: RST_STREAM NO_ERROR after the status`);
        }
        assert.ok(!c.fs.goaway && !c.fs.isClosed, "the connection is not closed: only its idle calls end");
      }
      assert.match(sample.fs.trailer(1, "grpc-message") ?? "", /request idle/);
      assert.ok(Math.min(...ends) >= 1000, `none before the timeout (earliest ${Math.min(...ends).toFixed(0)} ms)`);
      const after = await grpcUnary(client, PATH.echo, Buffer.from("after"), 10_000);
      assert.equal(after.code, grpc.status.OK);
    } finally {
      client.close();
      closeAll(conns);
    }
    await waitForStats(server.proc, (s) => s.activeCalls === 0 && s.sessions === 0, 10_000, "everything released");
    await assertMemoryReturns(server.proc, server.baseline.rss, RETAINED_SLACK, 15_000);
  });

  it("a slow request that keeps making progress (1 byte every 300 ms, 3 s in all) is not cut: Echo OK", T, async () => {
    const fs = await FrameSocket.connect(server.proc.port);
    try {
      await fs.serverSettings();
      const body = grpcMessage(Buffer.from("slowly"));
      fs.write(headersFrame(1, requestBlock(PATH.echo)));
      for (let i = 0; i < body.length; i++) {
        await sleep(300);
        assert.ok(!fs.isStreamDone(1), `the call was ended after ${i} bytes (grpc-status ${fs.grpcStatus(1)})`);
        fs.write(dataFrame(1, body.subarray(i, i + 1), i === body.length - 1));
      }
      assert.ok(await fs.streamDone(1, 5000));
      assert.equal(fs.grpcStatus(1), 0, `grpc-status ${fs.grpcStatus(1)} ${fs.trailer(1, "grpc-message")}`);
    } finally {
      fs.destroy();
    }
  });
});

describe("row 30: streams that send HEADERS and then nothing (requestIdleTimeoutMs 2000, maxDeadlineMs 8000)", () => {
  const server = serverForSuite({ requestIdleTimeoutMs: 2000, maxDeadlineMs: 8000 });

  it("a normal grpc-js client is served throughout; idle unary and server-streaming requests end at 2 s with CANCELLED; bidi calls (their handler runs) are not cut by it and end at maxDeadlineMs (DEADLINE_EXCEEDED)", T, async (t: TestContext) => {
    const normal = await startNormalClient(server.proc.port, 10_000);
    const [unary, serverStreaming, bidi] = await Promise.all([
      halfOpenCalls(server.proc.port, { connections: 50, streams: 20, path: PATH.echo }),
      halfOpenCalls(server.proc.port, { connections: 50, streams: 20, path: PATH.big }),
      halfOpenCalls(server.proc.port, { connections: 5, streams: 20, path: PATH.holdStream }),
    ]);
    try {
      const idle = [...unary, ...serverStreaming];
      const idleTotal = idle.reduce((n, c) => n + c.streamIds.length, 0);
      const idleEnded = await pollUntil(() => endedCount(idle) === idleTotal, 20_000);
      // At the moment the idle requests were all ended, the bidi calls opened with them are still running.
      const bidiOpenThen = bidi.reduce((n, c) => n + c.streamIds.filter((id) => !c.fs.isStreamDone(id)).length, 0);
      const live = (await server.proc.stats()).liveHandlers;
      const ends = idle.flatMap(streamEndTimes).filter((v): v is number => v !== undefined);
      const bidiEnded = await pollUntil(() => endedCount(bidi) === 100, 15_000);
      const bidiEnds = bidi.flatMap(streamEndTimes).filter((v): v is number => v !== undefined);
      const r = await normal.result;
      t.diagnostic(
        `${ends.length}/${idleTotal} idle requests (unary Echo, server-streaming Big) ended after min ${Math.min(...ends).toFixed(0)} / p50 ${percentile(ends, 50).toFixed(0)} / max ${Math.max(...ends).toFixed(0)} ms; ` +
          `bidi calls open then: ${bidiOpenThen}, live handlers ${live}; ${bidiEnds.length} bidi calls ended after min ${Math.min(...bidiEnds).toFixed(0)} / max ${Math.max(...bidiEnds).toFixed(0)} ms (maxDeadlineMs); ` +
          `normal client: ${r.calls} calls, ${r.errors.length} errors, p50 ${r.p50Ms.toFixed(1)} ms, p99 ${r.p99Ms.toFixed(1)} ms, max ${r.maxMs.toFixed(0)} ms`,
      );
      assert.ok(idleEnded, `${endedCount(idle)} of ${idleTotal} idle requests ended`);
      for (const c of idle) for (const id of c.streamIds) assert.equal(c.fs.grpcStatus(id), grpc.status.CANCELLED, `idle request ${id}: grpc-status`);
      assert.ok(Math.min(...ends) >= 2000, `none before the timeout (earliest ${Math.min(...ends).toFixed(0)} ms)`);
      assert.equal(bidiOpenThen, 100, "bidi calls are not ended by requestIdleTimeoutMs");
      assert.ok(live >= 100, `bidi handlers still running (${live})`);
      // The bidi calls end at maxDeadlineMs with DEADLINE_EXCEEDED.
      assert.ok(bidiEnded, `${endedCount(bidi)} of 100 bidi calls ended`);
      for (const c of bidi) for (const id of c.streamIds) assert.equal(c.fs.grpcStatus(id), grpc.status.DEADLINE_EXCEEDED);
      assert.ok(Math.min(...bidiEnds) >= 7900, `bidi calls end at the 8 s cap (earliest ${Math.min(...bidiEnds).toFixed(0)} ms)`);
      assert.deepEqual(r.errors, [], "the normal client sees no errors");
    } finally {
      closeAll([...unary, ...serverStreaming, ...bidi]);
    }
    await waitForStats(server.proc, (s) => s.activeCalls === 0 && s.sessions === 0, 10_000, "everything released");
    await assertServes(server.proc);
  });
});
