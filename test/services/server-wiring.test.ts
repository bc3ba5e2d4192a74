// How health and reflection hook into the Server: stop() flips health first; addReflection(server)
// describes what was registered.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { addReflection, Channel, createClient, Health, HealthService, Server, ServerReflectionV1, ServingStatus } from "../../src/index.js";
import { Greeter } from "../../examples/gen/helloworld/helloworld_pb.js";
import { greeter } from "../../examples/helloworld/server.js";
import { until } from "./helpers.js";

async function serve(setup: (s: Server) => void) {
  const server = new Server();
  setup(server);
  const port = await server.addInsecurePort("127.0.0.1:0");
  server.start();
  return { server, channel: new Channel(`127.0.0.1:${port}`) };
}

describe("Server wiring of health and reflection", () => {
  it("server.stop() sends NOT_SERVING to an open Watch before the connection goes away", { timeout: 15_000 }, async () => {
    const health = new HealthService();
    const { server, channel } = await serve((s) => {
      s.addService(Greeter, greeter);
      health.register(s);
    });
    try {
      const watch = createClient(Health, channel).watch({ service: "" }, { timeout: 10_000 });
      const seen: ServingStatus[] = [];
      const reading = (async () => {
        try {
          for await (const r of watch) seen.push(r.status);
        } catch {
          // The watch ends with the server; what matters is what arrived before.
        }
      })();
      await until(() => seen.length > 0, 10_000, "the first Watch response");
      assert.deepEqual(seen, [ServingStatus.SERVING]);
      await server.stop(500);
      await reading;
      assert.equal(seen.at(-1), ServingStatus.NOT_SERVING, `statuses seen: ${seen.join(",")}`);
    } finally {
      channel.close();
      await server.stop();
    }
  });

  it("addReflection(server) lists every typed service registered before it, and itself", { timeout: 15_000 }, async () => {
    const { server, channel } = await serve((s) => {
      s.addService(Greeter, greeter);
      new HealthService().register(s);
      addReflection(s);
    });
    try {
      const call = createClient(ServerReflectionV1, channel).serverReflectionInfo([{ messageRequest: { case: "listServices", value: "" } }], { timeout: 5000 });
      const names: string[] = [];
      for await (const r of call) {
        if (r.messageResponse.case === "listServicesResponse") names.push(...r.messageResponse.value.service.map((s) => s.name));
      }
      for (const want of ["helloworld.Greeter", "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection"]) assert.ok(names.includes(want), `${want} missing from ${names.join(", ")}`);
    } finally {
      channel.close();
      await server.stop();
    }
  });
});
