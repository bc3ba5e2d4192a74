// Metrics of servers and channels: Prometheus (prom-client, go-grpc-prometheus names) and
// OpenTelemetry (@opentelemetry/api, RPC semantic conventions). See docs/observability.md.
export { ClientMetrics, ServerMetrics } from "./prometheus.js";
export type { MetricsOptions, ServerMetricsOptions } from "./options.js";
export { DEFAULT_BUCKETS, OTHER_LABELS, type RpcLabels } from "./labels.js";
export { attachClientOpenTelemetry, attachOpenTelemetry, OTHER_METHOD, type OpenTelemetryOptions } from "./otel.js";
