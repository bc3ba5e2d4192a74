// rpyc's ThreadPoolServer: the root service's exposed methods run on a fixed pool of worker
// threads (node:worker_threads), so CPU-bound calls from different connections run in parallel
// instead of taking turns on the event loop. Calls cross to the threads as brine bytes and come
// back the same way; exceptions keep their Python type.
import { Worker } from "node:worker_threads";
import { ErrorCode, SwitchboardError } from "../errors.js";
import { dump, load } from "./brine.js";
import { rawCallable } from "./access.js";
import { isNetref } from "./netref.js";
import { loadException, PyError } from "./py-errors.js";
import { Server, type ServerOptions, type ServiceSpec } from "./server.js";
import { serviceModuleOf, type ServiceModuleOptions } from "./service-module.js";
import { exposed, isMarkedExposed, Service } from "./service.js";
import { isDumpable, type PyValue } from "./values.js";
import type { FromPoolWorker, PoolWorkerData, ToPoolWorker } from "./pool/protocol.js";

/** The plain-JavaScript thread bootstrap shared with the worker-pool execution model. */
const BOOT = new URL("../execution/worker-boot.mjs", import.meta.url);
/** pool/worker.ts when the library runs from source, pool/worker.js when compiled. */
const ENTRY = new URL(import.meta.url.endsWith(".ts") ? "./pool/worker.ts" : "./pool/worker.js", import.meta.url).href;
/** Threads in a row that fail to start before the pool stops replacing them. */
const MAX_START_FAILURES = 3;

/** serviceModule: the module each thread imports for its service instance. */
export interface ThreadPoolServerOptions extends ServerOptions, ServiceModuleOptions {
  /** Worker threads (rpyc's nbThreads). Default 20. */
  nbThreads?: number;
  /** rpyc's requestBatchSize. Accepted for compatibility and unused: each thread runs one call at a time. */
  requestBatchSize?: number;
  /**
   * Exposed methods that run on the main thread, on the connection's own instance (`echo` or
   * `exposed_echo`): they may take callbacks and netrefs, return objects by reference and keep
   * per-connection state.
   */
  mainThread?: readonly string[];
}

/** One pooled call, from the connection's request to the worker's answer. */
interface PoolCall {
  readonly id: number;
  readonly message: ToPoolWorker;
  readonly resolve: (value: unknown) => void;
  readonly reject: (err: unknown) => void;
}

/** One thread of the pool. */
class PoolThread {
  ready = false;
  retiring = false;
  call: PoolCall | undefined;
  crash: Error | undefined;
  loadError: string | undefined;

  constructor(readonly worker: Worker) {}
}

/**
 * rpyc's ThreadPoolServer. Give it the Service class and the module that exports it:
 *
 * ```ts
 * const server = new ThreadPoolServer(ComputeService, {
 *   port: 18861,
 *   nbThreads: 4,
 *   serviceModule: new URL("./compute-service.js", import.meta.url),
 *   mainThread: ["subscribe"], // takes a callback: runs on the main thread
 * });
 * await server.start();
 * ```
 *
 * What a pooled service may keep: each thread imports `serviceModule` and makes ONE instance
 * of the service, which serves the calls of every connection that land on that thread. So a
 * pooled method must keep no per-connection state (the next call of the same connection may run
 * on another thread, and the next call on this thread may come from another connection) and no
 * shared mutable state (each thread has its own copy of the instance and of module-level
 * variables; nothing written on one thread is seen by the others or by the main thread). Keep
 * such state in the methods listed in `mainThread` (which run on the connection's own
 * main-thread instance, made from `service` as ThreadedServer does) or in an external store.
 *
 * Pooled methods take and return brine values only (None, bool, int, float, str, bytes, tuple,
 * frozenset, slice, complex); a netref or any object that would go by reference is refused with
 * TypeError naming the method. Exceptions reach the client with their Python type. `onConnect`
 * and `onDisconnect` run on the main-thread instance. A thread that crashes is replaced and its
 * running call fails with RuntimeError; close() terminates the threads.
 */
export class ThreadPoolServer extends Server {
  readonly nbThreads: number;
  readonly requestBatchSize: number;
  private readonly moduleUrl: string;
  private readonly exportName: string;
  private readonly mainThread: ReadonlySet<string>;
  private readonly threads = new Set<PoolThread>();
  private readonly idle: PoolThread[] = [];
  private readonly queue: PoolCall[] = [];
  /** Forwarders by member name, shared by every connection's root. */
  private readonly forwarders = new Map<string, Function>();
  private nextCallId = 1;
  private startFailures = 0;
  private broken: string | undefined;
  private poolStart: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;

  constructor(service: ServiceSpec, options: ThreadPoolServerOptions) {
    super(service, options);
    const o = options as Partial<ThreadPoolServerOptions>;
    const nb = o.nbThreads ?? 20;
    if (!Number.isInteger(nb) || nb < 1) throw new SwitchboardError(ErrorCode.BAD_OPTION, `nbThreads must be a positive integer, got ${String(nb)}`);
    this.nbThreads = nb;
    this.requestBatchSize = o.requestBatchSize ?? 10;
    ({ moduleUrl: this.moduleUrl, exportName: this.exportName } = serviceModuleOf(service, o, "ThreadPoolServer", "each worker thread"));
    this.mainThread = new Set(o.mainThread ?? []);
  }

  /** Starts the threads (each loads the service module), then listens. */
  override start(): Promise<void> {
    if (this.closed) return super.start();
    this.poolStart ??= this.startPool().then(() => super.start());
    return this.poolStart;
  }

  /** Stops listening, ends every connection, fails pooled calls still running and terminates the threads. */
  override close(): Promise<void> {
    this.stopping ??= super.close().then(() => this.stopPool());
    return this.stopping;
  }

  /** The connection's main-thread instance, its pooled methods replaced by forwarders to the threads. */
  protected override rootFor(): object {
    const root = super.rootFor();
    const prefix = this.protocolConfig.exposedPrefix ?? "exposed_";
    const seen = new Set<string>();
    for (let p: object | null = Object.getPrototypeOf(root); p !== null && p !== Service.prototype && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
      for (const name of Object.getOwnPropertyNames(p)) {
        if (name === "constructor" || seen.has(name)) continue;
        seen.add(name);
        const d = Object.getOwnPropertyDescriptor(p, name);
        if (!d || typeof d.value !== "function") continue;
        const marked = isMarkedExposed(p, name);
        if (!marked && !(prefix !== "" && name.startsWith(prefix))) continue;
        const bare = prefix !== "" && name.startsWith(prefix) ? name.slice(prefix.length) : name;
        if (this.mainThread.has(name) || this.mainThread.has(bare)) continue;
        if (Object.prototype.hasOwnProperty.call(root, name)) continue; // a shared instance already has them
        Object.defineProperty(root, name, { value: this.forwarder(name, bare, marked), writable: true, configurable: true, enumerable: false });
      }
    }
    return root;
  }

  /** A function that sends the call, as the peer made it, to a thread (whose method binds the keyword arguments). */
  private forwarder(member: string, label: string, marked: boolean): Function {
    let fn = this.forwarders.get(member);
    if (fn) return fn;
    fn = rawCallable((args, kwargs) => this.submit(member, label, args, kwargs));
    if (marked) exposed(fn, { kind: "method", name: member } as ClassMethodDecoratorContext);
    this.forwarders.set(member, fn);
    return fn;
  }

  /** Checks the arguments, then queues the call for the next free thread. */
  private submit(member: string, label: string, args: readonly unknown[], kwargs: ReadonlyArray<readonly [string, unknown]>): Promise<unknown> {
    args.forEach((a, i) => {
      if (!isDumpable(a)) throw notBrineArg(label, `argument ${i + 1}`, a);
    });
    for (const [name, value] of kwargs) if (!isDumpable(value)) throw notBrineArg(label, `argument ${JSON.stringify(name)}`, value);
    if (this.stopping) throw new PyError("EOFError", ["the server is closing"]);
    if (this.broken !== undefined) throw new PyError("RuntimeError", [`${label}() cannot run: ${this.broken}`]);
    const message: ToPoolWorker = {
      t: "call",
      id: this.nextCallId++,
      member,
      label,
      args: dump(args as readonly PyValue[]),
      kwargs: kwargs.length === 0 ? null : dump(kwargs as readonly PyValue[]),
    };
    return new Promise((resolve, reject) => {
      const call: PoolCall = { id: message.id, message, resolve, reject };
      const thread = this.idle.pop();
      if (thread) this.run(thread, call);
      else this.queue.push(call);
    });
  }

  private run(thread: PoolThread, call: PoolCall): void {
    thread.call = call;
    // a thread with work keeps the process alive, as pending I/O would
    thread.worker.ref();
    thread.worker.postMessage(call.message);
  }

  /** The thread is free: give it the next queued call. */
  private release(thread: PoolThread): void {
    thread.call = undefined;
    thread.worker.unref();
    if (thread.retiring || !thread.ready) return;
    const next = this.queue.shift();
    if (next) this.run(thread, next);
    else this.idle.push(thread);
  }

  // ---- threads ----------------------------------------------------------------------

  private async startPool(): Promise<void> {
    const started = Array.from({ length: this.nbThreads }, () => this.spawn());
    const results = await Promise.allSettled(started);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) {
      await this.stopPool();
      throw new SwitchboardError(ErrorCode.WORKER_START, `ThreadPoolServer: a worker thread could not load the service from ${this.moduleUrl}: ${(failed.reason as Error).message}`, { cause: failed.reason });
    }
  }

  /** Starts one thread; resolves once it has made its service instance. */
  private spawn(): Promise<void> {
    const data: PoolWorkerData = { entry: ENTRY, module: this.moduleUrl, exportName: this.exportName };
    const worker = new Worker(BOOT, { workerData: data, name: `rpyc-pool-${this.exportName}` });
    const thread = new PoolThread(worker);
    this.threads.add(thread);
    return new Promise<void>((resolve, reject) => {
      worker.on("message", (msg: FromPoolWorker) => {
        if (thread.retiring) return;
        switch (msg.t) {
          case "ready":
            thread.ready = true;
            this.startFailures = 0;
            resolve();
            this.release(thread);
            return;
          case "load-error":
            thread.loadError = msg.message;
            return;
          case "result":
          case "error": {
            const call = thread.call;
            if (!call || call.id !== msg.id) return;
            this.release(thread);
            if (msg.t === "error") {
              call.reject(loadException(load(msg.error)));
              return;
            }
            try {
              call.resolve(load(msg.value));
            } catch (err) {
              call.reject(err);
            }
            return;
          }
        }
      });
      // an uncaught exception or unhandled rejection in the thread: 'exit' follows
      worker.on("error", (err: Error) => (thread.crash = err));
      worker.on("exit", (code: number) => {
        const why = thread.loadError ?? thread.crash?.message ?? `the thread exited with code ${code}`;
        reject(new Error(why));
        this.onExit(thread, why);
      });
    });
  }

  private onExit(thread: PoolThread, why: string): void {
    this.threads.delete(thread);
    const i = this.idle.indexOf(thread);
    if (i !== -1) this.idle.splice(i, 1);
    const wasReady = thread.ready;
    thread.ready = false;
    const call = thread.call;
    thread.call = undefined;
    if (call)
      call.reject(
        thread.retiring
          ? new PyError("EOFError", [`${call.message.label}() was cut off: the server is closing`])
          : new PyError("RuntimeError", [`${call.message.label}() failed: the worker thread running it crashed (${why}); the thread was replaced`]),
      );
    if (thread.retiring || this.stopping || !this.poolStart) return;
    this.logger?.error?.(`rpyc ThreadPoolServer: a worker thread ended: ${why}`);
    if (!wasReady && ++this.startFailures >= MAX_START_FAILURES) {
      // the module no longer loads: stop the crash loop and fail what waits
      this.broken = `the worker threads cannot start (${why})`;
      for (const queued of this.queue.splice(0)) queued.reject(new PyError("RuntimeError", [`${queued.message.label}() cannot run: ${this.broken}`]));
      return;
    }
    this.spawn().catch(() => {}); // its failure is counted in onExit
  }

  private async stopPool(): Promise<void> {
    for (const queued of this.queue.splice(0)) queued.reject(new PyError("EOFError", ["the server is closing"]));
    this.idle.length = 0;
    const threads = [...this.threads];
    for (const t of threads) t.retiring = true;
    await Promise.all(threads.map((t) => t.worker.terminate()));
  }
}


function describe(value: unknown): string {
  if (isNetref(value)) return "a netref (an object of the client's, by reference)";
  if (typeof value === "function") return "a function";
  if (Array.isArray(value)) return "a tuple holding a non-brine value";
  if (typeof value === "object" && value !== null) return `a ${value.constructor?.name ?? "object"}`;
  return `a ${typeof value}`;
}

function notBrineArg(label: string, which: string, value: unknown): PyError {
  return new PyError("TypeError", [
    `${label}() runs on a ThreadPoolServer worker thread and ${which} is ${describe(value)}, which cannot cross to the thread: ` +
      "pooled methods take brine values only (None, bool, int, float, str, bytes, tuple, frozenset, slice, complex); " +
      `list ${JSON.stringify(label)} in mainThread to pass objects by reference`,
  ]);
}
