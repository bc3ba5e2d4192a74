// Reliability rows 2, 3, 4, 18, 19 (../shared/design/RELIABILITY.md): connection-level
// floods against a server in a child process. Each test checks what the attacker sees,
// that the server process survives and serves a normal call, and its bounds.
import { describe, it, type TestContext } from "node:test";
import * as assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { assertMemoryReturns, assertServes, grpcMessage, mb, PATH, startNormalClient, waitForStats } from "./harness.js";
import { serverForSuite } from "./suite-server.js";
import { continuationFlood, emptyDataFlood, pingFlood, rapidReset, resetStorm } from "./attacks.js";
import { dataFrame, FrameSocket, H2_ERROR, headersFrame, pingFrame, requestBlock } from "./frames.js";

const STREAM_LIMIT = 256;
const RESET_BURST = 200;
const T = { timeout: 60_000 };

// keepaliveMinTimeMs 1 s for row 19; every other option at its default.
const server = serverForSuite({ keepaliveMinTimeMs: 1000 });

function streamsAccepted(lastStreamId: number | undefined): number {
  return lastStreamId === undefined ? 0 : (lastStreamId + 1) / 2;
}

describe("row 2: rapid reset (10k HEADERS + RST_STREAM pairs on one connection)", () => {
  it("the connection gets an error GOAWAY long before all 10k pairs are taken; live handlers never exceed the stream limit", T, async (t: TestContext) => {
    const s0 = await server.proc.resetPeak();
    const r = await rapidReset(server.proc.port, { pairs: 10_000, batch: 100 });
    r.fs.destroy();
    const s1 = await server.proc.stats();
    t.diagnostic(
      `rapid reset: pairs written before GOAWAY ${r.sent}, streams the GOAWAY admits (last-stream-id ${r.goaway?.lastStreamId}) ${streamsAccepted(r.goaway?.lastStreamId)}, ` +
        `handlers started ${s1.handlersStarted - s0.handlersStarted}, GOAWAY code ${r.goaway?.code} "${r.goaway?.debug}", TCP closed by server ${r.closedByServer}, ` +
        `${r.ms.toFixed(0)} ms, max live handlers ${s1.maxLiveHandlers}, event-loop p99 ${s1.eventLoopP99Ms.toFixed(1)} ms max ${s1.eventLoopMaxMs.toFixed(1)} ms`,
    );
    assert.ok(r.goaway, "the server must answer the flood with GOAWAY");
    assert.notEqual(r.goaway.code, H2_ERROR.NO_ERROR, "an error GOAWAY");
    // The client's writes are buffered by the kernel, so what counts is what the server took.
    assert.ok(streamsAccepted(r.goaway.lastStreamId) < 10_000, `the server must stop taking streams before all 10k (took ${streamsAccepted(r.goaway.lastStreamId)})`);
    assert.ok(s1.handlersStarted - s0.handlersStarted < 10_000, "handlers must stop starting before all 10k pairs");
    assert.ok(s1.maxLiveHandlers <= STREAM_LIMIT, `live handlers peaked at ${s1.maxLiveHandlers} > ${STREAM_LIMIT}`);
    await assertServes(server.proc);
    await waitForStats(server.proc, (s) => s.liveHandlers === 0, 3000, "every reset handler ended");
    await assertMemoryReturns(server.proc, server.baseline.rss, 20 * 1024 * 1024);
  });

  // Regression: before e2221aa, Server.onCallEnd reached the guard through
  // `call.stream.session`, which node clears when the stream closes, so client resets were
  // never counted and only nghttp2's own limit (~1000 resets, GOAWAY INTERNAL_ERROR) stopped
  // the flood — leaving a zombie session (next test).
  it("the framework's own limit answers first: GOAWAY ENHANCE_YOUR_CALM \"too_many_resets\" after about resetBurst (200) resets", T, async (t: TestContext) => {
    const s0 = await server.proc.stats();
    const r = await rapidReset(server.proc.port, { pairs: 10_000, batch: 50 });
    r.fs.destroy();
    const s1 = await server.proc.stats();
    const started = s1.handlersStarted - s0.handlersStarted;
    const admitted = streamsAccepted(r.goaway?.lastStreamId);
    t.diagnostic(`GOAWAY code ${r.goaway?.code} "${r.goaway?.debug}" admitting ${admitted} streams; ${started} handlers started (streams already read when the GOAWAY went out still run)`);
    assert.equal(r.goaway?.code, H2_ERROR.ENHANCE_YOUR_CALM);
    assert.equal(r.goaway?.debug, "too_many_resets");
    assert.ok(admitted <= RESET_BURST + 100, `the GOAWAY admits ${admitted} streams; expected about ${RESET_BURST}`);
  });

  // Was BUG 3 (docs/reliability.md), fixed in b511980: after the guard's GOAWAY the session
  // kept reading for GOAWAY_FLUSH_MS (50 ms) and node kept emitting 'stream' for every HEADERS
  // already read, so a buffered flood still started 2-3x resetBurst handlers (300-655 for ~210
  // admitted) and 20-50 such connections stalled the event loop for ~1-2 s.
  it("after the guard's GOAWAY no handler starts for streams above its last-stream-id", T, async (t: TestContext) => {
    const s0 = await server.proc.stats();
    const r = await rapidReset(server.proc.port, { pairs: 10_000, batch: 100 });
    r.fs.destroy();
    const started = (await server.proc.stats()).handlersStarted - s0.handlersStarted;
    const admitted = streamsAccepted(r.goaway?.lastStreamId);
    t.diagnostic(`GOAWAY admits ${admitted} streams; ${started} handlers started`);
    assert.ok(started <= admitted + 10, `${started} handlers started for ${admitted} admitted streams`);
  });

  // When nghttp2 ends a session by itself (its own rapid-reset limit, GOAWAY INTERNAL_ERROR),
  // node neither closes the socket nor notices the client leaving (it stops reading). Before
  // e2221aa this is what ended a reset flood, and the session and its fd stayed until a
  // keepalive ping timed out (2 h + 20 s by default); now the guard's lower limit (resetBurst)
  // answers first, and since 96affa9 a session without calls is probed with a ping anyway
  // (headers.test.ts "row 5, one field" covers that zombie after a COMPRESSION_ERROR).
  it("after its GOAWAY the server closes the TCP connection, and no session is left once the client is gone", T, async (t: TestContext) => {
    const s0 = await server.proc.stats();
    const r = await rapidReset(server.proc.port, { pairs: 10_000, batch: 100, closeWaitMs: 2000 });
    t.diagnostic(`GOAWAY code ${r.goaway?.code}; server closed the TCP connection: ${r.closedByServer}`);
    r.fs.destroy();
    assert.ok(r.closedByServer, "the server must close the connection after its error GOAWAY");
    await waitForStats(server.proc, (s) => s.sessions <= s0.sessions && s.fds <= s0.fds, 3000, "the attack session released");
  });
});

describe("row 3: rapid reset on 20 connections at once while a grpc-js client makes unary calls (50 in npm run attack)", () => {
  // A server of its own, so the storm's after-effects do not weigh on the other rows.
  const server = serverForSuite({});

  it("the normal client (grpc-js, its own process) sees no errors; its p99 and the server's event-loop delay are reported", T, async (t: TestContext) => {
    await server.proc.resetPeak();
    const normal = await startNormalClient(server.proc.port, 4000, 2);
    await sleep(500);
    const storm = await resetStorm(server.proc.port, { connections: 20, durationMs: 3000, pairsPerConnection: 10_000 });
    const r = await normal.result;
    const s = await server.proc.stats();
    t.diagnostic(
      `storm: ${storm.connectionsOpened} attack connections at once, over in ${storm.ms.toFixed(0)} ms, ${storm.pairsSent} HEADERS+RST pairs written, GOAWAY codes ${JSON.stringify([...storm.goaways])}, ` +
        `closed by server ${storm.closedByServer}; normal client: ${r.calls} calls, ${r.errors.length} errors, ` +
        `p50 ${r.p50Ms.toFixed(1)} ms p99 ${r.p99Ms.toFixed(1)} ms max ${r.maxMs.toFixed(1)} ms; ` +
        `(4 s of calls, the storm in the middle); server event-loop p99 ${s.eventLoopP99Ms.toFixed(1)} ms max ${s.eventLoopMaxMs.toFixed(1)} ms; max live handlers ${s.maxLiveHandlers}; sessions open ${s.sessions}`,
    );
    assert.deepEqual(r.errors, [], "the normal client must see no errors");
    assert.ok(r.calls > 0, "the normal client made calls");
    assert.ok(s.maxLiveHandlers <= STREAM_LIMIT * 20, `live handlers ${s.maxLiveHandlers}`);
    await assertServes(server.proc);
  });
});

describe("row 4: CONTINUATION flood (HEADERS without END_HEADERS, then 10k CONTINUATION frames)", () => {
  for (const [label, piece] of [
    ["each CONTINUATION carrying a 14-byte header field", undefined],
    ["empty CONTINUATION frames", Buffer.alloc(0)],
  ] as const) {
    it(`${label}: the connection is closed and no handler runs`, T, async (t: TestContext) => {
      const s0 = await server.proc.stats();
      const r = await continuationFlood(server.proc.port, { frames: 10_000, ...(piece ? { piece } : {}) });
      r.fs.destroy();
      const s1 = await server.proc.stats();
      t.diagnostic(`CONTINUATION frames written before GOAWAY/close ${r.sent}, GOAWAY code ${r.goaway?.code}, TCP closed by server ${r.closedByServer} after ${r.ms.toFixed(0)} ms`);
      assert.ok(r.goaway || r.closedByServer, "the server must end the connection");
      assert.ok(r.closedByServer, "the server must close the TCP connection");
      assert.equal(s1.handlersStarted, s0.handlersStarted, "no handler may run");
      await assertServes(server.proc);
      await waitForStats(server.proc, (s) => s.sessions <= s0.sessions, 2000, "the attack session released");
    });
  }
});

describe("row 18: 5k empty DATA frames", () => {
  it("the session is closed; the handler of that call sees cancellation", T, async (t: TestContext) => {
    const s0 = await server.proc.stats();
    const r = await emptyDataFlood(server.proc.port, 5000);
    r.fs.destroy();
    t.diagnostic(`empty DATA frames written before GOAWAY/close ${r.sent}, GOAWAY code ${r.goaway?.code}, TCP closed by server ${r.closedByServer}`);
    assert.ok(r.closedByServer, "the server must close the session");
    assert.ok(r.sent <= 5000);
    await waitForStats(server.proc, (s) => s.liveHandlers === 0 && s.handlersCancelled > s0.handlersCancelled && s.sessions <= s0.sessions, 3000, "handler cancelled, session released");
    await assertServes(server.proc);
  });
});

describe("row 19: PING floods and keepalive enforcement", () => {
  it("a flood of 10k PINGs: the connection is closed", T, async (t: TestContext) => {
    const s0 = await server.proc.stats();
    const r = await pingFlood(server.proc.port, 10_000);
    r.fs.destroy();
    const acks = r.fs.frames.filter((f) => f.type === 6).length;
    t.diagnostic(`PINGs written before GOAWAY/close ${r.sent}, PING ACKs received ${acks}, GOAWAY code ${r.goaway?.code} "${r.goaway?.debug}", closed by server ${r.closedByServer}`);
    assert.ok(r.closedByServer, "the server must close the connection");
    assert.ok(r.goaway, "with a GOAWAY");
    await waitForStats(server.proc, (s) => s.sessions <= s0.sessions, 2000, "the attack session released");
    await assertServes(server.proc);
  });

  it("10 PINGs/s during a call, keepaliveMinTimeMs 1 s: GOAWAY ENHANCE_YOUR_CALM \"too_many_pings\" after the 2 strikes, then close", T, async (t: TestContext) => {
    const fs = await FrameSocket.connect(server.proc.port);
    try {
      await fs.serverSettings();
      fs.write(headersFrame(1, requestBlock(PATH.holdStream)));
      let sent = 0;
      for (; sent < 20 && !fs.goaway && !fs.isClosed; sent++) {
        fs.write(pingFrame(sent));
        await sleep(100);
      }
      await fs.waitFor(() => fs.isClosed, 10_000);
      const g = fs.goaway;
      // Which ping the server answered with its GOAWAY, from what it sent, not from when it
      // arrived (a slow answer lets the loop send more): it ACKs each PING as it reads it and
      // sends the GOAWAY right behind the ACK of the ping that is one too many.
      const goawayAt = fs.frames.findIndex((f) => f.type === 7);
      const acksBefore = fs.frames.slice(0, goawayAt).filter((f) => f.type === 6 && f.flags & 1).length;
      t.diagnostic(`GOAWAY after ${sent} PINGs sent and ${acksBefore} ACKed, at ${g ? (g.at - fs.openedAt).toFixed(0) : "-"} ms: code ${g?.code} "${g?.debug}" last-stream-id ${g?.lastStreamId}; closed ${fs.isClosed}`);
      assert.ok(g, "GOAWAY expected");
      assert.equal(g.code, H2_ERROR.ENHANCE_YOUR_CALM);
      assert.equal(g.debug, "too_many_pings");
      // Ping 1 sets the clock; pings 2 and 3 are strikes 1 and 2; ping 4 is one too many.
      assert.equal(acksBefore, 4, `GOAWAY after the ACK of ping ${acksBefore}; expected after the 4th`);
      assert.equal(g.lastStreamId, 1, "the GOAWAY names the call in flight as processed");
      assert.ok(fs.isClosed, "the connection is closed after the GOAWAY");
    } finally {
      fs.destroy();
    }
    await assertServes(server.proc);
  });

  it("control: PINGs 1.2 s apart during a call get ACKs and no GOAWAY", T, async () => {
    const fs = await FrameSocket.connect(server.proc.port);
    try {
      await fs.serverSettings();
      fs.write(headersFrame(1, requestBlock(PATH.holdStream)));
      for (let i = 0; i < 4; i++) {
        fs.write(pingFrame(i));
        await sleep(1200);
      }
      assert.ok(await fs.waitFor(() => fs.frames.filter((f) => f.type === 6 && f.flags & 1).length === 4, 10_000), "4 PING ACKs");
      // A GOAWAY would follow the ACK of the ping it answers; a call made after the last ping is
      // answered behind it, so once that call is done any GOAWAY has arrived.
      fs.write(Buffer.concat([headersFrame(3, requestBlock(PATH.echo)), dataFrame(3, grpcMessage(Buffer.from("x")), true)]));
      assert.ok(await fs.streamDone(3), "a call after the pings is answered");
      assert.equal(fs.goaway, undefined, `unexpected GOAWAY ${JSON.stringify(fs.goaway)}`);
      assert.ok(!fs.isClosed);
    } finally {
      fs.destroy();
    }
  });

  // Regression: before e2221aa the guard's call count never went down (see row 2), so after
  // its first call a connection counted as busy forever and idle pings were judged by
  // keepaliveMinTimeMs instead of the 2 h rule for connections without calls (grpc-go).
  it("PINGs 1.1 s apart on a connection whose only call has ended: GOAWAY too_many_pings (idle connections get the 2 h rule)", T, async (t: TestContext) => {
    const fs = await FrameSocket.connect(server.proc.port);
    try {
      await fs.serverSettings();
      fs.write(Buffer.concat([headersFrame(1, requestBlock(PATH.echo)), dataFrame(1, grpcMessage(Buffer.from("x")), true)]));
      assert.ok(await fs.streamDone(1));
      let sent = 0;
      for (; sent < 5 && !fs.goaway; sent++) {
        fs.write(pingFrame(sent));
        await sleep(1100);
      }
      await fs.waitFor(() => fs.goaway !== undefined, 10_000);
      t.diagnostic(`GOAWAY ${JSON.stringify(fs.goaway)} after ${sent} pings`);
      assert.equal(fs.goaway?.debug, "too_many_pings");
    } finally {
      fs.destroy();
    }
  });
});

describe("after every flood", () => {
  it("the process is alive, serves, and its RSS is back near the baseline", T, async (t: TestContext) => {
    await assertServes(server.proc);
    await waitForStats(server.proc, (s) => s.sessions === 0 && s.sockets === 0, 3000, "every attack connection released");
    const s = await assertMemoryReturns(server.proc, server.baseline.rss, 20 * 1024 * 1024);
    t.diagnostic(`RSS ${mb(server.baseline.rss)} -> ${mb(s.rss)} MB; sessions open ${s.sessions}; fds ${server.baseline.fds} -> ${s.fds}; handles ${server.baseline.activeHandles} -> ${s.activeHandles}`);
    assert.ok(s.fds <= server.baseline.fds, `fds ${server.baseline.fds} -> ${s.fds}`);
  });
});
