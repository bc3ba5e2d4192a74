// What every new HTTP/2 connection gets from the server options: the connection flow-control
// window, keepalive pings, the ConnectionGuard (ping policy, idle and age limits, rapid reset)
// and the handshake timeout. Apart from the server so the per-connection policy is read in one
// place, while the server only keeps track of which sessions are open.
import type { SessionLike } from "../grpc/transport.js";
import { keepAlive } from "../http2/keepalive.js";
import { ConnectionGuard } from "./connection-guard.js";
import type { ResolvedServerOptions } from "./options.js";

/** Applies the per-connection settings and protections to a new session. */
export function setUpSession(session: SessionLike, o: ResolvedServerOptions): void {
  if (o.connectionWindowSize !== undefined) {
    try {
      session.setLocalWindowSize(o.connectionWindowSize);
    } catch {
      // Only fails on a session that is already closing.
    }
  }
  const pings = keepAlive(session, o.keepaliveTimeMs, o.keepaliveTimeoutMs, { maxPingsWithoutData: o.keepaliveMaxPingsWithoutData });
  new ConnectionGuard(session, o.guard, { afterMs: o.handshakeTimeoutMs, timeoutMs: o.keepaliveTimeoutMs }, pings);
  // Until the client's SETTINGS arrive, silence ends the connection (a peer that never speaks).
  session.setTimeout(o.handshakeTimeoutMs, () => session.destroy());
  session.once("remoteSettings", () => session.setTimeout(0));
}
