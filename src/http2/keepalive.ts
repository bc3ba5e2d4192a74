import type { SessionLike } from "../grpc/transport.js";

/** What keepAlive() may be asked besides interval and timeout. */
export interface KeepaliveOptions {
  /**
   * Pings sent in a row while this side sends no HEADERS or DATA; after that many, pinging
   * pauses until `sentHeadersOrData()` is called (grpclib `_http2_max_pings_without_data`,
   * C-core GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA). 0 or undefined: no limit.
   */
  maxPingsWithoutData?: number;
}

/** The pinger's count of pings since this side last sent HEADERS or DATA. */
export interface KeepaliveState {
  pingsWithoutData: number;
}

const states = new WeakMap<SessionLike, KeepaliveState>();

/**
 * This side sent HEADERS or DATA on `session`: pings are welcome again. Free when the
 * session has no ping limit (nothing is registered for it then).
 */
export function sentHeadersOrData(session: SessionLike | undefined): void {
  if (session === undefined) return;
  const state = states.get(session);
  if (state) state.pingsWithoutData = 0;
}

/**
 * Pings the peer every `intervalMs` and destroys the session when a ping goes
 * unanswered for `timeoutMs` (gRPC keepalive; used by servers and channels). Timers
 * never hold the process open and are released with the session. Returns the ping
 * counter when a `maxPingsWithoutData` limit applies (reset it, or call
 * sentHeadersOrData(), whenever HEADERS or DATA go out).
 */
export function keepAlive(session: SessionLike, intervalMs: number | undefined, timeoutMs: number, options: KeepaliveOptions = {}): KeepaliveState | undefined {
  if (intervalMs === undefined) return undefined;
  if (!Number.isFinite(intervalMs) || intervalMs <= 0) return undefined;
  const max = options.maxPingsWithoutData ?? 0;
  const state: KeepaliveState | undefined = max > 0 ? { pingsWithoutData: 0 } : undefined;
  if (state) states.set(session, state);
  let deadline: NodeJS.Timeout | undefined;
  const tick = setInterval(() => {
    if (session.closed || session.destroyed || deadline) return;
    // Too many pings without data: a peer (or a proxy) may count them as abuse; wait for data.
    if (state && state.pingsWithoutData >= max) return;
    deadline = setTimeout(() => session.destroy(new Error(`keepalive ping not answered within ${timeoutMs} ms`)), timeoutMs);
    deadline.unref();
    try {
      session.ping(() => {
        clearTimeout(deadline);
        deadline = undefined;
      });
      if (state) state.pingsWithoutData++;
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
  return state;
}

/** One ping with a deadline: the session is destroyed unless the peer answers within `timeoutMs`. */
export function probeSession(session: SessionLike, timeoutMs: number): void {
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
