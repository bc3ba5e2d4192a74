// h2load, pinned to the load CPU, bounded by -n and a kill timer; its summary and its
// per-request log (for latency percentiles: h2load prints no p99 itself) parsed.
import { readFileSync, rmSync } from "node:fs";
import { run } from "./proc.js";
import { percentile } from "./stats.js";

export interface H2loadOptions {
  port: number;
  path: string;
  bodyFile: string;
  requests: number;
  clients: number;
  streams: number;
  timeoutMs: number;
  cpu: number;
  /** Per-request log for latency percentiles. */
  logFile?: string;
}

export interface H2loadResult {
  seconds: number;
  reqPerSec: number;
  /** All received bytes per second, as h2load reports it. */
  bytesPerSec: number;
  succeeded: number;
  failed: number;
  errored: number;
  p50Ms: number | undefined;
  p99Ms: number | undefined;
}

export function h2loadArgs(o: H2loadOptions): string[] {
  const args = [
    "-n", String(o.requests),
    "-c", String(o.clients),
    "-m", String(o.streams),
    "-t", "1",
    "-H", "content-type: application/grpc",
    "-H", "te: trailers",
    "-d", o.bodyFile,
  ];
  if (o.logFile) args.push("--log-file", o.logFile);
  args.push(`http://127.0.0.1:${o.port}${o.path}`);
  return args;
}

const UNIT: Record<string, number> = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3 };

export function parseSummary(out: string): Omit<H2loadResult, "p50Ms" | "p99Ms"> {
  const fin = /finished in ([\d.]+)(ms|s), ([\d.]+) req\/s, ([\d.]+)(B|KB|MB|GB)\/s/.exec(out);
  const req = /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored/.exec(out);
  if (!fin || !req) throw new Error(`cannot parse h2load output: ${out.trim().split("\n").slice(-6).join(" | ")}`);
  return {
    seconds: Number(fin[1]) / (fin[2] === "ms" ? 1000 : 1),
    reqPerSec: Number(fin[3]),
    bytesPerSec: Number(fin[4]) * UNIT[fin[5]!]!,
    succeeded: Number(req[4]),
    failed: Number(req[5]),
    errored: Number(req[6]),
  };
}

/** Latency percentiles (ms) from the --log-file rows: start µs, status, duration µs. */
export function parseLog(file: string): { p50Ms: number; p99Ms: number } | undefined {
  const durations: number[] = [];
  for (const line of readFileSync(file, "utf8").split("\n")) {
    const cols = line.split("\t");
    if (cols.length < 3 || cols[1] === "-1") continue;
    durations.push(Number(cols[2]) / 1000);
  }
  if (durations.length === 0) return undefined;
  durations.sort((a, b) => a - b);
  return { p50Ms: percentile(durations, 50, true), p99Ms: percentile(durations, 99, true) };
}

export async function h2load(o: H2loadOptions): Promise<H2loadResult> {
  if (o.logFile) rmSync(o.logFile, { force: true });
  const r = await run(o.cpu, "h2load", h2loadArgs(o), o.timeoutMs);
  if (r.timedOut) throw new Error(`h2load did not finish ${o.requests} requests within ${o.timeoutMs / 1000} s (killed)`);
  if (r.code !== 0) throw new Error(`h2load exited with ${r.signal ?? r.code}: ${(r.stderr || r.stdout).trim().split("\n").slice(-4).join(" | ")}`);
  const summary = parseSummary(r.stdout);
  if (summary.succeeded !== o.requests || summary.failed + summary.errored > 0) {
    throw new Error(`h2load: ${summary.succeeded}/${o.requests} succeeded, ${summary.failed} failed, ${summary.errored} errored`);
  }
  const latency = o.logFile ? parseLog(o.logFile) : undefined;
  if (o.logFile) rmSync(o.logFile, { force: true });
  return { ...summary, p50Ms: latency?.p50Ms, p99Ms: latency?.p99Ms };
}
