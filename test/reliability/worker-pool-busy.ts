// The CPU-bound work of row 25, run on a WorkerPool thread by worker-pool-server.ts (and, for
// the contrast, inline on the event loop). Raw bytes in and out.

/** Spins for the milliseconds given as ASCII digits (capped at 10 s) without yielding; answers "spun <ms>". */
export function spin(request: Uint8Array): Uint8Array {
  const ms = Math.min(Number(Buffer.from(request).toString("latin1")) || 0, 10_000);
  const end = Date.now() + ms;
  while (Date.now() < end);
  return Buffer.from(`spun ${ms}`);
}
