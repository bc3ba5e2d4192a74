// switchboard serve --workers 2: the example server in 2 processes on one port, the address
// printed once, the other commands working against it, SIGTERM draining both before "stopped".
import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { CliProcess, runMain, within } from "../cli/helpers.js";
import { alive, T } from "./helpers.js";

/** The pids of the CLI's worker processes (children of its process), from /proc. */
async function childPids(pid: number): Promise<number[]> {
  const { readFile } = await import("node:fs/promises");
  try {
    const text = await readFile(`/proc/${pid}/task/${pid}/children`, "utf8");
    return text.trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

describe("switchboard serve --workers", () => {
  let proc: CliProcess | undefined;
  let workers: number[] = [];
  afterEach(() => {
    proc?.kill();
    for (const pid of workers) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // Already gone: the normal case.
      }
    }
  });

  it("--workers 2 --port 0 -> one 'Greeter listening' line, 2 worker processes answer, SIGTERM drains both, then 'stopped' and exit 0", T, async () => {
    proc = new CliProcess(["serve", "--port", "0", "--workers", "2"]);
    const m = await proc.waitFor(/^Greeter listening on 127\.0\.0\.1:(\d+)$/m, 60_000);
    const target = `127.0.0.1:${m[1]}`;
    workers = await childPids(proc.child.pid!);
    assert.equal(workers.length, 2, `children of ${proc.child.pid}: ${workers.join(",")}`);
    const health = await runMain(["health", target]);
    assert.equal(health.code, 0, health.stderr);
    assert.equal(health.stdout, "status: SERVING\n");
    for (let i = 0; i < 4; i++) {
      const call = await runMain(["call", target, "helloworld.Greeter/SayHello", '{"name":"Ada"}', "--compact"]);
      assert.equal(call.code, 0, call.stderr);
      assert.equal(call.stdout, '{"message":"Hello, Ada!"}\n');
    }
    proc.child.kill("SIGTERM");
    assert.equal(await within(proc.exited, 30_000, "serve exit"), 0);
    assert.equal(proc.stdout.match(/Greeter listening/g)?.length, 1, proc.stdout);
    assert.match(proc.stdout, /^stopped$/m);
    for (const pid of workers) assert.equal(alive(pid), false, `worker ${pid} outlived serve`);
  });

  it("--workers 0 or a non-number -> usage error (exit 1)", T, async () => {
    assert.equal((await runMain(["serve", "--workers", "0"])).code, 1);
    assert.equal((await runMain(["serve", "--workers", "two"])).code, 1);
  });
});
