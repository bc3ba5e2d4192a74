// Prometheus metrics for a Greeter server and its client, with the go-grpc-prometheus names,
// served at /metrics. Run: `npx tsx examples/observability/metrics.ts` makes a few calls,
// prints what Prometheus would scrape for them and exits; with `--serve` it keeps serving gRPC
// on 127.0.0.1:50051 and /metrics on 127.0.0.1:9464 (PORT=0 / METRICS_PORT=0 pick free ports).
import { createServer } from "node:http";
import { Channel, ClientMetrics, Code, attachOpenTelemetry, createClient, gracefulExit, RpcError, Server, ServerMetrics } from "switchboard";
import { Greeter } from "../gen/helloworld/helloworld_pb.js";

const server = new Server();
server.addService(Greeter, {
  sayHello: (request) => {
    if (request.name === "") throw new RpcError(Code.INVALID_ARGUMENT, "name is required");
    return { message: `Hello, ${request.name}!` };
  },
  async *sayHelloStream(request) {
    for (let i = 0; i < 3; i++) yield { message: `Hello #${i}, ${request.name}!` };
  },
});

// One ServerMetrics per process; attach() every server that should count (their counts add up).
const metrics = new ServerMetrics({ buckets: [0.001, 0.01, 0.1, 1] });
metrics.attach(server);
// rpc.server.call.duration for OpenTelemetry: a no-op until an SDK registers a MeterProvider
// (attach after the SDK starts, or pass { meterProvider }).
attachOpenTelemetry(server);

const port = await server.addInsecurePort(`127.0.0.1:${process.env["PORT"] ?? 50051}`);
server.start();

// The scrape endpoint: any HTTP server will do; the admin server can serve it too.
const http = createServer((req, res) => {
  if (req.url !== "/metrics") return void res.writeHead(404).end();
  metrics.metrics().then(
    (text) => res.writeHead(200, { "content-type": metrics.contentType }).end(text),
    (err: Error) => res.writeHead(500).end(err.message),
  );
});
await new Promise<void>((resolve) => http.listen(Number(process.env["METRICS_PORT"] ?? 9464), "127.0.0.1", resolve));
const metricsPort = (http.address() as { port: number }).port;
process.stdout.write(`listening on 127.0.0.1:${port}, metrics on http://127.0.0.1:${metricsPort}/metrics\n`);

// Client metrics (grpc_client_*) live in their own registry here; pass { registry } to share one.
const clientMetrics = new ClientMetrics();
const channel = new Channel(`127.0.0.1:${port}`);
clientMetrics.attach(channel);
const greeter = createClient(Greeter, channel);
for (const name of ["Ada", "Grace", ""]) {
  await greeter.sayHello({ name }).catch((err: RpcError) => process.stdout.write(`call failed: ${Code[err.code]}\n`));
}
for await (const reply of greeter.sayHelloStream({ name: "Linus" })) process.stdout.write(`${reply.message}\n`);

// What Prometheus would read: the handled and message counters of the server.
const scraped = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
for (const line of scraped.split("\n")) {
  if (/^grpc_server_(handled_total|msg_sent_total)\{/.test(line)) process.stdout.write(`${line}\n`);
}
const client = await clientMetrics.metrics();
process.stdout.write(`${client.split("\n").filter((l) => l.startsWith("grpc_client_handled_total{")).join("\n")}\n`);

if (process.argv.includes("--serve")) {
  gracefulExit([server], { graceMs: 1000 }); // SIGINT/SIGTERM: stop
} else {
  channel.close();
  http.close();
  await server.stop(1000);
}
