// The 18 interop cases from the @grpc/grpc-js client against our server.
import assert from "node:assert/strict";
import { test } from "node:test";
import { CASES, CLIENTS, clientArgs, runClient, startOurServer } from "./peers.js";

for (const tls of [false, true]) {
  test(`grpc-js client -> Switchboard server${tls ? " over TLS" : ""}: every interop case passes`, { timeout: 300_000 }, async (t) => {
    const server = await startOurServer(tls);
    try {
      const run = await runClient(CLIENTS.grpcjs.command, [...CLIENTS.grpcjs.args, ...clientArgs(server.port, tls)]);
      for (const name of CASES) {
        await t.test(name, () => {
          const r = run.cases.get(name);
          assert.ok(r, `no result line for ${name}:\n${run.output}`);
          // grpc-js can express all 18 cases; a SKIP would mean the client lost a case.
          assert.equal(r.verdict, "PASS", `${name}: ${r.detail}`);
        });
      }
      assert.equal(run.status, 0, run.output);
    } finally {
      await server.stop();
    }
  });
}
