// Small helpers the server's modules share. They live apart so the modules that use them
// (call path, connection limits, shutdown) need not import one another for a one-liner.

/** Whether a handler's or hook's result is a promise (or any thenable) to wait for. */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && typeof value === "object" && typeof (value as { then?: unknown }).then === "function";
}

/** Resolves once `condition()` holds or `maxMs` passed, whichever comes first (polled every 5 ms). */
export function waitFor(condition: () => boolean, maxMs: number): Promise<void> {
  return new Promise((resolve) => {
    const started = Date.now();
    const check = () => {
      if (condition() || Date.now() - started >= maxMs) resolve();
      else setTimeout(check, 5);
    };
    check();
  });
}

/** An 'error' listener for an emitter whose errors must not reach the process as unhandled. */
export function ignoreError(): void {
  // Reported elsewhere (or nothing to report): a listener only keeps 'error' from being unhandled.
}
