// JSON-RPC over plain TCP or a unix socket: newline- or length-prefixed framing (framing.ts),
// many connections, pipelined messages answered in order per connection.
import net from "node:net";
import { ErrorCode, SwitchboardError } from "../../errors.js";
import type { ClientTransport, IncomingMessage, ServerTransport } from "../transport.js";
import { framingOption, jsonRpcTooLargeReply, limitOption, type Framing, type TooLargeReply } from "./framing.js";
import { checkStreamClientOptions, StreamClient, type StreamClientOptions } from "./stream-client.js";
import { MessageQueue, StreamConnection, type StreamContext } from "./stream-server.js";

/** A TCP address (`port` 0 picks a free port) or a unix socket path. */
export type StreamAddress = { host?: string; port: number } | { path: string };

export interface StreamServerOptions {
  /** `"line"` (default): one message per `\n`-terminated line; `"length"`: 4-byte big-endian size prefix. */
  framing?: Framing;
  /** Largest accepted message (default 4 MiB); checked before the message is buffered. */
  maxMessageBytes?: number;
  /**
   * The reply to an oversized message, sent after the earlier replies; the connection is then
   * ended (the stream cannot be resynchronized). Default: a JSON-RPC -32600 error; null: none.
   */
  tooLargeReply?: TooLargeReply;
  /** Unanswered messages per connection before reading from it pauses (default 128). */
  maxPipelined?: number;
  /**
   * TCP only: a connection with nothing to answer (no method running, no reply waiting) and no
   * traffic for this many ms is ended, a half-sent message with it. Default 0: never.
   */
  idleTimeoutMs?: number;
}

export interface ResolvedStreamOptions {
  framing: Framing;
  maxMessageBytes: number;
  tooLargeReply: TooLargeReply;
  maxPipelined: number;
  idleTimeoutMs: number;
}

export function resolveStreamServerOptions(options: StreamServerOptions = {}): ResolvedStreamOptions {
  const maxPipelined = options.maxPipelined ?? 128;
  if (!Number.isSafeInteger(maxPipelined) || maxPipelined < 1) {
    throw new SwitchboardError(ErrorCode.BAD_OPTION, `maxPipelined must be a positive integer, got ${String(maxPipelined)}`);
  }
  const idleTimeoutMs = options.idleTimeoutMs ?? 0;
  if (!Number.isSafeInteger(idleTimeoutMs) || idleTimeoutMs < 0) {
    throw new SwitchboardError(ErrorCode.BAD_OPTION, `idleTimeoutMs must be a non-negative integer, got ${String(idleTimeoutMs)}`);
  }
  return {
    idleTimeoutMs,
    framing: framingOption(options.framing),
    maxMessageBytes: limitOption(options.maxMessageBytes),
    tooLargeReply: options.tooLargeReply === undefined ? jsonRpcTooLargeReply : options.tooLargeReply,
    maxPipelined,
  };
}

/** Server side: every connection's messages arrive through one `receiveMessage()` queue. */
export class TcpServerTransport implements ServerTransport<StreamContext> {
  private readonly queue = new MessageQueue<IncomingMessage<StreamContext>>();
  private readonly connections = new Set<StreamConnection>();

  private constructor(
    private readonly server: net.Server,
    private readonly options: ResolvedStreamOptions,
    /** Where the server listens: host and the bound port, or the unix socket path. */
    readonly address: StreamAddress,
  ) {
    server.on("connection", (socket) => this.accept(socket));
  }

  /** Listens on `address` (port 0: a free port, read it back from `.address`). */
  static async listen(address: StreamAddress, options: StreamServerOptions = {}): Promise<TcpServerTransport> {
    const resolved = resolveStreamServerOptions(options);
    // allowHalfOpen: a client may end its side after the last request and still read the replies.
    const server = net.createServer({ allowHalfOpen: true, noDelay: true });
    await new Promise<void>((resolve, reject) => {
      server.once("error", (e) => reject(new SwitchboardError(ErrorCode.BIND_FAILED, `cannot listen on ${describe(address)}: ${e.message}`, { cause: e })));
      if ("path" in address) server.listen(address.path, resolve);
      else server.listen(address.port, address.host ?? "127.0.0.1", resolve);
    });
    const bound = server.address();
    const actual: StreamAddress = typeof bound === "object" && bound !== null ? { host: bound.address, port: bound.port } : { path: String(bound) };
    return new TcpServerTransport(server, resolved, actual);
  }

  private accept(socket: net.Socket): void {
    if (this.queue.closed) {
      socket.destroy();
      return;
    }
    socket.on("error", () => socket.destroy()); // a reset peer only ends its own connection
    const connection = new StreamConnection(socket, socket, this.options, (m) => this.queue.push(m), () => socket.end());
    this.connections.add(connection);
    if (this.options.idleTimeoutMs > 0) {
      // Node re-arms the timer on every read and write; while a call runs the peer may be
      // silent for as long as the method takes, so only an idle connection is ended.
      socket.setTimeout(this.options.idleTimeoutMs);
      socket.on("timeout", () => {
        if (connection.idle) connection.stopReading();
      });
    }
    void connection.done.then(() => {
      this.connections.delete(connection);
      socket.end();
      // A peer that never ends its side would hold the socket open; give it a moment, then drop it.
      setTimeout(() => socket.destroy(), 5000).unref();
    });
  }

  receiveMessage(): Promise<IncomingMessage<StreamContext> | undefined> {
    return this.queue.next();
  }

  async sendReply(context: StreamContext, reply: Uint8Array): Promise<void> {
    context.connection.reply(context.slot, reply);
  }

  /**
   * Stops listening and reading. Messages already handed out still get their replies written;
   * each connection ends after its last one. Resolves once every connection has finished
   * (so RPCServer must answer what it received, which serveForever does).
   */
  async close(): Promise<void> {
    if (this.queue.closed) return;
    this.queue.close();
    for (const connection of this.connections) connection.stopReading();
    // Not waiting for server.close's callback: it also waits for half-open peers to leave.
    this.server.close();
    await Promise.all([...this.connections].map((c) => c.done));
  }
}

/** Client side over TCP or a unix socket; replies are matched to requests by order. */
export class TcpClientTransport extends StreamClient implements ClientTransport {
  static async connect(address: StreamAddress, options: StreamClientOptions = {}): Promise<TcpClientTransport> {
    checkStreamClientOptions(options);
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const s = "path" in address ? net.connect({ path: address.path }) : net.connect({ host: address.host ?? "127.0.0.1", port: address.port, noDelay: true });
      s.once("connect", () => {
        s.off("error", onError);
        resolve(s);
      });
      const onError = (e: Error) => reject(new SwitchboardError(ErrorCode.TRANSPORT, `cannot connect to ${describe(address)}: ${e.message}`, { cause: e }));
      s.once("error", onError);
    });
    return new TcpClientTransport(socket, socket, options, () => socket.destroy());
  }
}

function describe(address: StreamAddress): string {
  return "path" in address ? address.path : `${address.host ?? "127.0.0.1"}:${address.port}`;
}
