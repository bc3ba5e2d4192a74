// The first file a cluster worker process runs. Plain JavaScript on purpose: the primary may
// run TypeScript through tsx's register() (bin/switchboard.js does), which a forked process
// does not inherit, so a worker could not even load worker-entry.ts. This file imports it and
// the user's module, and when an import fails with ERR_UNKNOWN_FILE_EXTENSION it registers
// tsx's hooks in this process and tries again.
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
      throw new Error(`${url} is TypeScript, and this Node.js cannot load it without tsx (install tsx or compile the module to JavaScript)`, { cause });
    }
    typescript = true;
    // The failed URL stays cached as failed in the module map; a query makes it a new entry.
    const again = new URL(url);
    again.searchParams.set("switchboard-ts", "1");
    return import(again.href);
  }
}

const config = JSON.parse(process.env.SWITCHBOARD_CLUSTER_WORKER ?? "null");
if (!config) throw new Error("worker-boot.mjs runs only as a worker forked by serveWorkers()");
// Processes this worker starts must not take themselves for workers: the mark moves from the
// environment to this process (isWorker reads it).
delete process.env.SWITCHBOARD_CLUSTER_WORKER;
globalThis[Symbol.for("switchboard.cluster.worker")] = true;
const { runWorker } = await load(config.entry);
await runWorker(config, load);
