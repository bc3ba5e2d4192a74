// Bidi ping-pong load (h2load cannot do interactive exchanges): `streams` concurrent PingPong
// calls on one connection, each sending a 16-byte message and waiting for its echo before the
// next. The same client drives every server, so the servers are compared fairly.
//   taskset -c 1 node --import tsx bench/load/pingpong.ts --client sb|grpcjs
//   stdin: {"port":N,"streams":8,"count":100000,"warmup":20000}  ->  stdout: one JSON result
import { SMALL, body } from "../lib/workload.js";
import { percentile } from "../lib/stats.js";
import { benchClient, clientKindArg, type BenchClient } from "./clients.js";
import { cpuMicros, serveCommands } from "./loop.js";

interface Command {
  port: number;
  streams: number;
  count: number;
  warmup: number;
}

const kind = clientKindArg();
const message = body(SMALL);

/** Runs `total` round trips over `streams` calls; the calls are opened (one ping each) before timing starts. */
async function exchange(client: BenchClient, streams: number, total: number, latencies: number[] | undefined) {
  const calls = await Promise.all(Array.from({ length: streams }, () => client.pingPong()));
  await Promise.all(calls.map((c) => c.ping(message)));
  const per = Math.ceil(total / streams);
  const cpu0 = cpuMicros();
  const t0 = performance.now();
  await Promise.all(
    calls.map(async (call) => {
      for (let i = 0; i < per; i++) {
        const start = performance.now();
        await call.ping(message);
        latencies?.push(performance.now() - start);
      }
    }),
  );
  const ms = performance.now() - t0;
  const cpuUs = cpuMicros() - cpu0;
  await Promise.all(calls.map((c) => c.finish()));
  return { roundTrips: per * streams, ms, cpuUs };
}

serveCommands<Command>(async ({ port, streams, count, warmup }) => {
  const client = benchClient(kind, port);
  try {
    if (warmup > 0) await exchange(client, streams, warmup, undefined);
    const latencies: number[] = [];
    const r = await exchange(client, streams, count, latencies);
    return {
      roundTrips: r.roundTrips,
      seconds: r.ms / 1000,
      perSec: r.roundTrips / (r.ms / 1000),
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      clientCpuUsPerRoundTrip: r.cpuUs / r.roundTrips,
    };
  } finally {
    await client.close();
  }
});
