// The cluster scenario of the benchmark suite: req/s of small unary calls with the server in
// 1 and 2 worker processes (serveWorkers, node:cluster's shared handle on Node < 22.12, else
// SO_REUSEPORT), h2load -c 8 -m 32 -t 1.
//
// Placement on a 2-core box (taskset; the workers inherit their primary's affinity):
//   1 worker, CPU 0        server pinned to CPU 0, h2load pinned to CPU 1 (the suite's usual split)
//   1 worker, CPUs 0-1     server and h2load both unpinned over CPUs 0-1
//   2 workers, CPUs 0-1    server and h2load both unpinned over CPUs 0-1 (h2load shares the cores)
// Per-core scaling = (2 workers, CPUs 0-1) / (1 worker, CPU 0): 2.0 would be perfect; on two
// cores h2load takes part of them, so this bounds what one more core buys here from below.
// Rounds alternate the three placements; tables show medians.
//   Standalone: node --import tsx bench/cluster/scenarios.ts [--quick]
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawn } from "node:child_process";
import { h2loadArgs, parseLog, parseSummary } from "../lib/h2load.js";
import { Lines, ROOT, run } from "../lib/proc.js";
import { fmt, table, type Metric } from "../lib/report.js";
import { runIfMain, type ScenarioContext } from "../lib/scenario.js";
import { median } from "../lib/stats.js";
import { path, requests } from "../lib/workload.js";

export type ClusterScenarioContext = ScenarioContext;

interface Placement {
  key: string;
  label: string;
  workers: number;
  serverCpus: string;
  loadCpus: string;
}

const PLACEMENTS: Placement[] = [
  { key: "w1c0", label: "1w cpu0", workers: 1, serverCpus: "0", loadCpus: "1" },
  { key: "w1c01", label: "1w cpu0-1", workers: 1, serverCpus: "0,1", loadCpus: "0,1" },
  { key: "w2c01", label: "2w cpu0-1", workers: 2, serverCpus: "0,1", loadCpus: "0,1" },
];

async function startCluster(p: Placement): Promise<Lines> {
  const child = spawn("taskset", ["-c", p.serverCpus, process.execPath, "--import", "tsx", "bench/cluster/server.ts", "--workers", String(p.workers), "--port", "0"], {
    cwd: ROOT,
    stdio: ["pipe", "pipe", "pipe"],
  });
  return new Lines(child, `cluster (${p.label})`);
}

async function load(p: Placement, port: number, bodyFile: string, n: number, logFile?: string) {
  const args = h2loadArgs({ port, path: path("Unary"), bodyFile, requests: n, clients: 8, streams: 32, timeoutMs: 0, cpu: 0, ...(logFile ? { logFile } : {}) });
  const r = await run(undefined, "taskset", ["-c", p.loadCpus, "h2load", ...args], 120_000);
  if (r.code !== 0 || r.timedOut) throw new Error(`h2load (${p.label}) failed: ${(r.stderr || r.stdout).trim().split("\n").slice(-3).join(" | ")}`);
  const s = parseSummary(r.stdout);
  if (s.succeeded !== n) throw new Error(`h2load (${p.label}): ${s.succeeded}/${n} succeeded`);
  return { ...s, ...(logFile ? parseLog(logFile) : {}) };
}

async function runClusterUnary(ctx: ClusterScenarioContext): Promise<void> {
  const rounds = ctx.quick ? 2 : 5;
  const n = ctx.quick ? 20_000 : 60_000;
  const warmup = ctx.quick ? 5_000 : 10_000;
  const body = ctx.bodyFile("cluster-unary-small", requests.unarySmall());
  const logFile = join(tmpdir(), `sb-cluster-h2load-${process.pid}.log`);
  const reqs: Record<string, number[]> = Object.fromEntries(PLACEMENTS.map((p) => [p.key, []]));
  const p99: Record<string, number[]> = Object.fromEntries(PLACEMENTS.map((p) => [p.key, []]));
  for (let round = 0; round < rounds; round++) {
    for (const p of PLACEMENTS) {
      const server = await startCluster(p);
      try {
        const port = await server.listeningPort();
        await load(p, port, body, warmup);
        const r = await load(p, port, body, n, logFile);
        reqs[p.key]!.push(r.reqPerSec);
        p99[p.key]!.push(r.p99Ms ?? NaN);
        ctx.log(`  round ${round + 1}/${rounds} ${p.label}: ${fmt(r.reqPerSec)} req/s, p99 ${fmt(r.p99Ms ?? NaN)} ms`);
      } finally {
        await server.stop(5000);
      }
    }
  }
  rmSync(logFile, { force: true });
  const metrics: Metric[] = [
    { label: "req/s", values: reqs, better: "higher" },
    { label: "p99 latency ms", values: p99, better: "lower" },
  ];
  ctx.record("cluster-unary", metrics);
  const scaling = median(reqs.w2c01!) / median(reqs.w1c0!);
  const sameCores = median(reqs.w2c01!) / median(reqs.w1c01!);
  ctx.out(`\n### cluster-unary: serveWorkers, 1 vs 2 worker processes on one port\n\n`);
  ctx.out(`Small unary (16-byte echo), h2load -c 8 -m 32 -t 1, ${n} requests after ${warmup} warm-up, ${rounds} rounds (placements alternate, fresh cluster each run). Placement: 1w cpu0 = 1 worker (and its primary) pinned to CPU 0, h2load pinned to CPU 1; 1w cpu0-1 and 2w cpu0-1 = the server's processes and h2load all unpinned over CPUs 0-1 (h2load shares the cores).\n\n`);
  ctx.out(table(PLACEMENTS.map((p) => ({ key: p.key, label: p.label })), [["w2c01", "w1c0"], ["w2c01", "w1c01"]], metrics));
  ctx.out(`\nPer-core scaling (2 workers on CPUs 0-1 / 1 worker on CPU 0): ${scaling.toFixed(2)}x; 2 vs 1 worker on the same two CPUs: ${sameCores.toFixed(2)}x.\n`);
}

/** The scenarios for bench/run.ts. */
export function clusterScenarios(ctx: ClusterScenarioContext): { name: string; run: () => Promise<void> }[] {
  return [{ name: "cluster-unary", run: () => runClusterUnary(ctx) }];
}

await runIfMain(import.meta.url, "cluster", runClusterUnary);
