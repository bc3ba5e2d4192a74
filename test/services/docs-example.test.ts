// Runs the example of docs/health-reflection.md ("A runnable example") as written, on a free
// port, and checks it with our client: health Check/Watch, reflection, and that SIGTERM turns
// the Watch NOT_SERVING before the server stops.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { afterEach, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { Code, createClient, Health, RpcError, ServerReflectionV1, ServingStatus } from "../../src/index.js";
import { ServerReflectionRequestSchema } from "../../src/gen/grpc/reflection/v1/reflection_pb.js";
import { Greeter } from "../../examples/gen/helloworld/helloworld_pb.js";
import { ROOT } from "../interop/peers.js";
import { Scope, within } from "./helpers.js";

let scope = new Scope();
afterEach(async () => {
  await scope.close();
  scope = new Scope();
});

/** The first ```ts block after the "A runnable example" heading. */
function exampleSource(): string {
  const doc = readFileSync(path.join(ROOT, "docs", "health-reflection.md"), "utf8");
  const section = doc.slice(doc.indexOf("## A runnable example"));
  const m = /```ts\n([\s\S]*?)```/.exec(section);
  assert.ok(m, "no ts block in the runnable example section");
  return m[1]!;
}

it("the docs example runs: health, reflection, and NOT_SERVING on SIGTERM", { timeout: 60_000 }, async () => {
  // The example is written for examples/health-reflection.ts; it runs from here, so its imports move.
  const source = exampleSource()
    .replaceAll('from "../src/', 'from "../../src/')
    .replaceAll('from "./gen/', 'from "../../examples/gen/')
    .replaceAll('from "./helloworld/', 'from "../../examples/helloworld/');
  const file = path.join(ROOT, "test", "services", `.docs-example-${process.pid}.ts`);
  writeFileSync(file, source);
  const child = spawn(process.execPath, ["--import", "tsx", file], { cwd: ROOT, env: { ...process.env, PORT: "0" }, stdio: ["ignore", "pipe", "pipe"] });
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  let stdout = "";
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  try {
    const port = await within(
      new Promise<number>((resolve, reject) => {
        child.stdout.on("data", (d: Buffer) => {
          stdout += d.toString();
          const m = /listening on 127\.0\.0\.1:(\d+)/.exec(stdout);
          if (m) resolve(Number(m[1]));
        });
        void exited.then((code) => reject(new Error(`the example exited (${code}) before listening\n${stderr}`)));
      }),
      30_000,
      "the example starting",
    );
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
    assert.equal(await within(exited, 10_000, "the example exiting"), 0, stderr);
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    rmSync(file, { force: true });
  }
});
