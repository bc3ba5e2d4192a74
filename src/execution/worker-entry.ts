// Runs inside each pool thread (loaded by worker-boot.mjs): imports the user's module once,
// then runs one task at a time as the main thread asks, answering with results, stream
// messages (within the credit the main thread grants) or errors.
import { parentPort, workerData, type MessagePort } from "node:worker_threads";
import { Code, RpcError } from "../status.js";
import { decodePayload, encodePayload, SchemaCache } from "./codec.js";
import { workerContext } from "./context.js";
import { cancelReason, toWireError, type FromWorker, type ToWorker } from "./protocol.js";

type RunMessage = Extract<ToWorker, { t: "run" }>;
type Module = Record<string, unknown>;

/** What worker-boot.mjs hands over: an import() that can fall back to TypeScript hooks. */
export type ModuleLoader = (url: string) => Promise<Module>;

/** One task in this thread: its abort controller and, for streams, the credit left. */
class Running {
  readonly controller = new AbortController();
  private wake: (() => void) | undefined;

  constructor(
    readonly id: number,
    private credit: number,
  ) {}

  get aborted(): boolean {
    return this.controller.signal.aborted;
  }

  abort(reason: RpcError): void {
    this.controller.abort(reason);
    this.wakeUp();
  }

  grant(n: number): void {
    this.credit += n;
    this.wakeUp();
  }

  /** Spends one credit, waiting (without a timer: the main thread or an abort wakes it) while there is none. */
  async spend(): Promise<void> {
    while (this.credit <= 0 && !this.aborted) await new Promise<void>((resolve) => (this.wake = resolve));
    this.credit--;
  }

  private wakeUp(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}

class Runner {
  private readonly schemas = new SchemaCache();
  private readonly tasks = new Map<number, Running>();

  constructor(
    private readonly port: MessagePort,
    private readonly mod: Module,
  ) {}

  receive(msg: ToWorker): void {
    switch (msg.t) {
      case "run":
        return this.run(msg);
      case "cancel":
        return this.tasks.get(msg.id)?.abort(cancelReason(msg.code, msg.message));
      case "credit":
        return this.tasks.get(msg.id)?.grant(msg.n);
    }
  }

  private run(msg: RunMessage): void {
    const task = new Running(msg.id, msg.credit);
    this.tasks.set(msg.id, task);
    let request: unknown;
    try {
      for (const s of msg.schemas ?? []) this.schemas.add(s);
      request = decodePayload(msg.request, (name) => this.schemas.get(name));
    } catch (err) {
      return this.fail(task, new RpcError(Code.INTERNAL, `the request could not be decoded in the worker: ${(err as Error).message}`));
    }
    const fn = this.mod[msg.fn];
    if (typeof fn !== "function") {
      return this.fail(task, new RpcError(Code.UNIMPLEMENTED, `the worker module exports no function ${JSON.stringify(msg.fn)}`));
    }
    const ctx = workerContext(msg.call, task.controller.signal);
    if (msg.stream) {
      void this.stream(task, fn as (...args: unknown[]) => unknown, request, ctx, msg.responseType);
      return;
    }
    let out: unknown;
    try {
      out = fn(request, ctx);
    } catch (err) {
      return this.fail(task, err ?? new Error("handler threw without a reason"));
    }
    if (isThenable(out)) {
      out.then(
        (value) => this.result(task, value, msg.responseType),
        (err: unknown) => this.fail(task, err ?? new Error("handler rejected without a reason")),
      );
    } else {
      this.result(task, out, msg.responseType);
    }
  }

  private async stream(task: Running, fn: (...args: unknown[]) => unknown, request: unknown, ctx: unknown, responseType: string | undefined): Promise<void> {
    try {
      let source = fn(request, ctx);
      if (isThenable(source)) source = await source;
      if (!isIterable(source)) throw new TypeError("a streaming worker function must return an iterable (an array or a generator)");
      // `break` below closes the user's generator, so its finally blocks run after a cancel.
      for await (const item of source) {
        if (task.aborted) break;
        await task.spend();
        if (task.aborted) break;
        this.post({ t: "message", id: task.id, value: this.encode(item, responseType) });
      }
      this.done(task, { t: "end", id: task.id });
    } catch (err) {
      this.fail(task, err ?? new Error("handler threw without a reason"));
    }
  }

  private result(task: Running, value: unknown, responseType: string | undefined): void {
    let msg: FromWorker;
    try {
      msg = { t: "result", id: task.id, value: this.encode(value, responseType) };
      this.done(task, msg);
    } catch (err) {
      // Usually a DataCloneError: the response holds a function, a class instance with private state...
      this.fail(task, new Error(`the response could not be passed to the main thread: ${(err as Error).message}`));
    }
  }

  private encode(value: unknown, responseType: string | undefined) {
    return encodePayload(responseType === undefined ? undefined : this.schemas.get(responseType), value);
  }

  private fail(task: Running, err: unknown): void {
    this.done(task, { t: "error", id: task.id, error: toWireError(err) });
  }

  /** Sends the task's last message; the main thread treats this thread as free from then on. */
  private done(task: Running, msg: FromWorker): void {
    this.post(msg);
    this.tasks.delete(task.id);
  }

  private post(msg: FromWorker): void {
    this.port.postMessage(msg);
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && typeof value === "object" && typeof (value as { then?: unknown }).then === "function";
}

function isIterable(value: unknown): value is Iterable<unknown> | AsyncIterable<unknown> {
  if (value === null || (typeof value !== "object" && typeof value !== "function")) return false;
  return typeof (value as Partial<AsyncIterable<unknown>>)[Symbol.asyncIterator] === "function" || typeof (value as Partial<Iterable<unknown>>)[Symbol.iterator] === "function";
}

/** Loads the user's module and serves tasks; called by worker-boot.mjs. */
export async function start(load: ModuleLoader): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error("worker-entry runs only inside a worker thread");
  const { module } = workerData as { module: string };
  let mod: Module;
  try {
    mod = await load(module);
  } catch (err) {
    port.postMessage({ t: "load-error", error: toWireError(err) } satisfies FromWorker);
    return;
  }
  const runner = new Runner(port, mod);
  port.on("message", (msg: ToWorker) => runner.receive(msg));
  const exports = Object.keys(mod).filter((k) => typeof mod[k] === "function");
  port.postMessage({ t: "ready", exports } satisfies FromWorker);
}
