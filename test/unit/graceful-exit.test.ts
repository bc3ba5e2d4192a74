import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** Starts `npm start`'s server on a free port and waits for its listening line. */
function startGreeter() {
  const child = spawn(process.execPath, ["--import", "tsx", "examples/helloworld/server.ts"], { cwd: ROOT, env: { ...process.env, PORT: "0" }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  const ready = new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`not listening: ${out}`)), 20_000);
    child.stdout.on("data", () => {
      if (/listening on/.test(out)) {
        clearTimeout(t);
        resolve();
      }
    });
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code, signal) => resolve(code ?? (signal ? -1 : null))));
  return { child, ready, exited, output: () => out };
}

describe("gracefulExit (grpclib graceful_exit)", () => {
  it("first SIGTERM stops the server gracefully and the process exits 0", { timeout: 30_000 }, async () => {
    const g = startGreeter();
    await g.ready;
    g.child.kill("SIGTERM");
    assert.equal(await g.exited, 0);
    assert.match(g.output(), /stopped/);
  });
  it("a second signal exits at once with 128 + signal", { timeout: 30_000 }, async () => {
    const g = startGreeter();
    await g.ready;
    g.child.kill("SIGINT");
    g.child.kill("SIGINT");
    const code = await g.exited;
    assert.ok(code === 130 || code === 0, `exit code ${code}`);
  });
});
