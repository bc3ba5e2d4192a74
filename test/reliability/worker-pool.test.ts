// Row 25 of the reliability bar: a 2 s busy-loop handler on the worker pool leaves every
// other call alone. The server runs in a child process (worker-pool-server.ts) so the
// event-loop delay it reports is its own; this process is the normal client, making small
// unary calls over node:http2 while the busy call runs. The same loop run inline shows what
// the pool prevents.
import { after, before, describe, it, type TestContext } from "node:test";
import * as assert from "node:assert/strict";
import { connect, type ClientHttp2Session } from "node:http2";
import { setTimeout as sleep } from "node:timers/promises";
import { mb, percentile, sessionUnary, type SessionAnswer } from "./harness.js";
import { ChildServer } from "./child-server.js";
import type { PoolServerStats } from "./worker-pool-server.js";

const T = { timeout: 60_000 };
const ECHO = "/rel.Pool/Echo";
const BUSY_MS = 2000;

interface Run {
  busy: SessionAnswer;
  latencies: number[];
  failures: string[];
  stats: PoolServerStats;
}

/** The normal client's connection and the busy call's. */
type Sessions = { normal: ClientHttp2Session; busy: ClientHttp2Session };

/**
 * Starts one busy call on its own connection, and makes Echo calls one after another (5 ms
 * apart) on another connection until it has answered; bounded at 10 s.
 */
async function runBusyWith(server: ChildServer<PoolServerStats>, busyPath: string, sessions: Sessions): Promise<Run> {
  await server.command("reset");
  let busyDone = false;
  const busyCall = sessionUnary(sessions.busy, busyPath, Buffer.from(String(BUSY_MS)), 10_000).finally(() => (busyDone = true));
  const latencies: number[] = [];
  const failures: string[] = [];
  const started = performance.now();
  let n = 0;
  while (!busyDone && performance.now() - started < 10_000) {
    const body = Buffer.from(`ping ${n++}`);
    const r = await sessionUnary(sessions.normal, ECHO, body);
    if (r.grpcStatus !== 0 || !r.body.equals(body)) failures.push(`#${n}: grpc-status ${r.grpcStatus} ${r.grpcMessage ?? ""}`);
    latencies.push(r.ms);
    await sleep(5);
  }
  const busy = await busyCall;
  const stats = await server.command("stats");
  return { busy, latencies, failures, stats };
}

function summary(r: Run): string {
  const l = r.latencies;
  return (
    `normal client: ${l.length} calls, ${r.failures.length} failed, p50 ${percentile(l, 50).toFixed(1)} ms, p99 ${percentile(l, 99).toFixed(1)} ms, max ${Math.max(...l).toFixed(1)} ms; ` +
    `busy call ${r.busy.ms.toFixed(0)} ms (grpc-status ${r.busy.grpcStatus}); ` +
    `server event-loop delay p50 ${r.stats.eventLoopP50Ms.toFixed(1)} ms, p99 ${r.stats.eventLoopP99Ms.toFixed(1)} ms, max ${r.stats.eventLoopMaxMs.toFixed(1)} ms, ` +
    `longest gap between 1 ms ticks ${r.stats.eventLoopLongestGapMs.toFixed(1)} ms; RSS ${mb(r.stats.rss)} MB`
  );
}

describe("row 25: a 2 s busy-loop handler on the worker pool while a normal client makes unary calls", () => {
  let server: ChildServer<PoolServerStats>;
  let sessions: Sessions;

  before(async () => {
    server = await ChildServer.launch<PoolServerStats>("test/reliability/worker-pool-server.ts", { args: [JSON.stringify({ poolSize: 1 })] });
    const open = () => connect(`http://127.0.0.1:${server.port}`).on("error", () => {});
    sessions = { normal: open(), busy: open() };
    // Warm both paths: connections, the worker's first task, JIT.
    for (let i = 0; i < 20; i++) await sessionUnary(sessions.normal, ECHO, Buffer.from("warm"));
    await sessionUnary(sessions.busy, "/rel.Pool/Busy", Buffer.from("10"));
  });

  after(async () => {
    sessions?.normal.destroy();
    sessions?.busy.destroy();
    await server?.close();
  });

  it("on the pool: every normal call succeeds and its p99 stays far below the loop; the server's event-loop delay p99 is reported (OK)", T, async (t: TestContext) => {
    const r = await runBusyWith(server, "/rel.Pool/Busy", sessions);
    t.diagnostic(summary(r));
    assert.equal(r.busy.grpcStatus, 0, `busy call: ${r.busy.grpcMessage}`);
    assert.equal(r.busy.body.toString(), `spun ${BUSY_MS}`);
    assert.ok(r.busy.ms >= BUSY_MS - 50, `the busy call took ${r.busy.ms.toFixed(0)} ms`);
    assert.deepEqual(r.failures, []);
    // Measured against the loop, not against a quiet machine (other work shares the two cores):
    // inline, one or two calls fit into the loop's 2 s and the one in flight waits for all of it
    // (the contrast below). Here calls keep going and none waits for a good part of the loop.
    assert.ok(r.latencies.length >= 20, `only ${r.latencies.length} normal calls in ${BUSY_MS} ms`);
    assert.ok(percentile(r.latencies, 99) < BUSY_MS / 2, `normal client p99 ${percentile(r.latencies, 99).toFixed(1)} ms`);
    assert.ok(r.stats.eventLoopLongestGapMs < BUSY_MS / 2, `the server's event loop stood still for ${r.stats.eventLoopLongestGapMs.toFixed(0)} ms`);
    assert.equal(r.stats.pool.threadsStarted, 1, "no thread was replaced");
    assert.ok(server.alive, server.stderr);
  });

  it("contrast: the same loop inline holds the event loop, and every normal call waits for it", T, async (t: TestContext) => {
    const r = await runBusyWith(server, "/rel.Pool/BusyInline", sessions);
    t.diagnostic(summary(r));
    assert.equal(r.busy.grpcStatus, 0, `busy call: ${r.busy.grpcMessage}`);
    // The measurement can see a stall: the call in flight when the loop started waited for all of it.
    assert.ok(Math.max(...r.latencies) >= BUSY_MS * 0.75, `max normal latency ${Math.max(...r.latencies).toFixed(0)} ms`);
    // The server's own view: no 1 ms tick ran for the whole loop. (Not the histogram's max,
    // which misses a stall that starts right after its reset; see loop-gap.ts.)
    assert.ok(r.stats.eventLoopLongestGapMs >= BUSY_MS * 0.75, `longest event-loop gap ${r.stats.eventLoopLongestGapMs.toFixed(0)} ms`);
    assert.ok(server.alive, server.stderr);
  });
});
