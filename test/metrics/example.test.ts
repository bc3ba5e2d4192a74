// examples/observability/metrics.ts runs as docs/observability.md tells a reader to, and prints
// the scraped counters: SayHello 2 OK + 1 INVALID_ARGUMENT on both sides, 3 stream messages.
import { describe, it } from "node:test";
import * as assert from "node:assert/strict";
import { runExample } from "../docs-example.js";

describe("examples/observability/metrics.ts", () => {
  it("serves /metrics and prints grpc_server_* and grpc_client_* counts (OK and INVALID_ARGUMENT), then exits 0", { timeout: 60_000 }, async () => {
    const r = await runExample("examples/observability/metrics.ts", { env: { PORT: "0", METRICS_PORT: "0" } });
    assert.equal(r.code, 0, r.stderr);
    const unary = 'grpc_type="unary",grpc_service="helloworld.Greeter",grpc_method="SayHello"';
    for (const side of ["server", "client"]) {
      assert.ok(r.stdout.includes(`grpc_${side}_handled_total{${unary},grpc_code="OK"} 2\n`), r.stdout);
      assert.ok(r.stdout.includes(`grpc_${side}_handled_total{${unary},grpc_code="INVALID_ARGUMENT"} 1\n`), r.stdout);
    }
    assert.match(r.stdout, /^call failed: INVALID_ARGUMENT$/m);
    assert.match(r.stdout, /^listening on 127\.0\.0\.1:\d+, metrics on http:\/\/127\.0\.0\.1:\d+\/metrics$/m);
    assert.equal(r.stdout.split("\n").filter((l) => /^Hello #\d, Linus!$/.test(l)).length, 3);
  });
});
