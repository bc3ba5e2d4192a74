// Small timing helpers shared by the lease keep-alive, the watcher and registration.

/** Waits `ms` (unref'd: a wait alone never holds the process open), or less when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, Math.max(0, ms));
    timer.unref();
    signal?.addEventListener("abort", done, { once: true });
  });
}

/** Resolves with the promise's value, or with `TIMED_OUT` after `ms` (the promise keeps running). */
export const TIMED_OUT: unique symbol = Symbol("timed out");
export function within<T>(p: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), Math.max(0, ms));
    timer.unref();
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** Retry delays: `initialMs` doubling up to `maxMs`, with ±20 % jitter so many clients do not retry in step. */
export class Backoff {
  private next: number;
  constructor(
    private readonly initialMs = 100,
    private readonly maxMs = 2000,
  ) {
    this.next = initialMs;
  }
  delay(): number {
    const d = this.next * (0.8 + Math.random() * 0.4);
    this.next = Math.min(this.maxMs, this.next * 2);
    return d;
  }
  reset(): void {
    this.next = this.initialMs;
  }
}
