// The examples servers without reflection, called from the command line with --proto as a user
// would: the worker-pool Greeter (examples/worker-pool/server.ts) and the SR OS script
// (examples/sros/script.ts, docs/sros.md). The SR OS calls go through the real bin.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startExample, type RunningExample } from "../docs-example.js";
import { runCli, runMain, T } from "./helpers.js";

const HELLO = ["--proto", "helloworld/helloworld.proto", "--import-path", "examples"];

describe("switchboard call --proto: examples/worker-pool/server.ts (no reflection)", () => {
  let example: RunningExample;
  before(async () => {
    example = await startExample("examples/worker-pool/server.ts");
  });
  after(() => example.dispose());

  it("ls lists the Greeter from the .proto; SayHello and SayHelloStream (4 replies) answer with the pool's results", T, async () => {
    const target = `127.0.0.1:${example.port}`;
    const ls = await runMain(["ls", target, ...HELLO]);
    assert.equal(ls.stdout, "helloworld.Greeter\n", ls.stderr);
    const hello = await runMain(["call", target, "helloworld.Greeter/SayHello", '{"name":"Ada"}', "--compact", ...HELLO]);
    assert.equal(hello.code, 0, hello.stderr);
    assert.equal(hello.stdout, '{"message":"Hello, Ada! There are 148933 primes below 2,000,000."}\n');
    const stream = await runMain(["call", target, "helloworld.Greeter/SayHelloStream", '{"name":"Bo"}', "--compact", ...HELLO]);
    assert.equal(stream.code, 0, stream.stderr);
    assert.deepEqual(stream.stdout.trim().split("\n").map((l) => JSON.parse(l).message), [
      "Bo: 168 primes below 10^3",
      "Bo: 1229 primes below 10^4",
      "Bo: 9592 primes below 10^5",
      "Bo: 78498 primes below 10^6",
    ]);
  });
});

describe("switchboard call --proto (the bin): examples/sros/script.ts (no reflection)", () => {
  let example: RunningExample;
  before(async () => {
    example = await startExample("examples/sros/script.ts");
  });
  after(() => example.dispose());

  it("SayHello answers; an empty name is the script's abort(INVALID_ARGUMENT): exit 64 + 3", T, async () => {
    const target = `127.0.0.1:${example.port}`;
    const ok = await runCli(["call", target, "helloworld.Greeter/SayHello", '{"name":"Ada"}', "--compact", ...HELLO]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout, '{"message":"Hello, Ada!"}\n');
    const aborted = await runCli(["call", target, "helloworld.Greeter/SayHello", "{}", "-I", "examples", "--proto", "examples/helloworld/helloworld.proto"]);
    assert.equal(aborted.code, 64 + 3);
    assert.equal(aborted.stderr, "switchboard: call: INVALID_ARGUMENT: name is required\n");
  });
});
