// The server of row 25, run as a CHILD process so the event-loop delay it reports is its own,
// not the test client's:
//
//   node --import tsx test/reliability/worker-pool-server.ts '{"poolSize":1}'
//
// Serves rel.Pool: Echo (on the event loop), Busy (spin() on a WorkerPool thread) and
// BusyInline (the same spin() on the event loop). Prints `listening on 127.0.0.1:<port>` once
// the pool's threads are ready, then answers one JSON line per stdin command (`<id> <command>`):
//   reset  -> clears the event-loop delay histogram and the longest gap; answers PoolServerStats
//   stats  -> PoolServerStats
// It exits when stdin closes.
import { monitorEventLoopDelay } from "node:perf_hooks";
import { createInterface } from "node:readline";
import { Server, unaryUnaryRpcMethodHandler, WorkerPool, type WorkerPoolStats } from "../../src/index.js";
import { spin } from "./worker-pool-busy.js";

/** What `stats` and `reset` answer. Times in milliseconds. */
export interface PoolServerStats {
  eventLoopP50Ms: number;
  eventLoopP99Ms: number;
  eventLoopMaxMs: number;
  /** The longest the event loop went without running a 1 ms interval timer since the last reset. */
  eventLoopLongestGapMs: number;
  rss: number;
  pool: WorkerPoolStats;
}

const options = JSON.parse(process.argv[2] ?? "{}") as { poolSize?: number };
const pool = new WorkerPool<typeof import("./worker-pool-busy.js")>({
  module: new URL("./worker-pool-busy.ts", import.meta.url),
  size: options.poolSize ?? 1,
  name: "row25-busy",
});
const server = new Server();
server.addRegisteredMethodHandlers("rel.Pool", {
  Echo: unaryUnaryRpcMethodHandler((req: Uint8Array) => req),
  Busy: unaryUnaryRpcMethodHandler(pool.unary("spin")),
  BusyInline: unaryUnaryRpcMethodHandler(spin),
});
pool.attach(server);
await pool.ready();

// 1 ms sampling like test/reliability/server-process.ts: an idle loop reads ~1.1 ms.
const loop = monitorEventLoopDelay({ resolution: 1 });
loop.enable();

// The histogram can miss a stall: its reset() also forgets when it last sampled, so a stall that
// begins right after a reset, before the next sample, is never recorded (its max then reads
// ~1 ms after a 2 s stall). The time of the last tick here survives a reset, so the first tick
// after any stall measures all of it.
let lastTick = performance.now();
let longestGapMs = 0;
setInterval(() => {
  const now = performance.now();
  longestGapMs = Math.max(longestGapMs, now - lastTick);
  lastTick = now;
}, 1).unref();

const stats = (): PoolServerStats => ({
  eventLoopP50Ms: loop.percentile(50) / 1e6,
  eventLoopP99Ms: loop.percentile(99) / 1e6,
  eventLoopMaxMs: loop.max / 1e6,
  eventLoopLongestGapMs: longestGapMs,
  rss: process.memoryUsage().rss,
  pool: pool.stats,
});

const port = await server.addInsecurePort("127.0.0.1:0");
server.start();
process.stdout.write(`listening on 127.0.0.1:${port}\n`);

const rl = createInterface({ input: process.stdin });
rl.on("line", (line) => {
  const [id, command] = line.trim().split(/\s+/);
  if (command === "reset") {
    loop.reset();
    longestGapMs = 0;
  }
  const reply = command === "reset" || command === "stats" ? stats() : { error: `unknown command ${JSON.stringify(command)}` };
  process.stdout.write(`${JSON.stringify({ id: Number(id), ...reply })}\n`);
});
rl.on("close", () => {
  void server.stop(0).then(() => pool.close()).then(() => process.exit(0));
});
