// The JSON-RPC scenarios of the benchmark suite (registered in bench/run.ts):
//   jsonrpc-http        one echo call per HTTP/1.1 POST, keep-alive (h2load --h1)
//   jsonrpc-http-batch  a batch of 10 calls (echo and add) per POST (h2load --h1)
//   jsonrpc-ws          echo and add calls pipelined on WebSocket connections (bench/jsonrpc/ws-load.ts)
// Servers: sb (Switchboard), jayson, json-rpc-2.0, each its own process on CPU 0 (see
// server.ts); HTTP scenarios add a ceiling, a bare node:http server answering with the
// precomputed reply. Load on CPU 1. Rounds alternate the servers; tables show medians.
import http from "node:http";
import { join } from "node:path";
import { parseLog, parseSummary } from "../lib/h2load.js";
import { Lines, run, spawnNode } from "../lib/proc.js";
import { table, type Metric } from "../lib/report.js";
import { cpuMs, LOAD_CPU, SERVER_CPU, type ServerStats } from "../lib/servers.js";
import { median } from "../lib/stats.js";
import { BATCH, checkReply, httpBatch, httpSingle } from "./workload.js";

export interface ScenarioContext {
  quick: boolean;
  tmp: string;
  log: (msg: string) => void;
  out: (text: string) => void;
  record: (scenario: string, metrics: readonly Metric[]) => void;
  bodyFile: (name: string, bytes: Buffer) => string;
}

type Impl = "sb" | "jayson" | "jrpc2" | "bare";
type Transport = "http" | "ws";
const LABEL: Record<Impl, string> = { sb: "sb", jayson: "jayson", jrpc2: "json-rpc-2.0", bare: "ceiling" };
const PEERS = ["jayson", "jrpc2"] as const;

/** One JSON-RPC server process pinned to the server CPU. */
class JsonRpcServer {
  private constructor(
    readonly impl: Impl,
    readonly port: number,
    private readonly lines: Lines,
  ) {}

  static async start(impl: Impl, transport: Transport): Promise<JsonRpcServer> {
    const child = spawnNode(SERVER_CPU, "bench/jsonrpc/server.ts", ["--impl", impl, "--transport", transport, "--port", "0"], ["--expose-gc"]);
    const lines = new Lines(child, `${LABEL[impl]} ${transport} server`);
    const port = await lines.listeningPort();
    return new JsonRpcServer(impl, port, lines);
  }

  get label(): string {
    return LABEL[this.impl];
  }

  get alive(): boolean {
    return this.lines.child.exitCode === null && this.lines.child.signalCode === null;
  }

  stats(): Promise<ServerStats> {
    return this.lines.request<ServerStats>("stats", 10_000);
  }

  async reset(): Promise<void> {
    await this.lines.request("reset", 10_000);
  }

  stop(): Promise<void> {
    return this.lines.stop();
  }
}

async function startAll(impls: readonly Impl[], transport: Transport): Promise<JsonRpcServer[]> {
  const results = await Promise.allSettled(impls.map((i) => JsonRpcServer.start(i, transport)));
  const started = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) {
    await Promise.all(started.map((s) => s.stop()));
    throw failed.reason;
  }
  return started;
}

/** One POST exactly like h2load's, its reply parsed and checked (h2load itself only counts 2xx). */
function checkHttp(server: JsonRpcServer, w: { body: string; expected: readonly { id: number; result: unknown }[]; batch: boolean }): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: "127.0.0.1", port: server.port, method: "POST", path: "/", headers: { "content-type": "application/json", "content-length": Buffer.byteLength(w.body) }, timeout: 10_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          if (res.statusCode !== 200) return reject(new Error(`${server.label}: HTTP ${res.statusCode}: ${text.slice(0, 120)}`));
          let parsed: unknown;
          try {
            parsed = JSON.parse(text);
          } catch {
            return reject(new Error(`${server.label}: reply is not JSON: ${text.slice(0, 120)}`));
          }
          const problem = checkReply(parsed, w.expected, w.batch);
          if (problem) reject(new Error(`${server.label}: ${problem}`));
          else resolve();
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error("no reply within 10 s")));
    req.on("error", (err) => reject(new Error(`${server.label}: check request failed: ${err.message}`)));
    req.end(w.body);
  });
}

interface Sample {
  perSec: number;
  calls: number;
  seconds: number;
  p50Ms: number | undefined;
  p99Ms: number | undefined;
  before: ServerStats;
  after: ServerStats;
}

/** Medians table with sb against each peer and against the better peer (by median of the first metric). */
function report(ctx: ScenarioContext, name: string, impls: readonly Impl[], samples: Map<Impl, (Sample | undefined)[]>, callsPerMessage: number, errors: string[]): void {
  const values = (f: (s: Sample) => number | undefined): Record<string, number[]> =>
    Object.fromEntries(impls.map((k) => [k, (samples.get(k) ?? []).map((s) => (s ? (f(s) ?? NaN) : NaN))]));
  const metrics: Metric[] = [];
  metrics.push({ label: callsPerMessage > 1 ? "HTTP requests/s" : "calls/s", values: values((s) => s.perSec), better: "higher" });
  if (callsPerMessage > 1) metrics.push({ label: "calls/s", values: values((s) => s.perSec * callsPerMessage), better: "higher" });
  metrics.push(
    { label: "server CPU µs / call", values: values((s) => ((cpuMs(s.after) - cpuMs(s.before)) * 1000) / s.calls), better: "lower" },
    { label: "server CPU busy %", values: values((s) => ((cpuMs(s.after) - cpuMs(s.before)) / 1000 / s.seconds) * 100), better: "higher" },
    { label: "p50 latency ms", values: values((s) => s.p50Ms), better: "lower" },
    { label: "p99 latency ms", values: values((s) => s.p99Ms), better: "lower" },
    { label: "event-loop delay p99 ms", values: values((s) => s.after.eventLoopDelayP99Ms), better: "lower" },
  );
  // "peer": per round, the values of the peer with the better median throughput.
  const best = PEERS.reduce((a, b) => (median(metrics[0]!.values[b] ?? []) > median(metrics[0]!.values[a] ?? []) ? b : a));
  for (const m of metrics) m.values.peer = m.values[best] ?? [];
  ctx.record(name, metrics);
  const columns = impls.map((k) => ({ key: k, label: LABEL[k] }));
  const ratios: [string, string][] = [["sb", "jayson"], ["sb", "jrpc2"]];
  if (impls.includes("bare")) ratios.push(["sb", "bare"]);
  ctx.out(table(columns, ratios, metrics));
  ctx.out(`\nBetter peer (by median throughput): ${LABEL[best]}; sb/${LABEL[best]} on calls/s ${(median(metrics.find((m) => m.label === "calls/s")!.values.sb!) / median(metrics.find((m) => m.label === "calls/s")!.values[best]!)).toFixed(2)}x.\n`);
  for (const e of errors) ctx.out(`\n- failed run: ${e}\n`);
}

async function runHttp(ctx: ScenarioContext, name: string, w: typeof httpSingle | typeof httpBatch): Promise<void> {
  const q = <T>(full: T, quick: T): T => (ctx.quick ? quick : full);
  const batch = w.batch;
  const clients = 8;
  const requests = batch ? q(12_000, 3_000) : q(40_000, 10_000);
  const warmup = batch ? q(4_000, 1_000) : q(15_000, 4_000);
  const rounds = q(5, 2);
  const file = ctx.bodyFile(name, Buffer.from(w.body));
  const impls: Impl[] = ["sb", "jayson", "jrpc2", "bare"];
  ctx.log("  starting servers (taskset -c 0) ...");
  const list = await startAll(impls, "http");
  ctx.log(`  ${list.map((s) => `${s.label} :${s.port}`).join(", ")}`);
  const h2 = async (server: JsonRpcServer, n: number, logFile?: string) => {
    const args = ["--h1", "-n", String(n), "-c", String(clients), "-m", "1", "-t", "1", "-H", "content-type: application/json", "-d", file];
    if (logFile) args.push("--log-file", logFile);
    args.push(`http://127.0.0.1:${server.port}/`);
    const r = await run(LOAD_CPU, "h2load", args, q(90_000, 45_000));
    if (r.timedOut) throw new Error(`h2load did not finish ${n} requests in time (killed)`);
    if (r.code !== 0) throw new Error(`h2load exited with ${r.signal ?? r.code}: ${(r.stderr || r.stdout).trim().split("\n").slice(-3).join(" | ")}`);
    const s = parseSummary(r.stdout);
    const ok2xx = Number(/status codes: (\d+) 2xx/.exec(r.stdout)?.[1]);
    if (s.succeeded !== n || ok2xx !== n) throw new Error(`h2load: ${s.succeeded}/${n} succeeded, ${ok2xx} 2xx, ${s.failed} failed, ${s.errored} errored`);
    return { s, latency: logFile ? parseLog(logFile) : undefined };
  };
  try {
    for (const server of list) {
      await checkHttp(server, w);
      ctx.log(`  warm-up ${server.label}: ${warmup} requests`);
      await h2(server, warmup);
    }
    const samples = new Map<Impl, (Sample | undefined)[]>(impls.map((i) => [i, []]));
    const errors: string[] = [];
    for (let round = 1; round <= rounds; round++) {
      for (const server of list) {
        try {
          await checkHttp(server, w);
          await server.reset();
          const before = await server.stats();
          const { s, latency } = await h2(server, requests, join(ctx.tmp, `${name}-${server.impl}.log`));
          const after = await server.stats();
          const calls = requests * (batch ? BATCH : 1);
          samples.get(server.impl)!.push({ perSec: s.reqPerSec, calls, seconds: s.seconds, p50Ms: latency?.p50Ms, p99Ms: latency?.p99Ms, before, after });
          ctx.log(`  round ${round}/${rounds} ${server.label.padEnd(12)} ${s.reqPerSec.toFixed(0).padStart(7)} req/s  ${(((cpuMs(after) - cpuMs(before)) * 1000) / calls).toFixed(1)} µs CPU/call`);
        } catch (err) {
          samples.get(server.impl)!.push(undefined);
          const msg = `round ${round} ${server.label}: ${(err as Error).message}`;
          errors.push(msg);
          ctx.log(`  FAILED ${msg}`);
          if (!server.alive) throw new Error(`${server.label} server died: ${msg}`);
        }
      }
    }
    for (const server of list) await checkHttp(server, w);
    ctx.out(`\n### ${name}: ${batch ? `batch of ${BATCH} calls (echo and add) per POST` : "one echo call per POST"}, HTTP/1.1 keep-alive (h2load --h1 -c ${clients} -m 1)\n\n`);
    ctx.out(`${rounds} rounds x ${requests} POSTs per server, after ${warmup} warm-up POSTs; every reply checked before and after each run; medians (ratios: of the medians, per-round range in parentheses). Ceiling: bare node:http answering the precomputed reply.\n\n`);
    report(ctx, name, impls, samples, batch ? BATCH : 1, errors);
  } finally {
    await Promise.all(list.map((s) => s.stop()));
  }
}

interface WsResult {
  calls: number;
  seconds: number;
  perSec: number;
  p50Ms: number;
  p99Ms: number;
  clientCpuUsPerCall: number;
}

async function runWs(ctx: ScenarioContext): Promise<void> {
  const q = <T>(full: T, quick: T): T => (ctx.quick ? quick : full);
  const name = "jsonrpc-ws";
  const connections = 4;
  const depth = 16;
  const count = q(60_000, 15_000);
  const warmup = q(20_000, 5_000);
  const rounds = q(5, 2);
  const impls: Impl[] = ["sb", "jayson", "jrpc2"];
  ctx.log("  starting servers (taskset -c 0) ...");
  const list = await startAll(impls, "ws");
  ctx.log(`  ${list.map((s) => `${s.label} :${s.port}`).join(", ")}`);
  ctx.log(`  starting load process (taskset -c ${LOAD_CPU})`);
  const load = new Lines(spawnNode(LOAD_CPU, "bench/jsonrpc/ws-load.ts", []), "WebSocket load");
  try {
    await load.next((l) => l === "ready", 60_000, "`ready` line");
    const command = (port: number, n: number) => JSON.stringify({ port, connections, depth, count: n, warmup: 0, timeoutMs: q(60_000, 30_000) });
    for (const server of list) {
      ctx.log(`  warm-up ${server.label}: ${warmup} calls`);
      await load.request<WsResult>(command(server.port, warmup), 90_000);
    }
    const samples = new Map<Impl, (Sample | undefined)[]>(impls.map((i) => [i, []]));
    const clientCpu = new Map<Impl, number[]>(impls.map((i) => [i, []]));
    const errors: string[] = [];
    for (let round = 1; round <= rounds; round++) {
      for (const server of list) {
        try {
          await server.reset();
          const before = await server.stats();
          const r = await load.request<WsResult>(command(server.port, count), 90_000);
          const after = await server.stats();
          samples.get(server.impl)!.push({ perSec: r.perSec, calls: r.calls, seconds: r.seconds, p50Ms: r.p50Ms, p99Ms: r.p99Ms, before, after });
          clientCpu.get(server.impl)!.push(r.clientCpuUsPerCall);
          ctx.log(`  round ${round}/${rounds} ${server.label.padEnd(12)} ${r.perSec.toFixed(0).padStart(7)} calls/s  ${(((cpuMs(after) - cpuMs(before)) * 1000) / r.calls).toFixed(1)} µs CPU/call`);
        } catch (err) {
          samples.get(server.impl)!.push(undefined);
          const msg = `round ${round} ${server.label}: ${(err as Error).message}`;
          errors.push(msg);
          ctx.log(`  FAILED ${msg}`);
          if (!server.alive) throw new Error(`${server.label} server died: ${msg}`);
        }
      }
    }
    ctx.out(`\n### ${name}: echo and add calls over WebSocket, ${connections} connections x ${depth} in flight (bench/jsonrpc/ws-load.ts)\n\n`);
    ctx.out(`${rounds} rounds x ${count} calls per server, after ${warmup} warm-up calls; the load process (CPU ${LOAD_CPU}) checks every reply's id and result; medians (ratios: of the medians, per-round range in parentheses). Load-process CPU per call (median): ${impls.map((i) => `${LABEL[i]} ${median(clientCpu.get(i)!).toFixed(1)} µs`).join(", ")}.\n\n`);
    report(ctx, name, impls, samples, 1, errors);
  } finally {
    await load.stop();
    await Promise.all(list.map((s) => s.stop()));
  }
}

export function jsonrpcScenarios(ctx: ScenarioContext): { name: string; run: () => Promise<void> }[] {
  return [
    { name: "jsonrpc-http", run: () => runHttp(ctx, "jsonrpc-http", httpSingle) },
    { name: "jsonrpc-http-batch", run: () => runHttp(ctx, "jsonrpc-http-batch", httpBatch) },
    { name: "jsonrpc-ws", run: () => runWs(ctx) },
  ];
}
