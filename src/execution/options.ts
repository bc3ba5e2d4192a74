// WorkerPool options, their bounded defaults, and the pool's stats.
import { availableParallelism } from "node:os";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import type { ResourceLimits } from "node:worker_threads";
import { ErrorCode, SwitchboardError } from "../errors.js";

/** How a WorkerPool runs: its module, threads, queue and cancellation policy. */
export interface WorkerPoolOptions {
  /** The module whose exported functions run on the threads: a file: URL, or a path. */
  module: URL | string;
  /** Threads in the pool. Default: available parallelism minus one (for the event loop), at least 1. */
  size?: number;
  /** Calls that may wait for a free thread; beyond that, RESOURCE_EXHAUSTED. Default: 64 per thread. */
  maxQueue?: number;
  /** Thread name, shown in inspectors and `[worker N] name` titles. Default "switchboard-pool". */
  name?: string;
  /**
   * Terminate (and replace) a thread whose call was cancelled or timed out while it still
   * runs, `cancelGraceMs` after the task's signal fired. A busy loop cannot see the signal;
   * this is what frees its thread. Default true.
   */
  terminateOnCancel?: boolean;
  /** Time a cancelled task has to finish by itself (honouring `ctx.signal`) before it is terminated. Default 100 ms. */
  cancelGraceMs?: number;
  /** Heap and stack limits of each thread; a thread that exceeds them fails its call with INTERNAL. */
  resourceLimits?: ResourceLimits;
}

/** A snapshot of a pool's threads and queue. */
export interface WorkerPoolStats {
  /** Threads the pool keeps. */
  size: number;
  /** Threads that loaded the module and are alive. */
  ready: number;
  /** Threads running a task. */
  busy: number;
  /** Calls waiting for a thread. */
  queued: number;
  /** Tasks handed to a thread so far. */
  tasksStarted: number;
  /** Threads spawned so far: `size` at first, one more for every replacement. */
  threadsStarted: number;
}

/** Options with their defaults applied, the module as a file: URL. */
export interface ResolvedPoolOptions {
  readonly module: string;
  readonly size: number;
  readonly maxQueue: number;
  readonly name: string;
  readonly terminateOnCancel: boolean;
  readonly cancelGraceMs: number;
  readonly resourceLimits: ResourceLimits | undefined;
}

/** Applies the defaults and checks the values; throws ERR_SB_BAD_OPTION. */
export function resolvePoolOptions(options: WorkerPoolOptions): ResolvedPoolOptions {
  const size = options.size ?? Math.max(1, availableParallelism() - 1);
  if (!Number.isInteger(size) || size < 1) throw new SwitchboardError(ErrorCode.BAD_OPTION, `WorkerPool size must be an integer >= 1, got ${size}`);
  const maxQueue = options.maxQueue ?? 64 * size;
  if (!Number.isInteger(maxQueue) || maxQueue < 0) throw new SwitchboardError(ErrorCode.BAD_OPTION, `WorkerPool maxQueue must be an integer >= 0, got ${maxQueue}`);
  const cancelGraceMs = options.cancelGraceMs ?? 100;
  if (!(cancelGraceMs >= 0)) throw new SwitchboardError(ErrorCode.BAD_OPTION, `WorkerPool cancelGraceMs must be >= 0, got ${cancelGraceMs}`);
  if (typeof options.module !== "string" && !(options.module instanceof URL)) throw new SwitchboardError(ErrorCode.BAD_OPTION, "WorkerPool module must be a file: URL or a path");
  return {
    module: moduleUrl(options.module),
    size,
    maxQueue,
    name: options.name ?? "switchboard-pool",
    terminateOnCancel: options.terminateOnCancel ?? true,
    cancelGraceMs,
    resourceLimits: options.resourceLimits,
  };
}

/** A module to import in another thread or process, as a URL: URLs (file:, data:, node:) pass, paths resolve from the cwd. */
export function moduleUrl(module: URL | string): string {
  if (module instanceof URL) return module.href;
  if (/^(file|data|node):/i.test(module)) return module;
  return pathToFileURL(path.resolve(module)).href;
}
