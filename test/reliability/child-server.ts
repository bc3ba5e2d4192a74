// The parent side of the protocol every reliability server child speaks (the child side is
// child-commands.ts): the child prints `listening on 127.0.0.1:<port>` first, then answers each
// `<id> <command>` line on its stdin with one JSON line carrying that id, and exits when its
// stdin closes. This module owns spawning such a child, the bounded wait for its port, matching
// replies to commands, its stderr, and ending it (also when the test process exits first).
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface, type Interface } from "node:readline";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** Kept stderr per child: enough for any crash report, bounded for a child that writes a lot. */
const STDERR_LIMIT = 64 * 1024;

const children = new Set<ChildProcess>();
process.once("exit", () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
});

/** SIGKILLs `child` if it is still running when this process exits. */
export function killOnExit(child: ChildProcess): void {
  children.add(child);
  child.once("exit", () => children.delete(child));
}

export interface ChildServerOptions {
  /** Node flags before `--import tsx` (e.g. `--expose-gc` for a child that answers `gc`). */
  nodeFlags?: string[];
  /** Arguments after the script path. */
  args?: string[];
  /** Added to this process's environment. */
  env?: NodeJS.ProcessEnv;
  /** After closing its stdin, how long `close()` waits before SIGKILL. */
  killAfterMs?: number;
}

interface Pending {
  resolve: (v: any) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

/** One server child process; `R` is what its commands answer unless a call says otherwise. */
export class ChildServer<R = unknown> {
  private readonly child: ChildProcess;
  private readonly lines: Interface;
  private readonly killAfterMs: number;
  private readonly exited: Promise<void>;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private stderrText = "";
  private listeningPort = 0;
  exitCode: number | null = null;
  exitSignal: NodeJS.Signals | null = null;

  /** Starts `script` (relative to the repository root) and resolves once it prints its port (bounded). */
  static launch<R>(script: string, options: ChildServerOptions = {}, timeoutMs = 30_000): Promise<ChildServer<R>> {
    return new ChildServer<R>(script, options).listening(timeoutMs);
  }

  protected constructor(script: string, options: ChildServerOptions) {
    this.killAfterMs = options.killAfterMs ?? 5000;
    this.child = spawn(process.execPath, [...(options.nodeFlags ?? []), "--import", "tsx", script, ...(options.args ?? [])], {
      cwd: ROOT,
      stdio: ["pipe", "pipe", "pipe"],
      env: { ...process.env, ...options.env },
    });
    killOnExit(this.child);
    this.child.stderr!.on("data", (d: Buffer) => {
      if (this.stderrText.length < STDERR_LIMIT) this.stderrText += d.toString();
    });
    this.exited = new Promise((resolve) => this.child.once("exit", () => resolve()));
    this.child.once("exit", (code, signal) => {
      this.exitCode = code;
      this.exitSignal = signal;
      for (const p of this.pending.values()) {
        clearTimeout(p.timer);
        p.reject(new Error(`server process exited (${code ?? signal}) while a command was pending\n${this.stderrText}`));
      }
      this.pending.clear();
    });
    this.lines = createInterface({ input: this.child.stdout! });
  }

  /** Waits (bounded) for the first line, the port; from then on, lines are replies. */
  protected async listening(timeoutMs: number): Promise<this> {
    this.listeningPort = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.child.kill("SIGKILL");
        reject(new Error(`server process did not start within ${timeoutMs} ms\n${this.stderrText}`));
      }, timeoutMs);
      this.child.once("exit", (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`server process exited early (${code ?? signal})\n${this.stderrText}`));
      });
      this.lines.once("line", (line) => {
        clearTimeout(timer);
        const m = /^listening on 127\.0\.0\.1:(\d+)$/.exec(line);
        if (m) resolve(Number(m[1]));
        else reject(new Error(`unexpected first line ${JSON.stringify(line)}\n${this.stderrText}`));
      });
    });
    this.lines.on("line", (line) => this.onReply(line));
    return this;
  }

  private onReply(line: string): void {
    let msg: { id?: number };
    try {
      msg = JSON.parse(line) as { id?: number };
    } catch {
      return;
    }
    const p = msg.id === undefined ? undefined : this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id!);
    clearTimeout(p.timer);
    p.resolve(msg);
  }

  get port(): number {
    return this.listeningPort;
  }

  get pid(): number {
    return this.child.pid!;
  }

  get alive(): boolean {
    return this.exitCode === null && this.exitSignal === null;
  }

  get stderr(): string {
    return this.stderrText;
  }

  /** Sends one command and waits (bounded) for its reply. */
  command<T = R>(line: string, timeoutMs = 10_000): Promise<T> {
    if (!this.alive) return Promise.reject(new Error(`server process is dead (${this.exitCode ?? this.exitSignal})\n${this.stderrText}`));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`no reply to ${JSON.stringify(line)} within ${timeoutMs} ms\n${this.stderrText}`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.child.stdin!.write(`${id} ${line}\n`);
    });
  }

  /** Ends the child (stdin closed, then SIGKILL after killAfterMs) and waits for it. */
  async close(): Promise<void> {
    if (!this.alive) return;
    this.child.stdin!.end();
    const hard = setTimeout(() => this.child.kill("SIGKILL"), this.killAfterMs);
    await this.exited;
    clearTimeout(hard);
  }
}
