// gracefulExit (grpclib graceful_exit): the first SIGINT/SIGTERM stops the servers gracefully
// and the process exits 0 when done; a second signal while that stop is still running exits at
// once with 128 + the signal number. The second signal is sent only after the child reported
// that the first one began the stop (the two never merge into one delivery).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { until, within } from "../server/helpers.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
/** Generous: a healthy child needs a few seconds at most. */
const CHILD_MS = 40_000;

/** Starts a `node --import tsx` script; `line(re)` waits (bounded) for a matching stdout line. */
function start(script: string, env: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, ["--import", "tsx", script], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
  const output = () => `stdout:\n${out}\nstderr:\n${err}`;
  const lines = () => out.split("\n").filter(Boolean);
  const line = async (re: RegExp) => {
    await until(() => lines().some((l) => re.test(l)) || child.exitCode !== null, CHILD_MS, `line ${re}`);
    assert.ok(lines().some((l) => re.test(l)), `the child exited before printing ${re}\n${output()}`);
  };
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  };
  return { child, exited, line, lines, output, kill };
}

describe("gracefulExit (grpclib graceful_exit)", () => {
  it("`npm start`'s server: the first SIGTERM stops it gracefully, prints stopped, and the process exits 0", { timeout: 60_000 }, async () => {
    const g = start("examples/helloworld/server.ts", { PORT: "0" });
    try {
      await g.line(/listening on/);
      g.child.kill("SIGTERM");
      assert.deepEqual(await within(g.exited, CHILD_MS, "exit after SIGTERM"), { code: 0, signal: null }, g.output());
      assert.ok(g.lines().includes("stopped"), g.output());
    } finally {
      g.kill();
    }
  });

  for (const [signal, code] of [
    ["SIGINT", 130],
    ["SIGTERM", 143],
  ] as const) {
    it(`a second ${signal} while the graceful stop still waits for a running call exits at once with ${code} (128 + ${code - 128})`, { timeout: 60_000 }, async () => {
      const g = start("test/unit/fixtures/graceful-exit-server.ts");
      try {
        await g.line(/^ready$/);
        g.child.kill(signal);
        // The stop has begun and waits for the call (grace 60 s): only now the second signal.
        await g.line(new RegExp(`^stopping ${signal}$`));
        g.child.kill(signal);
        assert.deepEqual(await within(g.exited, CHILD_MS, `exit after the second ${signal}`), { code, signal: null }, g.output());
        assert.deepEqual(g.lines(), ["ready", `stopping ${signal}`], "the graceful stop did not finish first");
      } finally {
        g.kill();
      }
    });
  }
});
