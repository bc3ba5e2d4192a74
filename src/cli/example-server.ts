// The helloworld example server, shared by `npm start` (examples/helloworld/server.ts) and
// `switchboard serve` so both run exactly the same thing: Greeter + health + reflection.
// It lives in src/ (not examples/) because the published package ships the CLI, and with it
// this server, compiled in dist/; examples/helloworld/serve.ts re-exports it.
import { addReflection, gracefulExit, HealthService, Server, type ServiceImpl } from "../index.js";
import { serveWorkers, type WorkerInfo, type WorkerServing } from "../cluster/index.js";
import { Greeter } from "../gen/helloworld/helloworld_pb.js";
import { registerWithEtcd } from "../etcd/register.js";
import type { DescService } from "@bufbuild/protobuf";
import { startAdmin, type AdminServer } from "../admin/admin-server.js";

/** Greeter implementation with context-style handlers. */
export const greeter: ServiceImpl<typeof Greeter> = {
  sayHello(request) {
    return { message: `Hello, ${request.name || "world"}!` };
  },
  async *sayHelloStream(request, ctx) {
    for (let i = 1; i <= 3 && ctx.isActive(); i++) yield { message: `Hello #${i}, ${request.name || "world"}!` };
  },
};

export interface ExampleServerOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 50051; 0 picks a free port. */
  port?: number;
  /** Bind with SO_REUSEPORT (cluster workers on Node >= 22.12). */
  reusePort?: boolean;
  /** Register every served service in etcd (switchboard serve --etcd). */
  etcd?: EtcdServeOptions;
  /** Also run the admin server (dashboard, /metrics, /health) there (switchboard serve --admin). */
  admin?: { host: string; port: number; token?: string };
}

export interface EtcdServeOptions {
  endpoints: readonly string[];
  /** Default host:port as bound. */
  advertise?: string;
  /** Default "services/". */
  prefix?: string;
}

/**
 * Registers the served services in etcd and returns a stop function that revokes the lease
 * (records gone at once); failures are logged and retried by the registration itself.
 */
function registerExample(services: readonly DescService[], host: string, port: number, etcd: EtcdServeOptions, log: (line: string) => void): () => Promise<void> {
  const advertise = etcd.advertise ?? `${host.includes(":") ? `[${host}]` : host}:${port}`;
  const registration = registerWithEtcd(
    { services },
    {
      etcd: etcd.endpoints,
      advertise,
      prefix: etcd.prefix ?? "services/",
      logger: { warn: (msg: string) => log(`etcd: ${msg}`), error: (msg: string) => log(`etcd: ${msg}`) },
    },
  );
  void registration.ready.then((ok) => {
    if (ok) log(`registered ${registration.targets.length} services in etcd as ${advertise}`);
  });
  return () => registration.stop();
}

export interface ExampleServer {
  server: Server;
  health: HealthService;
  host: string;
  /** The bound port (the real one when 0 was asked for). */
  port: number;
}

/** Starts Greeter, grpc.health.v1 and reflection (v1 + v1alpha) on host:port. */
export async function startExampleServer(options: ExampleServerOptions = {}): Promise<ExampleServer> {
  const host = options.host ?? "127.0.0.1";
  const server = new Server();
  server.addService(Greeter, greeter);
  // grpc.health.v1 for the server ("") and helloworld.Greeter (no checks: SERVING until stop()
  // turns everything NOT_SERVING), and reflection v1 + v1alpha for grpcurl & co.
  const health = new HealthService([[Greeter, []]]);
  health.register(server);
  addReflection(server);
  let port: number;
  if (options.reusePort) port = await server.start(host, options.port ?? 50051, { reusePort: true });
  else {
    port = await server.addInsecurePort(`${host}:${options.port ?? 50051}`);
    server.start();
  }
  return { server, health, host, port };
}

/**
 * Runs the example server until SIGINT/SIGTERM: prints `Greeter listening on host:port`, stops
 * gracefully on the first signal (5 s grace) and prints `stopped`; a second signal exits at once.
 */
export async function runExampleServer(
  options: ExampleServerOptions = {},
  out: (line: string) => void = (l) => process.stdout.write(`${l}\n`),
  log: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
): Promise<void> {
  const { server, health, host, port } = await startExampleServer(options);
  let admin: AdminServer | undefined;
  if (options.admin) {
    try {
      admin = await startAdmin(server, { ...options.admin, health });
    } catch (err) {
      // A taken admin port fails the command rather than leaving a server without its dashboard.
      await server.stop();
      throw err;
    }
  }
  const unregister = options.etcd ? registerExample(server.services, host, port, options.etcd, log) : undefined;
  // Out of etcd first (clients move away), then drain.
  // The dashboard stays up while the calls drain, and closes last.
  const stoppable = { stop: async (graceMs: number) => (await unregister?.(), await server.stop(graceMs), await admin?.close()) };
  const remove = gracefulExit([stoppable], { graceMs: 5000, onStopped: () => out("stopped") });
  out(`Greeter listening on ${host}:${port}`);
  if (admin) out(`admin listening on ${admin.url}`);
  await server.waitForTermination();
  remove();
}

/** The cluster worker's start(): the example server on the port the primary gives it. */
export async function startExampleWorker(info: WorkerInfo): Promise<WorkerServing> {
  const { server, health, port } = await startExampleServer({ host: info.host, port: info.port, reusePort: info.reusePort });
  return { stop: (graceMs) => server.stop(graceMs), health, port };
}

/**
 * runExampleServer in `workers` processes on one port (switchboard serve --workers N): prints
 * `Greeter listening on host:port` once, and on SIGINT/SIGTERM drains every worker (5 s grace)
 * and prints `stopped`; a second signal exits at once. Lifecycle lines go to `log`.
 */
export async function runExampleCluster(
  options: ExampleServerOptions & { workers: number },
  out: (line: string) => void = (l) => process.stdout.write(`${l}\n`),
  log: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
): Promise<void> {
  const host = options.host ?? "127.0.0.1";
  const cluster = await serveWorkers({ module: import.meta.url, export: "startExampleWorker", workers: options.workers, host, port: options.port ?? 50051, log });
  // The primary registers once for all workers: one lease, revoked before the workers drain.
  const unregister = options.etcd ? registerExample(exampleServices(), host, cluster.port, options.etcd, log) : undefined;
  const stoppable = { stop: async (graceMs: number) => (await unregister?.(), cluster.stop(graceMs)) };
  const remove = gracefulExit([stoppable], { graceMs: 5000, onStopped: () => out("stopped") });
  out(`Greeter listening on ${host}:${cluster.port}`);
  await cluster.waitForTermination();
  remove();
}

/** The services every example worker serves, without starting a server (the primary registers them). */
function exampleServices(): readonly DescService[] {
  const server = new Server();
  server.addService(Greeter, greeter);
  new HealthService([[Greeter, []]]).register(server);
  addReflection(server);
  return server.services;
}
