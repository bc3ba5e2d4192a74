// The metrics-overhead benchmark's server: the Bench service on our HTTP/2 engine with
//   --mode off    no observer attached
//   --mode prom   ServerMetrics attached, scraped once a second
//   --mode full   ServerMetrics (scraped once a second) and OpenTelemetry through
//                 @opentelemetry/sdk-metrics (exported once a second to an in-memory exporter)
//   node --import tsx bench/metrics/server.ts --mode full --port 0
// Prints `listening on 127.0.0.1:<port>`; the stdin line "cpu" answers {"cpuMs": ...} (the
// process's user+system CPU so far); stdin closing stops it.
import { createInterface } from "node:readline";
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from "@opentelemetry/sdk-metrics";
import { Server } from "../../src/index.js";
import { attachOpenTelemetry } from "../../src/metrics/otel.js";
import { ServerMetrics } from "../../src/metrics/prometheus.js";
import { Bench } from "../gen/bench_pb.js";

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(name);
  return i < 0 ? fallback : process.argv[i + 1]!;
};
const mode = arg("--mode", "off");
if (!["off", "prom", "full"].includes(mode)) throw new Error(`bad --mode ${mode} (off, prom or full)`);

const server = new Server({ transport: "switchboard" });
// Only Unary is measured (bench/servers/switchboard.ts starts a server when imported, so not reused).
server.addService(Bench, { unary: (request) => ({ body: request.body }) });
const timers: NodeJS.Timeout[] = [];
let provider: MeterProvider | undefined;
if (mode !== "off") {
  const metrics = new ServerMetrics();
  metrics.attach(server);
  // A scrape a second: far more often than Prometheus' usual 15 s, so its cost shows.
  timers.push(setInterval(() => void metrics.metrics(), 1000));
}
if (mode === "full") {
  const reader = new PeriodicExportingMetricReader({ exporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE), exportIntervalMillis: 1000 });
  provider = new MeterProvider({ readers: [reader] });
  attachOpenTelemetry(server, { meterProvider: provider });
}
const port = await server.addInsecurePort(`127.0.0.1:${arg("--port", "0")}`);
server.start();
process.stdout.write(`listening on 127.0.0.1:${port}\n`);

const lines = createInterface({ input: process.stdin });
lines.on("line", (line) => {
  if (line.trim() === "cpu") {
    const u = process.cpuUsage();
    process.stdout.write(`${JSON.stringify({ cpuMs: (u.user + u.system) / 1000 })}\n`);
  }
});
lines.on("close", () => {
  for (const t of timers) clearInterval(t);
  void Promise.all([server.stop(0), provider?.shutdown()]).finally(() => process.exit(0));
  setTimeout(() => process.exit(0), 1000).unref();
});
