// switchboard serve runs the `npm start` server (Greeter + health + reflection); the other
// commands work against it.
import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { CliProcess, runCli, runMain, T, within } from "./helpers.js";

describe("switchboard serve", () => {
  let proc: CliProcess | undefined;
  afterEach(() => proc?.kill());

  it("--port 0 prints the bound address, answers health, ls and SayHello, and stops on SIGTERM", T, async () => {
    proc = new CliProcess(["serve", "--port", "0"]);
    const m = await proc.waitFor(/^Greeter listening on 127\.0\.0\.1:(\d+)$/m);
    const target = `127.0.0.1:${m[1]}`;
    const health = await runCli(["health", target]);
    assert.equal(health.code, 0, health.stderr);
    assert.equal(health.stdout, "status: SERVING\n");
    const greeterHealth = await runMain(["health", target, "helloworld.Greeter"]);
    assert.equal(greeterHealth.code, 0, greeterHealth.stderr);
    const ls = await runMain(["ls", target]);
    assert.equal(ls.code, 0, ls.stderr);
    assert.match(ls.stdout, /^helloworld\.Greeter$/m);
    const call = await runMain(["call", target, "helloworld.Greeter/SayHello", '{"name":"Ada"}', "--compact"]);
    assert.equal(call.code, 0, call.stderr);
    assert.equal(call.stdout, '{"message":"Hello, Ada!"}\n');
    proc.child.kill("SIGTERM");
    assert.equal(await within(proc.exited, 10_000, "serve exit"), 0);
    assert.match(proc.stdout, /^stopped$/m);
  });

  it("a bad --port or an extra argument is a usage error (exit 1)", T, async () => {
    assert.equal((await runMain(["serve", "--port", "http"])).code, 1);
    assert.equal((await runMain(["serve", "now"])).code, 1);
  });
});
