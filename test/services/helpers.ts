// Shared helpers for test/services: a Scope that owns the servers, channels and python3-grpcio
// child processes one test creates (closing them, bounded, in afterEach), and line-by-line
// reading of a python peer's JSON output.
import { spawn, type ChildProcess } from "node:child_process";
import { Channel, Server } from "../../src/index.js";
import { DEBIAN_PYTHON, ROOT } from "../interop/peers.js";
import { within } from "../server/helpers.js";

export { deferred, T, until, within } from "../server/helpers.js";

/** Owns what one test creates; `close()` releases all of it. */
export class Scope {
  private readonly servers: Server[] = [];
  private readonly channels: Channel[] = [];
  private readonly children: ChildProcess[] = [];

  /** Starts a server on 127.0.0.1:0 after `setup` registered its services. */
  async server(setup: (server: Server) => void): Promise<{ server: Server; port: number; target: string }> {
    const server = new Server();
    this.servers.push(server);
    setup(server);
    const port = await server.addInsecurePort("127.0.0.1:0");
    server.start();
    return { server, port, target: `127.0.0.1:${port}` };
  }

  channel(target: string): Channel {
    const ch = new Channel(target);
    this.channels.push(ch);
    return ch;
  }

  /** Starts a python3-grpcio script from test/services/python; its stdout is read line by line. */
  python(script: string, args: string[]): PythonProcess {
    const child = spawn(DEBIAN_PYTHON, [`test/services/python/${script}`, ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    this.children.push(child);
    return new PythonProcess(child);
  }

  async close(): Promise<void> {
    for (const child of this.children.splice(0)) {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
    for (const ch of this.channels.splice(0)) ch.close();
    const servers = this.servers.splice(0);
    await within(Promise.all(servers.map((s) => s.stop(0))), 5000, "server.stop(0) in cleanup");
  }
}

/** A running python peer: its stdout lines as they come, stderr for failure messages. */
export class PythonProcess {
  private readonly lines: string[] = [];
  private buffer = "";
  private stderr = "";
  private waiter: (() => void) | undefined;
  private exitCode: number | null | undefined;
  readonly exited: Promise<number | null>;

  constructor(private readonly child: ChildProcess) {
    child.stdout!.setEncoding("utf8");
    child.stdout!.on("data", (chunk: string) => {
      this.buffer += chunk;
      let nl: number;
      while ((nl = this.buffer.indexOf("\n")) >= 0) {
        this.lines.push(this.buffer.slice(0, nl));
        this.buffer = this.buffer.slice(nl + 1);
      }
      this.wake();
    });
    child.stderr!.on("data", (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((resolve) => {
      child.on("close", (code) => {
        this.exitCode = code;
        this.wake();
        resolve(code);
      });
      child.on("error", (err) => {
        this.stderr += String(err);
        this.exitCode = null;
        this.wake();
        resolve(null);
      });
    });
  }

  /** The next stdout line parsed as JSON; rejects after `ms` or when the process ends first. */
  async next<V = Record<string, unknown>>(ms = 15_000): Promise<V> {
    const deadline = Date.now() + ms;
    while (this.lines.length === 0) {
      if (this.exitCode !== undefined) throw new Error(`python peer exited (${this.exitCode}) without more output\n${this.stderr}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no output from the python peer within ${ms} ms\n${this.stderr}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    const line = this.lines.shift()!;
    try {
      return JSON.parse(line) as V;
    } catch {
      throw new Error(`python peer printed a non-JSON line: ${line}\n${this.stderr}`);
    }
  }

  /** Waits (bounded) for the exit; returns the exit code and stderr. */
  async finish(ms = 30_000): Promise<{ code: number | null; stderr: string }> {
    const code = await within(this.exited, ms, "python peer exit");
    return { code, stderr: this.stderr };
  }

  get errors(): string {
    return this.stderr;
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }
}
