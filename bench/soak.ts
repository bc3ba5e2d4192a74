// Reliability row 28 (../shared/design/RELIABILITY.md): a 60 s soak, `h2load -c50 -m100`
// against a unary method of a Switchboard server running as a child process
// (test/reliability/server-process.ts). Samples the server's RSS every second, reports the
// memory slope over the last 30 s, file descriptors before/after (/proc/<pid>/fd), the
// event-loop delay under load, h2load's errors and a grpc-js probe's statuses (h2load
// cannot see grpc-status trailers, so a probe call every 250 ms checks them).
//
//   npm run soak [-- --duration 60 --clients 50 --streams 100]
//
// Exit code 0 when: h2load reports no failed/errored request and only 2xx, every probe
// call is OK, over the last 30 s the floor of the RSS sawtooth rises less than 10 MB and the
// heap left by a forced GC grows at most 5 MB, RSS returns within 20 MB of the start after the load, and fds/handles are back.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { grpc, grpcClient, grpcMessage, grpcUnary, mb, MiB, PATH, percentile, ServerProcess, type Stats } from "../test/reliability/harness.js";

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const DURATION_S = arg("duration", 60);
const CLIENTS = arg("clients", 50);
const STREAMS = arg("streams", 100);
const out = (line = "") => process.stdout.write(`${line}\n`);

/** Theil–Sen slope of y over x: the median of the pairwise slopes, robust to the GC sawtooth. */
function robustSlope(points: readonly [number, number][]): number {
  const slopes: number[] = [];
  for (let i = 0; i < points.length; i++) {
    for (let j = i + 1; j < points.length; j++) {
      const dx = points[j]![0] - points[i]![0];
      if (dx > 0) slopes.push((points[j]![1] - points[i]![1]) / dx);
    }
  }
  return slopes.length === 0 ? 0 : percentile(slopes, 50);
}

/** Least-squares slope of y over x. */
function slope(points: readonly [number, number][]): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  let num = 0;
  let den = 0;
  for (const [x, y] of points) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

interface H2loadSummary {
  text: string;
  succeeded: number;
  failed: number;
  errored: number;
  status2xx: number;
  statusOther: number;
  reqPerSec: number;
}

function parseH2load(text: string): H2loadSummary {
  const req = /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored/.exec(text);
  const codes = /status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/.exec(text);
  const fin = /finished in [\d.]+m?s, ([\d.]+) req\/s/.exec(text);
  if (!req || !codes) throw new Error(`cannot parse h2load output:\n${text}`);
  return {
    text,
    succeeded: Number(req[4]),
    failed: Number(req[5]),
    errored: Number(req[6]),
    status2xx: Number(codes[1]),
    statusOther: Number(codes[2]) + Number(codes[3]) + Number(codes[4]),
    reqPerSec: fin ? Number(fin[1]) : NaN,
  };
}

function runH2load(args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn("h2load", args, { stdio: ["ignore", "pipe", "pipe"] });
    let text = "";
    child.stdout.on("data", (d: Buffer) => (text += d.toString()));
    child.stderr.on("data", (d: Buffer) => (text += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(text);
      else reject(new Error(`h2load exited ${code ?? signal}\n${text}`));
    });
  });
}

const dir = mkdtempSync(path.join(tmpdir(), "switchboard-soak-"));
const bodyFile = path.join(dir, "echo.bin");
const logFile = path.join(dir, "h2load.log");
writeFileSync(bodyFile, grpcMessage(Buffer.from("soak-payload-0123456789")));

const proc = await ServerProcess.start({});
let ok = true;
try {
  const before = await proc.gc();
  const fdsBefore = proc.fds();
  out(`soak: ${DURATION_S} s, h2load -c${CLIENTS} -m${STREAMS} -t1 against ${PATH.echo} (server pid ${proc.pid}, port ${proc.port})`);
  out(`before: RSS ${mb(before.rss)} MB, heap ${mb(before.heapUsed)} MB, fds ${fdsBefore}, active handles ${before.activeHandles}`);
  await proc.resetPeak();

  const samples: [number, Stats][] = [];
  const probe = grpcClient(proc.port);
  const probeCodes = new Map<string, number>();
  const probeLatencies: number[] = [];
  let running = true;
  const started = performance.now();
  // Two forced GCs under load, 30 s apart: a leak shows as live heap that GC cannot free.
  const gcs: [number, Stats][] = [];
  const sampler = (async () => {
    while (running) {
      await sleep(1000);
      if (!running) break;
      const t = (performance.now() - started) / 1000;
      const due = (gcs.length === 0 && t >= DURATION_S - 32) || (gcs.length === 1 && t >= DURATION_S - 2);
      const s = due ? await proc.gc() : await proc.stats();
      if (due) gcs.push([t, s]);
      samples.push([t, s]);
      if (samples.length % 10 === 0) out(`  t=${t.toFixed(0)}s RSS ${mb(s.rss)} MB heap ${mb(s.heapUsed)} MB sessions ${s.sessions} event-loop p99 ${s.eventLoopP99Ms.toFixed(1)} ms`);
    }
  })();
  const prober = (async () => {
    while (running) {
      const o = await grpcUnary(probe, PATH.echo, Buffer.from("probe"), 10_000);
      probeCodes.set(grpc.status[o.code], (probeCodes.get(grpc.status[o.code]) ?? 0) + 1);
      if (o.code === grpc.status.OK) probeLatencies.push(o.ms);
      await sleep(250);
    }
  })();
  const h2text = await runH2load(
    ["-D", String(DURATION_S), "-c", String(CLIENTS), "-m", String(STREAMS), "-t", "1", "-H", "content-type: application/grpc", "-H", "te: trailers", "-d", bodyFile, "--log-file", logFile, `http://127.0.0.1:${proc.port}${PATH.echo}`],
    (DURATION_S + 60) * 1000,
  );
  running = false;
  await Promise.all([sampler, prober]);
  probe.close();
  const h2 = parseH2load(h2text);

  const durations: number[] = [];
  for (const line of readFileSync(logFile, "utf8").split("\n")) {
    const cols = line.split("\t");
    if (cols.length >= 3 && cols[1] !== "-1") durations.push(Number(cols[2]) / 1000);
  }
  const loaded = await proc.stats();
  const last30 = samples.filter(([t]) => t >= DURATION_S - 30 && t <= DURATION_S);
  // The lower envelope of the GC sawtooth: the smallest RSS of each 5 s, then its Theil–Sen slope.
  const floors: [number, number][] = [];
  for (let from = DURATION_S - 30; from < DURATION_S; from += 5) {
    const bucket = last30.filter(([t]) => t >= from && t < from + 5).map(([, s]) => s.rss / MiB);
    if (bucket.length > 0) floors.push([from + 2.5, Math.min(...bucket)]);
  }
  const rssSlope = robustSlope(floors) * 60;
  const rssSlopeLsq = slope(last30.map(([t, s]) => [t, s.rss / MiB])) * 60;
  const heapSlope = slope(last30.map(([t, s]) => [t, s.heapUsed / MiB])) * 60;
  const growth30 = last30.length > 1 ? (last30[last30.length - 1]![1].rss - last30[0]![1].rss) / MiB : 0;

  // After the load: GC every 500 ms until RSS is within 20 MB of the start (V8 gives its
  // grown young generation back after a few idle seconds), for at most 20 s.
  const settleStarted = performance.now();
  let after = await proc.gc();
  while (after.rss > before.rss + 20 * MiB && performance.now() - settleStarted < 20_000) {
    await sleep(500);
    after = await proc.gc();
  }
  const settleMs = performance.now() - settleStarted;
  const fdsAfter = proc.fds();

  out();
  out(`h2load: ${h2.succeeded} succeeded, ${h2.failed} failed, ${h2.errored} errored; status 2xx ${h2.status2xx}, other ${h2.statusOther}; ${h2.reqPerSec.toFixed(0)} req/s`);
  out(`h2load latency: p50 ${percentile(durations, 50).toFixed(1)} ms, p99 ${percentile(durations, 99).toFixed(1)} ms (${durations.length} logged requests)`);
  out(`grpc-js probe (every 250 ms): ${JSON.stringify(Object.fromEntries(probeCodes))}, p99 ${percentile(probeLatencies, 99).toFixed(1)} ms`);
  out(`server event-loop delay under load: p99 ${loaded.eventLoopP99Ms.toFixed(1)} ms, max ${loaded.eventLoopMaxMs.toFixed(1)} ms`);
  out(`RSS: before ${mb(before.rss)} MB, peak ${mb(loaded.peakRss)} MB, at end of load ${mb(samples[samples.length - 1]?.[1].rss ?? 0)} MB, after the load ${mb(after.rss)} MB (${(settleMs / 1000).toFixed(1)} s later)`);
  out(`memory slope over the last 30 s: RSS floor ${rssSlope.toFixed(2)} MB/min (Theil–Sen over the 5-s minima ${floors.map(([, v]) => v.toFixed(0)).join(" ")}; least squares over all samples ${rssSlopeLsq.toFixed(2)}, ${growth30.toFixed(1)} MB first-to-last), heap ${heapSlope.toFixed(2)} MB/min (${last30.length} samples)`);
  const [gcA, gcB] = gcs;
  if (gcA && gcB) {
    out(`after a forced GC under load: at ${gcA[0].toFixed(0)} s heap ${mb(gcA[1].heapUsed)} MB, RSS ${mb(gcA[1].rss)} MB; at ${gcB[0].toFixed(0)} s heap ${mb(gcB[1].heapUsed)} MB, RSS ${mb(gcB[1].rss)} MB`);
  }
  out(`RSS samples (MB, ~1/s): ${samples.map(([, s]) => (s.rss / MiB).toFixed(0)).join(" ")}`);
  out(`fds: before ${fdsBefore}, after ${fdsAfter}; active handles: before ${before.activeHandles}, after ${after.activeHandles}; sessions after ${after.sessions}`);

  const failures: string[] = [];
  if (h2.failed > 0 || h2.errored > 0 || h2.statusOther > 0) failures.push("h2load saw errors");
  if ([...probeCodes.keys()].some((k) => k !== "OK")) failures.push("a probe call failed");
  // Under load RSS follows V8's GC sawtooth (tens of MB); a leak shows as a sustained rise.
  // Flat = the floor of the sawtooth moved less than 10 MB in 30 s (its 5-s minima wander by a
  // few MB under full load), and a forced GC leaves no more live heap than 30 s earlier.
  if (rssSlope / 2 > 10) failures.push(`the RSS floor rose ${(rssSlope / 2).toFixed(1)} MB over the last 30 s`);
  if (gcA && gcB && gcB[1].heapUsed - gcA[1].heapUsed > 5 * MiB) failures.push(`live heap after GC grew ${mb(gcB[1].heapUsed - gcA[1].heapUsed)} MB in 30 s`);
  if (after.rss > before.rss + 20 * MiB) failures.push(`RSS ${mb(after.rss)} MB did not return within 20 MB of ${mb(before.rss)} MB`);
  if (fdsAfter > fdsBefore) failures.push(`fds ${fdsBefore} -> ${fdsAfter}`);
  if (after.activeHandles > before.activeHandles) failures.push(`handles ${before.activeHandles} -> ${after.activeHandles}`);
  if (!proc.alive) failures.push("the server process died");
  ok = failures.length === 0;
  out(ok ? "soak: PASS" : `soak: FAIL (${failures.join("; ")})`);
} finally {
  await proc.close();
  rmSync(dir, { recursive: true, force: true });
}
process.exitCode = ok ? 0 : 1;
