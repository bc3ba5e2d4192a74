// Running the real `switchboard` bin (node bin/switchboard.js) as a child process, bounded in
// time, with its stdout, stderr and exit code; the same command line in this process (main(),
// no process start: most tests need only that); and a line reader for long-running ones (serve).
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { linkSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { main } from "../../src/cli/main.js";
import { REPO_ROOT, within } from "../server/helpers.js";

export { REPO_ROOT, within } from "../server/helpers.js";

/** A per-test time bound; each CLI run also has its own. */
export const T = { timeout: 60_000 };

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Wall time of the run in ms. */
  ms: number;
}

export interface RunOptions {
  /** Written to stdin, which is then closed; an async function may write over time instead. */
  stdin?: string | ((child: ChildProcess) => Promise<void>);
  timeoutMs?: number;
}

/** Runs `switchboard ...args` to completion; the child is killed (and the promise rejects) after timeoutMs. */
export function runCli(args: readonly string[], options: RunOptions = {}): Promise<CliResult> {
  const started = Date.now();
  const child = spawn(process.execPath, ["bin/switchboard.js", ...args], { cwd: REPO_ROOT, stdio: ["pipe", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  child.stdin.on("error", () => {
    // The CLI may exit before reading all of stdin.
  });
  const timeoutMs = options.timeoutMs ?? 20_000;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`switchboard ${args.join(" ")} did not finish within ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    child.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
    const input = options.stdin;
    if (typeof input === "function") input(child).catch((err: unknown) => stderr += `\n[test stdin writer failed: ${String(err)}]`);
    else child.stdin.end(input ?? "");
  });
}

/**
 * Runs `switchboard ...args` in this process through main() with captured stdout and stderr
 * (stdin: the given text, then its end), bounded by timeoutMs. Relative paths resolve from the
 * repository root, as for runCli. What only the bin does (flushing, process.exit) needs runCli.
 */
export async function runMain(args: readonly string[], options: { stdin?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  const started = Date.now();
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const stdin = new PassThrough();
  let out = "";
  let err = "";
  stdout.on("data", (d: Buffer) => (out += d.toString()));
  stderr.on("data", (d: Buffer) => (err += d.toString()));
  stdin.end(options.stdin ?? "");
  if (process.cwd() !== REPO_ROOT) process.chdir(REPO_ROOT);
  const code = await within(main(args, { stdout, stderr, stdin }), options.timeoutMs ?? 20_000, `switchboard ${args.join(" ")}`);
  return { code, stdout: out, stderr: err, ms: Date.now() - started };
}

/** A long-running CLI process whose stdout is read line by line. */
export class CliProcess {
  readonly child: ChildProcess;
  private out = "";
  private err = "";
  readonly exited: Promise<number | null>;

  constructor(args: readonly string[]) {
    this.child = spawn(process.execPath, ["bin/switchboard.js", ...args], { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] });
    this.child.stdout!.on("data", (d: Buffer) => (this.out += d.toString()));
    this.child.stderr!.on("data", (d: Buffer) => (this.err += d.toString()));
    this.exited = new Promise((resolve) => this.child.on("close", (code) => resolve(code)));
  }

  get stdout(): string {
    return this.out;
  }

  get stderr(): string {
    return this.err;
  }

  /** Resolves with the first match of `pattern` in stdout; rejects after `ms` or on exit. */
  async waitFor(pattern: RegExp, ms = 20_000): Promise<RegExpExecArray> {
    const deadline = Date.now() + ms;
    let exited = false;
    void this.exited.then(() => (exited = true));
    for (;;) {
      const m = pattern.exec(this.out);
      if (m) return m;
      if (exited) throw new Error(`exited before printing ${pattern}\nstdout: ${this.out}\nstderr: ${this.err}`);
      if (Date.now() > deadline) throw new Error(`${pattern} not printed within ${ms} ms\nstdout: ${this.out}\nstderr: ${this.err}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** SIGKILL if still running (cleanup). */
  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGKILL");
  }
}

/**
 * `unix:<path>` where connections are refused (ECONNREFUSED): a socket file in a fresh private
 * directory with no listener behind it (a hard link to a listening socket's file, whose
 * listener then closed). Unlike a released TCP port, no other process can start listening
 * there. `using refusing = await refusingAddress()` removes the directory afterwards.
 */
export async function refusingAddress(): Promise<{ target: string; path: string } & Disposable> {
  const dir = mkdtempSync(join(tmpdir(), "sb-cli-refuse-"));
  const listening = join(dir, "listening.sock");
  const refusing = join(dir, "refusing.sock");
  const s = createServer();
  await new Promise<void>((resolve, reject) => s.once("error", reject).listen(listening, resolve));
  linkSync(listening, refusing);
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return { target: `unix:${refusing}`, path: refusing, [Symbol.dispose]: () => rmSync(dir, { recursive: true, force: true }) };
}
