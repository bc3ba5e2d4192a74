// switchboard serve: the helloworld example server of `npm start` (Greeter + health +
// reflection), for trying the other commands without writing a server.
import type { Command } from "../command.js";
import { usageError } from "../options.js";

interface Values {
  host?: string;
  port?: string;
  workers?: string;
  etcd?: string;
  advertise?: string;
  "etcd-prefix"?: string;
}

export const serve: Command = {
  name: "serve",
  summary: "serve [--host H] [--port N]       run the helloworld example server (as npm start)",
  help: `usage: switchboard serve [--host HOST] [--port N] [--workers N] [--etcd URL[,URL...]] [--advertise HOST:PORT] [--etcd-prefix P]

Runs the server of \`npm start\`: helloworld.Greeter, grpc.health.v1.Health and server reflection
(v1 and v1alpha). Prints "Greeter listening on HOST:PORT" (the bound port, also for --port 0).
SIGINT/SIGTERM stops it gracefully (5 s grace, then "stopped"); a second signal exits at once.

With --workers N (N > 1) the server runs in N worker processes sharing the one port (node:cluster,
or SO_REUSEPORT where Node supports it): the address is printed once; a worker that crashes is
restarted (with backoff); SIGINT/SIGTERM drains every worker (health NOT_SERVING, 5 s grace for
running calls) before "stopped".

With --etcd the server registers every service it serves in etcd, in the record format of etcd's
gRPC naming package (grpc-go's endpoints manager): key <prefix><package.Service>/<HOST:PORT>, value
{"Op":0,"Addr":"<HOST:PORT>","Metadata":null}, under one lease (10 s TTL) kept alive while it runs.
Clients resolve etcd:///services/<package.Service>. A graceful stop revokes the lease first (the
records vanish at once); after a crash they expire with the TTL. While etcd is unreachable the
server keeps serving and keeps retrying.

options:
  --host HOST                address to listen on (default 127.0.0.1)
  --port N                   port (default 50051; 0 picks a free one)
  --workers N                worker processes (default 1: this process serves)
  --etcd URL[,URL...]        register in etcd (e.g. http://127.0.0.1:2379)
  --advertise HOST:PORT      the address clients dial (default HOST:PORT as bound)
  --etcd-prefix P            key prefix of every target (default services/)
`,
  options: {
    host: { type: "string" },
    port: { type: "string" },
    workers: { type: "string" },
    etcd: { type: "string" },
    advertise: { type: "string" },
    "etcd-prefix": { type: "string" },
    help: { type: "boolean", short: "h" },
  },
  async run(raw, positionals, io) {
    const values = raw as Values;
    if (positionals.length > 0) throw usageError(`unexpected argument ${JSON.stringify(positionals[0])} (serve takes none)`);
    const port = Number(values.port ?? 50051);
    if (!/^\d+$/.test(values.port ?? "50051") || port > 65535) throw usageError(`--port ${JSON.stringify(values.port)} is not a port number`);
    const workers = Number(values.workers ?? 1);
    if (!/^\d+$/.test(values.workers ?? "1") || workers < 1 || workers > 1024) throw usageError(`--workers ${JSON.stringify(values.workers)} is not a number of workers (1 or more)`);
    if (values.advertise !== undefined && values.etcd === undefined) throw usageError("--advertise needs --etcd");
    if (values["etcd-prefix"] !== undefined && values.etcd === undefined) throw usageError("--etcd-prefix needs --etcd");
    const etcd = values.etcd === undefined ? undefined : etcdOptions(values);
    // Loaded here: the client commands should not pay for loading the server.
    const { runExampleServer, runExampleCluster } = await import("../example-server.js");
    const out = (line: string) => io.stdout.write(`${line}\n`);
    const log = (line: string) => io.stderr.write(`${line}\n`);
    const host = values.host ?? "127.0.0.1";
    if (workers === 1) await runExampleServer({ host, port, ...(etcd ? { etcd } : {}) }, out, log);
    else await runExampleCluster({ host, port, workers, ...(etcd ? { etcd } : {}) }, out, log);
    return 0;
  },
};

function etcdOptions(values: Values): { endpoints: string[]; advertise?: string; prefix: string } {
  const endpoints = values.etcd!.split(",").map((e) => e.trim()).filter((e) => e !== "");
  if (endpoints.length === 0) throw usageError("--etcd needs at least one URL");
  for (const e of endpoints) {
    let url: URL;
    try {
      url = new URL(e);
    } catch {
      throw usageError(`--etcd ${JSON.stringify(e)} is not a URL (http://HOST:PORT)`);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") throw usageError(`--etcd ${JSON.stringify(e)} must be http:// or https://`);
  }
  if (values.advertise !== undefined && !/^(\[[^\]]+\]|[^:/\s]+):\d{1,5}$/.test(values.advertise)) throw usageError(`--advertise ${JSON.stringify(values.advertise)} must be HOST:PORT`);
  return { endpoints, ...(values.advertise !== undefined ? { advertise: values.advertise } : {}), prefix: values["etcd-prefix"] ?? "services/" };
}
