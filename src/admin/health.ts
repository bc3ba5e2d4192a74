// The server half of a snapshot (state, ports, connections, calls) and the /health summary:
// the server state plus, when the admin server was given the HealthService, the serving
// status of every service it knows.
import type { Server } from "../server/server.js";
import { ServingStatus, type HealthService } from "../services/health/service.js";

/** What the server itself says. */
export interface ServerSnapshot {
  /** new, serving, stopping or stopped. */
  readonly state: string;
  readonly ports: readonly number[];
  /** Connections open on the server's ports (before and after their handshake). */
  readonly connections: number;
  /** Connections past their HTTP/2 handshake (in-memory ones included). */
  readonly sessions: number;
  /** Calls (HTTP/2 streams) in progress. */
  readonly activeCalls: number;
  readonly uptimeSeconds: number;
}

/** The /health answer. */
export interface HealthSummary {
  /** The overall status: the health service's answer for the server (""), else SERVING while the server serves. */
  readonly status: string;
  readonly server: ServerSnapshot;
  /** Each service's status by full name ("" is the server); null without a health service. */
  readonly services: Readonly<Record<string, string>> | null;
}

/** The server's state and gauges; `startedAt` is performance.now() when the admin server started. */
export function serverSnapshot(server: Server, startedAt: number): ServerSnapshot {
  return {
    state: server.lifecycle,
    ports: server.ports,
    connections: server.openConnections,
    sessions: server.openSessions,
    activeCalls: server.activeCalls,
    uptimeSeconds: Math.round((performance.now() - startedAt) / 100) / 10,
  };
}

/** Runs the health service's checks (they keep their own TTLs) and sums up. */
export async function healthSummary(server: Server, health: HealthService | undefined, startedAt: number): Promise<HealthSummary> {
  const snapshot = serverSnapshot(server, startedAt);
  if (!health) return { status: snapshot.state === "serving" ? "SERVING" : "NOT_SERVING", server: snapshot, services: null };
  const services: Record<string, string> = {};
  for (const name of health.services()) {
    const status = await health.status(name);
    services[name] = status === undefined ? "SERVICE_UNKNOWN" : (ServingStatus[status] ?? String(status));
  }
  const overall = services[""] ?? "UNKNOWN";
  // A server that is not serving is not healthy, whatever its checks say.
  return { status: snapshot.state === "serving" ? overall : "NOT_SERVING", server: snapshot, services };
}
