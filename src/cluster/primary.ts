// The primary process of serveWorkers(): forks the workers, tracks each one's state through
// IPC and exit events, restarts crashed ones (backoff, a bound per minute), replaces them one
// at a time on restart(), and drains them all on stop().
import { fork as forkProcess, type ChildProcess } from "node:child_process";
import cluster from "node:cluster";
import { EventEmitter } from "node:events";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { ErrorCode, SwitchboardError } from "../errors.js";
import { choosePortSharing, firstWorkerAlone, nextRestart, portForNewWorker, restartPolicy, workerExecArgv } from "./plan.js";
import { CONFIG_ENV, isFromWorker, type ToWorker, type WorkerConfig } from "./protocol.js";
import type { ClusterEvents, RestartPolicy, ServeWorkersOptions, WorkerState, WorkerStatus } from "./types.js";

/** The plain-JavaScript bootstrap (see worker-boot.mjs for why it is not TypeScript). */
const BOOT = fileURLToPath(new URL("./worker-boot.mjs", import.meta.url));
/** worker-entry.ts when the library runs from source, worker-entry.js when compiled. */
const ENTRY = new URL(import.meta.url.endsWith(".ts") ? "./worker-entry.ts" : "./worker-entry.js", import.meta.url).href;

/** True inside a worker process forked by serveWorkers() (guard a module that is both primary and worker). */
export const isWorker: boolean = (globalThis as Record<symbol, unknown>)[Symbol.for("switchboard.cluster.worker")] === true;

/** One worker process as the primary tracks it. */
class WorkerRecord {
  state: WorkerState = "starting";
  port: number | undefined;
  exitCode: number | null | undefined;
  signal: NodeJS.Signals | null | undefined;
  /** The primary asked it to stop, or replaced it: its exit is no crash. */
  expected = false;
  failure: string | undefined;
  readonly exited: Promise<void>;
  /** Resolves when it reports serving; rejects if it fails or exits first. */
  readonly serving: Promise<void>;
  markExited!: () => void;
  markServing!: () => void;
  markFailed!: (err: Error) => void;
  startTimer: NodeJS.Timeout | undefined;
  killTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly slot: number,
    readonly id: number,
    readonly restarts: number,
    /** The port value it was told to listen with. */
    readonly listenPort: number,
    readonly child: ChildProcess,
  ) {
    this.exited = new Promise((resolve) => (this.markExited = resolve));
    this.serving = new Promise((resolve, reject) => {
      this.markServing = resolve;
      this.markFailed = reject;
    });
    // Startup failures are reported through serving; nobody may be waiting for it.
    this.serving.catch(() => {});
  }

  status(): WorkerStatus {
    const s: WorkerStatus = { slot: this.slot, id: this.id, pid: this.child.pid, state: this.state, restarts: this.restarts, port: this.port };
    return this.state === "exited" ? { ...s, exitCode: this.exitCode ?? null, signal: this.signal ?? null } : s;
  }
}

/** N worker processes serving one port; created by serveWorkers(). */
export class Cluster extends EventEmitter<ClusterEvents> implements AsyncDisposable {
  /** How the workers share the port. */
  readonly portSharing: "shared-handle" | "reuse-port";
  /** Number of worker slots. */
  readonly size: number;
  private readonly options: ServeWorkersOptions;
  private readonly policy: Required<RestartPolicy>;
  private readonly host: string;
  private readonly requested: number;
  private knownPort: number | undefined;
  private keyPort: number | undefined;
  private readonly slots: (WorkerRecord | undefined)[];
  private readonly live = new Set<WorkerRecord>();
  private readonly crashes: number[][];
  private readonly pendingRestarts = new Map<number, NodeJS.Timeout>();
  private nextId = 1;
  private stopping: Promise<void> | undefined;
  private rolling: Promise<void> | undefined;
  private readonly terminated: Promise<void>;
  private markTerminated!: () => void;
  private readonly log: (line: string) => void;
  private readonly execArgv: string[];

  /** Use serveWorkers(). */
  constructor(options: ServeWorkersOptions) {
    super();
    if (isWorker) throw new SwitchboardError(ErrorCode.BAD_OPTION, "serveWorkers() called inside a cluster worker: guard the primary's code with `if (!isWorker)`");
    const workers = options.workers ?? availableParallelism();
    if (!Number.isInteger(workers) || workers < 1) throw new SwitchboardError(ErrorCode.BAD_OPTION, `workers must be an integer >= 1, not ${String(workers)}`);
    const port = options.port ?? 0;
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new SwitchboardError(ErrorCode.BAD_OPTION, `bad port ${String(port)}`);
    this.portSharing = choosePortSharing(options.portSharing ?? "auto");
    if (this.portSharing === "reuse-port" && options.portSharing === "reuse-port" && choosePortSharing("auto") !== "reuse-port")
      throw new SwitchboardError(ErrorCode.BAD_OPTION, `portSharing "reuse-port" needs Node.js >= 22.12 (or >= 23.1) on Linux; this is ${process.versions.node} on ${process.platform}`);
    this.options = options;
    this.size = workers;
    this.policy = restartPolicy(options.restart);
    this.host = options.host ?? "127.0.0.1";
    this.requested = port;
    this.slots = new Array<WorkerRecord | undefined>(workers).fill(undefined);
    this.crashes = Array.from({ length: workers }, () => []);
    this.log = options.log ?? ((line) => process.stderr.write(`${line}\n`));
    this.execArgv = [...(options.execArgv ?? workerExecArgv(process.execArgv))];
    this.terminated = new Promise((resolve) => (this.markTerminated = resolve));
  }

  /** The port every worker serves (known once the first worker serves). */
  get port(): number {
    return this.knownPort ?? this.requested;
  }

  /** Every slot's current worker, plus workers still draining after being replaced. */
  get workers(): WorkerStatus[] {
    const records = new Set<WorkerRecord>();
    for (const r of this.slots) if (r) records.add(r);
    for (const r of this.live) records.add(r);
    return [...records].sort((a, b) => a.slot - b.slot || a.id - b.id).map((r) => r.status());
  }

  /** Forks every worker and resolves once all serve; if one fails to start, stops the rest and rejects. */
  async begin(): Promise<void> {
    try {
      const first = firstWorkerAlone(this.portSharing, this.requested) ? 1 : this.size;
      const initial = Array.from({ length: first }, (_, slot) => this.place(slot, 0));
      await Promise.all(initial.map((r) => r.serving));
      const rest = Array.from({ length: this.size - first }, (_, i) => this.place(first + i, 0));
      await Promise.all(rest.map((r) => r.serving));
    } catch (err) {
      await this.stop(0);
      throw new SwitchboardError(ErrorCode.CLUSTER, `a worker did not start: ${(err as Error).message}`, { cause: err });
    }
  }

  /**
   * Replaces the workers one at a time: a slot's new worker must serve before the old one
   * drains (health NOT_SERVING, stop(graceMs)), so the port keeps answering throughout.
   */
  restart(graceMs = 5000): Promise<void> {
    // One rolling restart at a time; a second call while one runs joins it.
    this.rolling ??= this.roll(graceMs).finally(() => (this.rolling = undefined));
    return this.rolling;
  }

  private async roll(graceMs: number): Promise<void> {
    for (let slot = 0; slot < this.size; slot++) {
      if (this.stopping) return;
      const old = this.slots[slot];
      // A slot waiting for a crash restart gets its worker now.
      this.cancelPendingRestart(slot);
      if (old) old.expected = true;
      const fresh = this.spawn(slot, old ? old.restarts + 1 : 0);
      if (old) this.emit("restart", old.status(), "rolling", 0);
      try {
        await fresh.serving;
      } catch (err) {
        // stop() during a restart drains the new worker too: not a failure of the restart.
        if (this.stopping) return;
        // The old worker keeps serving; if it died meanwhile, its slot gets a crash restart.
        if (old && old.state !== "exited") old.expected = false;
        else if (old) this.scheduleRestart(old);
        throw new SwitchboardError(ErrorCode.CLUSTER, `rolling restart stopped at slot ${slot}: its new worker did not start (${(err as Error).message})`, { cause: err });
      }
      this.slots[slot] = fresh;
      if (old && old.state !== "exited") await this.drain(old, graceMs);
    }
  }

  /**
   * Stops every worker gracefully: each flips its health to NOT_SERVING, waits drainDelayMs,
   * stops its server with graceMs for running calls, and exits; one still running after
   * grace + drainDelayMs + killAfterMs is killed. No worker is restarted afterwards.
   */
  stop(graceMs = 5000): Promise<void> {
    this.stopping ??= (async () => {
      for (const slot of [...this.pendingRestarts.keys()]) this.cancelPendingRestart(slot);
      await Promise.all([...this.live].map((r) => this.drain(r, graceMs)));
      this.markTerminated();
    })();
    return this.stopping;
  }

  /** Resolves once stop() has finished (also when every slot gave up restarting). */
  waitForTermination(): Promise<void> {
    return this.terminated;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  /** Spawns a worker for a slot and makes it the slot's current one. */
  private place(slot: number, restarts: number): WorkerRecord {
    const r = this.spawn(slot, restarts);
    this.slots[slot] = r;
    return r;
  }

  private spawn(slot: number, restarts: number): WorkerRecord {
    const keyHeld = [...this.live].some((r) => r.listenPort === this.keyPort && (r.state === "starting" || r.state === "serving"));
    const listenPort = portForNewWorker({ sharing: this.portSharing, requested: this.requested, known: this.knownPort, keyPort: this.keyPort, keyHeld });
    if (this.portSharing === "shared-handle") this.keyPort = listenPort;
    const id = this.nextId++;
    const config: WorkerConfig = {
      entry: ENTRY,
      module: String(this.options.module),
      export: this.options.export ?? "start",
      info: { slot, id, restarts, host: this.host, port: listenPort, reusePort: this.portSharing === "reuse-port", data: this.options.data ?? null },
    };
    const env = { ...this.options.env, [CONFIG_ENV]: JSON.stringify(config) };
    const child = this.portSharing === "shared-handle" ? this.forkClusterWorker(env) : forkProcess(BOOT, [], { execArgv: this.execArgv, env: { ...process.env, ...env }, stdio: "inherit" });
    const r = new WorkerRecord(slot, id, restarts, listenPort, child);
    this.live.add(r);
    child.on("message", (m: unknown) => this.onMessage(r, m));
    child.once("exit", (code, signal) => this.onExit(r, code, signal));
    child.on("error", (err) => this.log(`switchboard cluster: worker ${id} (slot ${slot}): ${err.message}`));
    const startTimeout = this.options.startTimeoutMs ?? 30_000;
    r.startTimer = setTimeout(() => {
      r.failure = `did not report serving within ${startTimeout} ms`;
      this.log(`switchboard cluster: worker ${id} (slot ${slot}, pid ${child.pid}) ${r.failure}: killed`);
      child.kill("SIGKILL");
    }, startTimeout);
    return r;
  }

  /** node:cluster's fork: workers listening through it share the primary's handle. */
  private forkClusterWorker(env: Record<string, string>): ChildProcess {
    // Settings are read at each fork, so setting them right before is enough and leaves other
    // users of node:cluster in this process their own exec for their own forks.
    cluster.setupPrimary({ exec: BOOT, args: [], execArgv: this.execArgv, silent: false });
    return cluster.fork(env).process;
  }

  private onMessage(r: WorkerRecord, m: unknown): void {
    if (!isFromWorker(m)) return;
    switch (m.sbc) {
      case "serving": {
        clearTimeout(r.startTimer);
        if (this.knownPort !== undefined && m.port !== this.knownPort) {
          // The shared handle was gone when it listened (its holders died meanwhile), so it got
          // another port: replace it; the next one binds the known port.
          r.failure = `bound port ${m.port} instead of the cluster's ${this.knownPort}`;
          this.log(`switchboard cluster: worker ${r.id} (slot ${r.slot}) ${r.failure}: replaced`);
          r.child.kill("SIGKILL");
          return;
        }
        this.knownPort ??= m.port;
        r.port = m.port;
        if (r.state === "starting") r.state = "serving";
        r.markServing();
        if (r.state === "serving") this.emit("online", r.status());
        return;
      }
      case "draining":
        if (r.state !== "exited") r.state = "draining";
        return;
      case "failed":
        r.failure = m.message.split("\n")[0];
        this.log(`switchboard cluster: worker ${r.id} (slot ${r.slot}) failed to start: ${m.message}`);
        return;
      case "stopped":
        return;
    }
  }

  private onExit(r: WorkerRecord, code: number | null, signal: NodeJS.Signals | null): void {
    clearTimeout(r.startTimer);
    clearTimeout(r.killTimer);
    r.state = "exited";
    r.exitCode = code;
    r.signal = signal;
    this.live.delete(r);
    r.markFailed(new Error(r.failure ?? `worker exited (${signal ?? `code ${code}`}) before serving`));
    r.markExited();
    const expected = r.expected || this.stopping !== undefined;
    this.emit("exit", r.status(), expected);
    if (expected || this.slots[r.slot] !== r) return;
    this.log(`switchboard cluster: worker ${r.id} (slot ${r.slot}, pid ${r.child.pid}) exited unexpectedly (${signal ?? `code ${code}`})`);
    this.scheduleRestart(r);
  }

  private scheduleRestart(r: WorkerRecord): void {
    const { recent, delayMs } = nextRestart(this.crashes[r.slot]!, Date.now(), this.policy);
    this.crashes[r.slot] = recent;
    if (delayMs === undefined) {
      this.log(`switchboard cluster: slot ${r.slot} crashed ${recent.length} times within a minute (limit ${this.policy.maxRestartsPerMinute}): not restarted`);
      this.slots[r.slot] = undefined;
      this.emit("giveup", r.slot, recent.length);
      // Nothing left to serve: end the cluster so whoever waits on it can exit.
      if (this.slots.every((s) => s === undefined) && this.pendingRestarts.size === 0) void this.stop(0);
      return;
    }
    this.log(`switchboard cluster: restarting slot ${r.slot} in ${delayMs} ms (restart ${r.restarts + 1})`);
    this.emit("restart", r.status(), "crash", delayMs);
    this.pendingRestarts.set(
      r.slot,
      setTimeout(() => {
        this.pendingRestarts.delete(r.slot);
        if (!this.stopping) this.place(r.slot, r.restarts + 1);
      }, delayMs),
    );
  }

  private cancelPendingRestart(slot: number): void {
    const timer = this.pendingRestarts.get(slot);
    if (timer === undefined) return;
    clearTimeout(timer);
    this.pendingRestarts.delete(slot);
  }

  /** Asks one worker to drain and exit; kills it when it overstays. Resolves at its exit. */
  private drain(r: WorkerRecord, graceMs: number): Promise<void> {
    if (r.state === "exited") return r.exited;
    r.expected = true;
    if (r.killTimer === undefined) {
      const message: ToWorker = { sbc: "stop", graceMs, drainDelayMs: this.options.drainDelayMs ?? 0 };
      if (r.child.connected) r.child.send(message, (err) => err && r.child.kill("SIGKILL"));
      else r.child.kill("SIGKILL");
      const limit = graceMs + (this.options.drainDelayMs ?? 0) + (this.options.killAfterMs ?? 5000) + (r.state === "starting" ? (this.options.startTimeoutMs ?? 30_000) : 0);
      r.killTimer = setTimeout(() => {
        this.log(`switchboard cluster: worker ${r.id} (slot ${r.slot}, pid ${r.child.pid}) still running ${limit} ms after stop: killed`);
        r.child.kill("SIGKILL");
      }, limit);
    }
    return r.exited;
  }
}

/**
 * Runs `options.module`'s start(info) in N worker processes serving one port (see Cluster).
 * Resolves once every worker serves; `cluster.port` is the port they share.
 */
export async function serveWorkers(options: ServeWorkersOptions): Promise<Cluster> {
  const c = new Cluster(options);
  await c.begin();
  return c;
}
