// HTTP/1.1 on the gRPC port: node:http parses the requests and each one is presented to the
// web front as the same ServerStreamLike an HTTP/2 stream is, with the connection as a
// SessionLike (peer, TLS identity), so gRPC-Web and Connect run unchanged over it.
import * as http from "node:http";
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http2";
import type { Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import { EventEmitter } from "node:events";
import type { RespondOptions, ServerStreamLike, SessionLike } from "../grpc/transport.js";

/** RST_STREAM CANCEL: what an HTTP/2 stream reports when the peer went away mid-response. */
const CANCEL = 8;

/** One HTTP/1.1 connection seen as a session: what calls read of it (socket, closed state). */
class Http1Session extends EventEmitter implements SessionLike {
  /** A request of this connection is being answered. */
  private busy = false;
  /** Pipelined requests parsed meanwhile, started in order once the answer before them is out. */
  private readonly waiting: (() => void)[] = [];
  /** The next request's headers must be complete before this fires (see armHeadersTimeout). */
  private headersTimer: NodeJS.Timeout | undefined;
  private headersTimeoutMs = 0;

  constructor(readonly socket: Socket | TLSSocket) {
    super();
    socket.once("close", () => {
      this.waiting.length = 0;
      this.disarmHeadersTimeout();
      this.emit("close");
    });
  }

  /**
   * node:http enforces headersTimeout only from an interval it starts on 'listening', which a
   * server fed sockets by hand never emits: a client sending a partial request (slowloris)
   * would hold the connection forever. So each request's headers (the first, and each one
   * after an answer on a kept-alive connection) get this timer of our own.
   */
  armHeadersTimeout(ms: number, keptAlive = false): void {
    this.headersTimeoutMs = ms;
    this.disarmHeadersTimeout();
    if (this.socket.destroyed) return;
    const readBefore = this.socket.bytesRead;
    this.headersTimer = setTimeout(() => {
      this.headersTimer = undefined;
      if (this.busy || this.socket.destroyed) return;
      // A kept-alive connection that sent nothing since is idle, not slow: node's keepAliveTimeout closes it.
      if (keptAlive && this.socket.bytesRead === readBefore) return;
      if (this.socket.writable) this.socket.end("HTTP/1.1 408 Request Timeout\r\nconnection: close\r\ncontent-length: 0\r\n\r\n", () => this.socket.destroy());
      else this.socket.destroy();
    }, ms);
    this.headersTimer.unref();
  }

  private disarmHeadersTimeout(): void {
    if (this.headersTimer !== undefined) clearTimeout(this.headersTimer);
    this.headersTimer = undefined;
  }

  /**
   * Starts a request's call now, or after the requests before it on this connection: HTTP/1.1
   * answers in order, so pipelined requests run one at a time (as HTTP/2 streams are capped by
   * maxConcurrentStreams), and the connection is not read further while one waits.
   */
  serve(res: http.ServerResponse, start: () => void): void {
    this.disarmHeadersTimeout();
    if (this.busy) {
      this.socket.pause();
      this.waiting.push(() => this.serve(res, start));
      return;
    }
    this.busy = true;
    res.once("close", () => {
      this.busy = false;
      const next = this.waiting.shift();
      // Only the last request parsed can still have body bytes to read.
      if (this.waiting.length === 0 && !this.socket.destroyed) this.socket.resume();
      next?.();
      // Idle again: the next request on this kept-alive connection has the same time for its headers.
      if (!this.busy && this.headersTimeoutMs > 0) this.armHeadersTimeout(this.headersTimeoutMs, true);
    });
    start();
  }
  get closed(): boolean {
    return this.socket.destroyed;
  }
  get destroyed(): boolean {
    return this.socket.destroyed;
  }
  close(callback?: () => void): void {
    // Requests in flight finish; the connection ends after them.
    this.socket.end(callback);
  }
  destroy(): void {
    this.socket.destroy();
  }
  goaway(): void {
    // HTTP/1.1 has no GOAWAY: a response with "connection: close" does that job.
  }
  ping(): boolean {
    return false;
  }
  setTimeout(msecs: number, callback?: () => void): void {
    this.socket.setTimeout(msecs, callback);
  }
  setLocalWindowSize(): void {
    // TCP flow control only.
  }
}

const sessions = new WeakMap<Socket, Http1Session>();

function sessionOf(socket: Socket): Http1Session {
  let s = sessions.get(socket);
  if (!s) sessions.set(socket, (s = new Http1Session(socket)));
  return s;
}

/** One HTTP/1.1 request/response as a server stream. */
export class Http1Stream extends EventEmitter implements ServerStreamLike {
  readonly session: SessionLike;
  rstCode: number | undefined;
  private isClosed = false;

  constructor(
    private readonly req: http.IncomingMessage,
    private readonly res: http.ServerResponse,
  ) {
    super();
    this.session = sessionOf(req.socket);
    req.on("data", (chunk: Buffer) => this.emit("data", chunk));
    req.on("end", () => this.emit("end"));
    req.on("error", (err: Error) => this.emit("error", err));
    res.on("drain", () => this.emit("drain"));
    res.on("error", (err: Error) => this.emit("error", err));
    res.on("close", () => {
      this.isClosed = true;
      // The response never completed: the client went away (as a reset stream would tell).
      if (!res.writableFinished) this.rstCode = CANCEL;
      this.emit("close");
    });
    this.on("error", ignore);
  }

  get destroyed(): boolean {
    return this.res.destroyed;
  }
  get closed(): boolean {
    return this.isClosed;
  }

  respond(headers: OutgoingHttpHeaders = {}, options: RespondOptions = {}): void {
    const status = Number(headers[":status"] ?? 200);
    const out: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(headers)) {
      if (value === undefined || name.charCodeAt(0) === 58) continue;
      out[name] = Array.isArray(value) ? value.map(String) : String(value);
    }
    // A response that does not wait for the rest of the request ends the connection after it,
    // so an unread request body is never taken for the next request.
    if (!this.req.complete) this.res.shouldKeepAlive = false;
    this.res.writeHead(status, out);
    if (options.endStream) this.res.end();
  }
  write(chunk: Uint8Array): boolean {
    return this.res.write(chunk);
  }
  end(): unknown {
    this.res.end();
    return undefined;
  }
  sendTrailers(headers: OutgoingHttpHeaders): void {
    const out: Record<string, string> = {};
    for (const [name, value] of Object.entries(headers)) if (value !== undefined) out[name] = String(value);
    this.res.addTrailers(out);
  }
  cork(): void {
    this.res.cork();
  }
  uncork(): void {
    this.res.uncork();
  }
  pause(): unknown {
    return this.req.pause();
  }
  resume(): unknown {
    return this.req.resume();
  }
  close(code?: number): void {
    if (!this.res.writableEnded) {
      this.rstCode = code;
      this.res.destroy();
    } else if (!this.req.complete) {
      // The answer is out and the client is still sending: end the connection after it.
      this.req.socket.end();
    }
  }
}

/** What the HTTP/1.1 front hands each request to: the web front's stream listener. */
export type StreamListener = (stream: ServerStreamLike, headers: IncomingHttpHeaders, flags: number, rawHeaders: string[]) => void;

/** Limits of the HTTP/1.1 parser, from the server options. */
export interface Http1Limits {
  /** Request header bytes (node:http's maxHeaderSize). */
  readonly maxHeaderSize: number;
  /** A connection must send a request's headers within this (node:http's headersTimeout). */
  readonly headersTimeoutMs: number;
}

/**
 * An HTTP/1.1 server that listens nowhere: sockets are handed to it (`emit("connection")`)
 * after sniffing or ALPN. Each request becomes an Http1Stream with HTTP/2-style headers.
 */
export function createHttp1Server(listener: StreamListener, limits: Http1Limits, secure: boolean): http.Server {
  const server = http.createServer(
    {
      maxHeaderSize: limits.maxHeaderSize,
      headersTimeout: limits.headersTimeoutMs,
      // Calls have their own deadlines and idle sweeps; the parser must not cut streams.
      requestTimeout: 0,
      keepAliveTimeout: 5_000,
    },
    (req, res) => {
      const headers: IncomingHttpHeaders = {
        ":method": req.method ?? "GET",
        ":path": req.url ?? "/",
        ":scheme": secure ? "https" : "http",
        ":authority": req.headers.host ?? "",
      };
      const rawHeaders: string[] = [];
      for (let i = 0; i < req.rawHeaders.length; i += 2) {
        const name = req.rawHeaders[i]!.toLowerCase();
        rawHeaders.push(name, req.rawHeaders[i + 1]!);
      }
      for (const [name, value] of Object.entries(req.headers)) if (value !== undefined) headers[name] = value as string;
      sessionOf(req.socket).serve(res, () => listener(new Http1Stream(req, res), headers, 0, rawHeaders));
    },
  );
  // After the parser's own 'connection' listener: the first request's headers are timed from here.
  if (limits.headersTimeoutMs > 0 && Number.isFinite(limits.headersTimeoutMs)) {
    server.on("connection", (socket: Socket) => sessionOf(socket).armHeadersTimeout(limits.headersTimeoutMs));
  }
  server.on("clientError", (err: NodeJS.ErrnoException, socket: Socket) => {
    // A request node:http cannot parse (or too large headers) gets its status, never a crash.
    // A response already under way (a pipelined request broke the parser) cannot be followed by another.
    const inFlight = (socket as { _httpMessage?: http.ServerResponse | null })._httpMessage;
    if (!socket.writable || inFlight?.headersSent === true) return void socket.destroy();
    const status = err.code === "HPE_HEADER_OVERFLOW" ? "431 Request Header Fields Too Large" : "400 Bad Request";
    socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
  });
  return server;
}

function ignore(): void {
  // The call sees the stream close; errors need no listener of their own.
}
