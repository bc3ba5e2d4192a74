// Runs inside each cluster worker process (loaded by worker-boot.mjs): calls the user's
// start(info), reports the bound port to the primary, and drains on the primary's word:
// health NOT_SERVING, the drain delay, stop(grace), exit. A worker whose primary is gone
// (the IPC channel closed) drains with no grace and exits, so no worker outlives its cluster.
import { isToWorker, type FromWorker, type WorkerConfig } from "./protocol.js";
import type { WorkerInfo, WorkerServing, WorkerStart } from "./types.js";

/** What worker-boot.mjs hands over: an import() that can fall back to TypeScript hooks. */
export type ModuleLoader = (url: string) => Promise<Record<string, unknown>>;

function send(message: FromWorker, then?: () => void): void {
  if (!process.connected || !process.send) {
    then?.();
    return;
  }
  // The callback runs once the message is handed to the channel, so an exit after it loses nothing.
  process.send(message, undefined, {}, () => then?.());
}

/** The port a start() result reports. */
export function reportedPort(serving: WorkerServing, info: WorkerInfo): number | undefined {
  const port = serving.port ?? serving.ports?.[0] ?? (info.port > 0 ? info.port : undefined);
  return typeof port === "number" && port > 0 ? port : undefined;
}

/** Serves one worker; called by worker-boot.mjs. */
export async function runWorker(config: WorkerConfig, load: ModuleLoader): Promise<void> {
  const info: WorkerInfo = Object.freeze({ ...config.info });
  let serving: WorkerServing | undefined;
  let draining = false;
  let pendingStop: { graceMs: number; drainDelayMs: number } | undefined;

  const drain = async (graceMs: number, drainDelayMs: number): Promise<void> => {
    if (draining) return;
    draining = true;
    send({ sbc: "draining" });
    try {
      serving?.health?.setAllNotServing();
      if (drainDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, drainDelayMs));
      if (serving?.stop) await serving.stop(graceMs);
      else await serving?.close?.();
      send({ sbc: "stopped" }, () => process.exit(0));
    } catch (err) {
      process.stderr.write(`switchboard cluster worker ${info.id}: stop failed: ${err instanceof Error ? err.message : String(err)}\n`);
      send({ sbc: "stopped" }, () => process.exit(1));
    }
  };

  process.on("message", (m: unknown) => {
    if (!isToWorker(m)) return;
    if (serving) void drain(m.graceMs, m.drainDelayMs);
    else pendingStop = { graceMs: m.graceMs, drainDelayMs: m.drainDelayMs };
  });
  // The primary is gone: nobody will restart or stop us.
  process.on("disconnect", () => {
    if (serving) void drain(0, 0);
    else process.exit(0);
  });
  // A terminal's Ctrl-C reaches the whole process group; the primary decides how workers stop.
  process.on("SIGINT", () => {});
  // SIGTERM sent to one worker: drain it like a stop with a short grace (the primary replaces it).
  process.on("SIGTERM", () => void drain(5000, 0));

  try {
    const mod = await load(config.module);
    const start = mod[config.export];
    if (typeof start !== "function") throw new Error(`${config.module} has no exported function ${JSON.stringify(config.export)}`);
    const result = await (start as WorkerStart)(info);
    if (typeof result !== "object" || result === null || (typeof result.stop !== "function" && typeof result.close !== "function"))
      throw new Error(`${config.export}() must return what it started: an object with stop(graceMs) or close() (a Server, an RPyC server, a JSON-RPC transport)`);
    const port = reportedPort(result, info);
    if (port === undefined) throw new Error(`${config.export}() returned no bound port: return an object with port or ports (a gRPC Server has ports)`);
    serving = result;
    send({ sbc: "serving", port });
    if (pendingStop) void drain(pendingStop.graceMs, pendingStop.drainDelayMs);
  } catch (err) {
    const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
    send({ sbc: "failed", message }, () => process.exit(1));
  }
}
