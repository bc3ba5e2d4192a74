// Runs examples/observability/channelz.ts, the example docs/observability.md (## channelz) shows
// whole, as a reader does: once to its end (it prints what channelz reports), and with --serve,
// queried by our client like grpcurl would, then stopped with SIGTERM.
import assert from "node:assert/strict";
import { afterEach, it } from "node:test";
import { createClient } from "../../src/index.js";
import { Channelz } from "../../src/services/channelz/index.js";
import { runExample, startExample } from "../docs-example.js";
import { Scope, within } from "./helpers.js";

const EXAMPLE = "examples/observability/channelz.ts";

let scope = new Scope();
afterEach(async () => {
  await scope.close();
  scope = new Scope();
});

it("examples/observability/channelz.ts runs: one failed call, the server's counts and socket, the channel READY with its subchannel, exit 0", { timeout: 60_000 }, async () => {
  const r = await runExample(EXAMPLE, { env: { PORT: "0" } });
  assert.equal(r.code, 0, r.stderr);
  const out = r.stdout;
  assert.match(out, /^call failed: INVALID_ARGUMENT$/m);
  // The GetServers call that reads the counts is itself a started call: 2 OK + 1 failed + 1 running.
  assert.match(out, /^server \d+: calls started 4, succeeded 2, failed 1$/m);
  assert.match(out, /^ {2}socket \d+ \(127\.0\.0\.1:\d+ -> 127\.0\.0\.1:\d+\): streams \d+, messages in \d+, out \d+$/m);
  assert.match(out, /^channel \d+ to 127\.0\.0\.1:\d+: state READY, calls started \d+, failed 1, subchannels \d+$/m);
});

it("examples/observability/channelz.ts --serve keeps serving Channelz to other clients until SIGTERM, then exits 0", { timeout: 60_000 }, async () => {
  const example = await startExample(EXAMPLE, { args: ["--serve"] });
  try {
    const channelz = createClient(Channelz, scope.channel(`127.0.0.1:${example.port}`));
    // The example prints its report once its own calls are done; the Channelz answers below come after.
    const deadline = Date.now() + 20_000;
    while (!/^channel /m.test(example.stdout())) {
      assert.ok(Date.now() < deadline, `no report from the example within 20 s\n${example.stderr()}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const servers = (await channelz.getServers({})).server;
    assert.equal(servers.length, 1);
    assert.equal(servers[0]!.data!.callsFailed, 1n);
    const top = (await channelz.getTopChannels({})).channel;
    assert.equal(top.length, 1, "the example's channelz channel");
    example.child.kill("SIGTERM");
    assert.equal((await within(example.exited, 10_000, "the example exiting")).code, 0, example.stderr());
  } finally {
    example.dispose();
  }
});
