/** Anything that can be stopped gracefully (a Server). */
export interface Stoppable {
  stop(graceMs?: number): Promise<void>;
}

/** Options for gracefulExit(). */
export interface GracefulExitOptions {
  /** Signals to handle (default SIGINT and SIGTERM). */
  signals?: readonly NodeJS.Signals[];
  /** Grace given to running calls on the first signal (default 5 s). */
  graceMs?: number;
  /** Called with the stop's outcome after the first signal (default: nothing). */
  onStopped?: (err?: unknown) => void;
}

const SIGNAL_NUMBERS: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 2, SIGTERM: 15, SIGHUP: 1, SIGQUIT: 3 };

/**
 * grpclib `graceful_exit([servers])`: the first SIGINT/SIGTERM stops every server
 * gracefully (new calls refused, running calls get the grace); a second signal exits at
 * once with 128 + the signal number. Returns a function that removes the handlers
 * (also usable with `using`).
 */
export function gracefulExit(servers: readonly Stoppable[], options: GracefulExitOptions = {}): (() => void) & Disposable {
  const signals = options.signals ?? ["SIGINT", "SIGTERM"];
  let received = false;
  const handler = (signal: NodeJS.Signals) => {
    if (received) process.exit(128 + (SIGNAL_NUMBERS[signal] ?? 0));
    received = true;
    Promise.all(servers.map((s) => s.stop(options.graceMs ?? 5000))).then(
      () => options.onStopped?.(),
      (err: unknown) => options.onStopped?.(err),
    );
  };
  for (const s of signals) process.on(s, handler);
  const remove = () => {
    for (const s of signals) process.off(s, handler);
  };
  return Object.assign(remove, { [Symbol.dispose]: remove });
}
