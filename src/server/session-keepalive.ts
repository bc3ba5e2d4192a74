import type { Http2Session } from "node:http2";

/**
 * Pings the client every `intervalMs` and closes the connection when a ping goes
 * unanswered for `timeoutMs` (gRPC keepalive, server side). Timers never hold the
 * process open and are released with the session.
 */
export function watchSession(session: Http2Session, intervalMs: number, timeoutMs: number): void {
  if (!Number.isFinite(intervalMs) || intervalMs <= 0) return;
  let deadline: NodeJS.Timeout | undefined;
  const tick = setInterval(() => {
    if (session.closed || session.destroyed || deadline) return;
    deadline = setTimeout(() => session.destroy(), timeoutMs);
    deadline.unref();
    try {
      session.ping(() => {
        clearTimeout(deadline);
        deadline = undefined;
      });
    } catch {
      clearTimeout(deadline);
      deadline = undefined;
    }
  }, Math.min(intervalMs, 2 ** 31 - 1));
  tick.unref();
  session.once("close", () => {
    clearInterval(tick);
    if (deadline) clearTimeout(deadline);
  });
}
