import type { Http2Session } from "node:http2";

/**
 * Pings the peer every `intervalMs` and destroys the session when a ping goes
 * unanswered for `timeoutMs` (gRPC keepalive; used by servers and channels). Timers
 * never hold the process open and are released with the session.
 */
export function keepAlive(session: Http2Session, intervalMs: number | undefined, timeoutMs: number): void {
  if (intervalMs === undefined) return;
  if (!Number.isFinite(intervalMs) || intervalMs <= 0) return;
  let deadline: NodeJS.Timeout | undefined;
  const tick = setInterval(() => {
    if (session.closed || session.destroyed || deadline) return;
    deadline = setTimeout(() => session.destroy(new Error(`keepalive ping not answered within ${timeoutMs} ms`)), timeoutMs);
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

/** One ping with a deadline: the session is destroyed unless the peer answers within `timeoutMs`. */
export function probeSession(session: Http2Session, timeoutMs: number): void {
  if (session.closed || session.destroyed) return;
  const deadline = setTimeout(() => session.destroy(new Error(`ping not answered within ${timeoutMs} ms`)), timeoutMs);
  deadline.unref();
  try {
    session.ping(() => clearTimeout(deadline));
  } catch {
    clearTimeout(deadline);
    session.destroy();
  }
}
