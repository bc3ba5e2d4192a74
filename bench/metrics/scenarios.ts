// The metrics-overhead scenario of the benchmark suite: small unary calls (16-byte echo) with
// metrics off, with ServerMetrics attached, and with ServerMetrics plus OpenTelemetry
// (sdk-metrics) attached: req/s, server CPU per call and p99, h2load -c 4 -m 32 -t 1.
// The target: unary with metrics on within 10% of off (server CPU per call and req/s).
// Server pinned to CPU 0, h2load to CPU 1; rounds alternate the three modes, fresh server each run.
//   Standalone: node --import tsx bench/metrics/scenarios.ts [--quick]
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { h2load } from "../lib/h2load.js";
import { Lines, run, spawnNode } from "../lib/proc.js";
import { fmt, table, type Metric } from "../lib/report.js";
import { runIfMain, type ScenarioContext } from "../lib/scenario.js";
import { median } from "../lib/stats.js";
import { path, requests } from "../lib/workload.js";

export type MetricsScenarioContext = ScenarioContext;

const MODES = [
  { key: "off", label: "metrics off" },
  { key: "prom", label: "Prometheus" },
  { key: "full", label: "Prometheus + OTel" },
] as const;

const SERVER_CPU = 0;
const LOAD_CPU = 1;

async function cpuMs(server: Lines): Promise<number> {
  return (await server.request<{ cpuMs: number }>("cpu", 10_000)).cpuMs;
}

async function runMetricsOverhead(ctx: MetricsScenarioContext): Promise<void> {
  const rounds = ctx.quick ? 2 : 5;
  const n = ctx.quick ? 15_000 : 40_000;
  const warmup = ctx.quick ? 5_000 : 10_000;
  const bodyFile = ctx.bodyFile("metrics-unary-small", requests.unarySmall());
  const logFile = join(tmpdir(), `sb-metrics-h2load-${process.pid}.log`);
  const values = (): Record<string, number[]> => Object.fromEntries(MODES.map((m) => [m.key, []]));
  const reqs = values();
  const cpu = values();
  const p99 = values();
  for (let round = 0; round < rounds; round++) {
    for (const mode of MODES) {
      const server = new Lines(spawnNode(SERVER_CPU, "bench/metrics/server.ts", ["--mode", mode.key, "--port", "0"]), `metrics server (${mode.key})`);
      try {
        const port = await server.listeningPort();
        const common = { port, path: path("Unary"), bodyFile, clients: 4, streams: 32, timeoutMs: 120_000, cpu: LOAD_CPU };
        await h2load({ ...common, requests: warmup });
        const before = await cpuMs(server);
        const r = await h2load({ ...common, requests: n, logFile });
        const used = (await cpuMs(server)) - before;
        reqs[mode.key]!.push(r.reqPerSec);
        cpu[mode.key]!.push((used * 1000) / n);
        p99[mode.key]!.push(r.p99Ms ?? NaN);
        ctx.log(`  round ${round + 1}/${rounds} ${mode.label}: ${fmt(r.reqPerSec)} req/s, ${fmt((used * 1000) / n)} µs CPU/call, p99 ${fmt(r.p99Ms ?? NaN)} ms`);
      } finally {
        await server.stop(5000);
      }
    }
  }
  rmSync(logFile, { force: true });
  const metrics: Metric[] = [
    { label: "req/s", values: reqs, better: "higher" },
    { label: "server CPU µs / call", values: cpu, better: "lower" },
    { label: "p99 latency ms", values: p99, better: "lower" },
  ];
  ctx.record("metrics-overhead", metrics);
  ctx.out(`\n### metrics-overhead: small unary with metrics off and on\n\n`);
  ctx.out(
    `Small unary (16-byte echo) on our HTTP/2 engine, h2load -c 4 -m 32 -t 1, ${n} requests after ${warmup} warm-up, ${rounds} rounds (modes alternate, fresh server each run). Server pinned to CPU ${SERVER_CPU}, h2load to CPU ${LOAD_CPU}. Prometheus = ServerMetrics attached and scraped once a second; Prometheus + OTel = that and attachOpenTelemetry with @opentelemetry/sdk-metrics exporting once a second.\n\n`,
  );
  ctx.out(table(MODES.map((m) => ({ key: m.key, label: m.label })), [["prom", "off"], ["full", "off"]], metrics));
  // The observers' own cost, in process (no network noise): what metrics add to each call.
  const cost: Record<string, number> = {};
  for (const mode of ["prom", "otel", "full"]) {
    const r = await run(SERVER_CPU, process.execPath, ["--import", "tsx", "bench/metrics/observer-cost.ts", "--mode", mode], 120_000);
    if (r.code !== 0) throw new Error(`observer-cost (${mode}) failed: ${r.stderr.trim().split("\n").slice(-3).join(" | ")}`);
    cost[mode] = (JSON.parse(r.stdout.trim().split("\n").at(-1)!) as { nsPerCall: number }).nsPerCall;
  }
  const offNs = median(cpu.off!) * 1000;
  ctx.out(`\nThe observers' own cost per unary call (bench/metrics/observer-cost.ts, in process on CPU ${SERVER_CPU}: callStarted, messageReceived, messageSent and callEnded; median of 5 runs of 300k calls), and that cost as a share of the server CPU per call with metrics off:\n\n`);
  ctx.out(`| observers | ns / call | share of ${fmt(median(cpu.off!))} µs |\n|---|---:|---:|\n`);
  const share = (ns: number) => `${((ns / offNs) * 100).toFixed(1)}%`;
  ctx.out(`| ServerMetrics | ${fmt(cost.prom!)} | ${share(cost.prom!)} |\n| attachOpenTelemetry + sdk-metrics | ${fmt(cost.otel!)} | ${share(cost.otel!)} |\n| both | ${fmt(cost.full!)} | ${share(cost.full!)} |\n`);
  const verdict = (key: "prom" | "full", label: string) => {
    const cpuRatio = median(cpu[key]!) / median(cpu.off!);
    const reqRatio = median(reqs[key]!) / median(reqs.off!);
    return `${label}: server CPU per call ${cpuRatio.toFixed(2)}x, req/s ${reqRatio.toFixed(2)}x, observers ${share(cost[key]!)} of a call: ${cpuRatio <= 1.1 ? "within 10%" : "over 10%"}`;
  };
  ctx.out(`\nTarget "unary with metrics on within 10% of off": ${verdict("prom", "Prometheus")}; ${verdict("full", "Prometheus + OTel")}.\n`);
}

/** The scenarios for bench/run.ts. */
export function metricsScenarios(ctx: MetricsScenarioContext): { name: string; run: () => Promise<void> }[] {
  return [{ name: "metrics-overhead", run: () => runMetricsOverhead(ctx) }];
}

await runIfMain(import.meta.url, "metrics", runMetricsOverhead);
