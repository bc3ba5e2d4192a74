// Our side of the RPyC benchmark: the service of bench/rpyc/server.py (echo(x), add(a, b)) on
// Switchboard's ThreadedServer, default options, written the way docs/rpyc.md shows.
//   taskset -c 0 node --import tsx bench/rpyc/server.ts --port 0
// Prints `listening on 127.0.0.1:<port>` once connections are accepted and exits when its stdin
// closes, like bench/rpyc/server.py. It does not use bench/servers/control.ts: that module's
// event-loop delay monitor wakes the loop every millisecond, CPU the Python server would not
// spend; the harness reads CPU time from /proc/<pid>/stat for both servers alike.
import { Service, ThreadedServer } from "switchboard/rpyc";

class BenchService extends Service {
  exposed_echo(x: unknown): unknown {
    return x;
  }

  exposed_add(a: number, b: number): number {
    return a + b;
  }
}

const i = process.argv.indexOf("--port");
const port = i >= 0 ? Number(process.argv[i + 1]) : 0;
if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`bad --port ${process.argv[i + 1]}`);

const server = new ThreadedServer(BenchService, { hostname: "127.0.0.1", port });
await server.start();
process.stdout.write(`listening on 127.0.0.1:${server.port}\n`);

const stop = (): void => {
  void server.close().finally(() => process.exit(0));
  // close() waits for live connections; the harness's stdin close must end us regardless.
  setTimeout(() => process.exit(0), 1000).unref();
};
process.stdin.on("data", () => {});
process.stdin.on("end", stop);
process.stdin.on("close", stop);
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
