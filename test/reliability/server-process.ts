// The server under attack, run as a CHILD process by the reliability tests and by
// bench/attack.ts and bench/soak.ts, so a crash is seen as an exit and memory and handles
// are measured without the attacker's own allocations.
//
//   node --expose-gc --import tsx test/reliability/server-process.ts '<ServerOptions as JSON>'
//
// Prints `listening on 127.0.0.1:<port>`, then answers one JSON line per stdin command:
//   stats        -> Stats (below)
//   gc           -> Stats after two full GCs
//   resetpeak    -> resets the RSS high-water mark (VmHWM), maxLiveHandlers and the
//                   event-loop delay histogram; answers Stats
//   stop <ms>    -> server.stop(ms); answers {"stopMs": n} when it resolves
//   exit         -> exits 0 (so does stdin closing)
// A command may be preceded by a numeric id (`7 stats`); the reply then carries "id": 7, so
// replies that come late (stop) can be matched. Nothing else: the process has no
// uncaughtException handler, so a crash is a crash.
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import {
  Server,
  streamStreamRpcMethodHandler,
  unaryStreamRpcMethodHandler,
  unaryUnaryRpcMethodHandler,
  type ServerCallContext,
  type ServerOptions,
} from "../../src/index.js";
import { answerCommands, fullGc, listen } from "./child-commands.js";
import { LoopDelay } from "./loop-gap.js";

/** What `stats` reports. Sizes in bytes, times in milliseconds. */
export interface Stats {
  rss: number;
  heapUsed: number;
  /** V8 heap committed (young generation included: it stays grown after allocation bursts). */
  heapTotal: number;
  external: number;
  /** VmHWM: the peak RSS since start or the last `resetpeak`. */
  peakRss: number;
  /** Hold/HoldStream/Big handlers running now, and the most seen at once since `resetpeak`. */
  liveHandlers: number;
  maxLiveHandlers: number;
  /** Every handler body that started (any method). */
  handlersStarted: number;
  /** Hold/HoldStream/Big/Sleep handlers whose ctx.signal fired. */
  handlersCancelled: number;
  /** Bytes of response messages the Big generator handed to the framework. */
  bigBytesYielded: number;
  activeHandles: number;
  /**
   * Event-loop delay (1 ms sampling; an idle loop reads ~1.1 ms) since start or the last
   * `resetpeak`; the max also counts the longest gap between 1 ms ticks, which no reset can hide.
   */
  eventLoopP99Ms: number;
  eventLoopMaxMs: number;
  /** Open HTTP/2 sessions and raw sockets, read from the server's private sets (test introspection only). */
  sessions: number;
  sockets: number;
  activeCalls: number;
  /** Connections counted against maxConnections now, and refused by the connection limits so far. */
  openConnections: number;
  refusedConnections: number;
  /** Open file descriptors (/proc/self/fd). */
  fds: number;
}

const SERVICE = "rel.Test";
const options = JSON.parse(process.argv[2] ?? "{}") as ServerOptions;

let liveHandlers = 0;
let maxLiveHandlers = 0;
let handlersStarted = 0;
let handlersCancelled = 0;
let bigBytesYielded = 0;

function enter(ctx: ServerCallContext): () => void {
  handlersStarted++;
  liveHandlers++;
  if (liveHandlers > maxLiveHandlers) maxLiveHandlers = liveHandlers;
  ctx.signal.addEventListener("abort", () => handlersCancelled++, { once: true });
  let left = false;
  return () => {
    if (left) return;
    left = true;
    liveHandlers--;
  };
}

/** Resolves when the call's signal fires. */
function untilCancelled(ctx: ServerCallContext): Promise<void> {
  if (ctx.signal.aborted) return Promise.resolve();
  return new Promise((resolve) => ctx.signal.addEventListener("abort", () => resolve(), { once: true }));
}

const EMPTY = new Uint8Array(0);

const server = new Server(options);
server.addRegisteredMethodHandlers(SERVICE, {
  /** Returns the request bytes. */
  Echo: unaryUnaryRpcMethodHandler((req: Uint8Array) => {
    handlersStarted++;
    return req;
  }),
  /** Returns the request length as 4 bytes (big endian): large requests without large replies. */
  Len: unaryUnaryRpcMethodHandler((req: Uint8Array) => {
    handlersStarted++;
    const out = Buffer.alloc(4);
    out.writeUInt32BE(req.byteLength);
    return out;
  }),
  /** Holds the call until it is cancelled (client, deadline, server stop), then returns nothing. */
  Hold: unaryUnaryRpcMethodHandler(async (_req: Uint8Array, ctx) => {
    const leave = enter(ctx);
    try {
      await untilCancelled(ctx);
      return EMPTY;
    } finally {
      leave();
    }
  }),
  /** Like Hold, but bidi: it starts at the request HEADERS, before any DATA or END_STREAM. */
  HoldStream: streamStreamRpcMethodHandler(async function* (_requests: AsyncIterable<Uint8Array>, ctx) {
    const leave = enter(ctx);
    try {
      await untilCancelled(ctx);
    } finally {
      leave();
    }
  }),
  /**
   * Streams messages until cancelled. Request: optional 4-byte chunk size (default 64 KiB)
   * and optional 4-byte cap in MiB (default 1024), so no run is unbounded.
   */
  Big: unaryStreamRpcMethodHandler(async function* (req: Uint8Array, ctx) {
    const leave = enter(ctx);
    try {
      const b = Buffer.from(req);
      const chunk = b.length >= 4 ? b.readUInt32BE(0) : 64 * 1024;
      const capBytes = (b.length >= 8 ? b.readUInt32BE(4) : 1024) * 1024 * 1024;
      const message = Buffer.alloc(chunk, 0x61);
      for (let sent = 0; sent < capBytes && ctx.isActive(); sent += chunk) {
        bigBytesYielded += chunk;
        yield message;
      }
    } finally {
      leave();
    }
  }),
  /** Sleeps the number of milliseconds given as ASCII digits (or until cancelled), then answers "slept". */
  Sleep: unaryUnaryRpcMethodHandler(async (req: Uint8Array, ctx) => {
    const leave = enter(ctx);
    try {
      const ms = Number(Buffer.from(req).toString("latin1")) || 0;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, ms);
        ctx.signal.addEventListener("abort", () => (clearTimeout(t), resolve()), { once: true });
      });
      return Buffer.from("slept");
    } finally {
      leave();
    }
  }),
  /** Returns the invocation metadata as JSON: text values as strings, -bin values as hex. */
  Meta: unaryUnaryRpcMethodHandler((_req: Uint8Array, ctx) => {
    handlersStarted++;
    // No prototype: "__proto__", "constructor" or "toString" are keys like any other here.
    const out: Record<string, string[]> = Object.create(null);
    for (const [k, v] of ctx.metadata) (out[k] ??= []).push(typeof v === "string" ? v : Buffer.from(v).toString("hex"));
    return Buffer.from(JSON.stringify(out));
  }),
  /** Throws synchronously. */
  ThrowSync: unaryUnaryRpcMethodHandler((): Uint8Array => {
    handlersStarted++;
    throw new Error("sync throw from the handler");
  }),
  /** Returns a rejected promise. */
  Reject: unaryUnaryRpcMethodHandler(async (): Promise<Uint8Array> => {
    handlersStarted++;
    await new Promise((r) => setImmediate(r));
    throw new Error("async rejection from the handler");
  }),
  /** Sends one response message, then throws. */
  ThrowAfter: unaryStreamRpcMethodHandler(async function* () {
    handlersStarted++;
    yield Buffer.from("first");
    throw new Error("throw after responding");
  }),
});

const loop = new LoopDelay();

function peakRss(): number {
  try {
    const m = /VmHWM:\s+(\d+)\s+kB/.exec(readFileSync("/proc/self/status", "utf8"));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

function countFds(): number {
  try {
    return readdirSync("/proc/self/fd").length;
  } catch {
    return -1;
  }
}

function stats(): Stats {
  const mem = process.memoryUsage();
  const internals = server as unknown as { sessions: Set<unknown>; sockets: Set<unknown> };
  const handles = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles();
  return {
    rss: mem.rss,
    heapUsed: mem.heapUsed,
    heapTotal: mem.heapTotal,
    external: mem.external,
    peakRss: peakRss(),
    liveHandlers,
    maxLiveHandlers,
    handlersStarted,
    handlersCancelled,
    bigBytesYielded,
    activeHandles: handles.length,
    eventLoopP99Ms: loop.percentileMs(99),
    // A gap between 1 ms ticks is the delay plus the 1 ms interval.
    eventLoopMaxMs: Math.max(loop.maxMs, loop.longestGapMs - 1),
    sessions: internals.sessions.size,
    sockets: internals.sockets.size,
    activeCalls: server.activeCalls,
    openConnections: server.openConnections,
    refusedConnections: server.refusedConnections,
    fds: countFds(),
  };
}

// SB_UNIX_SOCKET: also serve on this Unix socket path, for a test that connects after stop()
// to see the refusal (a released TCP port could be bound by another process meanwhile).
const unixSocket = process.env["SB_UNIX_SOCKET"];
await listen(server, unixSocket ? `unix:${unixSocket}` : undefined);

answerCommands(
  {
    stats,
    gc: () => {
      fullGc();
      return stats();
    },
    resetpeak: () => {
      fullGc();
      try {
        writeFileSync("/proc/self/clear_refs", "5");
      } catch {
        // Not Linux: peakRss stays the lifetime peak.
      }
      maxLiveHandlers = liveHandlers;
      loop.reset();
      return stats();
    },
    stop: async (ms) => {
      const started = performance.now();
      await server.stop(Number(ms ?? 0));
      return { stopMs: performance.now() - started };
    },
    exit: () => process.exit(0),
  },
  () => process.exit(0),
);
