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
import { Server, unaryUnaryRpcMethodHandler, WorkerPool, type WorkerPoolStats } from "../../src/index.js";
import { answerCommands, listen } from "./child-commands.js";
import { LoopDelay } from "./loop-gap.js";
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

// Measured like test/reliability/server-process.ts (see loop-gap.ts for why the longest gap).
const loop = new LoopDelay();

const stats = (): PoolServerStats => ({
  eventLoopP50Ms: loop.percentileMs(50),
  eventLoopP99Ms: loop.percentileMs(99),
  eventLoopMaxMs: loop.maxMs,
  eventLoopLongestGapMs: loop.longestGapMs,
  rss: process.memoryUsage().rss,
  pool: pool.stats,
});

await listen(server);
answerCommands(
  {
    stats,
    reset: () => {
      loop.reset();
      return stats();
    },
  },
  () => {
    void server.stop(0).then(() => pool.close()).then(() => process.exit(0));
  },
);
