// What crosses the IPC channel between the primary and a worker. Every message carries `sbc`
// (its type), so messages a user's own code sends with process.send() are left alone.

/** Worker -> primary. */
export type FromWorker =
  | { sbc: "serving"; port: number }
  | { sbc: "draining" }
  | { sbc: "failed"; message: string }
  | { sbc: "stopped" };

/** Primary -> worker. */
export type ToWorker = { sbc: "stop"; graceMs: number; drainDelayMs: number };

/** The environment variable holding a worker's WorkerConfig (JSON). */
export const CONFIG_ENV = "SWITCHBOARD_CLUSTER_WORKER";

/** What a worker process is told at its start. */
export interface WorkerConfig {
  /** URL of worker-entry (.ts from source, .js compiled), loaded by worker-boot.mjs. */
  entry: string;
  /** The user's module and export. */
  module: string;
  export: string;
  info: {
    slot: number;
    id: number;
    restarts: number;
    host: string;
    port: number;
    reusePort: boolean;
    data: unknown;
  };
}

/** Narrows an IPC message to ours. */
export function isFromWorker(m: unknown): m is FromWorker {
  return typeof m === "object" && m !== null && typeof (m as { sbc?: unknown }).sbc === "string";
}

/** Narrows an IPC message to ours. */
export function isToWorker(m: unknown): m is ToWorker {
  return typeof m === "object" && m !== null && (m as { sbc?: unknown }).sbc === "stop";
}
