// A Greeter server with its admin server: the live dashboard at http://127.0.0.1:9090/,
// Prometheus metrics at /metrics and a health summary at /health.
// `npx tsx examples/observability/dashboard.ts`; PORT and ADMIN_PORT override 50051 and 9090.
import { gracefulExit, HealthService, Server } from "switchboard";
import { Greeter } from "../gen/helloworld/helloworld_pb.js";

// The health service comes first, so the admin server can report it on /health and the page.
const health = new HealthService([[Greeter, []]]);
const server = new Server({
  admin: { port: Number(process.env["ADMIN_PORT"] ?? 9090), health, token: process.env["ADMIN_TOKEN"] },
});
server.addService(Greeter, {
  sayHello: (request) => ({ message: `Hello, ${request.name || "world"}!` }),
  async *sayHelloStream(request) {
    yield { message: `Hello, ${request.name || "world"}!` };
  },
});
health.register(server);

const port = await server.start("127.0.0.1", Number(process.env["PORT"] ?? 50051));
const admin = await server.admin!; // listening once this resolves
process.stdout.write(`Greeter listening on 127.0.0.1:${port}\n`);
process.stdout.write(`dashboard on ${admin.url}\n`);
// SIGINT/SIGTERM: drain calls (the dashboard shows it), then close the admin server too.
gracefulExit([server], { graceMs: 5000 });
