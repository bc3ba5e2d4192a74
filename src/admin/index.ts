// The admin server and live dashboard: startAdmin(server, { port }) or new Server({ admin }).
export { startAdmin, type AdminServer, type DashboardSnapshot } from "./admin-server.js";
export type { AdminOptions } from "./options.js";
export { DashboardStats, OTHER_METHOD, type CallsSnapshot, type DashboardStatsOptions, type MethodSnapshot } from "./stats.js";
export type { HealthSummary, ServerSnapshot } from "./health.js";
export type { RuntimeSnapshot } from "./runtime.js";
export { LatencyHistogram } from "./latency.js";
