// The 18 interop cases from Debian's python3-grpcio (C-core) client against our server.
import assert from "node:assert/strict";
import { test } from "node:test";
import { CASES, CLIENTS, clientArgs, pythonPeerMissing, requirePeer, runClient, startOurServer } from "./peers.js";

const skip = requirePeer(pythonPeerMissing());
if (skip) process.stderr.write(`SKIPPING C-core interop client tests: ${skip}\n`);

for (const tls of [false, true]) {
  test(`C-core client -> Switchboard server${tls ? " over TLS" : ""}: all 18 interop cases pass`, { skip, timeout: 300_000 }, async (t) => {
    const server = await startOurServer(tls);
    try {
      const run = await runClient(CLIENTS.python.command, [...CLIENTS.python.args, ...clientArgs(server.port, tls)]);
      for (const name of CASES) {
        await t.test(name, () => {
          const r = run.cases.get(name);
          assert.ok(r, `no result line for ${name}:\n${run.output}`);
          assert.equal(r.verdict, "PASS", `${name}: ${r.detail}`);
        });
      }
      assert.equal(run.status, 0, run.output);
    } finally {
      await server.stop();
    }
  });
}
