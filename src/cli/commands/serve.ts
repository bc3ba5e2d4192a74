// switchboard serve: the helloworld example server of `npm start` (Greeter + health +
// reflection), for trying the other commands without writing a server.
import type { Command } from "../command.js";
import { usageError } from "../options.js";

interface Values {
  host?: string;
  port?: string;
}

export const serve: Command = {
  name: "serve",
  summary: "serve [--host H] [--port N]       run the helloworld example server (as npm start)",
  help: `usage: switchboard serve [--host HOST] [--port N]

Runs the server of \`npm start\`: helloworld.Greeter, grpc.health.v1.Health and server reflection
(v1 and v1alpha). Prints "Greeter listening on HOST:PORT" (the bound port, also for --port 0).
SIGINT/SIGTERM stops it gracefully (5 s grace, then "stopped"); a second signal exits at once.

options:
  --host HOST                address to listen on (default 127.0.0.1)
  --port N                   port (default 50051; 0 picks a free one)
`,
  options: { host: { type: "string" }, port: { type: "string" }, help: { type: "boolean", short: "h" } },
  async run(raw, positionals, io) {
    const values = raw as Values;
    if (positionals.length > 0) throw usageError(`unexpected argument ${JSON.stringify(positionals[0])} (serve takes none)`);
    const port = Number(values.port ?? 50051);
    if (!/^\d+$/.test(values.port ?? "50051") || port > 65535) throw usageError(`--port ${JSON.stringify(values.port)} is not a port number`);
    // Loaded here: the client commands should not pay for loading the server.
    const { runExampleServer } = await import("../example-server.js");
    await runExampleServer({ host: values.host ?? "127.0.0.1", port }, (line) => io.stdout.write(`${line}\n`));
    return 0;
  },
};
