// Health check sources (grpclib `grpclib.health.check`): a proactive ServiceStatus set by the
// application, and a periodic ServiceCheck that runs a probe function, caches its result for a
// TTL and bounds it with a timeout.
import { ErrorCode, SwitchboardError } from "../../errors.js";

/** A check's verdict: `true` healthy, `false` unhealthy, `null` not known (yet). */
export type CheckResult = boolean | null;

/** Receives what goes wrong inside checks (a probe that throws, times out or returns garbage). No console output otherwise. */
export type HealthLogger = (message: string, error?: unknown) => void;

/**
 * What the health service needs from a check (grpclib `CheckBase`). Implement it to plug in
 * any other status source.
 */
export interface HealthCheck {
  /** The last known verdict; `null` until known. */
  readonly status: CheckResult;
  /** Brings `status` up to date (a cached result may be used); never rejects. */
  check(): Promise<void>;
  /**
   * Calls `listener` whenever `status` may have changed, until the returned function is
   * called. While a check has listeners it keeps its status fresh by itself (ServiceCheck polls).
   */
  subscribe(listener: () => void): () => void;
}

/**
 * A check whose status the application sets when it learns about a change (grpclib
 * `ServiceStatus`), e.g. on a lost database connection. Every open Watch hears about a
 * change at once.
 *
 * ```ts
 * const redis = new ServiceStatus();
 * redis.set(true);  // connected
 * redis.set(false); // connection lost
 * ```
 */
export class ServiceStatus implements HealthCheck {
  private value: CheckResult;
  private readonly listeners = new Set<() => void>();

  constructor(initial: CheckResult = null) {
    this.value = initial;
  }

  get status(): CheckResult {
    return this.value;
  }

  /** Sets the verdict: `true` (healthy), `false` (unhealthy) or `null` (unknown). */
  set(value: CheckResult): void {
    if (value !== true && value !== false && value !== null) {
      throw new SwitchboardError(ErrorCode.BAD_OPTION, `ServiceStatus.set() takes true, false or null, not ${String(value)}`);
    }
    if (value === this.value) return;
    this.value = value;
    notifyAll(this.listeners);
  }

  check(): Promise<void> {
    return Promise.resolve();
  }

  subscribe(listener: () => void): () => void {
    const entry = () => listener();
    this.listeners.add(entry);
    return () => this.listeners.delete(entry);
  }
}

/** The probe a ServiceCheck runs; `signal` aborts when the check times out. */
export type CheckFunction = (signal: AbortSignal) => Promise<CheckResult | undefined> | CheckResult | undefined;

export interface ServiceCheckOptions {
  /** How long a result is reused (and, while watched, how often the probe runs). Default 30 000 ms. */
  ttlMs?: number;
  /** How long one probe may take; a slower probe counts as `false`. Default 10 000 ms. */
  timeoutMs?: number;
  /** Told about probes that throw, time out or return something other than true/false/null. */
  logger?: HealthLogger;
  /** A name for log messages. */
  name?: string;
}

/**
 * A check that runs `fn` when asked and its last result is older than `ttlMs` (grpclib
 * `ServiceCheck`). The probe returns `true`, `false` or `null` (`undefined` counts as `null`);
 * a probe that throws or takes longer than `timeoutMs` counts as `false` and is logged.
 * Concurrent askers share one run. While some Watch listens, the probe runs every `ttlMs`.
 *
 * ```ts
 * const db = new ServiceCheck(async () => (await pool.query("SELECT 1"), true), { ttlMs: 5000, timeoutMs: 1000 });
 * ```
 */
export class ServiceCheck implements HealthCheck {
  readonly ttlMs: number;
  readonly timeoutMs: number;
  private readonly logger: HealthLogger | undefined;
  private readonly name: string;
  private value: CheckResult = null;
  private checkedAt = Number.NEGATIVE_INFINITY;
  private running: Promise<void> | undefined;
  private readonly listeners = new Set<() => void>();
  private poller: NodeJS.Timeout | undefined;

  constructor(
    private readonly fn: CheckFunction,
    options: ServiceCheckOptions = {},
  ) {
    if (typeof fn !== "function") throw new SwitchboardError(ErrorCode.BAD_OPTION, "ServiceCheck needs a function");
    this.ttlMs = positive(options.ttlMs ?? 30_000, "ttlMs");
    this.timeoutMs = positive(options.timeoutMs ?? 10_000, "timeoutMs");
    this.logger = options.logger;
    this.name = options.name ?? (fn.name || "ServiceCheck");
  }

  get status(): CheckResult {
    return this.value;
  }

  /** Runs the probe unless the last result is younger than the TTL (or a run is under way). */
  check(): Promise<void> {
    if (this.running) return this.running;
    if (performance.now() - this.checkedAt < this.ttlMs) return Promise.resolve();
    return this.refresh();
  }

  subscribe(listener: () => void): () => void {
    const entry = () => listener();
    this.listeners.add(entry);
    if (this.listeners.size === 1) this.schedulePoll();
    return () => {
      this.listeners.delete(entry);
      if (this.listeners.size === 0 && this.poller) {
        clearTimeout(this.poller);
        this.poller = undefined;
      }
    };
  }

  private refresh(): Promise<void> {
    this.running ??= this.run().finally(() => (this.running = undefined));
    return this.running;
  }

  private async run(): Promise<void> {
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    let result: CheckResult;
    try {
      const timedOut = new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), this.timeoutMs);
      });
      const outcome = await Promise.race([Promise.resolve().then(() => this.fn(controller.signal)), timedOut]);
      if (outcome === "timeout") {
        result = false;
        this.log(`health check ${this.name} timed out after ${this.timeoutMs} ms`);
      } else if (outcome === undefined || outcome === null) {
        result = null;
      } else if (outcome === true || outcome === false) {
        result = outcome;
      } else {
        result = false;
        this.log(`health check ${this.name} returned ${String(outcome)}; expected true, false or null`);
      }
    } catch (err) {
      result = false;
      this.log(`health check ${this.name} failed: ${err instanceof Error ? err.message : String(err)}`, err);
    } finally {
      clearTimeout(timer);
      controller.abort();
    }
    this.checkedAt = performance.now();
    if (result !== this.value) {
      this.value = result;
      notifyAll(this.listeners);
    }
  }

  private schedulePoll(): void {
    if (this.poller) clearTimeout(this.poller);
    this.poller = setTimeout(() => {
      this.poller = undefined;
      void this.refresh().then(() => {
        if (this.listeners.size > 0 && !this.poller) this.schedulePoll();
      });
    }, this.ttlMs);
    this.poller.unref();
  }

  private log(message: string, error?: unknown): void {
    try {
      this.logger?.(message, error);
    } catch {
      // A failing logger must not break health checking.
    }
  }
}

function positive(value: number, name: string): number {
  if (!Number.isFinite(value) || value <= 0) throw new SwitchboardError(ErrorCode.BAD_OPTION, `ServiceCheck ${name} must be a positive number of milliseconds, not ${value}`);
  return value;
}

function notifyAll(listeners: Set<() => void>): void {
  for (const listener of [...listeners]) {
    try {
      listener();
    } catch {
      // Listeners are internal wake-ups; one failing must not starve the others.
    }
  }
}
