// Runs the "## A runnable example" block of a doc as a child process on a free port (PORT=0)
// and waits for its "listening on 127.0.0.1:<port>" line; shared by the docs-example tests.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { within } from "./server/helpers.js";
import { ROOT } from "./interop/peers.js";

export interface RunningExample {
  port: number;
  child: ChildProcess;
  /** Resolves with the exit code once the process has ended. */
  exited: Promise<number | null>;
  stderr(): string;
  /** Kills the process if it still runs and removes the temporary source file. */
  dispose(): void;
}

/** The first ```ts block after the "## A runnable example" heading of `docs/<doc>`. */
export function exampleSource(doc: string): string {
  const text = readFileSync(path.join(ROOT, "docs", doc), "utf8");
  const m = /```ts\n([\s\S]*?)```/.exec(text.slice(text.indexOf("## A runnable example")));
  assert.ok(m, `no ts block in the runnable example section of docs/${doc}`);
  return m[1]!;
}

/** Writes `source` next to the test (`dir`, so relative imports resolve from there), starts it and waits for its port. */
export async function startExample(source: string, dir: string): Promise<RunningExample> {
  const file = path.join(dir, `.docs-example-${process.pid}.ts`);
  writeFileSync(file, source);
  const child = spawn(process.execPath, ["--import", "tsx", file], { cwd: ROOT, env: { ...process.env, PORT: "0" }, stdio: ["ignore", "pipe", "pipe"] });
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  let stdout = "";
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const dispose = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    rmSync(file, { force: true });
  };
  try {
    const port = await within(
      new Promise<number>((resolve, reject) => {
        child.stdout!.on("data", (d: Buffer) => {
          stdout += d.toString();
          const m = /listening on 127\.0\.0\.1:(\d+)/.exec(stdout);
          if (m) resolve(Number(m[1]));
        });
        void exited.then((code) => reject(new Error(`the example exited (${code}) before listening\n${stderr}`)));
      }),
      30_000,
      "the example starting",
    );
    return { port, child, exited, stderr: () => stderr, dispose };
  } catch (err) {
    dispose();
    throw err;
  }
}
