// Runs inside each ThreadPoolServer thread (loaded by ../../execution/worker-boot.mjs, which
// also makes TypeScript service modules loadable here): imports the service module once, makes
// ONE instance of the service for this thread, then runs the calls the main thread forwards.
// Arguments and results cross as brine; exceptions cross as rpyc's exception record, so the
// client raises the same Python type either way.
import { parentPort, workerData } from "node:worker_threads";
import { bindArgs } from "../access.js";
import { dump, load } from "../brine.js";
import { dumpException, PyError } from "../py-errors.js";
import { isDumpable, type PyValue } from "../values.js";
import type { FromPoolWorker, PoolWorkerData, ToPoolWorker } from "./protocol.js";

/** What worker-boot.mjs hands over: an import() that can fall back to TypeScript hooks. */
type ModuleLoader = (url: string) => Promise<Record<string, unknown>>;

/** Called by worker-boot.mjs once this file is loaded. */
export async function start(loadModule: ModuleLoader): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error("the ThreadPoolServer worker runs only inside a worker thread");
  const { module, exportName } = workerData as PoolWorkerData;
  let service: Record<string, unknown>;
  try {
    const mod = await loadModule(module);
    const exported = mod[exportName];
    if (typeof exported === "function") service = new (exported as new () => Record<string, unknown>)();
    else if (typeof exported === "object" && exported !== null) service = exported as Record<string, unknown>;
    else throw new Error(`${module} has no export ${JSON.stringify(exportName)} (a Service class or instance)`);
  } catch (err) {
    port.postMessage({ t: "load-error", message: err instanceof Error ? err.message : String(err) } satisfies FromPoolWorker);
    return;
  }
  const post = (msg: FromPoolWorker): void => port.postMessage(msg);
  port.on("message", (msg: ToPoolWorker) => {
    if (msg.t === "call") void call(service, msg, post);
  });
  post({ t: "ready" });
}

async function call(service: Record<string, unknown>, msg: ToPoolWorker, post: (msg: FromPoolWorker) => void): Promise<void> {
  try {
    const args = load(msg.args) as readonly PyValue[];
    const kwargs = msg.kwargs ? (load(msg.kwargs) as ReadonlyArray<readonly [string, unknown]>) : [];
    const fn = service[msg.member];
    if (typeof fn !== "function") throw new PyError("AttributeError", [`the pooled service has no method ${JSON.stringify(msg.member)}`]);
    const result: unknown = await fn.apply(service, bindArgs(fn, msg.label, args, kwargs));
    if (!isDumpable(result)) throw notBrine(msg.label, result);
    post({ t: "result", id: msg.id, value: dump(result as PyValue) });
  } catch (err) {
    post({ t: "error", id: msg.id, error: dump(dumpException(err, { includeLocalTraceback: true, includeLocalVersion: true })) });
  }
}

function notBrine(label: string, value: unknown): PyError {
  const what = Array.isArray(value) ? "a tuple holding a non-brine value" : typeof value === "object" ? `a ${(value as object).constructor?.name ?? "object"}` : `a ${typeof value}`;
  return new PyError("TypeError", [
    `${label}() runs on a ThreadPoolServer worker thread and returned ${what}, which cannot leave the thread: ` +
      "pooled methods return brine values only (None, bool, int, float, str, bytes, tuple, frozenset, slice, complex); " +
      `list ${JSON.stringify(label)} in mainThread to return objects by reference`,
  ]);
}
