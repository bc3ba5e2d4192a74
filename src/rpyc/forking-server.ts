// rpyc's ForkingServer: a child process per connection. Node cannot fork(2) a running process,
// so the parent starts a fresh Node process (child_process.fork of fork/child.js, with the
// parent's execArgv, so a parent running under tsx gives its children tsx too), the child
// imports the service module, and the parent hands it the accepted socket. A crash in a child
// ends that connection only.
import { fork, type ChildProcess } from "node:child_process";
import type net from "node:net";
import type { Duplex } from "node:stream";
import { ErrorCode, SwitchboardError } from "../errors.js";
import type { ProtocolConfig } from "./config.js";
import type { ForkHello, FromForkChild } from "./fork/protocol.js";
import { Server, type ServerOptions, type ServiceSpec } from "./server.js";
import { serviceModuleOf, type ServiceModuleOptions } from "./service-module.js";

/** fork/child.ts when the library runs from source, fork/child.js when compiled. */
const CHILD = new URL(import.meta.url.endsWith(".ts") ? "./fork/child.ts" : "./fork/child.js", import.meta.url);
/** How long a child has to exit after SIGTERM at close() before SIGKILL. */
const KILL_GRACE_MS = 2000;

/** serviceModule: the module each child process imports the service from. */
export interface ForkingServerOptions extends ServerOptions, ServiceModuleOptions {}

/**
 * rpyc's ForkingServer (Unix only): every connection is served by its own child process,
 * which imports `serviceModule`, makes the service instance and exits when the connection ends.
 *
 * ```ts
 * const server = new ForkingServer(MyService, { port: 18861, serviceModule: new URL("./my-service.js", import.meta.url) });
 * await server.start();
 * ```
 *
 * The authenticator (if any) runs in the parent; bytes it read past its token go to the child
 * with the socket. When it replaces the stream (TLS), the parent relays the decrypted bytes to
 * the child through a pipe. Credentials reach the child by structured clone; the logger stays
 * in the parent. close() stops listening and ends every child (SIGTERM, then SIGKILL), waiting
 * until each has exited.
 */
export class ForkingServer extends Server {
  private readonly moduleUrl: string;
  private readonly exportName: string;
  /** Live children by PID. */
  private readonly children = new Map<number, ChildProcess>();
  private stopping: Promise<void> | undefined;

  constructor(service: ServiceSpec, options: ForkingServerOptions) {
    if (process.platform === "win32") throw new SwitchboardError(ErrorCode.BAD_OPTION, "ForkingServer is Unix only (it passes sockets to child processes); use ThreadedServer or ThreadPoolServer");
    super(service, options);
    const o = options as Partial<ForkingServerOptions>;
    ({ moduleUrl: this.moduleUrl, exportName: this.exportName } = serviceModuleOf(service, o, "ForkingServer", "each child process"));
  }

  /** PIDs of the children serving connections right now. */
  get childPids(): number[] {
    return [...this.children.keys()];
  }

  /** Stops listening and ends every child, resolving once all have exited. */
  override close(): Promise<void> {
    // In parallel: a listener that handed sockets to children waits for them to close those
    // sockets before its close() completes (Node's net.Server bookkeeping of sent sockets).
    this.stopping ??= Promise.all([super.close(), this.killChildren()]).then(() => {});
    return this.stopping;
  }

  /** Serves the connection in a new child process; resolves when the child has exited. */
  protected override async serveClient(stream: Duplex, credentials: unknown, socket: net.Socket): Promise<void> {
    const relay = stream !== socket;
    let child: ChildProcess;
    try {
      child = fork(CHILD, [], {
        serialization: "advanced",
        stdio: relay ? ["ignore", "inherit", "inherit", "ipc", "pipe"] : ["ignore", "inherit", "inherit", "ipc"],
        env: { ...process.env, SWITCHBOARD_RPYC_FORK: JSON.stringify({ module: this.moduleUrl, exportName: this.exportName }) },
      });
    } catch (err) {
      this.logger?.error?.("rpyc ForkingServer: cannot start a child process", err);
      stream.destroy();
      return;
    }
    const pid = child.pid;
    if (pid === undefined) {
      // spawn failed; 'error' follows
      child.on("error", (err) => this.logger?.error?.("rpyc ForkingServer: cannot start a child process", err));
      stream.destroy();
      return;
    }
    this.children.set(pid, child);
    const exited = new Promise<void>((resolve) => {
      child.once("exit", () => {
        this.children.delete(pid);
        resolve();
      });
      child.once("error", (err) => {
        this.logger?.error?.(`rpyc ForkingServer: child ${pid} failed`, err);
      });
    });
    // the connection's first bytes wait (in the kernel, or in the authenticator's stream) for the child
    if (relay) stream.pause();
    else stopReading(socket);
    const ready = await new Promise<FromForkChild | undefined>((resolve) => {
      child.once("message", (msg: FromForkChild) => resolve(msg));
      void exited.then(() => resolve(undefined));
    });
    if (ready?.t !== "ready" || this.closed) {
      if (ready?.t === "load-error") this.logger?.error?.(`rpyc ForkingServer: the child cannot load the service from ${this.moduleUrl}: ${ready.message}`);
      stream.destroy();
      child.kill("SIGKILL");
      await exited;
      return;
    }
    const { logger: _logger, ...config } = this.connectionConfig(socket, credentials) as ProtocolConfig;
    void _logger;
    const hello: ForkHello = { t: "serve", config: { ...config, credentials: null }, credentials, leftover: null, relay };
    try {
      if (relay) {
        const pipe = child.stdio[4] as Duplex;
        pipe.on("error", () => stream.destroy());
        stream.on("error", () => pipe.destroy());
        stream.pipe(pipe);
        pipe.pipe(stream);
        stream.once("close", () => pipe.destroy());
        pipe.once("close", () => stream.destroy());
        child.send(hello);
      } else {
        hello.leftover = takeBuffered(socket);
        child.send(hello, socket, { keepOpen: false }, (err) => {
          if (err) {
            this.logger?.error?.(`rpyc ForkingServer: cannot hand the connection to child ${pid}`, err);
            child.kill("SIGKILL");
          }
          // the child has its own copy of the descriptor now; this one is only bookkeeping
          socket.destroy();
        });
      }
    } catch (err) {
      // e.g. credentials that cannot be cloned to another process
      this.logger?.error?.(`rpyc ForkingServer: cannot hand the connection to child ${pid}`, err);
      stream.destroy();
      child.kill("SIGKILL");
    }
    await exited;
    if (relay) stream.destroy();
  }

  private async killChildren(): Promise<void> {
    await Promise.all(
      [...this.children].map(
        ([pid, child]) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            const force = setTimeout(() => child.kill("SIGKILL"), KILL_GRACE_MS);
            child.once("exit", () => {
              clearTimeout(force);
              this.children.delete(pid);
              resolve();
            });
            child.kill("SIGTERM");
          }),
      ),
    );
  }
}

/**
 * Stops the socket's reads in this process (a paused stream still reads up to its buffer
 * limit), so bytes the client sends next wait in the kernel for the child.
 */
function stopReading(socket: net.Socket): void {
  socket.pause();
  const handle = (socket as unknown as { _handle?: { reading?: boolean; readStop?: () => number } | null })._handle;
  if (handle?.reading && typeof handle.readStop === "function") {
    handle.reading = false;
    handle.readStop();
  }
}

/** What the authenticator read but left in the socket's buffer: the first bytes of the RPyC stream. */
function takeBuffered(socket: net.Socket): Uint8Array | null {
  if (socket.readableLength === 0) return null;
  const chunks: Buffer[] = [];
  for (let c: unknown; (c = socket.read()) !== null; ) chunks.push(typeof c === "string" ? Buffer.from(c) : (c as Buffer));
  // read() may have asked the handle to read again: stop it before this tick ends
  stopReading(socket);
  return chunks.length > 0 ? Buffer.concat(chunks) : null;
}

