// The helloworld Greeter on Switchboard: `npm start` runs this on 127.0.0.1:50051.
import { addReflection, gracefulExit, HealthService, Server, type ServiceImpl } from "../../src/index.js";
import { Greeter } from "../gen/helloworld/helloworld_pb.js";

/** Greeter implementation with context-style handlers. */
export const greeter: ServiceImpl<typeof Greeter> = {
  sayHello(request) {
    return { message: `Hello, ${request.name || "world"}!` };
  },
  async *sayHelloStream(request, ctx) {
    for (let i = 1; i <= 3 && ctx.isActive(); i++) yield { message: `Hello #${i}, ${request.name || "world"}!` };
  },
};

async function main(): Promise<void> {
  const host = process.env["HOST"] ?? "127.0.0.1";
  const port = Number(process.env["PORT"] ?? 50051);
  const server = new Server();
  server.addService(Greeter, greeter);
  // grpc.health.v1 (stop() turns it NOT_SERVING first) and reflection v1 + v1alpha for grpcurl & co.
  new HealthService().register(server);
  addReflection(server);
  const bound = await server.addInsecurePort(`${host}:${port}`);
  server.start();
  // First SIGINT/SIGTERM: stop gracefully (5 s grace). Second: exit at once.
  gracefulExit([server], { graceMs: 5000, onStopped: () => process.stdout.write("stopped\n") });
  process.stdout.write(`Greeter listening on ${host}:${bound}\n`);
  await server.waitForTermination();
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
