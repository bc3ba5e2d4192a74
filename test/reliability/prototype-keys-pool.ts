// Run on a WorkerPool thread by prototype-keys.test.ts (row 32): what the worker sees of the
// invocation metadata, which crosses the thread boundary as Metadata.toJSON().
import type { WorkerContext } from "../../src/execution/context.js";

/** The metadata entries the worker received, as JSON `[key, value][]` (text values only). */
export function seen(_req: Uint8Array, ctx: WorkerContext): Uint8Array {
  const entries = [...ctx.metadata].filter(([, v]) => typeof v === "string");
  return Buffer.from(JSON.stringify(entries));
}
