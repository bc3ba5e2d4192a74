// The RPyC scenarios of the benchmark suite (registered in bench/run.ts):
//   rpyc-echo             one stock Python rpyc client process doing sequential root.echo(i)
//   rpyc-echo-concurrent  4 such client processes at once, each on its own connection
// Both servers serve the same service (echo(x), add(a, b)): `sb` is Switchboard's
// ThreadedServer (bench/rpyc/server.ts), `python` is rpyc 5.3's own ThreadedServer
// (bench/rpyc/server.py). The clients are the same for both: /usr/bin/python3 with rpyc 5.3
// (bench/rpyc/client.py). Servers on CPU 0, clients on CPU 1; rounds alternate the servers.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { Lines, spawnNode, spawnPinned } from "../lib/proc.js";
import { table, type Metric } from "../lib/report.js";
import { LOAD_CPU, SERVER_CPU } from "../lib/servers.js";
import { median } from "../lib/stats.js";

export interface ScenarioContext {
  quick: boolean;
  log: (msg: string) => void;
  out: (text: string) => void;
  record: (scenario: string, metrics: readonly Metric[]) => void;
}

const PYTHON = "/usr/bin/python3";
type Impl = "sb" | "python";
const IMPLS: readonly Impl[] = ["sb", "python"];
const LABEL: Record<Impl, string> = { sb: "sb", python: "rpyc (Python)" };

/** Clock ticks per second of /proc/<pid>/stat's utime and stime. */
let clkTck: number | undefined;
function ticksPerSecond(): number {
  if (clkTck === undefined) {
    try {
      clkTck = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
    } catch {
      clkTck = 100;
    }
  }
  return clkTck;
}

/**
 * CPU seconds (user + system, all threads) a process has used so far, from /proc/<pid>/stat.
 * The same reading for both servers, whatever their language.
 */
function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // The command name (field 2) may contain spaces; the fields after it are space-separated.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // fields[0] is field 3 (state): utime is field 14, stime field 15.
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond();
}

/** One RPyC server process pinned to the server CPU. */
class RpycServer {
  private constructor(
    readonly impl: Impl,
    readonly port: number,
    private readonly lines: Lines,
  ) {}

  static async start(impl: Impl): Promise<RpycServer> {
    const child =
      impl === "sb"
        ? spawnNode(SERVER_CPU, "bench/rpyc/server.ts", ["--port", "0"])
        : spawnPinned(SERVER_CPU, PYTHON, ["bench/rpyc/server.py", "--port", "0"]);
    const lines = new Lines(child, `${LABEL[impl]} server`);
    const port = await lines.listeningPort();
    return new RpycServer(impl, port, lines);
  }

  get label(): string {
    return LABEL[this.impl];
  }

  get alive(): boolean {
    return this.lines.child.exitCode === null && this.lines.child.signalCode === null;
  }

  /** taskset execs the command, so the child's pid is the server's. */
  cpuSeconds(): number {
    return processCpuSeconds(this.lines.child.pid!);
  }

  stop(): Promise<void> {
    return this.lines.stop();
  }
}

interface ClientReply {
  calls: number;
  start: number;
  end: number;
  clientCpuUs: number;
}

/** K Python client processes on the load CPU, each connected to one server and checked. */
async function startClients(server: RpycServer, k: number): Promise<Lines[]> {
  const clients: Lines[] = [];
  try {
    for (let i = 0; i < k; i++) {
      const lines = new Lines(spawnPinned(LOAD_CPU, PYTHON, ["bench/rpyc/client.py", "--port", String(server.port)]), `python client ${i + 1} -> ${server.label}`);
      clients.push(lines);
      await lines.next((l) => l === "ready", 60_000, "`ready` line");
    }
    return clients;
  } catch (err) {
    await Promise.all(clients.map((c) => c.stop()));
    throw err;
  }
}

interface Sample {
  calls: number;
  seconds: number;
  perSec: number;
  serverCpuS: number;
  clientCpuUs: number;
}

/** One bounded run: every client does `perClient` calls at once; server CPU read around it. */
async function runOnce(server: RpycServer, clients: Lines[], perClient: number, timeoutS: number): Promise<Sample> {
  const before = server.cpuSeconds();
  const cmd = JSON.stringify({ count: perClient, timeoutS });
  const replies = await Promise.all(clients.map((c) => c.request<ClientReply>(cmd, (timeoutS + 30) * 1000)));
  const after = server.cpuSeconds();
  const calls = replies.reduce((a, r) => a + r.calls, 0);
  if (calls !== perClient * clients.length) throw new Error(`${calls}/${perClient * clients.length} calls completed`);
  const seconds = Math.max(...replies.map((r) => r.end)) - Math.min(...replies.map((r) => r.start));
  return { calls, seconds, perSec: calls / seconds, serverCpuS: after - before, clientCpuUs: median(replies.map((r) => r.clientCpuUs)) };
}

async function checkPython(): Promise<void> {
  try {
    execFileSync(PYTHON, ["-c", "import rpyc"], { stdio: "pipe", timeout: 20_000 });
  } catch {
    throw new Error(`${PYTHON} cannot import rpyc (apt-get install python3-rpyc): the RPyC scenarios need the stock Python client and server`);
  }
}

async function runEcho(ctx: ScenarioContext, name: string, k: number): Promise<void> {
  const q = <T>(full: T, quick: T): T => (ctx.quick ? quick : full);
  const total = q(12_000, 3_000);
  const perClient = Math.ceil(total / k);
  const warmup = Math.ceil(q(4_000, 1_500) / k);
  const rounds = q(5, 2);
  const timeoutS = q(60, 30);
  await checkPython();
  ctx.log("  starting servers (taskset -c 0) ...");
  const started = await Promise.allSettled(IMPLS.map((i) => RpycServer.start(i)));
  const list = started.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
  const clients = new Map<Impl, Lines[]>();
  try {
    const failed = started.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) throw failed.reason;
    ctx.log(`  ${list.map((s) => `${s.label} :${s.port}`).join(", ")}`);
    for (const server of list) {
      ctx.log(`  ${server.label}: ${k} python client process(es) (taskset -c ${LOAD_CPU}), warm-up ${warmup * k} calls`);
      const c = await startClients(server, k);
      clients.set(server.impl, c);
      await runOnce(server, c, warmup, timeoutS);
    }
    const samples = new Map<Impl, (Sample | undefined)[]>(IMPLS.map((i) => [i, []]));
    const errors: string[] = [];
    for (let round = 1; round <= rounds; round++) {
      for (const server of list) {
        try {
          const s = await runOnce(server, clients.get(server.impl)!, perClient, timeoutS);
          samples.get(server.impl)!.push(s);
          ctx.log(`  round ${round}/${rounds} ${server.label.padEnd(13)} ${s.perSec.toFixed(0).padStart(6)} calls/s  ${((s.serverCpuS * 1e6) / s.calls).toFixed(1)} µs server CPU/call  ${s.clientCpuUs.toFixed(0)} µs client CPU/call`);
        } catch (err) {
          samples.get(server.impl)!.push(undefined);
          const msg = `round ${round} ${server.label}: ${(err as Error).message}`;
          errors.push(msg);
          ctx.log(`  FAILED ${msg}`);
          if (!server.alive) throw new Error(`${server.label} server died: ${msg}`);
        }
      }
    }
    const values = (f: (s: Sample) => number): Record<string, number[]> => Object.fromEntries(IMPLS.map((i) => [i, samples.get(i)!.map((s) => (s ? f(s) : NaN))]));
    const metrics: Metric[] = [
      { label: "calls/s", values: values((s) => s.perSec), better: "higher" },
      { label: "server CPU µs / call", values: values((s) => (s.serverCpuS * 1e6) / s.calls), better: "lower" },
      { label: "server CPU busy %", values: values((s) => (s.serverCpuS / s.seconds) * 100), better: "higher" },
      { label: "client CPU µs / call", values: values((s) => s.clientCpuUs), better: "lower" },
    ];
    // "peer" in the summary of run.ts: the Python server.
    for (const m of metrics) m.values.peer = m.values.python ?? [];
    ctx.record(name, metrics);
    ctx.out(`\n### ${name}: stock Python rpyc client${k > 1 ? `s (${k} processes)` : ""}, sequential root.echo(i), against our ThreadedServer and rpyc's\n\n`);
    ctx.out(
      `${rounds} rounds x ${perClient * k} calls per server (${k} client process${k > 1 ? "es" : ""} x ${perClient}, each on its own connection, all on CPU ${LOAD_CPU}; server on CPU ${SERVER_CPU}), after ${warmup * k} warm-up calls; every result checked. ` +
        `A call is \`root.echo(i)\`: GETATTR + CALL + an async HANDLE_DEL on the wire. Server CPU from /proc/<pid>/stat (user + system, all threads); client CPU per call is the median over the client processes. Medians (ratios: of the medians, per-round range in parentheses).\n\n`,
    );
    ctx.out(table(IMPLS.map((i) => ({ key: i, label: LABEL[i] })), [["sb", "python"]], metrics));
    for (const e of errors) ctx.out(`\n- failed run: ${e}\n`);
  } finally {
    await Promise.all([...clients.values()].flat().map((c) => c.stop()));
    await Promise.all(list.map((s) => s.stop()));
  }
}

export function rpycScenarios(ctx: ScenarioContext): { name: string; run: () => Promise<void> }[] {
  return [
    { name: "rpyc-echo", run: () => runEcho(ctx, "rpyc-echo", 1) },
    { name: "rpyc-echo-concurrent", run: () => runEcho(ctx, "rpyc-echo-concurrent", 4) },
  ];
}
