// Client-side load: `concurrency` loops of unary calls (16-byte payload) on one channel until
// `count` calls are done; reports calls/s, the client's own CPU µs per call and latency.
//   taskset -c 1 node --import tsx bench/load/unary-client.ts --client sb|grpcjs
//   stdin: {"port":N,"concurrency":32,"count":100000,"warmup":20000}  ->  stdout: one JSON result
import { SMALL, body } from "../lib/workload.js";
import { percentile } from "../lib/stats.js";
import { benchClient, clientKindArg, type BenchClient } from "./clients.js";
import { cpuMicros, serveCommands } from "./loop.js";

interface Command {
  port: number;
  concurrency: number;
  count: number;
  warmup: number;
}

const kind = clientKindArg();
const message = body(SMALL);

async function calls(client: BenchClient, concurrency: number, count: number, latencies: number[] | undefined): Promise<void> {
  let started = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (started < count) {
        started++;
        const t = performance.now();
        await client.unary(message);
        latencies?.push(performance.now() - t);
      }
    }),
  );
}

serveCommands<Command>(async ({ port, concurrency, count, warmup }) => {
  const client = benchClient(kind, port);
  try {
    await client.unary(message); // connect outside the measurement
    if (warmup > 0) await calls(client, concurrency, warmup, undefined);
    const latencies: number[] = [];
    const cpu0 = cpuMicros();
    const t0 = performance.now();
    await calls(client, concurrency, count, latencies);
    const ms = performance.now() - t0;
    const cpuUs = cpuMicros() - cpu0;
    return {
      calls: count,
      seconds: ms / 1000,
      callsPerSec: count / (ms / 1000),
      clientCpuUsPerCall: cpuUs / count,
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
    };
  } finally {
    await client.close();
  }
});
