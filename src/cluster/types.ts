// The public shapes of serveWorkers(): what a worker's start() gets and returns, the options,
// and what the primary reports about each worker.

/** What start(info) receives in each worker process. */
export interface WorkerInfo {
  /** The worker's slot, 0 .. workers-1; a replacement keeps the slot of the worker it replaces. */
  readonly slot: number;
  /** A number unique to this process within the cluster (1, 2, ...; replacements get new ones). */
  readonly id: number;
  /** How many times this slot's worker was replaced before this one (crashes and rolling restarts). */
  readonly restarts: number;
  /** The host to listen on (serveWorkers' `host`). */
  readonly host: string;
  /**
   * The port to listen on. With the shared handle this can be 0 (every worker listening on 0
   * shares the port the first one got); with reusePort it is the real port once one is known.
   */
  readonly port: number;
  /** Listen with `reusePort: true` (each worker binds its own socket); false: node:cluster shares one handle. */
  readonly reusePort: boolean;
  /** serveWorkers' `data`, as it came through IPC (JSON). */
  readonly data: unknown;
}

/**
 * What start() returns: a gRPC `Server`, an RPyC server, a JSON-RPC transport, or any object
 * with `stop(graceMs)` or `close()`. The bound port comes from `port` or `ports[0]`.
 */
export interface WorkerServing {
  /** Drains running work for up to graceMs, then closes (gRPC `Server.stop`). Preferred over close(). */
  stop?(graceMs: number): unknown;
  /** Closes (RPyC servers, JSON-RPC transports). */
  close?(): unknown;
  /** The bound port (RPyC servers, JSON-RPC HTTP transports). */
  readonly port?: number;
  /** The bound ports (gRPC `Server.ports`); the first one is reported. */
  readonly ports?: readonly number[];
  /** Flipped to NOT_SERVING when the drain starts, before stop() (a grpc.health.v1 `HealthService`). */
  readonly health?: { setAllNotServing(): void };
}

/** The function a worker module exports (by default as `start`). */
export type WorkerStart = (info: WorkerInfo) => WorkerServing | Promise<WorkerServing>;

/** How the workers share one port. */
export type PortSharing = "auto" | "shared-handle" | "reuse-port";

/** Bounds on restarting crashed workers. */
export interface RestartPolicy {
  /** First delay before restarting a crashed worker (default 100 ms); doubles per recent crash of its slot. */
  backoffMs?: number;
  /** Largest delay (default 5000 ms). */
  maxBackoffMs?: number;
  /** A slot whose worker crashed more often than this within a minute is not restarted again (default 10). */
  maxRestartsPerMinute?: number;
}

/** Options of serveWorkers(). */
export interface ServeWorkersOptions {
  /** The module each worker imports (a URL or file URL string, e.g. `import.meta.url`). */
  module: string | URL;
  /** The export to call in that module (default "start"). */
  export?: string;
  /** Number of worker processes (default os.availableParallelism()). */
  workers?: number;
  /** Passed to start() as info.host (default "127.0.0.1"). */
  host?: string;
  /** The port every worker serves (default 0: the first worker's port, shared by all). */
  port?: number;
  /** Passed to start() as info.data (must survive JSON). */
  data?: unknown;
  /**
   * "auto" (default): SO_REUSEPORT where Node supports it in listen() (>= 22.12 / 23.1, Linux),
   * else node:cluster's shared handle.
   */
  portSharing?: PortSharing;
  /** Crash restarts: backoff and a bound per minute. */
  restart?: RestartPolicy;
  /** Time from health NOT_SERVING to stop() in a drain, so load balancers notice (default 0). */
  drainDelayMs?: number;
  /** A worker that has not reported serving this long after its start is killed (default 30 s). */
  startTimeoutMs?: number;
  /** Extra time after grace + drain delay before a stopping worker is killed (default 5 s). */
  killAfterMs?: number;
  /** Node flags for the workers (default: this process's, minus --test and --inspect flags). */
  execArgv?: readonly string[];
  /** Extra environment for the workers. */
  env?: Readonly<Record<string, string>>;
  /** One line per lifecycle fact (crash, restart, give up); default: stderr. Pass () => {} to silence. */
  log?: (line: string) => void;
}

/** A worker's lifecycle, as the primary sees it through IPC and exit events. */
export type WorkerState = "starting" | "serving" | "draining" | "exited";

/** One worker as the primary tracks it (cluster.workers). */
export interface WorkerStatus {
  readonly slot: number;
  readonly id: number;
  readonly pid: number | undefined;
  readonly state: WorkerState;
  /** Replacements of this slot before this worker. */
  readonly restarts: number;
  /** The port it reported, once serving. */
  readonly port: number | undefined;
  /** Exit code or signal, once exited. */
  readonly exitCode?: number | null;
  readonly signal?: NodeJS.Signals | null;
}

/** Why a worker is replaced. */
export type RestartReason = "crash" | "rolling";

/** The events of a Cluster (`cluster.on(name, fn)`). */
export interface ClusterEvents {
  /** A worker reported serving. */
  online: [worker: WorkerStatus];
  /** A worker exited; `expected` is false for a crash. */
  exit: [worker: WorkerStatus, expected: boolean];
  /** A slot's worker is being replaced (after `delayMs`). */
  restart: [worker: WorkerStatus, reason: RestartReason, delayMs: number];
  /** A slot crashed more often than maxRestartsPerMinute: it stays empty. */
  giveup: [slot: number, crashesInLastMinute: number];
}
