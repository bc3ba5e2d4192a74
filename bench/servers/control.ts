// The control channel every benchmark server shares: `--port N` on the command line,
// `listening on 127.0.0.1:<port>` on stdout once bound, and one command per stdin line:
//
//   stats  -> one JSON line {rssBytes, cpuUserMs, cpuSystemMs, eventLoopDelayP99Ms, heapUsed}
//   reset  -> resets the event-loop delay histogram, answers {"reset":true}
//   gc     -> runs the garbage collector (node --expose-gc) twice, then answers like `stats`
//
// The server exits when stdin closes, so a dying harness never leaves servers behind.
import { monitorEventLoopDelay } from "node:perf_hooks";
import { createInterface } from "node:readline";

export interface ServerStats {
  rssBytes: number;
  cpuUserMs: number;
  cpuSystemMs: number;
  eventLoopDelayP99Ms: number;
  heapUsed: number;
}

const eld = monitorEventLoopDelay({ resolution: 1 });
eld.enable();

function stats(): ServerStats {
  const cpu = process.cpuUsage();
  const mem = process.memoryUsage();
  return {
    rssBytes: mem.rss,
    cpuUserMs: cpu.user / 1000,
    cpuSystemMs: cpu.system / 1000,
    eventLoopDelayP99Ms: eld.count > 0 ? eld.percentile(99) / 1e6 : 0,
    heapUsed: mem.heapUsed,
  };
}

function reply(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

/** The port from `--port N` (default 0: any free port). */
export function portArg(): number {
  const i = process.argv.indexOf("--port");
  const port = i >= 0 ? Number(process.argv[i + 1]) : 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`bad --port ${process.argv[i + 1]}`);
  return port;
}

/** Announces the bound port and starts answering control commands on stdin. */
export function serveControl(port: number, stop: () => void): void {
  process.stdout.write(`listening on 127.0.0.1:${port}\n`);
  const lines = createInterface({ input: process.stdin });
  lines.on("line", (line) => {
    switch (line.trim()) {
      case "stats":
        reply(stats());
        break;
      case "reset":
        eld.reset();
        reply({ reset: true });
        break;
      case "gc": {
        const gc = (globalThis as { gc?: () => void }).gc;
        gc?.();
        gc?.();
        // Let finalizers and native frees run before reading the numbers.
        setTimeout(() => reply(stats()), 50);
        break;
      }
      case "":
        break;
      default:
        reply({ error: `unknown command ${JSON.stringify(line)}` });
    }
  });
  lines.on("close", stop);
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}
