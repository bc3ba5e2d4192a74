// switchboard serve: the helloworld example server of `npm start` (Greeter + health +
// reflection), for trying the other commands without writing a server.
import type { Command } from "../command.js";
import { isLoopback } from "../../admin/auth.js";
import { usageError } from "../options.js";

interface Values {
  host?: string;
  port?: string;
  workers?: string;
  etcd?: string;
  advertise?: string;
  "etcd-prefix"?: string;
  admin?: string;
  "admin-token"?: string;
}

export const serve: Command = {
  name: "serve",
  summary: "serve [--host H] [--port N]       run the helloworld example server (as npm start)",
  help: `usage: switchboard serve [--host HOST] [--port N] [--workers N] [--etcd URL[,URL...]] [--advertise HOST:PORT] [--etcd-prefix P]
                        [--admin HOST:PORT] [--admin-token T]

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

With --admin the server also runs its admin server on HOST:PORT (a port of its own): the live
dashboard at /, Prometheus metrics at /metrics, a JSON health summary at /health. It prints
"admin listening on http://HOST:PORT/" after the first line. Without --admin-token it may only
listen on loopback (127.0.0.1, ::1, localhost); with one, every request must carry
"Authorization: Bearer T" or "?token=T". --admin cannot be combined with --workers (each worker
has its own numbers; scrape the workers' servers one by one instead).

options:
  --host HOST                address to listen on (default 127.0.0.1)
  --port N                   port (default 50051; 0 picks a free one)
  --workers N                worker processes (default 1: this process serves)
  --etcd URL[,URL...]        register in etcd (e.g. http://127.0.0.1:2379)
  --advertise HOST:PORT      the address clients dial (default HOST:PORT as bound)
  --etcd-prefix P            key prefix of every target (default services/)
  --admin HOST:PORT          admin server: dashboard, /metrics, /health (PORT alone: 127.0.0.1:PORT; 0 picks a free port)
  --admin-token T            the token the admin server requires (needed for a non-loopback HOST)
`,
  options: {
    host: { type: "string" },
    port: { type: "string" },
    workers: { type: "string" },
    etcd: { type: "string" },
    advertise: { type: "string" },
    "etcd-prefix": { type: "string" },
    admin: { type: "string" },
    "admin-token": { type: "string" },
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
    const admin = adminOptions(values, workers);
    // Loaded here: the client commands should not pay for loading the server.
    const { runExampleServer, runExampleCluster } = await import("../example-server.js");
    const out = (line: string) => io.stdout.write(`${line}\n`);
    const log = (line: string) => io.stderr.write(`${line}\n`);
    const host = values.host ?? "127.0.0.1";
    if (workers === 1) await runExampleServer({ host, port, ...(etcd ? { etcd } : {}), ...(admin ? { admin } : {}) }, out, log);
    else await runExampleCluster({ host, port, workers, ...(etcd ? { etcd } : {}) }, out, log);
    return 0;
  },
};

/** --admin HOST:PORT (or PORT) and --admin-token, checked before anything starts. */
function adminOptions(values: Values, workers: number): { host: string; port: number; token?: string } | undefined {
  if (values.admin === undefined) {
    if (values["admin-token"] !== undefined) throw usageError("--admin-token needs --admin");
    return undefined;
  }
  // One admin server per process: with workers its numbers would be one worker's, a misleading view.
  if (workers > 1) throw usageError("--admin cannot be combined with --workers (each worker counts only its own calls); run one process per admin server");
  const m = /^(?:(\[[^\]]+\]|[^:\s]+):)?(\d{1,5})$/.exec(values.admin);
  if (!m || Number(m[2]) > 65535) throw usageError(`--admin ${JSON.stringify(values.admin)} must be HOST:PORT (or a PORT on 127.0.0.1)`);
  const host = m[1] === undefined ? "127.0.0.1" : m[1].replace(/^\[|\]$/g, "");
  const token = values["admin-token"];
  if (token !== undefined && (token === "" || /\s/.test(token))) throw usageError("--admin-token must be a non-empty token without spaces");
  if (token === undefined && !isLoopback(host)) throw usageError(`--admin ${JSON.stringify(values.admin)} is beyond loopback: add --admin-token T (or use 127.0.0.1)`);
  return { host, port: Number(m[2]), ...(token !== undefined ? { token } : {}) };
}

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
