// Runs examples/worker-pool/server.ts, the example docs/execution.md and the README show, as a
// reader does, on a free port: SayHello and SayHelloStream are answered by the functions of
// examples/worker-pool/work.ts (TypeScript, loaded in the pool's threads), and SIGTERM stops
// the server and closes the pool so the process exits 0.
import assert from "node:assert/strict";
import { it } from "node:test";
import { Channel, createClient } from "../../src/index.js";
import { Greeter } from "../../examples/gen/helloworld/helloworld_pb.js";
import { startExample } from "../docs-example.js";
import { within } from "../server/helpers.js";

it("examples/worker-pool/server.ts runs: SayHello counts primes on a thread, SayHelloStream streams 4 counts (OK), SIGTERM -> exit 0", { timeout: 90_000 }, async () => {
  const example = await startExample("examples/worker-pool/server.ts");
  const channel = new Channel(`127.0.0.1:${example.port}`);
  try {
    assert.match(example.stdout(), /^Greeter on a \d+-thread worker pool, listening on 127\.0\.0\.1:\d+\n$/);
    const greeter = createClient(Greeter, channel);
    const reply = await within(greeter.sayHello({ name: "Ada" }, { timeout: 30_000 }), 35_000, "SayHello");
    assert.equal(reply.message, "Hello, Ada! There are 148933 primes below 2,000,000.");
    const counts: string[] = [];
    for await (const r of greeter.sayHelloStream({ name: "Bo" }, { timeout: 30_000 })) counts.push(r.message);
    assert.deepEqual(counts, ["Bo: 168 primes below 10^3", "Bo: 1229 primes below 10^4", "Bo: 9592 primes below 10^5", "Bo: 78498 primes below 10^6"]);
    channel.close();
    example.child.kill("SIGTERM");
    const ended = await within(example.exited, 20_000, "the example exiting after SIGTERM");
    assert.equal(ended.code, 0, ended.stderr);
  } finally {
    channel.close();
    example.dispose();
  }
});
