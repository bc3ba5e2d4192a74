// JSON-RPC over HTTP POST on node:http, the server side (tinyrpc's WsgiServerTransport, made
// strict): any path unless one is configured, any request Content-Type, the raw body bytes as
// the message, 200 `application/json` for every reply (JSON-RPC errors included), 204 for an
// empty reply (a notification), 413 over the size limit, 405 for other methods, CORS preflight
// like tinyrpc when configured.
import * as http from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { ErrorCode, SwitchboardError } from "../../errors.js";
import { DEFAULT_MAX_MESSAGE_BYTES, type IncomingMessage, type ServerTransport } from "../transport.js";
import { MessageInbox } from "./http-inbox.js";
import { boundAddress, endpointUrl, listenOn, pathOf } from "./http-endpoint.js";

/** The reply route of one HTTP request (what `trace` sees as the context). */
export interface HttpRequestContext {
  readonly request: http.IncomingMessage;
  readonly response: http.ServerResponse;
}

/** The context of one request as this transport makes it: whether it was answered travels with it. */
class Route implements HttpRequestContext {
  replied = false;
  constructor(
    readonly request: http.IncomingMessage,
    readonly response: http.ServerResponse,
  ) {}
}

/** CORS as tinyrpc's WSGI transport does it: preflight answered, the origin echoed on replies. */
export interface HttpCorsOptions {
  /** `Access-Control-Allow-Origin` value, e.g. `"*"` or `"https://app.example"`. */
  origin: string;
}

/** Options shared by `listen()` and `attach()`. */
export interface HttpServerTransportOptions {
  /** Only this exact path (e.g. `"/rpc"`) is served; others get 404. Default: every path. */
  path?: string;
  /** Request bodies above this many bytes get 413. Default 4 MiB. */
  maxMessageBytes?: number;
  /** Answer OPTIONS preflights and add `Access-Control-Allow-Origin` to replies. */
  cors?: HttpCorsOptions;
  /** Reply Content-Type (a MessagePack protocol would set its own). Default `application/json`. */
  contentType?: string;
  /** After close(), connections still waiting for a reply are cut after this long. Default 5000. */
  closeGraceMs?: number;
}

/** Options of `HttpServerTransport.listen()`. */
export interface HttpListenOptions extends HttpServerTransportOptions {
  /** Default `127.0.0.1`. */
  host?: string;
  /** Default 0 (any free port; read it back from `.port`). */
  port?: number;
  /**
   * A request (headers and body) not fully received within this many ms is answered 408 and
   * its connection closed: slow clients cannot hold connections forever. Default 300000 (Node's).
   */
  requestTimeoutMs?: number;
}

const ALLOW = "POST, OPTIONS";
const CORS_ALLOW_HEADERS = "Content-Type, X-Requested-With, Accept, Origin";

/** A `ServerTransport` receiving JSON-RPC messages as HTTP POST bodies. */
export class HttpServerTransport implements ServerTransport<HttpRequestContext> {
  readonly server: http.Server;
  readonly #owned: boolean;
  readonly #path: string | undefined;
  readonly #max: number;
  readonly #cors: HttpCorsOptions | undefined;
  readonly #contentType: string;
  readonly #graceMs: number;
  readonly #inbox = new MessageInbox<HttpRequestContext>();
  readonly #replied = new WeakSet<HttpRequestContext>();
  readonly #sockets = new Set<Socket>();
  #closing: Promise<void> | undefined;

  private constructor(server: http.Server, owned: boolean, options: HttpServerTransportOptions) {
    const max = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    if (!Number.isSafeInteger(max) || max < 1) throw new RangeError(`maxMessageBytes must be a positive integer, got ${max}`);
    this.server = server;
    this.#owned = owned;
    this.#path = options.path;
    this.#max = max;
    this.#cors = options.cors;
    this.#contentType = options.contentType ?? "application/json";
    this.#graceMs = options.closeGraceMs ?? 5000;
    server.on("request", this.#onRequest);
    if (owned) {
      // Upgraded sockets (a WebSocketServerTransport attached here) leave node:http's
      // connection tracking, yet server.close() waits for them: keep our own list to cut at close.
      server.on("connection", (socket: Socket) => {
        this.#sockets.add(socket);
        socket.once("close", () => this.#sockets.delete(socket));
      });
    }
  }

  /** Starts an HTTP server of its own and resolves once it listens. */
  static async listen(options: HttpListenOptions = {}): Promise<HttpServerTransport> {
    const requestTimeout = options.requestTimeoutMs ?? 300_000;
    // Node checks request timeouts on this interval (default 30 s); keep it a fraction of the timeout.
    const connectionsCheckingInterval = Math.min(30_000, Math.max(50, Math.floor(requestTimeout / 4)));
    const server = http.createServer({ requestTimeout, connectionsCheckingInterval });
    const transport = new HttpServerTransport(server, true, options);
    await listenOn(server, options.port, options.host);
    return transport;
  }

  /**
   * Serves JSON-RPC on an existing server (which should have no other `request` handler).
   * close() then only detaches; stopping the server stays with its owner.
   */
  static attach(server: http.Server, options: HttpServerTransportOptions = {}): HttpServerTransport {
    return new HttpServerTransport(server, false, options);
  }

  /** The bound address (after listening). */
  get address(): AddressInfo {
    return boundAddress(this.server, "HTTP");
  }

  get port(): number {
    return this.address.port;
  }

  /** `http://host:port/` (or the configured path) of this endpoint. */
  get url(): string {
    return endpointUrl(this.address, "http", this.#path ?? "/");
  }

  receiveMessage(): Promise<IncomingMessage<HttpRequestContext> | undefined> {
    return this.#inbox.next();
  }

  async sendReply(context: HttpRequestContext, reply: Uint8Array): Promise<void> {
    // Our own contexts carry the flag; a WeakSet covers any other object passed in.
    if (context instanceof Route ? context.replied : this.#replied.has(context)) {
      throw new SwitchboardError(ErrorCode.TRANSPORT, "sendReply called twice for one HTTP request");
    }
    if (context instanceof Route) context.replied = true;
    else this.#replied.add(context);
    const res = context.response;
    // The client left before its answer: there is nobody to tell, and that is not an error.
    if (res.destroyed || res.writableEnded) return;
    const headers: http.OutgoingHttpHeaders = {};
    if (this.#cors) headers["access-control-allow-origin"] = this.#cors.origin;
    // While closing, end keep-alive connections as their last reply goes out.
    if (this.#inbox.closed) headers["connection"] = "close";
    if (reply.length === 0) {
      res.writeHead(204, headers);
      await finished(res, () => res.end());
      return;
    }
    headers["content-type"] = this.#contentType;
    headers["content-length"] = reply.length;
    res.writeHead(200, headers);
    // A small reply goes out as a latin1 string (byte for byte the same): node:http then sends
    // it in one piece with the header instead of as a separate buffer, one write per reply.
    if (reply.length <= SMALL_REPLY) await finished(res, () => res.end(latin1(reply), "latin1"));
    else await finished(res, () => res.end(reply));
  }

  /**
   * Stops accepting requests; queued messages can still be received, then receiveMessage()
   * resolves undefined. An owned server stops listening, idle keep-alive connections end, and
   * connections still waiting for a reply (and WebSocket connections of a transport attached
   * to this server: close that one first for a clean 1001) are cut after `closeGraceMs`.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#inbox.close();
    if (!this.#owned) {
      this.server.off("request", this.#onRequest);
      return;
    }
    if (!this.server.listening) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.server.closeAllConnections();
        for (const socket of this.#sockets) socket.destroy();
      }, this.#graceMs);
      this.server.close(() => {
        clearTimeout(timer);
        resolve();
      });
      this.server.closeIdleConnections();
    });
  }

  #onRequest = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    // A client that disconnects mid-body surfaces as a request error; it only means "gone".
    req.on("error", ignore);
    res.on("error", ignore);
    if (this.#path !== undefined && pathOf(req.url) !== this.#path) return plain(res, 404, "Not Found");
    if (req.method === "OPTIONS") return this.#options(res);
    if (req.method !== "POST") {
      res.setHeader("allow", ALLOW);
      return plain(res, 405, "Only POST supported");
    }
    if (this.#inbox.closed) {
      res.setHeader("connection", "close");
      return plain(res, 503, "Server is shutting down");
    }
    const declared = Number(req.headers["content-length"]);
    if (declared > this.#max) return this.#tooLarge(req, res, declared);
    this.#readBody(req, res);
  };

  #readBody(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    let size = 0;
    // Once refused, both listeners stay but do nothing (cheaper per request than named
    // listeners that remove themselves); #tooLarge drains the rest.
    let refused = false;
    req.on("data", (chunk: Buffer) => {
      if (refused) return;
      size += chunk.length;
      if (size > this.#max) {
        refused = true;
        chunks.length = 0;
        this.#tooLarge(req, res, size);
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => {
      if (refused) return;
      // Concatenate once and hand over bytes: decoding per chunk would split multi-byte characters.
      const message = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
      if (!this.#inbox.push({ context: new Route(req, res), message })) {
        res.setHeader("connection", "close");
        plain(res, 503, "Server is shutting down");
      }
    });
  }


  /**
   * 413 once the client has sent its whole body (read and discarded, bounded): node:http closes
   * a connection whose request was not read to the end, and closing while the body is still in
   * flight makes the peer's TCP stack drop the answer with a reset (EPIPE/ECONNRESET instead of
   * a 413). Bodies beyond the drain bound get the 413 at once, with the connection closed.
   */
  #tooLarge(req: http.IncomingMessage, res: http.ServerResponse, seen: number): void {
    const drainLimit = Math.max(4 * this.#max, 1 << 20);
    const declared = Number(req.headers["content-length"]);
    const text = `Request body of ${declared > 0 ? declared : `more than ${seen - 1}`} bytes exceeds the limit of ${this.#max} bytes`;
    let answered = false;
    const answer = (close: boolean): void => {
      if (answered) return;
      answered = true;
      if (close) res.setHeader("connection", "close");
      plain(res, 413, text);
    };
    if (declared > drainLimit) return answer(true);
    let drained = seen;
    req.on("data", (chunk: Buffer) => {
      drained += chunk.length;
      if (drained > drainLimit) answer(true);
    });
    req.on("end", () => answer(false));
    req.resume();
  }

  #options(res: http.ServerResponse): void {
    if (!this.#cors) {
      res.writeHead(204, { allow: ALLOW });
      res.end();
      return;
    }
    res.writeHead(200, {
      allow: ALLOW,
      "access-control-allow-methods": "POST",
      "access-control-allow-origin": this.#cors.origin,
      "access-control-allow-headers": CORS_ALLOW_HEADERS,
      "content-length": 0,
    });
    res.end();
  }
}


function plain(res: http.ServerResponse, status: number, text: string): void {
  const body = Buffer.from(text + "\n");
  res.writeHead(status, { "content-type": "text/plain; charset=utf-8", "content-length": body.length });
  res.end(body);
}

function ignore(): void {}

const SMALL_REPLY = 16 * 1024;

function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString("latin1");
}

/**
 * Runs `end` and resolves once the response is flushed or its connection is gone: a
 * ServerResponse emits `close` in both cases (after `finish` when it completed), so one
 * listener covers both.
 */
function finished(res: http.ServerResponse, end: () => void): Promise<void> {
  return new Promise((resolve) => {
    res.once("close", resolve);
    end();
  });
}
