// The admin HTTP server: /metrics (Prometheus), /health (JSON), the dashboard page, its event
// stream and a JSON snapshot, on a port of its own (node:http, never the RPC port), so that
// scraping and watching a server neither competes with its calls nor shares its exposure.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { ErrorCode, SwitchboardError } from "../errors.js";
import { ServerMetrics } from "../metrics/prometheus.js";
import type { Server } from "../server/server.js";
import { ServingStatus } from "../services/health/service.js";
import { authorize } from "./auth.js";
import { healthSummary, serverSnapshot, type ServerSnapshot } from "./health.js";
import { resolveAdminOptions, type AdminOptions, type ResolvedAdminOptions } from "./options.js";
import { dashboardPage } from "./page.js";
import { RuntimeSampler, type RuntimeSnapshot } from "./runtime.js";
import { EventHub } from "./sse.js";
import { DashboardStats, type CallsSnapshot } from "./stats.js";

/** Everything the dashboard shows at one moment (GET /api/snapshot, and each event). */
export interface DashboardSnapshot {
  /** Counts up with every snapshot the admin server builds. */
  readonly seq: number;
  /** ISO time of the snapshot. */
  readonly time: string;
  readonly server: ServerSnapshot;
  /** The overall health status ("" service), or null without a health service. */
  readonly health: string | null;
  readonly calls: CallsSnapshot;
  readonly runtime: RuntimeSnapshot;
}

/** A running admin server. */
export interface AdminServer {
  /** The bound address and port (the real one when 0 was asked for). */
  readonly host: string;
  readonly port: number;
  /** `http://host:port/`, the dashboard's address (without the token). */
  readonly url: string;
  /** The call numbers it keeps (also an observer of the server while it runs). */
  readonly stats: DashboardStats;
  /** The numbers the dashboard shows now. */
  snapshot(): Promise<DashboardSnapshot>;
  /** Stops listening, ends the event streams and stops observing the server; idempotent. */
  close(): Promise<void>;
}

/** Connections the admin port keeps open at once (browsers hold a few each). */
const MAX_CONNECTIONS = 128;
/** How long a connection may take to send a request's headers, and the whole request. */
const ADMIN_HEADERS_TIMEOUT_MS = 10_000;
const ADMIN_REQUEST_TIMEOUT_MS = 15_000;

/**
 * Starts the admin server of `server` on `options.host` (default 127.0.0.1) and
 * `options.port`: GET /metrics, /health, / (the dashboard), /events (Server-Sent Events) and
 * /api/snapshot. Rejects with ERR_SB_BAD_OPTION or ERR_SB_ADMIN_UNPROTECTED for bad options,
 * and ERR_SB_BIND_FAILED when the port cannot be bound.
 */
export async function startAdmin(server: Server, options: AdminOptions): Promise<AdminServer> {
  const o = resolveAdminOptions(options);
  const startedAt = performance.now();
  const stats = new DashboardStats();
  const sampler = new RuntimeSampler();
  const metrics = o.metrics ?? new ServerMetrics();
  const detach: (() => void)[] = [server.observe(stats)];
  if (!o.metrics) detach.push(metrics.attach(server));
  sampler.start();
  let seq = 0;
  const snapshot = async (): Promise<DashboardSnapshot> => {
    const health = o.health ? await o.health.status() : undefined;
    return {
      seq: ++seq,
      time: new Date().toISOString(),
      server: serverSnapshot(server, startedAt),
      health: health === undefined ? null : (ServingStatus[health] ?? String(health)),
      calls: stats.snapshot(),
      runtime: sampler.snapshot(),
    };
  };
  const hub = new EventHub(snapshot, o.intervalMs, o.maxEventClients);
  const http = createServer((req, res) => {
    void handle(req, res, { o, server, metrics, hub, snapshot, startedAt }).catch((err: unknown) => {
      if (!res.headersSent) send(res, 500, "text/plain; charset=utf-8", `admin request failed: ${err instanceof Error ? err.message : String(err)}\n`);
      else res.destroy();
    });
  });
  http.maxConnections = MAX_CONNECTIONS;
  // Connections trickling their request headers must not hold the few slots for long (Node's
  // defaults: 60 s for headers, 300 s per request). Event streams are past their request and
  // write every intervalMs, so neither limit ends them.
  http.headersTimeout = ADMIN_HEADERS_TIMEOUT_MS;
  http.requestTimeout = ADMIN_REQUEST_TIMEOUT_MS;
  const cleanup = () => {
    hub.close();
    sampler.stop();
    for (const d of detach) d();
  };
  try {
    await new Promise<void>((resolve, reject) => {
      http.once("error", reject);
      http.listen(o.port, o.host, () => {
        http.off("error", reject);
        resolve();
      });
    });
  } catch (err) {
    cleanup();
    throw new SwitchboardError(ErrorCode.BIND_FAILED, `the admin server cannot listen on ${o.host}:${o.port}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  // Errors of single connections (resets) must not crash the process.
  http.on("clientError", (_err, socket) => socket.destroy());
  const port = (http.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    host: o.host,
    port,
    url: `http://${o.host.includes(":") ? `[${o.host}]` : o.host}:${port}/`,
    stats,
    snapshot,
    close() {
      closing ??= new Promise<void>((resolve) => {
        cleanup();
        http.close(() => resolve());
        http.closeAllConnections();
      });
      return closing;
    },
  };
}

interface Context {
  o: ResolvedAdminOptions;
  server: Server;
  metrics: ServerMetrics;
  hub: EventHub;
  snapshot: () => Promise<unknown>;
  startedAt: number;
}

async function handle(req: IncomingMessage, res: ServerResponse, c: Context): Promise<void> {
  let url: URL;
  try {
    url = new URL(req.url ?? "/", "http://admin.invalid");
  } catch {
    return send(res, 400, "text/plain; charset=utf-8", "bad request target\n");
  }
  // Authorization first: without the token, nothing else (not even which paths exist) is told.
  const refusal = authorize(req, url, c.o.token, c.o.loopbackOnly);
  if (refusal) {
    if (refusal.status === 401) res.setHeader("www-authenticate", 'Bearer realm="switchboard-admin"');
    return send(res, refusal.status, "text/plain; charset=utf-8", `${refusal.message}\n`);
  }
  const route = ROUTES.get(url.pathname);
  if (!route) return send(res, 404, "text/plain; charset=utf-8", `no such admin page: ${url.pathname} (try /, /metrics, /health, /events, /api/snapshot)\n`);
  if (req.method !== "GET") {
    res.setHeader("allow", "GET");
    return send(res, 405, "text/plain; charset=utf-8", `${req.method ?? "?"} is not allowed here: the admin server answers GET only\n`);
  }
  await route(req, res, c);
}

type Route = (req: IncomingMessage, res: ServerResponse, c: Context) => Promise<void> | void;

// A Map, not an object: a path like /constructor must not find Object.prototype members.
const ROUTES: ReadonlyMap<string, Route> = new Map<string, Route>(Object.entries({
  "/": (_req, res) => {
    res.setHeader("content-security-policy", "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
    send(res, 200, "text/html; charset=utf-8", dashboardPage());
  },
  "/metrics": async (_req, res, c) => {
    send(res, 200, c.metrics.contentType, await c.metrics.metrics());
  },
  "/health": async (_req, res, c) => {
    const summary = await healthSummary(c.server, c.o.health, c.startedAt);
    // Load balancers read the status code: 200 only while SERVING.
    send(res, summary.status === "SERVING" ? 200 : 503, "application/json; charset=utf-8", `${JSON.stringify(summary, null, 2)}\n`);
  },
  "/api/snapshot": async (_req, res, c) => {
    send(res, 200, "application/json; charset=utf-8", `${JSON.stringify(await c.snapshot())}\n`);
  },
  "/events": (_req, res, c) => {
    if (c.hub.full) {
      res.setHeader("retry-after", "5");
      return send(res, 503, "text/plain; charset=utf-8", "too many dashboard event streams are open; try again later\n");
    }
    c.hub.add(res);
  },
} satisfies Record<string, Route>));

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, {
    "content-type": contentType,
    "content-length": Buffer.byteLength(body),
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
  });
  res.end(body);
}
