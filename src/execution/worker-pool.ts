// The worker-pool execution model: handlers whose work is CPU-bound run on worker threads,
// so the event loop keeps serving every other call. A thin layer over the core — a pool
// method is an ordinary context-style handler that hands the request to a thread and
// turns what comes back into the response, the stream or the status.
import type { ServerCallContext } from "../call/context.js";
import type { ServerStreamingHandler, UnaryHandler } from "../call/shapes.js";
import { ErrorCode, SwitchboardError } from "../errors.js";
import type { MethodDefinition } from "../service/method.js";
import type { Server } from "../server/server.js";
import { Code, RpcError } from "../status.js";
import { decodePayload, encodePayload, needsBytes, shipmentOf } from "./codec.js";
import { PoolWorker } from "./pool-worker.js";
import { resolvePoolOptions, type ResolvedPoolOptions, type WorkerPoolOptions, type WorkerPoolStats } from "./options.js";
import { fromWireError, type CallInfo, type FromWorker, type SchemaShipment } from "./protocol.js";
import { STREAM_WINDOW, StreamTask, Task, UnaryTask } from "./task.js";

type Fn = (...args: any[]) => any;
type Items<T> = Awaited<T> extends AsyncIterable<infer U, any, any> ? U : Awaited<T> extends Iterable<infer U, any, any> ? U : never;
/** Names of the module's exported functions. */
export type WorkerFunctionName<M> = { [K in keyof M]: M[K] extends Fn ? K : never }[keyof M] & string;
type RequestOf<F> = F extends (request: infer R, ...rest: any[]) => unknown ? R : never;
type ResultOf<F> = F extends (...args: any[]) => infer R ? R : never;

/** Start failures in a row (after the module once loaded) before the pool gives up on threads. */
const MAX_START_FAILURES = 3;

/**
 * A pool of worker threads that run the exported functions of one module.
 *
 * ```ts
 * const pool = new WorkerPool<typeof import("./work.js")>({ module: new URL("./work.js", import.meta.url) });
 * server.addService(Svc, { render: pool.unary("render") });
 * pool.attach(server); // closes the pool once server.stop() has finished
 * ```
 */
export class WorkerPool<M extends object = Record<string, Fn>> {
  readonly size: number;
  readonly maxQueue: number;
  private readonly options: ResolvedPoolOptions;
  private readonly workers = new Set<PoolWorker>();
  private readonly idle: PoolWorker[] = [];
  private readonly queue: Task[] = [];
  /** Function names handed out by unary()/serverStreaming(), checked by ready(). */
  private readonly names = new Set<string>();
  private nextId = 1;
  private tasksStarted = 0;
  private threadsStarted = 0;
  private everReady = false;
  private startFailures = 0;
  private broken: Error | undefined;
  private closing: Promise<void> | undefined;
  private readonly started: Promise<void>;
  private markStarted!: () => void;
  private failStart!: (err: Error) => void;

  constructor(options: WorkerPoolOptions) {
    this.options = resolvePoolOptions(options);
    this.size = this.options.size;
    this.maxQueue = this.options.maxQueue;
    this.started = new Promise<void>((resolve, reject) => {
      this.markStarted = resolve;
      this.failStart = reject;
    });
    // ready() is optional; an unobserved startup failure must not become an unhandled rejection.
    this.started.catch(() => {});
    for (let i = 0; i < this.size; i++) this.spawn();
  }

  /**
   * A unary handler that runs the module's function `name` on a thread:
   * `(request, ctx) => response | Promise<response>`, with a WorkerContext as ctx.
   */
  unary<K extends WorkerFunctionName<M>>(name: K): UnaryHandler<RequestOf<M[K]>, Awaited<ResultOf<M[K]>>> {
    this.claim(name);
    return (request, ctx) =>
      new Promise((resolve, reject) => {
        this.submit(new UnaryTask(this.nextId++, name, request, ctx, resolve as (r: unknown) => void, reject));
      });
  }

  /**
   * A server-streaming handler that runs the module's function `name` on a thread; the
   * function returns an array, a generator or an async generator of responses.
   */
  serverStreaming<K extends WorkerFunctionName<M>>(name: K): ServerStreamingHandler<RequestOf<M[K]>, Items<ResultOf<M[K]>>> {
    this.claim(name);
    const pool = this;
    return async function* (request, ctx) {
      const task: StreamTask = new StreamTask(pool.nextId++, name, request, ctx, (n) => pool.grant(task, n));
      pool.submit(task);
      try {
        for (;;) {
          const next = await task.next();
          if (next.done) return;
          yield next.value as Items<ResultOf<M[K]>>;
        }
      } finally {
        // The response stream stopped early (the call ended): stop the worker's side too.
        if (!task.settled) pool.cancel(task, new RpcError(Code.CANCELLED, "the response stream was closed"));
      }
    };
  }

  /**
   * Resolves once every thread has loaded the module and it exports every function handed
   * out so far; rejects with ERR_SB_WORKER_START or ERR_SB_BAD_HANDLER otherwise.
   */
  async ready(): Promise<void> {
    await this.started;
    const exports = this.exportsKnown();
    if (!exports) return; // every thread is being replaced right now; the first call will tell
    const missing = [...this.names].filter((n) => !exports.has(n));
    if (missing.length > 0) {
      throw new SwitchboardError(ErrorCode.BAD_HANDLER, `the worker module ${this.options.module} exports no function ${missing.map((n) => JSON.stringify(n)).join(", ")}`);
    }
  }

  /**
   * Closes the pool once `server.stop()` has finished (running calls drained or cancelled).
   * `await pool.close()` after stopping to wait for the threads themselves.
   */
  attach(server: Pick<Server, "onStop" | "waitForTermination">): this {
    server.onStop(() => void server.waitForTermination().then(() => this.close()));
    return this;
  }

  /** Fails queued and running calls with UNAVAILABLE and terminates every thread. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** The threads, the queue and the counters, right now. */
  get stats(): WorkerPoolStats {
    let ready = 0;
    let busy = 0;
    for (const w of this.workers) {
      if (w.ready && !w.retiring) ready++;
      if (w.task) busy++;
    }
    return { size: this.size, ready, busy, queued: this.queue.length, tasksStarted: this.tasksStarted, threadsStarted: this.threadsStarted };
  }

  // ---- scheduling ------------------------------------------------------------------

  private claim(name: string): void {
    const exports = this.exportsKnown();
    if (exports && !exports.has(name)) {
      throw new SwitchboardError(ErrorCode.BAD_HANDLER, `the worker module ${this.options.module} exports no function ${JSON.stringify(name)}`);
    }
    this.names.add(name);
  }

  private exportsKnown(): ReadonlySet<string> | undefined {
    for (const w of this.workers) if (w.ready) return w.exports;
    return undefined;
  }

  private submit(task: Task): void {
    if (this.closing) return task.fail(new RpcError(Code.UNAVAILABLE, "the worker pool is closed"));
    if (this.broken && this.workers.size === 0) return task.fail(this.noThreads(this.broken));
    const signal = task.ctx.signal;
    if (signal.aborted) return task.fail(signal.reason);
    const worker = this.idle.pop();
    if (worker) {
      this.run(worker, task);
    } else if (this.queue.length < this.maxQueue) {
      this.queue.push(task);
    } else {
      return task.fail(new RpcError(Code.RESOURCE_EXHAUSTED, `all ${this.size} worker threads are busy and ${this.queue.length} calls are queued`));
    }
    if (!task.settled) task.watch(signal, () => this.cancel(task, signal.reason));
  }

  /** Hands `task` to an idle thread. */
  private run(worker: PoolWorker, task: Task): void {
    const def = task.ctx.method as Partial<MethodDefinition>;
    const schemas: SchemaShipment[] = [];
    try {
      const request = encodePayload(def.input, task.request);
      if ("bytes" in request && def.input) ship(worker, def.input, schemas);
      const responseType = def.output && needsBytes(def.output) ? def.output.typeName : undefined;
      if (responseType && def.output) ship(worker, def.output, schemas);
      worker.post({
        t: "run",
        id: task.id,
        fn: task.fn,
        stream: task.stream,
        request,
        call: callInfo(task.ctx),
        responseType,
        schemas: schemas.length > 0 ? schemas : undefined,
        credit: STREAM_WINDOW,
      });
    } catch (err) {
      // Usually a DataCloneError: a raw handler's request object that cannot be copied.
      task.fail(new RpcError(Code.INTERNAL, `the request could not be passed to a worker thread: ${(err as Error).message}`));
      this.release(worker);
      return;
    }
    for (const s of schemas) worker.schemas.add(s.typeName);
    task.worker = worker;
    worker.busy(task);
    this.tasksStarted++;
  }

  /** A thread finished its task (or just became ready): give it the next queued call. */
  private release(worker: PoolWorker): void {
    worker.idle();
    if (worker.retiring || !worker.ready) return;
    const next = this.queue.shift();
    if (next) this.run(worker, next);
    else this.idle.push(worker);
  }

  private grant(task: StreamTask, n: number): void {
    if (task.worker && task.worker.task === task && !task.worker.retiring) task.worker.post({ t: "credit", id: task.id, n });
  }

  /** The call ended before the task did: settle it with `reason`, then stop the worker's side. */
  private cancel(task: Task, reason: unknown): void {
    if (task.settled) return;
    task.fail(reason);
    this.abandon(task, reason);
  }

  /** Drops a settled task from the queue, or tells its thread to stop (and terminates it after the grace). */
  private abandon(task: Task, reason: unknown): void {
    const worker = task.worker;
    if (!worker) {
      // Still queued: drop it, it never runs.
      const i = this.queue.indexOf(task);
      if (i !== -1) this.queue.splice(i, 1);
      return;
    }
    if (worker.task !== task || worker.retiring) return;
    const err = reason instanceof RpcError ? reason : new RpcError(Code.CANCELLED, "call cancelled");
    worker.post({ t: "cancel", id: task.id, code: err.code, message: err.rawMessage });
    if (this.options.terminateOnCancel) {
      worker.graceTimer = setTimeout(() => {
        if (worker.task === task) void worker.terminate();
      }, this.options.cancelGraceMs);
      worker.graceTimer.unref();
    }
  }

  // ---- threads ---------------------------------------------------------------------

  private spawn(): void {
    this.threadsStarted++;
    const worker = new PoolWorker(this.options, {
      ready: (w) => this.onReady(w),
      message: (w, msg) => this.onMessage(w, msg),
      exit: (w, reason) => this.onExit(w, reason),
      messageError: (w, err) => {
        w.task?.fail(new RpcError(Code.INTERNAL, `a message from the worker thread could not be read: ${err.message}`));
        void w.terminate();
      },
    });
    this.workers.add(worker);
  }

  private onReady(worker: PoolWorker): void {
    this.everReady = true;
    this.startFailures = 0;
    if (this.closing) return;
    this.release(worker);
    if (this.stats.ready >= this.size) this.markStarted();
  }

  private onMessage(worker: PoolWorker, msg: Exclude<FromWorker, { t: "ready" | "load-error" }>): void {
    const task = worker.task;
    if (!task || task.id !== msg.id) return;
    const schemaOf = () => {
      throw new Error("a worker answered with bytes of a type the main thread did not ask for");
    };
    switch (msg.t) {
      case "result":
      case "message": {
        let value: unknown;
        try {
          const output = (task.ctx.method as Partial<MethodDefinition>).output;
          value = decodePayload(msg.value, output ? () => output : schemaOf);
        } catch (err) {
          const failure = new RpcError(Code.INTERNAL, `a response from the worker thread could not be decoded: ${(err as Error).message}`);
          task.fail(failure);
          if (msg.t === "message") this.abandon(task, failure);
          else this.release(worker);
          return;
        }
        task.value(value);
        if (msg.t === "result") this.release(worker);
        return;
      }
      case "end":
        task.end();
        return this.release(worker);
      case "error":
        task.fail(fromWireError(msg.error));
        return this.release(worker);
    }
  }

  private onExit(worker: PoolWorker, reason: string): void {
    this.workers.delete(worker);
    const i = this.idle.indexOf(worker);
    if (i !== -1) this.idle.splice(i, 1);
    const task = worker.task;
    worker.task = undefined;
    // A crash fails only the call it was running; INTERNAL, not UNAVAILABLE: the same request
    // would likely crash the next thread too, so a retry is no remedy.
    task?.fail(new RpcError(Code.INTERNAL, reason));
    if (this.closing) return;
    if (this.broken) return this.breakDown(this.broken);
    const neverStarted = !worker.wasReady && !worker.retiring;
    if (neverStarted && (!this.everReady || worker.failedToLoad || ++this.startFailures >= MAX_START_FAILURES)) {
      return this.breakDown(new SwitchboardError(ErrorCode.WORKER_START, reason));
    }
    if (neverStarted) {
      // A thread that could not start after the module loaded before: retry a little later.
      setTimeout(() => this.closing || this.spawn(), 100 * this.startFailures).unref();
      return;
    }
    this.spawn();
  }

  /**
   * Threads cannot start (the module does not load): tell ready(), and fail what waits once no
   * thread is left to serve it. Threads still alive keep serving; none is started any more.
   */
  private breakDown(err: Error): void {
    if (!this.broken) {
      this.broken = err;
      this.failStart(err);
    }
    if (this.workers.size === 0) for (const t of this.queue.splice(0)) t.fail(this.noThreads(err));
  }

  private noThreads(err: Error): RpcError {
    return new RpcError(Code.INTERNAL, `the worker pool has no threads: ${err.message}`);
  }

  private async shutdown(): Promise<void> {
    const reason = new RpcError(Code.UNAVAILABLE, "the worker pool is closed");
    for (const t of this.queue.splice(0)) t.fail(reason);
    for (const w of this.workers) w.task?.fail(reason);
    this.idle.length = 0;
    this.failStart(new SwitchboardError(ErrorCode.STOPPED, "the worker pool was closed"));
    await Promise.all([...this.workers].map((w) => w.terminate()));
  }
}

/** Adds the schema of `desc` to `out` unless the thread already has it. */
function ship(worker: PoolWorker, desc: NonNullable<MethodDefinition["input"]>, out: SchemaShipment[]): void {
  if (!worker.schemas.has(desc.typeName) && !out.some((s) => s.typeName === desc.typeName)) out.push(shipmentOf(desc));
}

/** The clone-safe facts of a call for its worker. */
function callInfo(ctx: ServerCallContext): CallInfo {
  const m = ctx.method;
  return {
    method: { path: m.path, service: m.service, name: m.name, kind: m.kind },
    metadata: ctx.metadata.toJSON(),
    peer: ctx.peer,
    userAgent: ctx.userAgent,
    deadline: ctx.deadline ? ctx.deadline.toDate().getTime() : undefined,
  };
}
