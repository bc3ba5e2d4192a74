// The seam between a web request and the gRPC call path: a ServerStreamLike that ServerCall
// (and dispatch) drive exactly as they drive an HTTP/2 gRPC stream, while a protocol subclass
// translates what goes out (headers, message frames, the status) into gRPC-Web or Connect on
// the real transport stream (HTTP/2 of either engine, or HTTP/1.1).
import { EventEmitter } from "node:events";
import type { OutgoingHttpHeaders } from "node:http2";
import type { RespondOptions, ServerStreamLike, SessionLike } from "../grpc/transport.js";
import type { ServerCall } from "../call/server-call.js";
import type { RpcError } from "../status.js";
import { responseCorsHeaders } from "./cors.js";
import { drainThenStop } from "./stop-sending.js";
import type { ResolvedCors } from "./options.js";

/** What every web adapter knows about its request besides the transport stream. */
export interface WebRequest {
  /** The request's Origin header, for CORS on the response. */
  readonly origin: string | undefined;
  readonly cors: ResolvedCors | undefined;
}

/**
 * A web request presented as a gRPC server stream. Request bytes reach the call through
 * `deliver()` (after the protocol's decoding); `respond/write/end/sendTrailers` are the call's
 * gRPC output, which subclasses translate. Events the call listens to ('close', 'drain') come
 * from the transport; 'data'/'end' come from the subclass; 'wantTrailers' from end().
 */
export abstract class WebCallStream extends EventEmitter implements ServerStreamLike {
  /** The call once dispatch made one (undefined for requests refused before dispatch). */
  protected call: ServerCall | undefined;
  /** The gRPC response headers the call sent (null until then). */
  protected grpcHeaders: OutgoingHttpHeaders | null = null;
  private trailersWanted = false;
  /** The transport's request body has ended. */
  private requestEnded = false;
  private ended = false;
  /** The answer is out and what is left of the request body is dropped (see close()). */
  private discarding = false;

  constructor(
    protected readonly inner: ServerStreamLike,
    protected readonly request: WebRequest,
  ) {
    super();
    inner.on("close", () => this.emit("close"));
    inner.on("drain", () => this.emit("drain"));
    inner.on("error", (err: Error) => this.emit("error", err));
    inner.on("data", (chunk: Buffer) => {
      if (!this.discarding) this.onBody(chunk);
    });
    inner.on("end", () => {
      this.requestEnded = true;
      this.onBodyEnd();
    });
    // Errors are the transport's to report; a web stream must never crash on one nobody heard.
    this.on("error", ignore);
  }

  /** @internal dispatch made a call on this stream (see the web front's core). */
  attach(call: ServerCall): void {
    this.call = call;
  }

  get session(): SessionLike | undefined {
    return this.inner.session;
  }
  get destroyed(): boolean {
    return this.inner.destroyed;
  }
  get closed(): boolean {
    return this.inner.closed;
  }
  get rstCode(): number | undefined {
    return this.inner.rstCode;
  }
  cork(): void {
    this.inner.cork();
  }
  uncork(): void {
    this.inner.uncork();
  }
  pause(): unknown {
    return this.inner.pause();
  }
  resume(): unknown {
    return this.inner.resume();
  }
  close(code?: number, callback?: () => void): void {
    const w = this.inner as { writableEnded?: boolean };
    if (code === 0 && w.writableEnded === true) {
      // "Stop sending" after our complete answer: a complete request needs nothing; the rest of
      // an incomplete one is read and dropped (bounded) rather than reset under a web client.
      if (this.requestEnded) return;
      this.discarding = true;
      return drainThenStop(this.inner, callback);
    }
    this.inner.close(code, callback);
  }

  respond(headers: OutgoingHttpHeaders = {}, options: RespondOptions = {}): void {
    if (options.endStream) return this.respondTrailersOnly(headers);
    this.grpcHeaders = headers;
    this.trailersWanted = options.waitForTrailers === true;
    this.respondHeaders(headers);
  }

  /** The call's messages are all written; with waitForTrailers the call sends its status next. */
  end(): unknown {
    if (this.ended) return undefined;
    this.ended = true;
    if (this.trailersWanted) this.emit("wantTrailers");
    else this.finishBody();
    return undefined;
  }

  sendTrailers(trailers: OutgoingHttpHeaders): void {
    this.respondTrailers(trailers);
  }

  abstract write(chunk: Uint8Array): boolean;
  /** The call's response headers (status not known yet). */
  protected abstract respondHeaders(headers: OutgoingHttpHeaders): void;
  /** A response that is only a status (gRPC trailers-only): headers carry grpc-status. */
  protected abstract respondTrailersOnly(headers: OutgoingHttpHeaders): void;
  /** The call's status after its messages. */
  protected abstract respondTrailers(trailers: OutgoingHttpHeaders): void;

  /** Ends the transport body without a status (only for callers that never asked for trailers). */
  protected finishBody(): void {
    this.inner.end();
  }

  /** Sends response headers on the transport, with CORS headers for a cross-origin request. */
  protected sendHead(headers: OutgoingHttpHeaders, endStream = false): void {
    const cors = responseCorsHeaders(this.request.cors, this.request.origin, headers);
    const out = cors === undefined ? headers : { ...headers, ...cors };
    this.inner.respond(out, endStream ? { endStream: true } : undefined);
  }

  /** A chunk of the request body as the transport received it; decoded into gRPC frames by default as is. */
  protected onBody(chunk: Buffer): void {
    this.deliver(chunk);
  }

  /** The transport's request body ended. */
  protected onBodyEnd(): void {
    this.deliverEnd();
  }

  /** Hands decoded request bytes to the call (as the transport's 'data' would). */
  protected deliver(chunk: Buffer): void {
    this.emit("data", chunk);
  }

  /** The request body is complete. */
  protected deliverEnd(): void {
    this.emit("end");
  }

  /** The request broke the web protocol's own framing: the call ends with this status. */
  protected failRequest(err: RpcError): void {
    if (this.call !== undefined) this.call.onFramingError(err);
  }
}

function ignore(): void {
  // See the constructor: the transport reports its own errors.
}

/**
 * Response metadata of a gRPC header record: what is neither a pseudo-header nor a header of
 * the gRPC protocol (grpc-*, content-type), to be carried over to the web response.
 */
export function metadataHeaders(headers: OutgoingHttpHeaders): [string, string | string[]][] {
  const out: [string, string | string[]][] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || name.charCodeAt(0) === 58 || name.startsWith("grpc-") || name === "content-type") continue;
    out.push([name, Array.isArray(value) ? value.map(String) : String(value)]);
  }
  return out;
}
