// One call handed to the pool, as the main thread sees it: queued, then running on a thread,
// then settled exactly once (response, end of stream, error, or the call's abort reason).
import type { ServerCallContext } from "../call/context.js";
import type { PoolWorker } from "./pool-worker.js";

/** Stream messages a worker may send ahead of the consumer; bounds what waits in memory. */
export const STREAM_WINDOW = 16;

export abstract class Task {
  /** The thread running this task, once it left the queue. */
  worker: PoolWorker | undefined;
  private done = false;
  private unwatch: (() => void) | undefined;

  constructor(
    readonly id: number,
    readonly fn: string,
    readonly request: unknown,
    readonly ctx: ServerCallContext,
  ) {}

  abstract readonly stream: boolean;

  /** Whether the outcome is decided (the thread may still be finishing a cancelled task). */
  get settled(): boolean {
    return this.done;
  }

  /** Calls `onAbort` when the call's signal fires, until the task settles. */
  watch(signal: AbortSignal, onAbort: () => void): void {
    signal.addEventListener("abort", onAbort, { once: true });
    this.unwatch = () => signal.removeEventListener("abort", onAbort);
  }

  /** Marks the task settled; false if it already was. */
  protected settle(): boolean {
    if (this.done) return false;
    this.done = true;
    this.unwatch?.();
    this.unwatch = undefined;
    return true;
  }

  /** A response message from the worker. */
  abstract value(message: unknown): void;
  /** The worker's stream ended normally. */
  abstract end(): void;
  /** The task failed: a worker error, a crash, the call's abort reason, a full queue... */
  abstract fail(err: unknown): void;
}

/** A unary call: settles the handler's promise. */
export class UnaryTask extends Task {
  readonly stream = false;

  constructor(
    id: number,
    fn: string,
    request: unknown,
    ctx: ServerCallContext,
    private readonly resolve: (response: unknown) => void,
    private readonly reject: (err: unknown) => void,
  ) {
    super(id, fn, request, ctx);
  }

  value(message: unknown): void {
    if (this.settle()) this.resolve(message);
  }

  end(): void {
    this.fail(new Error("the worker function ended without a response"));
  }

  fail(err: unknown): void {
    if (this.settle()) this.reject(err);
  }
}

/**
 * A server-streaming call: a small buffer between the worker and the response stream. The
 * worker starts with STREAM_WINDOW credits and gets more as messages are taken, so a slow
 * client holds the worker instead of filling the main thread's memory.
 */
export class StreamTask extends Task {
  readonly stream = true;
  private readonly buffer: unknown[] = [];
  private ended = false;
  private failure: { err: unknown } | undefined;
  private waiter: { resolve: (r: IteratorResult<unknown>) => void; reject: (err: unknown) => void } | undefined;
  private taken = 0;

  constructor(
    id: number,
    fn: string,
    request: unknown,
    ctx: ServerCallContext,
    private readonly grant: (n: number) => void,
  ) {
    super(id, fn, request, ctx);
  }

  value(message: unknown): void {
    if (this.settled) return;
    const waiter = this.waiter;
    if (waiter) {
      this.waiter = undefined;
      this.took();
      waiter.resolve({ value: message, done: false });
    } else {
      this.buffer.push(message);
    }
  }

  end(): void {
    if (!this.settle()) return;
    this.ended = true;
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.resolve({ value: undefined, done: true });
  }

  fail(err: unknown): void {
    if (!this.settle()) return;
    this.failure = { err };
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.reject(err);
  }

  /** The next message; messages that arrived before the end or the error are delivered first. */
  next(): Promise<IteratorResult<unknown>> {
    if (this.buffer.length > 0) {
      this.took();
      return Promise.resolve({ value: this.buffer.shift(), done: false });
    }
    if (this.failure) return Promise.reject(this.failure.err);
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => (this.waiter = { resolve, reject }));
  }

  /** Returns credit in batches of half the window: fewer messages, and the worker rarely waits. */
  private took(): void {
    if (this.settled) return;
    if (++this.taken >= STREAM_WINDOW / 2) {
      this.grant(this.taken);
      this.taken = 0;
    }
  }
}
