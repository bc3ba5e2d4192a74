// examples/observability/dashboard.ts runs as the docs say: it prints its two addresses, the
// dashboard's snapshot counts the calls made, and SIGTERM stops it.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Channel, createClient } from "../../src/index.js";
import { Greeter } from "../../src/gen/helloworld/helloworld_pb.js";
import { startExample } from "../docs-example.js";
import { until, within } from "../server/helpers.js";
import { get, SAY_HELLO } from "./helpers.js";

describe("examples/observability/dashboard.ts", () => {
  it("serves Greeter and the dashboard; /api/snapshot (200) counts the calls; SIGTERM exits 0", { timeout: 60_000 }, async () => {
    const ex = await startExample("examples/observability/dashboard.ts", { env: { ADMIN_PORT: "0" } });
    try {
      await until(() => /dashboard on http:\/\/127\.0\.0\.1:\d+\//.test(ex.stdout()), 20_000, "the dashboard line");
      const url = /dashboard on (http:\/\/127\.0\.0\.1:\d+\/)/.exec(ex.stdout())![1]!;
      const channel = new Channel(`127.0.0.1:${ex.port}`);
      try {
        const greeter = createClient(Greeter, channel);
        assert.equal((await greeter.sayHello({ name: "Ada" })).message, "Hello, Ada!");
        assert.equal((await greeter.sayHello({ name: "Bo" })).message, "Hello, Bo!");
      } finally {
        channel.close();
      }
      const res = await get(`${url}api/snapshot`);
      assert.equal(res.status, 200);
      const snapshot = JSON.parse(res.body) as { calls: { methods: { method: string; codes: Record<string, number> }[] }; health: string };
      assert.deepEqual(snapshot.calls.methods.find((m) => m.method === SAY_HELLO)?.codes, { OK: 2 });
      assert.equal(snapshot.health, "SERVING");
      ex.child.kill("SIGTERM");
      const result = await within(ex.exited, 20_000, "example exit");
      assert.equal(result.code, 0, result.stderr);
    } finally {
      ex.dispose();
    }
  });
});
