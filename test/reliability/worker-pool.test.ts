// Row 25 of the reliability bar: a 2 s busy-loop handler on the worker pool leaves every
// other call alone. The server runs in a child process (worker-pool-server.ts) so the
// event-loop delay it reports is its own; this process is the normal client, making small
// unary calls over node:http2 while the busy call runs. The same loop run inline shows what
// the pool prevents.
import { after, before, describe, it, type TestContext } from "node:test";
import * as assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { connect, type ClientHttp2Session } from "node:http2";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { grpcMessage, mb, percentile, ROOT } from "./harness.js";
import type { PoolServerStats } from "./worker-pool-server.js";

const T = { timeout: 60_000 };
const ECHO = "/rel.Pool/Echo";
const BUSY_MS = 2000;

/** The child server: started once, asked for stats over stdin, killed at the end. */
class PoolServer {
  private nextId = 1;
  private readonly pending = new Map<number, (s: PoolServerStats) => void>();
  stderr = "";

  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
  ) {}

  static async start(timeoutMs = 30_000): Promise<PoolServer> {
    const child = spawn(process.execPath, ["--import", "tsx", "test/reliability/worker-pool-server.ts", JSON.stringify({ poolSize: 1 })], { cwd: ROOT, stdio: ["pipe", "pipe", "pipe"] });
    let stderr = "";
    child.stderr!.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-16_384)));
    const lines = createInterface({ input: child.stdout! });
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => (child.kill("SIGKILL"), reject(new Error(`no port within ${timeoutMs} ms\n${stderr}`))), timeoutMs);
      child.once("exit", (code) => (clearTimeout(timer), reject(new Error(`server exited early (${code})\n${stderr}`))));
      lines.once("line", (line) => {
        clearTimeout(timer);
        const m = /^listening on 127\.0\.0\.1:(\d+)$/.exec(line);
        if (m) resolve(Number(m[1]));
        else reject(new Error(`unexpected first line ${JSON.stringify(line)}\n${stderr}`));
      });
    });
    const server = new PoolServer(child, port);
    child.stderr!.on("data", (d: Buffer) => (server.stderr = (server.stderr + d.toString()).slice(-16_384)));
    lines.on("line", (line) => {
      const msg = JSON.parse(line) as PoolServerStats & { id: number };
      server.pending.get(msg.id)?.(msg);
      server.pending.delete(msg.id);
    });
    return server;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  command(name: "reset" | "stats", timeoutMs = 10_000): Promise<PoolServerStats> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => (this.pending.delete(id), reject(new Error(`no answer to ${name} within ${timeoutMs} ms`))), timeoutMs);
      this.pending.set(id, (s) => (clearTimeout(timer), resolve(s)));
      this.child.stdin!.write(`${id} ${name}\n`);
    });
  }

  async close(): Promise<void> {
    if (!this.alive) return;
    const exited = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
    this.child.stdin!.end();
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(timer);
  }
}

interface CallResult {
  grpcStatus: number | undefined;
  grpcMessage: string | undefined;
  /** The response message, without its 5-byte prefix. */
  body: Buffer;
  ms: number;
}

/** One unary call with `body` on an open connection (harness.h2Call adds a listener to the session per call). */
function call(session: ClientHttp2Session, path: string, body: Buffer, timeoutMs = 5000): Promise<CallResult> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = session.request({ ":method": "POST", ":path": path, "content-type": "application/grpc", te: "trailers" });
    const timer = setTimeout(() => (req.close(), reject(new Error(`${path} did not answer within ${timeoutMs} ms`))), timeoutMs);
    let grpcStatus: number | undefined;
    let message: string | undefined;
    const chunks: Buffer[] = [];
    const onStatus = (h: Record<string, unknown>) => {
      if (h["grpc-status"] !== undefined) grpcStatus = Number(h["grpc-status"]);
      if (h["grpc-message"] !== undefined) message = String(h["grpc-message"]);
    };
    req.on("response", onStatus);
    req.on("trailers", onStatus);
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("error", (err) => (clearTimeout(timer), reject(err)));
    req.on("close", () => {
      clearTimeout(timer);
      resolve({ grpcStatus, grpcMessage: message, body: Buffer.concat(chunks).subarray(5), ms: performance.now() - started });
    });
    req.end(grpcMessage(body));
  });
}

interface Run {
  busy: CallResult;
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
async function runBusyWith(server: PoolServer, busyPath: string, sessions: Sessions): Promise<Run> {
  await server.command("reset");
  let busyDone = false;
  const busyCall = call(sessions.busy, busyPath, Buffer.from(String(BUSY_MS)), 10_000).finally(() => (busyDone = true));
  const latencies: number[] = [];
  const failures: string[] = [];
  const started = performance.now();
  let n = 0;
  while (!busyDone && performance.now() - started < 10_000) {
    const body = Buffer.from(`ping ${n++}`);
    const r = await call(sessions.normal, ECHO, body);
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
  let server: PoolServer;
  let sessions: Sessions;

  before(async () => {
    server = await PoolServer.start();
    const open = () => connect(`http://127.0.0.1:${server.port}`).on("error", () => {});
    sessions = { normal: open(), busy: open() };
    // Warm both paths: connections, the worker's first task, JIT.
    for (let i = 0; i < 20; i++) await call(sessions.normal, ECHO, Buffer.from("warm"));
    await call(sessions.busy, "/rel.Pool/Busy", Buffer.from("10"));
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
    // which misses a stall that starts right after its reset; see worker-pool-server.ts.)
    assert.ok(r.stats.eventLoopLongestGapMs >= BUSY_MS * 0.75, `longest event-loop gap ${r.stats.eventLoopLongestGapMs.toFixed(0)} ms`);
    assert.ok(server.alive, server.stderr);
  });
});
