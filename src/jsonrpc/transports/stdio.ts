// JSON-RPC over a process's stdin/stdout (the way editors and tools talk to a CLI server):
// the server reads framed messages from stdin and writes replies to stdout in order; the
// client spawns the server process (or takes any pair of streams) and talks to its stdio.
import { spawn, type ChildProcess, type SpawnOptions } from "node:child_process";
import type { Readable, Writable } from "node:stream";
import { ErrorCode, SwitchboardError } from "../../errors.js";
import type { ClientTransport, IncomingMessage, ServerTransport } from "../transport.js";
import { checkStreamClientOptions, StreamClient, type StreamClientOptions } from "./stream-client.js";
import { MessageQueue, StreamConnection, type StreamContext } from "./stream-server.js";
import { resolveStreamServerOptions, type StreamServerOptions } from "./tcp.js";

export interface StdioServerOptions extends StreamServerOptions {
  /** Defaults to process.stdin. */
  input?: Readable;
  /** Defaults to process.stdout. Keep logging off it: it carries the replies. */
  output?: Writable;
}

/**
 * Server side over one stream pair. When the input ends, `receiveMessage()` resolves
 * `undefined` (so `serveForever()` returns) after the messages already read.
 */
export class StdioServerTransport implements ServerTransport<StreamContext> {
  private readonly queue = new MessageQueue<IncomingMessage<StreamContext>>();
  private readonly connection: StreamConnection;

  constructor(options: StdioServerOptions = {}) {
    const input = options.input ?? process.stdin;
    const output = options.output ?? process.stdout;
    this.connection = new StreamConnection(input, output, resolveStreamServerOptions(options), (m) => this.queue.push(m), () => {
      // Called after the last reply: nothing more will be read, and a paused stdin would still
      // keep the process alive. process.stdout must not be ended; other outputs are.
      input.destroy();
      if (output !== process.stdout && output !== process.stderr) output.end();
    });
    input.once("end", () => this.queue.close());
    input.once("close", () => this.queue.close());
    void this.connection.done.then(() => this.queue.close());
  }

  receiveMessage(): Promise<IncomingMessage<StreamContext> | undefined> {
    return this.queue.next();
  }

  async sendReply(context: StreamContext, reply: Uint8Array): Promise<void> {
    context.connection.reply(context.slot, reply);
  }

  /** Stops reading; replies to messages already handed out are still written. */
  async close(): Promise<void> {
    this.queue.close();
    this.connection.stopReading();
  }
}

export interface StdioSpawnOptions extends StreamClientOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** What happens to the child's stderr (default "inherit"). */
  stderr?: "inherit" | "ignore" | "pipe";
}

/** Client side over a child process's stdin/stdout, or over any stream pair. */
export class StdioClientTransport extends StreamClient implements ClientTransport {
  /** The spawned server process, when this transport started it. */
  child: ChildProcess | undefined;

  /** Spawns `command args` and talks to it over its stdio; close() ends its stdin, then kills it if it lingers. */
  static async spawn(command: string, args: readonly string[], options: StdioSpawnOptions = {}): Promise<StdioClientTransport> {
    checkStreamClientOptions(options);
    const spawnOptions: SpawnOptions = { stdio: ["pipe", "pipe", options.stderr ?? "inherit"] };
    if (options.cwd !== undefined) spawnOptions.cwd = options.cwd;
    if (options.env !== undefined) spawnOptions.env = options.env;
    const child = spawn(command, [...args], spawnOptions);
    await new Promise<void>((resolve, reject) => {
      child.once("spawn", resolve);
      child.once("error", (e) => reject(new SwitchboardError(ErrorCode.TRANSPORT, `cannot start ${command}: ${e.message}`, { cause: e })));
    });
    child.on("error", () => {}); // later errors surface as a closed stdout
    const transport = new StdioClientTransport(child.stdout!, child.stdin!, options, () => {
      child.stdin!.end();
      // Give the server a moment to exit on end-of-input; then make sure it is gone.
      const timer = setTimeout(() => child.kill("SIGKILL"), 2000);
      timer.unref();
      child.once("exit", () => clearTimeout(timer));
    });
    transport.child = child;
    return transport;
  }

  /** Over an existing pair: replies are read from `input`, requests written to `output`. */
  static fromStreams(input: Readable, output: Writable, options: StreamClientOptions = {}): StdioClientTransport {
    return new StdioClientTransport(input, output, options, () => output.end());
  }
}
