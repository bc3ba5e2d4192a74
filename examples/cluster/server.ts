// The Greeter on every core: one module that is both the primary (forks the workers, restarts
// crashed ones, drains them on SIGINT/SIGTERM, replaces them one at a time on SIGHUP) and the
// workers (each runs start() and serves the one shared port).
//   PORT=50051 WORKERS=4 npx tsx examples/cluster/server.ts
import { gracefulExit, HealthService, isWorker, Server, serveWorkers, type WorkerInfo, type WorkerServing } from "switchboard";
import { Greeter } from "../gen/helloworld/helloworld_pb.js";

/** Runs in each worker process: a Server on the port the primary hands out. */
export async function start(info: WorkerInfo): Promise<WorkerServing> {
  const server = new Server();
  server.addService(Greeter, {
    sayHello: (request) => ({ message: `Hello, ${request.name || "world"}! (worker ${info.slot}, pid ${process.pid})` }),
    async *sayHelloStream(request) {
      yield { message: `Hello, ${request.name || "world"}! (pid ${process.pid})` };
    },
  });
  // Draining flips this to NOT_SERVING before the server stops.
  const health = new HealthService([[Greeter, []]]);
  health.register(server);
  const port = await server.start(info.host, info.port, { reusePort: info.reusePort });
  return { stop: (graceMs) => server.stop(graceMs), health, port };
}

// Workers import this module for start(); only the primary runs what follows.
if (!isWorker) {
  const workers = Number(process.env.WORKERS ?? 2);
  const cluster = await serveWorkers({ module: import.meta.url, workers, port: Number(process.env.PORT ?? 50051) });
  cluster.on("restart", (w, reason, delayMs) => console.log(`slot ${w.slot}: ${reason} restart in ${delayMs} ms`));
  console.log(`Greeter listening on 127.0.0.1:${cluster.port} (pids ${cluster.workers.map((w) => w.pid).join(", ")})`);
  gracefulExit([cluster], { onStopped: () => console.log("stopped") });
  process.on("SIGHUP", () => void cluster.restart().then(() => console.log(`restarted (pids ${cluster.workers.filter((w) => w.state === "serving").map((w) => w.pid).join(", ")})`)));
  await cluster.waitForTermination();
}
