// The cluster benchmark's worker: the Bench service's Unary (echo) on the port the primary
// hands out, default server options (our HTTP/2 engine).
import { Server } from "../../src/index.js";
import type { WorkerInfo, WorkerServing } from "../../src/cluster/index.js";
import { Bench } from "../gen/bench_pb.js";

export async function start(info: WorkerInfo): Promise<WorkerServing> {
  const server = new Server();
  server.addService(Bench, {
    unary: (request) => ({ body: request.body }),
  });
  const port = await server.start(info.host, info.port, { reusePort: info.reusePort });
  return { stop: (graceMs) => server.stop(graceMs), port };
}
