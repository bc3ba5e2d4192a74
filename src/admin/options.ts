// The admin server's options, checked once: a bad value is an error naming it, before any port
// is bound.
import { ErrorCode, SwitchboardError } from "../errors.js";
import type { ServerMetrics } from "../metrics/prometheus.js";
import type { HealthService } from "../services/health/service.js";
import { isLoopback } from "./auth.js";

/** Options of startAdmin() and of `new Server({ admin })`. */
export interface AdminOptions {
  /** Address to bind (default 127.0.0.1). */
  host?: string;
  /** Port to bind; 0 picks a free one (read it back from `AdminServer.port`). */
  port: number;
  /**
   * A secret every request must carry, as `Authorization: Bearer <token>` or `?token=<token>`
   * (the dashboard passes its `?token=` on to its event stream). Without one, only loopback
   * hosts may be bound, and requests must name a loopback host.
   */
  token?: string;
  /** Allow a non-loopback `host` without a token (default false: ERR_SB_ADMIN_UNPROTECTED). */
  allowUnauthenticated?: boolean;
  /**
   * The metrics served on /metrics (already attached to the server by the caller). Default: a
   * ServerMetrics of the admin server's own, attached while it runs.
   */
  metrics?: ServerMetrics;
  /** The health service whose per-service status /health and the dashboard report. */
  health?: HealthService;
  /** Dashboard event streams open at once; more get 503 (default 32). */
  maxEventClients?: number;
  /** How often the event stream sends a snapshot, in ms (default 1000). */
  intervalMs?: number;
}

/** AdminOptions with defaults filled in. */
export interface ResolvedAdminOptions {
  host: string;
  port: number;
  token: string | undefined;
  loopbackOnly: boolean;
  metrics: ServerMetrics | undefined;
  health: HealthService | undefined;
  maxEventClients: number;
  intervalMs: number;
}

/** Checks the options; throws BAD_OPTION or ADMIN_UNPROTECTED. */
export function resolveAdminOptions(options: AdminOptions): ResolvedAdminOptions {
  if (!options || typeof options !== "object") throw bad("admin options must be an object { port, host?, token? }");
  const host = options.host ?? "127.0.0.1";
  if (typeof host !== "string" || host === "") throw bad(`admin host must be a non-empty string, not ${JSON.stringify(host)}`);
  const port = options.port;
  if (typeof port !== "number" || !Number.isInteger(port) || port < 0 || port > 65535) throw bad(`admin port must be an integer from 0 to 65535, not ${JSON.stringify(port)}`);
  const token = options.token;
  if (token !== undefined && (typeof token !== "string" || token === "" || /\s/.test(token))) throw bad("admin token must be a non-empty string without whitespace");
  const loopbackOnly = isLoopback(host);
  if (!loopbackOnly && token === undefined && options.allowUnauthenticated !== true) {
    throw new SwitchboardError(
      ErrorCode.ADMIN_UNPROTECTED,
      `the admin server would listen on ${host}, beyond loopback, without a token: set a token, or allowUnauthenticated: true to expose it anyway`,
    );
  }
  const maxEventClients = options.maxEventClients ?? 32;
  if (!Number.isInteger(maxEventClients) || maxEventClients < 1) throw bad(`admin maxEventClients must be a whole number >= 1, not ${String(maxEventClients)}`);
  const intervalMs = options.intervalMs ?? 1000;
  if (typeof intervalMs !== "number" || !(intervalMs >= 50) || !Number.isFinite(intervalMs)) throw bad(`admin intervalMs must be a number of ms >= 50, not ${String(intervalMs)}`);
  return { host, port, token, loopbackOnly, metrics: options.metrics, health: options.health, maxEventClients, intervalMs };
}

function bad(message: string): SwitchboardError {
  return new SwitchboardError(ErrorCode.BAD_OPTION, message);
}
