// Runs examples/health-reflection/server.ts, the example docs/health-reflection.md shows, as a
// reader does, on a free port, and checks it with our client: health Check/Watch, reflection,
// and that SIGTERM turns the Watch NOT_SERVING before the server stops (health.register()
// wires that into server.stop(); the example does nothing else for it).
import assert from "node:assert/strict";
import { afterEach, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { Code, createClient, Health, RpcError, ServerReflectionV1, ServingStatus } from "../../src/index.js";
import { ServerReflectionRequestSchema } from "../../src/gen/grpc/reflection/v1/reflection_pb.js";
import { Greeter } from "../../examples/gen/helloworld/helloworld_pb.js";
import { startExample } from "../docs-example.js";
import { Scope, within } from "./helpers.js";

let scope = new Scope();
afterEach(async () => {
  await scope.close();
  scope = new Scope();
});

it("examples/health-reflection/server.ts (docs/health-reflection.md) runs: health SERVING, reflection lists 4 services, SIGTERM -> Watch NOT_SERVING, then UNAVAILABLE after the grace, exit 0", { timeout: 60_000 }, async () => {
  const example = await startExample("examples/health-reflection/server.ts");
  const { port, child, exited } = example;
  try {
    const channel = scope.channel(`127.0.0.1:${port}`);
    const health = createClient(Health, channel);
    assert.equal((await health.check({ service: "" })).status, ServingStatus.SERVING);
    assert.equal((await health.check({ service: "helloworld.Greeter" })).status, ServingStatus.SERVING);
    assert.equal((await createClient(Greeter, channel).sayHello({ name: "Ada" })).message, "Hello, Ada!");

    const reflection = createClient(ServerReflectionV1, channel);
    const names: string[] = [];
    for await (const r of reflection.serverReflectionInfo([create(ServerReflectionRequestSchema, { messageRequest: { case: "listServices", value: "" } })])) {
      if (r.messageResponse.case === "listServicesResponse") names.push(...r.messageResponse.value.service.map((s) => s.name));
    }
    assert.deepEqual(names, ["helloworld.Greeter", "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection"]);

    const watch = health.watch({ service: "helloworld.Greeter" });
    assert.equal((await within(watch.recvMessage(), 5000, "the first Watch message"))?.status, ServingStatus.SERVING);
    child.kill("SIGTERM");
    assert.equal((await within(watch.recvMessage(), 5000, "NOT_SERVING after SIGTERM"))?.status, ServingStatus.NOT_SERVING);
    // The open Watch holds the 5 s grace; then the server cancels it and the process ends.
    const ended = await within(
      watch.recvMessage().then(
        () => undefined,
        (err: unknown) => err,
      ),
      10_000,
      "the Watch ending",
    );
    assert.ok(ended instanceof RpcError && ended.code === Code.UNAVAILABLE, String(ended));
    assert.equal((await within(exited, 10_000, "the example exiting")).code, 0, example.stderr());
  } finally {
    example.dispose();
  }
});
