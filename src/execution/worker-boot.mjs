// The first file a pool thread runs. Plain JavaScript on purpose: on Node 20, module hooks
// registered in the main thread (`node --import tsx`) do not reach worker threads, and tsx
// only registers itself in the main thread there, so a worker could not even load
// worker-entry.ts. This file imports it and the user's module, and when an import fails
// with ERR_UNKNOWN_FILE_EXTENSION it registers tsx's hooks in this thread and tries again.
import { workerData } from "node:worker_threads";

let typescript = false;

/** import() with a TypeScript fallback through tsx (when it is installed). */
async function load(url) {
  try {
    return await import(url);
  } catch (err) {
    if (err?.code !== "ERR_UNKNOWN_FILE_EXTENSION" || typescript) throw err;
    try {
      const { register } = await import("tsx/esm/api");
      register();
    } catch (cause) {
      throw new Error(`${url} is TypeScript, and worker threads of this Node.js cannot load it without tsx (install tsx or compile the module to JavaScript)`, { cause });
    }
    typescript = true;
    // The failed URL stays cached as failed in this thread's module map; a query makes it a new entry.
    const again = new URL(url);
    again.searchParams.set("switchboard-ts", "1");
    return import(again.href);
  }
}

const { start } = await load(workerData.entry);
await start(load);
