// The "normal client" of rows 3 and 28, in its own process so that its latencies are not
// the attacker's event loop: grpc-js unary Echo calls on one channel, `concurrency` loops,
// for `durationMs` after a warm-up call.
//
//   node --import tsx test/reliability/normal-client.ts <port> <durationMs> [concurrency]
//
// Prints `ready` after the warm-up call, then one JSON line {calls, errors, p50Ms, p99Ms, maxMs}.
import { grpc, grpcClient, grpcUnary, PATH, percentile } from "./harness.js";

const port = Number(process.argv[2]);
const durationMs = Number(process.argv[3] ?? 5000);
const concurrency = Number(process.argv[4] ?? 2);

const client = grpcClient(port);
const warm = await grpcUnary(client, PATH.echo, Buffer.from("warm"));
if (warm.code !== grpc.status.OK) {
  process.stdout.write(`${JSON.stringify({ error: `warm-up call failed: ${grpc.status[warm.code]} ${warm.details}` })}\n`);
  process.exit(1);
}
process.stdout.write("ready\n");
const latencies: number[] = [];
const errors: string[] = [];
const until = performance.now() + durationMs;
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (performance.now() < until) {
      const o = await grpcUnary(client, PATH.echo, Buffer.from("normal"), 15_000);
      if (o.code === grpc.status.OK) latencies.push(o.ms);
      else errors.push(`${grpc.status[o.code]}: ${o.details}`);
    }
  }),
);
client.close();
process.stdout.write(
  `${JSON.stringify({ calls: latencies.length + errors.length, errors, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99), maxMs: Math.max(...latencies) })}\n`,
);
