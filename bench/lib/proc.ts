// Child processes of the harness: every one is registered and killed when the harness
// exits, fails or is interrupted.
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));

const children = new Set<ChildProcess>();

export function killAll(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
  children.clear();
}

let installed = false;
/** Kills every child on exit, on SIGINT/SIGTERM and on an uncaught error. */
export function installCleanup(): void {
  if (installed) return;
  installed = true;
  process.on("exit", killAll);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.on(signal, () => {
      process.stderr.write(`\n${signal}: stopping every child process\n`);
      killAll();
      process.exit(130);
    });
  }
  process.on("uncaughtException", (err) => {
    process.stderr.write(`uncaught: ${err.stack ?? err}\n`);
    killAll();
    process.exit(1);
  });
  process.on("unhandledRejection", (err) => {
    process.stderr.write(`unhandled rejection: ${(err as Error)?.stack ?? err}\n`);
    killAll();
    process.exit(1);
  });
}

/** Spawns `taskset -c <cpu> <command...>` (or the command itself when cpu is undefined). */
export function spawnPinned(cpu: number | undefined, command: string, args: string[]): ChildProcess {
  const [file, argv] = cpu === undefined ? [command, args] : ["taskset", ["-c", String(cpu), command, ...args]];
  const child = spawn(file, argv, { cwd: ROOT, stdio: ["pipe", "pipe", "pipe"] });
  children.add(child);
  child.once("exit", () => children.delete(child));
  child.once("error", () => children.delete(child));
  return child;
}

/** A Node process running a TypeScript file through tsx (never through npx: signals must reach it). */
export function spawnNode(cpu: number | undefined, file: string, args: string[], nodeFlags: string[] = []): ChildProcess {
  return spawnPinned(cpu, process.execPath, [...nodeFlags, "--import", "tsx", file, ...args]);
}

/** Reads a child's stdout line by line; `next` waits for the next line matching a predicate. */
export class Lines {
  private readonly queue: string[] = [];
  private waiting: { match: (l: string) => boolean; resolve: (l: string) => void; reject: (e: Error) => void; timer: NodeJS.Timeout } | undefined;
  private buffer = "";
  private ended: Error | undefined;
  stderr = "";

  constructor(
    readonly child: ChildProcess,
    readonly name: string,
  ) {
    child.stdout!.setEncoding("utf8");
    child.stdout!.on("data", (chunk: string) => {
      this.buffer += chunk;
      let i: number;
      while ((i = this.buffer.indexOf("\n")) >= 0) {
        const line = this.buffer.slice(0, i);
        this.buffer = this.buffer.slice(i + 1);
        this.push(line);
      }
    });
    child.stderr!.setEncoding("utf8");
    child.stderr!.on("data", (chunk: string) => {
      this.stderr = (this.stderr + chunk).slice(-4000);
    });
    child.once("exit", (code, signal) => {
      this.ended = new Error(`${name} exited (${signal ?? `code ${code}`})${this.stderr ? `: ${this.stderr.trim().split("\n").slice(-5).join(" | ")}` : ""}`);
      if (this.waiting) {
        clearTimeout(this.waiting.timer);
        this.waiting.reject(this.ended);
        this.waiting = undefined;
      }
    });
  }

  private push(line: string): void {
    const w = this.waiting;
    if (w && w.match(line)) {
      this.waiting = undefined;
      clearTimeout(w.timer);
      w.resolve(line);
      return;
    }
    this.queue.push(line);
    if (this.queue.length > 1000) this.queue.shift();
  }

  next(match: (line: string) => boolean, timeoutMs: number, what = "a line"): Promise<string> {
    const i = this.queue.findIndex(match);
    if (i >= 0) return Promise.resolve(this.queue.splice(0, i + 1)[i]!);
    if (this.ended) return Promise.reject(this.ended);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting = undefined;
        reject(new Error(`${this.name}: no ${what} within ${timeoutMs} ms${this.stderr ? ` (stderr: ${this.stderr.trim().split("\n").slice(-3).join(" | ")})` : ""}`));
      }, timeoutMs);
      this.waiting = { match, resolve, reject, timer };
    });
  }

  /**
   * The port of a server's `listening on HOST:PORT` line (within 60 s). On any failure the child
   * is stopped before the error is thrown, so no server outlives a failed start.
   */
  async listeningPort(): Promise<number> {
    try {
      const line = await this.next((l) => l.startsWith("listening on "), 60_000, "`listening on` line");
      const port = Number(/:(\d+)\s*$/.exec(line)?.[1]);
      if (!port) throw new Error(`${this.name}: bad listening line ${JSON.stringify(line)}`);
      return port;
    } catch (err) {
      await this.stop(0);
      throw err;
    }
  }

  send(line: string): void {
    this.child.stdin!.write(`${line}\n`);
  }

  /** Sends a command and waits for the next JSON line. */
  async request<T>(line: string, timeoutMs: number): Promise<T> {
    this.queue.length = 0; // a late reply to an earlier, timed-out command must not answer this one
    this.send(line);
    const reply = await this.next((l) => l.startsWith("{"), timeoutMs, `reply to ${JSON.stringify(line.slice(0, 40))}`);
    const value = JSON.parse(reply) as T & { error?: string };
    if (value.error) throw new Error(`${this.name}: ${value.error}`);
    return value;
  }

  /** Closes stdin (the child's cue to exit), then kills it if it lingers. */
  async stop(graceMs = 2000): Promise<void> {
    const child = this.child;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.stdin!.end();
    const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
    await exited;
    clearTimeout(timer);
  }
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  ms: number;
}

/** Runs a command to completion, killed after timeoutMs. */
export function run(cpu: number | undefined, command: string, args: string[], timeoutMs: number): Promise<RunResult> {
  return new Promise((resolve) => {
    const started = performance.now();
    const child = spawnPinned(cpu, command, args);
    child.stdin!.end();
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    child.stdout!.setEncoding("utf8").on("data", (c: string) => (stdout += c));
    child.stderr!.setEncoding("utf8").on("data", (c: string) => (stderr = (stderr + c).slice(-8000)));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutMs);
    const finish = (code: number | null, signal: NodeJS.Signals | null) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut, ms: performance.now() - started });
    };
    child.once("error", (err) => {
      stderr += String(err);
      finish(null, null);
    });
    child.once("close", finish);
  });
}
