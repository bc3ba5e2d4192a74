// switchboard serve: the helloworld example server of `npm start` (Greeter + health +
// reflection), for trying the other commands without writing a server.
import type { Command } from "../command.js";
import { usageError } from "../options.js";

interface Values {
  host?: string;
  port?: string;
  workers?: string;
}

export const serve: Command = {
  name: "serve",
  summary: "serve [--host H] [--port N]       run the helloworld example server (as npm start)",
  help: `usage: switchboard serve [--host HOST] [--port N] [--workers N]

Runs the server of \`npm start\`: helloworld.Greeter, grpc.health.v1.Health and server reflection
(v1 and v1alpha). Prints "Greeter listening on HOST:PORT" (the bound port, also for --port 0).
SIGINT/SIGTERM stops it gracefully (5 s grace, then "stopped"); a second signal exits at once.

With --workers N (N > 1) the server runs in N worker processes sharing the one port (node:cluster,
or SO_REUSEPORT where Node supports it): the address is printed once; a worker that crashes is
restarted (with backoff); SIGINT/SIGTERM drains every worker (health NOT_SERVING, 5 s grace for
running calls) before "stopped".

options:
  --host HOST                address to listen on (default 127.0.0.1)
  --port N                   port (default 50051; 0 picks a free one)
  --workers N                worker processes (default 1: this process serves)
`,
  options: { host: { type: "string" }, port: { type: "string" }, workers: { type: "string" }, help: { type: "boolean", short: "h" } },
  async run(raw, positionals, io) {
    const values = raw as Values;
    if (positionals.length > 0) throw usageError(`unexpected argument ${JSON.stringify(positionals[0])} (serve takes none)`);
    const port = Number(values.port ?? 50051);
    if (!/^\d+$/.test(values.port ?? "50051") || port > 65535) throw usageError(`--port ${JSON.stringify(values.port)} is not a port number`);
    const workers = Number(values.workers ?? 1);
    if (!/^\d+$/.test(values.workers ?? "1") || workers < 1 || workers > 1024) throw usageError(`--workers ${JSON.stringify(values.workers)} is not a number of workers (1 or more)`);
    // Loaded here: the client commands should not pay for loading the server.
    const { runExampleServer, runExampleCluster } = await import("../example-server.js");
    const out = (line: string) => io.stdout.write(`${line}\n`);
    if (workers === 1) await runExampleServer({ host: values.host ?? "127.0.0.1", port }, out);
    else await runExampleCluster({ host: values.host ?? "127.0.0.1", port, workers }, out, (line) => io.stderr.write(`${line}\n`));
    return 0;
  },
};
