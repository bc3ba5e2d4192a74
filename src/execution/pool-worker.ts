// One thread of a WorkerPool: spawns it, waits for the user's module to load, and reports
// its messages and its end (with a reason a failed call can carry) to the pool.
import { Worker, type ResourceLimits } from "node:worker_threads";
import { fromWireError, type FromWorker, type ToWorker, type WireError } from "./protocol.js";
import type { Task } from "./task.js";

/** The plain-JavaScript bootstrap (see worker-boot.mjs for why it is not TypeScript). */
const BOOT = new URL("./worker-boot.mjs", import.meta.url);
/** worker-entry.ts when the library runs from source, worker-entry.js when compiled. */
const ENTRY = new URL(import.meta.url.endsWith(".ts") ? "./worker-entry.ts" : "./worker-entry.js", import.meta.url).href;

export interface SpawnOptions {
  /** file: URL of the user's module. */
  readonly module: string;
  readonly name: string;
  readonly resourceLimits: ResourceLimits | undefined;
}

export interface PoolWorkerEvents {
  ready(worker: PoolWorker): void;
  message(worker: PoolWorker, msg: Exclude<FromWorker, { t: "ready" | "load-error" }>): void;
  /** The thread is gone. `reason` says why, for the call it was running. */
  exit(worker: PoolWorker, reason: string): void;
  /** A message from the thread could not be deserialized. */
  messageError(worker: PoolWorker, err: Error): void;
}

export class PoolWorker {
  private readonly thread: Worker;
  /** The module loaded and the thread is taking tasks. */
  ready = false;
  /** The thread got as far as ready at some point (a later exit is a crash, not a start failure). */
  wasReady = false;
  /** The thread has been told to terminate: it takes no more tasks and its late messages are ignored. */
  retiring = false;
  /** The task the thread is running (still set after a cancel, until the thread reports back). */
  task: Task | undefined;
  /** Functions the module exports. */
  exports: ReadonlySet<string> = new Set();
  /** Message types whose schema this thread already has. */
  readonly schemas = new Set<string>();
  /** Ends a cancelled task that did not stop by itself. */
  graceTimer: NodeJS.Timeout | undefined;
  private crash: Error | undefined;
  private loadError: WireError | undefined;

  constructor(options: SpawnOptions, events: PoolWorkerEvents) {
    this.thread = new Worker(BOOT, {
      workerData: { entry: ENTRY, module: options.module },
      name: options.name,
      resourceLimits: options.resourceLimits,
    });
    this.thread.on("message", (msg: FromWorker) => {
      if (this.retiring) return;
      if (msg.t === "ready") {
        this.ready = true;
        this.wasReady = true;
        this.exports = new Set(msg.exports);
        this.idle();
        events.ready(this);
      } else if (msg.t === "load-error") {
        this.loadError = msg.error;
      } else {
        events.message(this, msg);
      }
    });
    this.thread.on("messageerror", (err: Error) => events.messageError(this, err));
    // An uncaught exception or an unhandled rejection in the thread: 'exit' follows.
    this.thread.on("error", (err: Error) => (this.crash = err));
    this.thread.on("exit", (code: number) => {
      this.ready = false;
      clearTimeout(this.graceTimer);
      events.exit(this, this.describeExit(code));
    });
  }

  /** Why the thread ended, worded for the status message of the call it was running. */
  private describeExit(code: number): string {
    if (this.loadError) {
      const err = fromWireError(this.loadError);
      return `the worker module failed to load: ${err instanceof Error ? err.message : String(err)}`;
    }
    if (this.crash) return `the worker thread crashed: ${this.crash.message}`;
    if (this.retiring) return "the worker thread was terminated";
    return `the worker thread exited with code ${code}`;
  }

  /** The load error the thread reported, if it never became ready because of the module. */
  get failedToLoad(): boolean {
    return this.loadError !== undefined;
  }

  post(msg: ToWorker): void {
    this.thread.postMessage(msg);
  }

  /** A running task keeps the process alive, as any pending I/O would. */
  busy(task: Task): void {
    this.task = task;
    this.thread.ref();
  }

  /** An idle thread does not keep the process alive (like an idle Channel). */
  idle(): void {
    this.task = undefined;
    clearTimeout(this.graceTimer);
    this.graceTimer = undefined;
    this.thread.unref();
  }

  /** Stops the thread at once, even in the middle of a busy loop. */
  terminate(): Promise<number> {
    this.retiring = true;
    return this.thread.terminate();
  }
}
