// The benchmark suite: `npm run bench` (full, < 12 min), `npm run bench -- --quick` (smoke,
// < 3 min), `--only NAME[,NAME]` for some scenarios, `--list` for their names.
// Results (markdown) go to stdout, progress to stderr. See docs/performance.md.
//
// Servers run pinned to CPU 0 (taskset -c 0), every load generator (h2load, the client load
// processes, the memory helper) pinned to CPU 1. The gRPC scenarios compare five servers
// (bench/lib/servers.ts): sb (Switchboard on our engine), sb-node (Switchboard on node:http2),
// grpc-js, ceiling (fixed bytes on bare node:http2) and floor (the same fixed bytes on our
// engine). Rounds alternate them in that order; tables show medians over the rounds.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { checkOk, type CheckResult } from "./lib/check.js";
import { h2load, type H2loadResult } from "./lib/h2load.js";
import { installCleanup, killAll, Lines, spawnNode } from "./lib/proc.js";
import { fmt, table, type Metric } from "./lib/report.js";
import {
  BenchServer,
  cpuMs,
  LOAD_CPU,
  perKind,
  SERVER_COLUMNS,
  SERVER_KINDS,
  SERVER_LABEL,
  SERVER_RATIOS,
  startServers,
  stopServers,
  type ServerKind,
  type ServerStats,
} from "./lib/servers.js";
import { median } from "./lib/stats.js";
import { jsonrpcScenarios } from "./jsonrpc/scenarios.js";
import { rpycScenarios } from "./rpyc/scenarios.js";
import { clusterScenarios } from "./cluster/scenarios.js";
import { metricsScenarios } from "./metrics/scenarios.js";
import {
  CLIENT_STREAM_COUNT,
  CLIENT_STREAM_SIZE,
  LARGE,
  SMALL,
  STREAM_COUNT,
  STREAM_SIZE,
  frame,
  path,
  payloadBytes,
  requests,
  streamSummaryBytes,
} from "./lib/workload.js";

// ---- command line ----------------------------------------------------------------------

const argv = process.argv.slice(2);
const QUICK = argv.includes("--quick");
const ONLY = argv.flatMap((a, i) => (argv[i - 1] === "--only" ? a.split(",") : a.startsWith("--only=") ? a.slice(7).split(",") : []));
/** Runs stop starting new scenarios after this, so the full suite stays under about 12 minutes. */
const BUDGET_MS = QUICK ? 170_000 : 640_000;
const q = <T>(full: T, quick: T): T => (QUICK ? quick : full);

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
const log = (msg: string) => process.stderr.write(`${msg}\n`);
const out = (text: string) => process.stdout.write(text);

installCleanup();
const tmp = mkdtempSync(join(tmpdir(), "switchboard-bench-"));
process.on("exit", () => rmSync(tmp, { recursive: true, force: true }));

function bodyFile(name: string, bytes: Buffer): string {
  const file = join(tmp, `${name}.bin`);
  writeFileSync(file, bytes);
  return file;
}

// ---- shared server pool -----------------------------------------------------------------

let pool: BenchServer[] | undefined;

/** The servers for the throughput scenarios, (re)started when one of them died. */
async function servers(): Promise<BenchServer[]> {
  if (pool?.every((s) => s.alive)) return pool;
  if (pool) {
    log(`  a server died (${pool.filter((s) => !s.alive).map((s) => s.label).join(", ")}); restarting all of them`);
    await stopServers(pool);
  }
  pool = undefined;
  log("  starting servers (taskset -c 0) ...");
  pool = await startServers();
  log(`  ${pool.map((s) => `${s.label} :${s.port}`).join(", ")}`);
  return pool;
}

// ---- results for the summary -------------------------------------------------------------

/** scenario -> metric -> column -> per-round values */
const results = new Map<string, Map<string, Record<string, number[]>>>();

function record(scenario: string, metrics: readonly Metric[]): void {
  results.set(scenario, new Map(metrics.map((m) => [m.label, m.values])));
}

function med(scenario: string, metric: string, column: string): number {
  return median(results.get(scenario)?.get(metric)?.[column] ?? []);
}

// ---- h2load scenarios ---------------------------------------------------------------------

interface H2Scenario {
  name: string;
  title: string;
  method: Parameters<typeof path>[0];
  body: Buffer;
  clients: number;
  streams: number;
  requests: number;
  warmup: number;
  rounds: number;
  expect: (r: CheckResult) => string | undefined;
  /** Messages per call (the counted direction), for a messages/s row. */
  messagesPerCall?: { count: number; label: string };
  /** Show a MB/s row (all bytes h2load received). */
  throughput?: boolean;
}

const MIB = 1024 * 1024;
const sameBytes = (expected: Uint8Array, what: string) => (r: CheckResult) =>
  r.messages === 1 && r.firstMessage?.equals(expected) ? undefined : `expected one ${what} message of ${expected.length} bytes, got ${r.messages} message(s), ${r.messageBytes} bytes`;

const H2_SCENARIOS: H2Scenario[] = [
  {
    name: "unary-small",
    title: `Unary, ${SMALL}-byte payload echoed (h2load -c 4 -m 32)`,
    method: "Unary",
    body: requests.unarySmall(),
    clients: 4,
    streams: 32,
    requests: q(30_000, 8_000),
    warmup: q(10_000, 3_000),
    rounds: q(5, 2),
    expect: sameBytes(payloadBytes(SMALL), "echo"),
  },
  {
    name: "unary-64k",
    title: "Unary, 64 KiB payload echoed (h2load -c 4 -m 8)",
    method: "Unary",
    body: requests.unaryLarge(),
    clients: 4,
    streams: 8,
    requests: q(2_000, 600),
    warmup: q(600, 200),
    rounds: q(3, 1),
    expect: sameBytes(payloadBytes(LARGE), "echo"),
    throughput: true,
  },
  {
    name: "server-stream",
    title: `Server streaming, ${STREAM_COUNT} messages of ${STREAM_SIZE} B per call (h2load -c 4 -m 8)`,
    method: "ServerStream",
    body: requests.serverStream(),
    clients: 4,
    streams: 8,
    requests: q(400, 120),
    warmup: q(120, 60),
    rounds: q(3, 1),
    expect: (r) =>
      r.messages === STREAM_COUNT && r.messageBytes === STREAM_COUNT * (STREAM_SIZE + 2)
        ? undefined
        : `expected ${STREAM_COUNT} messages of ${STREAM_SIZE + 2} bytes, got ${r.messages} (${r.messageBytes} bytes)`,
    messagesPerCall: { count: STREAM_COUNT, label: "messages/s (responses)" },
    throughput: true,
  },
  {
    name: "client-stream",
    title: `Client streaming, ${CLIENT_STREAM_COUNT} messages of ${CLIENT_STREAM_SIZE} B per call (h2load -c 4 -m 8)`,
    method: "ClientStream",
    body: requests.clientStream(),
    clients: 4,
    streams: 8,
    requests: q(4_000, 1_000),
    warmup: q(1_000, 400),
    rounds: q(3, 1),
    expect: sameBytes(streamSummaryBytes(CLIENT_STREAM_COUNT, CLIENT_STREAM_COUNT * CLIENT_STREAM_SIZE), "summary"),
    messagesPerCall: { count: CLIENT_STREAM_COUNT, label: "messages/s (requests)" },
  },
  {
    name: "conns-100x10",
    title: `Unary, ${SMALL}-byte payload, 100 connections x 10 streams (h2load -c 100 -m 10)`,
    method: "Unary",
    body: requests.unarySmall(),
    clients: 100,
    streams: 10,
    requests: q(25_000, 6_000),
    warmup: q(6_000, 2_000),
    rounds: q(3, 1),
    expect: sameBytes(payloadBytes(SMALL), "echo"),
  },
];

interface RunSample {
  h2: H2loadResult;
  before: ServerStats;
  after: ServerStats;
}

async function h2Run(s: H2Scenario, server: BenchServer, file: string, n: number, measured: boolean): Promise<RunSample> {
  await checkOk(server.label, server.port, path(s.method), s.body, s.expect);
  await server.resetEventLoopDelay();
  const before = await server.stats();
  const h2 = await h2load({
    port: server.port,
    path: path(s.method),
    bodyFile: file,
    requests: n,
    clients: s.clients,
    streams: s.streams,
    cpu: LOAD_CPU,
    timeoutMs: q(90_000, 45_000),
    ...(measured ? { logFile: join(tmp, `${s.name}-${server.kind}.log`) } : {}),
  });
  const after = await server.stats();
  return { h2, before, after };
}

async function runH2Scenario(s: H2Scenario): Promise<void> {
  const file = bodyFile(s.name, s.body);
  const list = await servers();
  for (const server of list) {
    log(`  warm-up ${server.label}: ${s.warmup} requests`);
    await h2Run(s, server, file, s.warmup, false);
  }
  const samples = perKind<RunSample | undefined>();
  const errors: string[] = [];
  for (let round = 1; round <= s.rounds; round++) {
    for (const server of list) {
      try {
        const r = await h2Run(s, server, file, s.requests, true);
        samples[server.kind].push(r);
        log(`  round ${round}/${s.rounds} ${server.label.padEnd(7)} ${r.h2.reqPerSec.toFixed(0).padStart(7)} req/s  p99 ${r.h2.p99Ms?.toFixed(2)} ms  cpu ${(cpuMs(r.after) - cpuMs(r.before)).toFixed(0)} ms`);
      } catch (err) {
        samples[server.kind].push(undefined);
        const msg = `round ${round} ${server.label}: ${(err as Error).message}`;
        errors.push(msg);
        log(`  FAILED ${msg}`);
        if (!server.alive) throw new Error(`${server.label} server died: ${msg}`);
      }
    }
  }
  // The servers must still answer correctly after the load.
  for (const server of list) await checkOk(server.label, server.port, path(s.method), s.body, s.expect);

  const values = (f: (r: RunSample) => number | undefined): Record<string, number[]> =>
    Object.fromEntries(SERVER_KINDS.map((k) => [k, samples[k].map((r) => (r ? (f(r) ?? NaN) : NaN))]));
  const metrics: Metric[] = [{ label: "req/s", values: values((r) => r.h2.reqPerSec), better: "higher" }];
  if (s.messagesPerCall) {
    const per = s.messagesPerCall.count;
    metrics.push({ label: s.messagesPerCall.label, values: values((r) => r.h2.reqPerSec * per), better: "higher" });
  }
  if (s.throughput) metrics.push({ label: "MB/s received (h2load)", values: values((r) => r.h2.bytesPerSec / 1e6), better: "higher" });
  metrics.push(
    { label: "p50 latency ms", values: values((r) => r.h2.p50Ms), better: "lower" },
    { label: "p99 latency ms", values: values((r) => r.h2.p99Ms), better: "lower" },
    { label: "server CPU s / 100k RPCs", values: values((r) => ((cpuMs(r.after) - cpuMs(r.before)) / 1000 / s.requests) * 100_000), better: "lower" },
    { label: "event-loop delay p99 ms", values: values((r) => r.after.eventLoopDelayP99Ms), better: "lower" },
    { label: "server RSS after run MB", values: values((r) => r.after.rssBytes / MIB), better: "lower" },
  );
  record(s.name, metrics);
  out(`\n### ${s.name}: ${s.title}\n\n`);
  out(`${plural(s.rounds, "round")} x ${s.requests} requests per server, after ${s.warmup} warm-up requests; medians (ratios: of the medians, per-round range in parentheses).\n\n`);
  out(table(SERVER_COLUMNS, SERVER_RATIOS, metrics));
  for (const e of errors) out(`\n- failed run: ${e}\n`);
}

// ---- load processes (our client and the grpc-js client) -----------------------------------

type ClientKind = "sb" | "sbnode" | "grpcjs";
const CLIENT_KINDS: readonly ClientKind[] = ["sb", "sbnode", "grpcjs"];
const CLIENT_LABEL: Record<ClientKind, string> = { sb: "sb client", sbnode: "sb client (node:http2)", grpcjs: "grpc-js client" };

async function startLoad(file: string, kind: ClientKind): Promise<Lines> {
  const lines = new Lines(spawnNode(LOAD_CPU, file, ["--client", kind]), `${CLIENT_LABEL[kind]} (${file})`);
  await lines.next((l) => l === "ready", 60_000, "`ready` line");
  return lines;
}

// ---- bidi ping-pong -----------------------------------------------------------------------

interface PingPongResult {
  roundTrips: number;
  perSec: number;
  p50Ms: number;
  p99Ms: number;
  clientCpuUsPerRoundTrip: number;
}

async function runPingPong(): Promise<void> {
  const streams = 8;
  const count = q(12_000, 3_000);
  const warmup = q(3_000, 1_000);
  const rounds = q(3, 1);
  const list = await servers();
  const pingBody = frame(payloadBytes(SMALL));
  for (const client of ["sb", "grpcjs"] as const) {
    const name = `pingpong-${client}-client`;
    log(`  ${CLIENT_LABEL[client]}: starting load process (taskset -c ${LOAD_CPU})`);
    const load = await startLoad("bench/load/pingpong.ts", client);
    try {
      const samples = perKind<{ r: PingPongResult; before: ServerStats; after: ServerStats } | undefined>();
      const errors: string[] = [];
      for (let round = 0; round <= rounds; round++) {
        for (const server of list) {
          try {
            await checkOk(server.label, server.port, path("PingPong"), pingBody, sameBytes(payloadBytes(SMALL), "echo"));
            await server.resetEventLoopDelay();
            const before = await server.stats();
            // Round 0 is the warm-up (of server and client alike) and is not reported.
            const n = round === 0 ? warmup : count;
            const r = await load.request<PingPongResult>(JSON.stringify({ port: server.port, streams, count: n, warmup: round === 0 ? 0 : Math.min(warmup, 2_000) }), q(90_000, 45_000));
            const after = await server.stats();
            if (round === 0) {
              log(`  warm-up ${server.label}: ${n} round trips`);
              continue;
            }
            samples[server.kind].push({ r, before, after });
            log(`  round ${round}/${rounds} ${server.label.padEnd(7)} ${r.perSec.toFixed(0).padStart(7)} round trips/s  p99 ${r.p99Ms.toFixed(2)} ms`);
          } catch (err) {
            if (round > 0) samples[server.kind].push(undefined);
            const msg = `round ${round} ${server.label}: ${(err as Error).message}`;
            errors.push(msg);
            log(`  FAILED ${msg}`);
            if (!server.alive) throw new Error(`${server.label} server died: ${msg}`);
          }
        }
      }
      const values = (f: (s: { r: PingPongResult; before: ServerStats; after: ServerStats }) => number): Record<string, number[]> =>
        Object.fromEntries(SERVER_KINDS.map((k) => [k, samples[k].map((s) => (s ? f(s) : NaN))]));
      const metrics: Metric[] = [
        { label: "round trips/s", values: values((s) => s.r.perSec), better: "higher" },
        { label: "p50 round trip ms", values: values((s) => s.r.p50Ms), better: "lower" },
        { label: "p99 round trip ms", values: values((s) => s.r.p99Ms), better: "lower" },
        { label: "server CPU s / 100k round trips", values: values((s) => ((cpuMs(s.after) - cpuMs(s.before)) / 1000 / s.r.roundTrips) * 100_000), better: "lower" },
        { label: "event-loop delay p99 ms", values: values((s) => s.after.eventLoopDelayP99Ms), better: "lower" },
        { label: "client CPU µs / round trip", values: values((s) => s.r.clientCpuUsPerRoundTrip), better: "lower" },
      ];
      record(name, metrics);
      out(`\n### ${name}: bidi ping-pong driven by the ${CLIENT_LABEL[client]}\n\n`);
      out(`${streams} PingPong calls on one connection, each sending a ${SMALL}-byte message and awaiting its echo before the next; ${plural(rounds, "round")} x ${count} round trips per server (load process on CPU ${LOAD_CPU}, one warm-up round first).\n\n`);
      out(table(SERVER_COLUMNS, SERVER_RATIOS, metrics));
      for (const e of errors) out(`\n- failed run: ${e}\n`);
    } finally {
      await load.stop();
    }
  }
}

// ---- client side: our client vs the grpc-js client against the bare server -----------------

interface UnaryClientResult {
  calls: number;
  callsPerSec: number;
  clientCpuUsPerCall: number;
  p50Ms: number;
  p99Ms: number;
}

async function runClientUnary(): Promise<void> {
  const concurrency = 32;
  const count = q(15_000, 6_000);
  const warmup = q(6_000, 2_000);
  const rounds = q(5, 2);
  const bare = (await servers()).find((s) => s.kind === "bare")!;
  const loads: Partial<Record<ClientKind, Lines>> = {};
  try {
    for (const k of CLIENT_KINDS) {
      log(`  ${CLIENT_LABEL[k]}: starting load process (taskset -c ${LOAD_CPU})`);
      loads[k] = await startLoad("bench/load/unary-client.ts", k);
    }
    const samples: Record<ClientKind, (UnaryClientResult | undefined)[]> = { sb: [], sbnode: [], grpcjs: [] };
    const errors: string[] = [];
    for (let round = 0; round <= rounds; round++) {
      for (const k of CLIENT_KINDS) {
        try {
          await checkOk(bare.label, bare.port, path("Unary"), requests.unarySmall(), sameBytes(payloadBytes(SMALL), "echo"));
          const n = round === 0 ? warmup : count;
          const r = await loads[k]!.request<UnaryClientResult>(JSON.stringify({ port: bare.port, concurrency, count: n, warmup: round === 0 ? 0 : Math.min(warmup, 2_000) }), q(90_000, 45_000));
          if (round === 0) {
            log(`  warm-up ${CLIENT_LABEL[k]}: ${n} calls`);
            continue;
          }
          samples[k].push(r);
          log(`  round ${round}/${rounds} ${CLIENT_LABEL[k].padEnd(14)} ${r.callsPerSec.toFixed(0).padStart(7)} calls/s  ${r.clientCpuUsPerCall.toFixed(1)} µs CPU/call`);
        } catch (err) {
          if (round > 0) samples[k].push(undefined);
          const msg = `round ${round} ${CLIENT_LABEL[k]}: ${(err as Error).message}`;
          errors.push(msg);
          log(`  FAILED ${msg}`);
        }
      }
    }
    const values = (f: (r: UnaryClientResult) => number) => ({ sb: samples.sb.map((r) => (r ? f(r) : NaN)), sbnode: samples.sbnode.map((r) => (r ? f(r) : NaN)), grpcjs: samples.grpcjs.map((r) => (r ? f(r) : NaN)) });
    const metrics: Metric[] = [
      { label: "calls/s", values: values((r) => r.callsPerSec), better: "higher" },
      { label: "client CPU µs / call", values: values((r) => r.clientCpuUsPerCall), better: "lower" },
      { label: "p50 latency ms", values: values((r) => r.p50Ms), better: "lower" },
      { label: "p99 latency ms", values: values((r) => r.p99Ms), better: "lower" },
    ];
    record("client-unary", metrics);
    out(`\n### client-unary: our client vs the grpc-js client, unary ${SMALL} B against the ceiling server\n\n`);
    out(`${concurrency} concurrent calls in a loop on one channel, client process on CPU ${LOAD_CPU}, bare server on CPU 0; ${plural(rounds, "round")} x ${count} calls per client, after a warm-up round.\n\n`);
    out(table([{ key: "sb", label: CLIENT_LABEL.sb }, { key: "sbnode", label: CLIENT_LABEL.sbnode }, { key: "grpcjs", label: CLIENT_LABEL.grpcjs }], [["sb", "grpcjs"], ["sbnode", "grpcjs"], ["sb", "sbnode"]], metrics));
    for (const e of errors) out(`\n- failed run: ${e}\n`);
  } finally {
    await Promise.all(Object.values(loads).map((l) => l.stop()));
  }
}

// ---- memory ----------------------------------------------------------------------------------

async function runMemory(mode: "idle-conns" | "held-streams"): Promise<void> {
  const conns = mode === "idle-conns" ? 500 : 8;
  const streams = mode === "held-streams" ? 2000 : 0;
  const per = mode === "idle-conns" ? conns : streams;
  const unit = mode === "idle-conns" ? "connection" : "held stream";
  const rounds = q(3, 1);
  const samples = perKind<{ before: ServerStats; after: ServerStats } | undefined>();
  const errors: string[] = [];
  if (pool) {
    // Nothing else on CPU 0 while memory is measured.
    await stopServers(pool);
    pool = undefined;
  }
  for (let round = 1; round <= rounds; round++) {
    log(`  round ${round}/${rounds}: fresh servers (taskset -c 0) ...`);
    const list = await startServers();
    try {
      for (const server of list) {
        try {
          await checkOk(server.label, server.port, path("Unary"), requests.unarySmall(), sameBytes(payloadBytes(SMALL), "echo"));
          const helper = new Lines(
            spawnNode(LOAD_CPU, "bench/load/hold.ts", ["--port", String(server.port), "--conns", String(conns), "--streams", String(streams)]),
            "memory helper",
          );
          try {
            await helper.next((l) => l === "warm", 60_000, "`warm` line");
            let before = await server.gcStats();
            helper.send("connect");
            const connected = await helper.next((l) => l === "connected" || l.startsWith("failed"), 60_000, "`connected` line");
            if (connected !== "connected") throw new Error(`connecting: ${connected}`);
            if (mode === "held-streams") {
              before = await server.gcStats();
              helper.send("open");
              const opened = await helper.next((l) => l.startsWith("opened") || l.startsWith("failed"), 60_000, "`opened` line");
              const info = opened.startsWith("opened") ? (JSON.parse(opened.slice(7)) as { opened: number; failed: number; firstError?: string }) : undefined;
              if (!info || info.opened !== streams) throw new Error(`held ${info?.opened ?? 0}/${streams} streams: ${info?.firstError ?? opened}`);
            }
            const after = await server.gcStats();
            samples[server.kind].push({ before, after });
            log(`  ${server.label.padEnd(7)} RSS +${((after.rssBytes - before.rssBytes) / MIB).toFixed(1)} MiB for ${per} ${unit}s, heap +${((after.heapUsed - before.heapUsed) / MIB).toFixed(1)} MiB`);
          } finally {
            await helper.stop();
          }
        } catch (err) {
          samples[server.kind].push(undefined);
          const msg = `round ${round} ${server.label}: ${(err as Error).message}`;
          errors.push(msg);
          log(`  FAILED ${msg}`);
        }
      }
    } finally {
      await stopServers(list);
    }
  }
  const values = (f: (s: { before: ServerStats; after: ServerStats }) => number): Record<string, number[]> =>
    Object.fromEntries(SERVER_KINDS.map((k) => [k, samples[k].map((s) => (s ? f(s) : NaN))]));
  const metrics: Metric[] = [
    { label: `RSS KiB / ${unit}`, values: values((s) => (s.after.rssBytes - s.before.rssBytes) / 1024 / per), better: "lower" },
    { label: `heap used KiB / ${unit}`, values: values((s) => (s.after.heapUsed - s.before.heapUsed) / 1024 / per), better: "lower" },
    { label: "RSS before MB", values: values((s) => s.before.rssBytes / MIB), better: "lower" },
  ];
  record(mode, metrics);
  if (mode === "idle-conns") {
    out(`\n### idle-conns: memory per idle HTTP/2 connection\n\n`);
    out(`${conns} connections from a helper process (CPU ${LOAD_CPU}), each past the SETTINGS exchange and one PING; server RSS and heap after two forced GCs, before and after; ${plural(rounds, "round")}, fresh servers each round.\n\n`);
  } else {
    out(`\n### held-streams: memory per open call\n\n`);
    out(`${streams} Hold calls on ${conns} connections (opened first, in the baseline), each past its first response message, the handler waiting for cancellation (the ceiling and the floor just never end the stream); server RSS and heap after two forced GCs, before and after; ${plural(rounds, "round")}, fresh servers each round.\n\n`);
  }
  out(table(SERVER_COLUMNS, SERVER_RATIOS, metrics));
  for (const e of errors) out(`\n- failed run: ${e}\n`);
}

// ---- scenarios and summary -------------------------------------------------------------------

const SCENARIOS: { name: string; run: () => Promise<void> }[] = [
  ...H2_SCENARIOS.map((s) => ({ name: s.name, run: () => runH2Scenario(s) })),
  { name: "pingpong", run: runPingPong },
  { name: "client-unary", run: runClientUnary },
  { name: "idle-conns", run: () => runMemory("idle-conns") },
  { name: "held-streams", run: () => runMemory("held-streams") },
  ...jsonrpcScenarios({ quick: QUICK, tmp, log, out, record, bodyFile }),
  ...rpycScenarios({ quick: QUICK, log, out, record }),
  ...clusterScenarios({ quick: QUICK, log, out, record, bodyFile }),
  ...metricsScenarios({ quick: QUICK, log, out, record, bodyFile }),
];

interface Target {
  label: string;
  scenario: string;
  metric: string;
  /** The column whose median is measured, and the column it is compared with. */
  of: string;
  against: string;
  ok: (ratio: number) => boolean;
}

const atLeast = (x: number) => (v: number) => v >= x;
const atMost = (x: number) => (v: number) => v <= x;

// The gRPC targets are the issue's, each a ratio of two medians of this run.
const TARGETS: Target[] = [
  { label: "unary small: sb req/s >= 3x grpc-js", scenario: "unary-small", metric: "req/s", of: "sb", against: "grpcjs", ok: atLeast(3) },
  { label: "unary small: sb req/s >= 2x ceiling", scenario: "unary-small", metric: "req/s", of: "sb", against: "bare", ok: atLeast(2) },
  { label: "unary small: sb server CPU per call <= 0.3x grpc-js", scenario: "unary-small", metric: "server CPU s / 100k RPCs", of: "sb", against: "grpcjs", ok: atMost(0.3) },
  { label: "unary small: sb p99 latency <= grpc-js", scenario: "unary-small", metric: "p99 latency ms", of: "sb", against: "grpcjs", ok: atMost(1) },
  { label: "server streaming: sb messages/s >= 3x grpc-js", scenario: "server-stream", metric: "messages/s (responses)", of: "sb", against: "grpcjs", ok: atLeast(3) },
  { label: "unary 64 KiB: sb req/s >= 1.5x grpc-js", scenario: "unary-64k", metric: "req/s", of: "sb", against: "grpcjs", ok: atLeast(1.5) },
  { label: "idle connections: sb RSS per connection <= grpc-js", scenario: "idle-conns", metric: "RSS KiB / connection", of: "sb", against: "grpcjs", ok: atMost(1) },
  { label: "held streams: sb RSS per stream <= grpc-js", scenario: "held-streams", metric: "RSS KiB / held stream", of: "sb", against: "grpcjs", ok: atMost(1) },
  { label: "client on our engine: calls/s >= 2x grpc-js client", scenario: "client-unary", metric: "calls/s", of: "sb", against: "grpcjs", ok: atLeast(2) },
  // "peer": the better of jayson and json-rpc-2.0 in that scenario (bench/jsonrpc/scenarios.ts)
  { label: "JSON-RPC HTTP: calls/s >= 1.5x better peer", scenario: "jsonrpc-http", metric: "calls/s", of: "sb", against: "peer", ok: atLeast(1.5) },
  { label: "JSON-RPC HTTP batch: calls/s >= 1.5x better peer", scenario: "jsonrpc-http-batch", metric: "calls/s", of: "sb", against: "peer", ok: atLeast(1.5) },
  { label: "JSON-RPC WebSocket: calls/s >= 1.5x better peer", scenario: "jsonrpc-ws", metric: "calls/s", of: "sb", against: "peer", ok: atLeast(1.5) },
  // for the RPyC scenarios "peer" is rpyc's own ThreadedServer (bench/rpyc/scenarios.ts)
  { label: "RPyC, 1 Python client: calls/s >= 2x rpyc's ThreadedServer", scenario: "rpyc-echo", metric: "calls/s", of: "sb", against: "peer", ok: atLeast(2) },
  { label: "RPyC, 4 Python clients: calls/s >= 2x rpyc's ThreadedServer", scenario: "rpyc-echo-concurrent", metric: "calls/s", of: "sb", against: "peer", ok: atLeast(2) },
  { label: "RPyC, 1 Python client: server CPU per call <= 0.5x rpyc's", scenario: "rpyc-echo", metric: "server CPU µs / call", of: "sb", against: "peer", ok: atMost(0.5) },
  // bench/metrics/scenarios.ts: off / prom (ServerMetrics) / full (ServerMetrics + OpenTelemetry with sdk-metrics)
  { label: "unary small, metrics on (Prometheus): server CPU per call <= 1.1x off", scenario: "metrics-overhead", metric: "server CPU µs / call", of: "prom", against: "off", ok: atMost(1.1) },
  { label: "unary small, metrics on (Prometheus + OTel SDK): server CPU per call <= 1.1x off", scenario: "metrics-overhead", metric: "server CPU µs / call", of: "full", against: "off", ok: atMost(1.1) },
];

function summary(): string {
  const lines = ["| target | measured ratio | met/not met |", "|---|---:|---|"];
  for (const t of TARGETS) {
    const a = med(t.scenario, t.metric, t.of);
    const b = med(t.scenario, t.metric, t.against);
    const v = a / b;
    const measured = Number.isFinite(v);
    lines.push(`| ${t.label} | ${measured ? `${v.toFixed(2)}x (${fmt(a)} / ${fmt(b)})` : "n/a"} | ${measured ? (t.ok(v) ? "met" : "**not met**") : "not measured"} |`);
  }
  return `${metricNote}\n\n${lines.join("\n")}\n`;
}

const metricNote =
  "Each ratio is of two medians from this run, followed by the medians themselves in the unit of the metric the target names (req/s, ms, CPU s per 100k RPCs, messages/s, KiB per connection or stream, calls/s).";

/** The headline metric of each scenario with the five gRPC servers, for the engine comparison. */
const ENGINE_ROWS: [scenario: string, metric: string][] = [
  ["unary-small", "req/s"],
  ["unary-small", "server CPU s / 100k RPCs"],
  ["unary-small", "p99 latency ms"],
  ["unary-64k", "req/s"],
  ["server-stream", "messages/s (responses)"],
  ["client-stream", "messages/s (requests)"],
  ["conns-100x10", "req/s"],
  ["pingpong-sb-client", "round trips/s"],
  ["pingpong-grpcjs-client", "round trips/s"],
  ["idle-conns", "RSS KiB / connection"],
  ["held-streams", "RSS KiB / held stream"],
];

/**
 * How close each framework runs to the floor of its own engine (sb/floor, sb-node/ceiling), what
 * our engine changes under the framework (sb/sb-node) and under fixed bytes (floor/ceiling).
 */
function engineSummary(): string {
  const pairs: [ServerKind, ServerKind][] = [
    ["sb", "floor"],
    ["sbnode", "bare"],
    ["sb", "sbnode"],
    ["floor", "bare"],
  ];
  const head = ["scenario", "metric", ...pairs.map(([a, b]) => `${SERVER_LABEL[a]}/${SERVER_LABEL[b]}`)];
  const lines = [`| ${head.join(" | ")} |`, `|---|---|${pairs.map(() => "---:").join("|")}|`];
  for (const [scenario, metric] of ENGINE_ROWS) {
    const cells = pairs.map(([a, b]) => {
      const v = med(scenario, metric, a) / med(scenario, metric, b);
      return Number.isFinite(v) ? `${v.toFixed(2)}x` : "–";
    });
    if (cells.every((c) => c === "–")) continue; // the scenario did not run
    lines.push(`| ${scenario} | ${metric} | ${cells.join(" | ")} |`);
  }
  if (lines.length === 2) return "No gRPC scenario ran.\n";
  return `Ratios of the medians; ↑ metrics are better above 1x, the others below.\n\n${lines.join("\n")}\n`;
}

function version(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: "utf8" }).trim().split("\n")[0]!;
  } catch {
    return "unknown";
  }
}

async function main(): Promise<void> {
  if (argv.includes("--help") || argv.includes("-h")) {
    out("usage: npm run bench [-- --quick] [-- --only NAME[,NAME]] [-- --list]\n");
    return;
  }
  if (argv.includes("--list")) {
    out(`${SCENARIOS.map((s) => s.name).join("\n")}\n`);
    return;
  }
  const unknown = ONLY.filter((n) => !SCENARIOS.some((s) => s.name === n));
  if (unknown.length) throw new Error(`unknown scenario(s) ${unknown.join(", ")}; --list shows the names`);
  for (const tool of ["h2load", "taskset"]) {
    if (version("sh", ["-c", `command -v ${tool}`]) === "unknown") throw new Error(`${tool} not found (apt-get install nghttp2-client util-linux)`);
  }
  const chosen = ONLY.length ? SCENARIOS.filter((s) => ONLY.includes(s.name)) : SCENARIOS;
  const started = Date.now();
  out(`## Switchboard benchmark (${QUICK ? "quick" : "full"})\n\n`);
  out(`- command: \`npm run bench${argv.length ? ` -- ${argv.join(" ")}` : ""}\`\n`);
  out(`- date: ${new Date().toISOString()}\n`);
  out(`- machine: nproc ${version("nproc", [])}, ${cpus()[0]?.model ?? "unknown CPU"}, node ${process.version}, ${version("h2load", ["--version"])}\n`);
  const changed = version("git", ["status", "--porcelain", "--", "src"]);
  const dirty = changed && changed !== "unknown" ? " + uncommitted changes in src/" : "";
  out(`- code: ${version("git", ["rev-parse", "--short", "HEAD"])}${dirty}\n`);
  out(`- load average at start: ${loadavg().map((l) => l.toFixed(2)).join(" ")} (anything else running shares these 2 CPUs)\n`);
  if (loadavg()[0]! > 0.5) log(`warning: load average ${loadavg()[0]!.toFixed(2)} before the start: other processes will add noise`);
  out(
    `- servers pinned to CPU 0, load generators to CPU 1; sb = Switchboard on its own HTTP/2 engine (src/h2), sb-node = Switchboard on node:http2, grpc-js = @grpc/grpc-js ${version(process.execPath, ["-p", "require('@grpc/grpc-js/package.json').version"])}, ceiling = fixed responses on bare node:http2, floor = the same fixed responses on src/h2\n`,
  );
  const failed: string[] = [];
  for (const s of chosen) {
    if (Date.now() - started > BUDGET_MS) {
      log(`[${s.name}] skipped: the time budget is used up`);
      out(`\n### ${s.name}\n\nskipped: time budget (${BUDGET_MS / 1000} s) used up\n`);
      failed.push(s.name);
      continue;
    }
    const t0 = Date.now();
    log(`[${s.name}] ...`);
    try {
      await s.run();
      log(`[${s.name}] done in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    } catch (err) {
      failed.push(s.name);
      const msg = err instanceof Error ? err.message : String(err);
      log(`[${s.name}] FAILED: ${msg}`);
      out(`\n### ${s.name}\n\nFAILED: ${msg}\n`);
    }
  }
  if (pool) await stopServers(pool);
  out(`\n### Targets\n\n`);
  out(summary());
  out(`\n### Framework against its engine\n\n`);
  out(engineSummary());
  out(`\nTotal time ${((Date.now() - started) / 1000).toFixed(0)} s, load average at the end ${loadavg().map((l) => l.toFixed(2)).join(" ")}${failed.length ? `; failed or skipped: ${failed.join(", ")}` : ""}.\n`);
}

try {
  await main();
} catch (err) {
  log(`bench: ${err instanceof Error ? err.message : String(err)}`);
  killAll();
  process.exitCode = 1;
}
