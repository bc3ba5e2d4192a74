// JSON-RPC over WebSocket with `ws`, the server side (tinyrpc's WSServerTransport: the
// endpoint at /ws, one reply per message). Text and binary messages are accepted (ws
// reassembles fragments); messages over the limit close the connection with 1009 and text
// with invalid UTF-8 with 1007 (ws checks both before we see the message). Messages of one
// connection may be handled concurrently, but replies go out in request order, so a client
// that pipelines can still pair reply N with request N.
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex, Writable } from "node:stream";
import { WebSocket, WebSocketServer, type RawData } from "ws";
import { ErrorCode, SwitchboardError } from "../../errors.js";
import { DEFAULT_MAX_MESSAGE_BYTES, type IncomingMessage, type ServerTransport } from "../transport.js";
import { MessageInbox } from "./http-inbox.js";
import { boundAddress, endpointUrl, listenOn, pathOf } from "./http-endpoint.js";
import type { WebSocketPeer } from "./ws-peer.js";

/** The reply route of one WebSocket message (what `trace` sees as the context). */
export interface WebSocketMessageContext {
  readonly socket: WebSocketPeer;
  /** The HTTP upgrade request of the connection. */
  readonly request: http.IncomingMessage;
  /** Position of this message on its connection, from 0. */
  readonly sequence: number;
  /** Whether the message came as a binary frame. */
  readonly binary: boolean;
}

/** Options shared by `listen()` and `attach()`. */
export interface WebSocketServerTransportOptions {
  /** Upgrade path served. Default `/ws` (tinyrpc's). */
  path?: string;
  /** Messages above this many bytes close the connection with 1009. Default 4 MiB. */
  maxMessageBytes?: number;
  /** Frame type of replies: `text` (default, what tinyrpc sends), `binary`, or the request's type. */
  replyFrame?: "text" | "binary" | "as-request";
  /** Unanswered messages per connection before reading from it pauses. Default 64. */
  maxPendingPerConnection?: number;
  /** Told about connection-level failures (oversized message, bad UTF-8, socket errors). */
  onConnectionError?: (error: Error) => void;
  /** After close(), connections that have not finished their closing handshake are cut after this long. Default 5000. */
  closeGraceMs?: number;
}

/** Options of `WebSocketServerTransport.listen()`. */
export interface WebSocketListenOptions extends WebSocketServerTransportOptions {
  /** Default `127.0.0.1`. */
  host?: string;
  /** Default 0 (any free port; read it back from `.port`). */
  port?: number;
}

/** Per-connection ordering state: replies wait here until every earlier one went out. */
interface Connection {
  readonly socket: WebSocket;
  nextSequence: number;
  nextToSend: number;
  /** Replies handed to the socket and flushed (ws's send callback ran): what backpressure counts. */
  flushed: number;
  /** The TCP socket under `socket` while its writes are corked (see `corkUntilIdle`). */
  corked: Writable | undefined;
  readonly ready: Map<number, { reply: Uint8Array; binary: boolean }>;
}

/** A `ServerTransport` receiving JSON-RPC messages over WebSocket connections. */
export class WebSocketServerTransport implements ServerTransport<WebSocketMessageContext> {
  readonly server: http.Server;
  readonly #owned: boolean;
  readonly #path: string;
  readonly #wss: WebSocketServer;
  readonly #replyFrame: "text" | "binary" | "as-request";
  readonly #maxPending: number;
  readonly #onError: ((error: Error) => void) | undefined;
  readonly #graceMs: number;
  readonly #inbox = new MessageInbox<WebSocketMessageContext>();
  readonly #connections = new Map<WebSocket, Connection>();
  readonly #replied = new WeakSet<WebSocketMessageContext>();
  #closing: Promise<void> | undefined;

  private constructor(server: http.Server, owned: boolean, options: WebSocketServerTransportOptions) {
    const max = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    if (!Number.isSafeInteger(max) || max < 1) throw new RangeError(`maxMessageBytes must be a positive integer, got ${max}`);
    this.server = server;
    this.#owned = owned;
    this.#path = options.path ?? "/ws";
    this.#replyFrame = options.replyFrame ?? "text";
    this.#maxPending = Math.max(1, options.maxPendingPerConnection ?? 64);
    this.#onError = options.onConnectionError;
    this.#graceMs = options.closeGraceMs ?? 5000;
    this.#wss = new WebSocketServer({ noServer: true, maxPayload: max, perMessageDeflate: false });
    server.on("upgrade", this.#onUpgrade);
  }

  /** Starts an HTTP server of its own (WebSocket at `path`, 404 elsewhere) and resolves once it listens. */
  static async listen(options: WebSocketListenOptions = {}): Promise<WebSocketServerTransport> {
    const path = options.path ?? "/ws";
    const server = http.createServer((req, res) => {
      const here = pathOf(req.url) === path;
      const body = Buffer.from(here ? `Upgrade to WebSocket for JSON-RPC\n` : `Not Found: JSON-RPC over WebSocket is at ${path}\n`);
      res.writeHead(here ? 426 : 404, { "content-type": "text/plain; charset=utf-8", "content-length": body.length, ...(here ? { upgrade: "websocket" } : {}) });
      res.end(body);
    });
    const transport = new WebSocketServerTransport(server, true, options);
    await listenOn(server, options.port, options.host);
    return transport;
  }

  /**
   * Serves WebSocket upgrades at `path` on an existing server (which may serve HTTP, e.g. an
   * HttpServerTransport, on the same port). close() then only detaches and closes connections.
   */
  static attach(server: http.Server, options: WebSocketServerTransportOptions = {}): WebSocketServerTransport {
    return new WebSocketServerTransport(server, false, options);
  }

  get address(): AddressInfo {
    return boundAddress(this.server, "WebSocket");
  }

  get port(): number {
    return this.address.port;
  }

  /** `ws://host:port/ws` of this endpoint. */
  get url(): string {
    return endpointUrl(this.address, "ws", this.#path);
  }

  receiveMessage(): Promise<IncomingMessage<WebSocketMessageContext> | undefined> {
    return this.#inbox.next();
  }

  /** Sends the reply (an empty reply is an empty frame) once every earlier reply of that connection went out. */
  async sendReply(context: WebSocketMessageContext, reply: Uint8Array): Promise<void> {
    if (this.#replied.has(context)) throw new SwitchboardError(ErrorCode.TRANSPORT, "sendReply called twice for one WebSocket message");
    this.#replied.add(context);
    const conn = this.#connections.get(context.socket as WebSocket);
    // The connection is gone: nobody is left to answer, which is not an error.
    if (!conn) return;
    const binary = this.#replyFrame === "as-request" ? context.binary : this.#replyFrame === "binary";
    if (context.sequence !== conn.nextToSend) {
      // an earlier reply is not out yet: this one leaves right after it, from that sendReply
      conn.ready.set(context.sequence, { reply, binary });
      return;
    }
    conn.nextToSend++;
    const first = this.#send(conn, reply, binary);
    if (conn.ready.size === 0) return first;
    const sends = [first];
    for (let next = conn.ready.get(conn.nextToSend); next; next = conn.ready.get(conn.nextToSend)) {
      conn.ready.delete(conn.nextToSend);
      conn.nextToSend++;
      sends.push(this.#send(conn, next.reply, next.binary));
    }
    await Promise.all(sends);
  }

  /** Hands one reply to ws; resolves when it is flushed (or the socket is gone). */
  #send(conn: Connection, data: Uint8Array, binary: boolean): Promise<void> {
    const ws = conn.socket;
    if (ws.readyState !== WebSocket.OPEN) return Promise.resolve();
    // more requests of this connection still unanswered: their replies may join this one
    if (conn.nextSequence > conn.nextToSend) corkUntilIdle(conn);
    // A send that fails because the peer just left is reported by the socket's error/close events.
    return new Promise((resolve) =>
      ws.send(data, { binary }, () => {
        this.#flushed(conn);
        resolve();
      }),
    );
  }

  /** One reply left our buffers: resume reading once fewer than maxPending are outstanding. */
  #flushed(conn: Connection): void {
    conn.flushed++;
    if (conn.socket.isPaused && conn.nextSequence - conn.flushed < this.#maxPending) conn.socket.resume();
  }

  /**
   * Stops accepting connections and messages; queued messages can still be received, then
   * receiveMessage() resolves undefined. Open connections are closed with 1001 (going away).
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#inbox.close();
    this.server.off("upgrade", this.#onUpgrade);
    const closed = [...this.#connections.keys()].map(
      (ws) =>
        new Promise<void>((resolve) => {
          if (ws.readyState === WebSocket.CLOSED) return resolve();
          ws.once("close", () => resolve());
          ws.close(1001, "server shutting down");
        }),
    );
    const timer = setTimeout(() => {
      for (const ws of this.#connections.keys()) ws.terminate();
    }, this.#graceMs);
    await Promise.all(closed);
    clearTimeout(timer);
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
    if (this.#owned && this.server.listening) {
      await new Promise<void>((resolve) => {
        this.server.close(() => resolve());
        this.server.closeAllConnections();
      });
    }
  }

  #onUpgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer): void => {
    if (pathOf(req.url) !== this.#path) {
      // Another upgrade handler on a shared server may want this path; answer only when alone.
      if (this.server.listenerCount("upgrade") === 1) reject(socket, 404, "Not Found");
      return;
    }
    if (this.#inbox.closed) return reject(socket, 503, "Service Unavailable");
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#onConnection(ws, req));
  };

  #onConnection(ws: WebSocket, request: http.IncomingMessage): void {
    const conn: Connection = { socket: ws, nextSequence: 0, nextToSend: 0, flushed: 0, ready: new Map(), corked: undefined };
    this.#connections.set(ws, conn);
    // ws reports oversized messages (1009), bad UTF-8 (1007) and socket failures here, then
    // closes the connection with that code: the peer learns it from the close frame.
    ws.on("error", (err) => this.#onError?.(err));
    ws.on("close", () => this.#connections.delete(ws));
    ws.on("message", (data, isBinary) => {
      const context: WebSocketMessageContext = { socket: ws, request, sequence: conn.nextSequence++, binary: isBinary };
      // Backpressure: a client pipelining faster than we answer, or not reading its replies
      // (they stay unflushed), stops being read.
      if (conn.nextSequence - conn.flushed >= this.#maxPending && !ws.isPaused) ws.pause();
      if (!this.#inbox.push({ context, message: toBytes(data) })) ws.close(1001, "server shutting down");
    });
  }
}

/**
 * Replies that become ready in the same turn of the event loop (a client pipelining several
 * requests gets them answered from one read) leave in one write instead of one syscall each:
 * while a connection has more requests unanswered, its TCP socket is corked at a reply and
 * uncorked once the current I/O callback and its microtasks are done (setImmediate), which
 * adds no waiting of its own. A lone request's reply is written at once.
 * `ws` keeps the socket private; without it the replies simply go out one write each.
 */
function corkUntilIdle(conn: Connection): void {
  if (conn.corked || conn.socket.readyState !== WebSocket.OPEN) return;
  const socket = (conn.socket as unknown as { _socket?: Writable })._socket;
  if (!socket || typeof socket.cork !== "function") return;
  socket.cork();
  conn.corked = socket;
  setImmediate(uncork, conn);
}

function uncork(conn: Connection): void {
  const socket = conn.corked;
  conn.corked = undefined;
  socket?.uncork();
}

function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return data;
}

function reject(socket: Duplex, status: number, reason: string): void {
  // The peer may already be gone; an unhandled socket error would take the process down.
  socket.on("error", () => {});
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

