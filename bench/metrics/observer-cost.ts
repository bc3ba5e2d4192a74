// In-process cost of the observers on one call's events (callStarted, messageReceived,
// messageSent, callEnded), in ns per call: the part of the metrics overhead that is ours,
// measured without the noise of a network benchmark.
//   node --import tsx bench/metrics/observer-cost.ts --mode prom
// Modes: none (no observer), prom (ServerMetrics), otel (attachOpenTelemetry with
// @opentelemetry/sdk-metrics), full (both). Prints one JSON line {"mode", "nsPerCall"}.
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from "@opentelemetry/sdk-metrics";
import type { ObservedCall } from "../../src/call/observer.js";
import { Server } from "../../src/index.js";
import { attachOpenTelemetry } from "../../src/metrics/otel.js";
import { ServerMetrics } from "../../src/metrics/prometheus.js";
import { Code } from "../../src/status.js";

const i = process.argv.indexOf("--mode");
const mode = i < 0 ? "full" : process.argv[i + 1]!;
if (!["none", "prom", "otel", "full"].includes(mode)) throw new Error(`bad --mode ${mode}`);

const server = new Server();
if (mode === "prom" || mode === "full") new ServerMetrics().attach(server);
let provider: MeterProvider | undefined;
if (mode === "otel" || mode === "full") {
  provider = new MeterProvider({ readers: [new PeriodicExportingMetricReader({ exporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE), exportIntervalMillis: 1000 })] });
  attachOpenTelemetry(server, { meterProvider: provider });
}

// What a unary call of bench.Bench/Unary shows its observers.
const call: ObservedCall = {
  method: { path: "/bench.Bench/Unary", service: "bench.Bench", name: "Unary", kind: "unary" },
  peer: "127.0.0.1:1",
  session: undefined,
  protocol: "grpc",
  startedAt: 0,
  messagesReceived: 1,
  messagesSent: 1,
};

const set = server.observers;
function round(n: number): number {
  const t = process.hrtime.bigint();
  for (let k = 0; k < n; k++) {
    // The same checks the call path makes.
    if (set.active) {
      set.callStarted(call);
      set.messageReceived(call);
      set.messageSent(call);
      set.callEnded(call, Code.OK, 0.2);
    }
  }
  return Number(process.hrtime.bigint() - t) / n;
}

const n = 300_000;
for (let w = 0; w < 3; w++) round(n); // warm-up: let the JIT settle
const samples = Array.from({ length: 5 }, () => round(n)).sort((a, b) => a - b);
process.stdout.write(`${JSON.stringify({ mode, nsPerCall: samples[2] })}\n`);
await provider?.shutdown();
process.exit(0);
