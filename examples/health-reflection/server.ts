// Greeter with health checking and server reflection on 127.0.0.1:50051 (PORT=0 picks a free
// port). Run: `npx tsx examples/health-reflection/server.ts`.
import { statfs } from "node:fs/promises";
import { addReflection, gracefulExit, Health, HealthService, Server, ServiceCheck, ServiceStatus } from "switchboard";
import { Greeter } from "../gen/helloworld/helloworld_pb.js";

// A proactive source: set() it when you learn something; every open Watch hears it at once.
const upstream = new ServiceStatus(true);
// A periodic probe: its result is reused for ttlMs; slower than timeoutMs, or a throw, counts as false.
const disk = new ServiceCheck(async () => (await statfs(".")).bavail > 0, {
  name: "disk",
  ttlMs: 5000,
  timeoutMs: 1000,
  logger: (message) => process.stderr.write(`${message}\n`),
});

// helloworld.Greeter is SERVING while both pass; "" (the whole server) while every check passes.
const health = new HealthService([[Greeter, [upstream, disk]]]);

const server = new Server();
server.addService(Greeter, {
  sayHello: (request) => ({ message: `Hello, ${request.name}!` }),
  async *sayHelloStream(request) {
    yield { message: `Hello, ${request.name}!` };
  },
});
// Check and Watch; and when server.stop() begins, every status turns NOT_SERVING for good
// (before new calls are refused), so load balancers and Watch clients drain us first.
health.register(server);
addReflection(server, [Greeter, Health]); // v1 and v1alpha; lists Greeter, Health and the reflection services

const port = await server.addInsecurePort(`127.0.0.1:${process.env["PORT"] ?? 50051}`);
server.start();
gracefulExit([server], { graceMs: 5000 }); // SIGINT/SIGTERM: stop with a 5 s grace
process.stdout.write(`listening on 127.0.0.1:${port}\n`);
