import { constants, type IncomingHttpHeaders } from "node:http2";
import type { ServerStreamLike } from "./transport.js";
import { contentSubtype, protoCodec, withCodec, type Codec } from "../codec/codec.js";
import { ACCEPT_ENCODING, isEncoding } from "../codec/compression.js";
import { Deadline, parseTimeout } from "../deadline.js";
import { ServerCall, type CallEnv } from "../call/server-call.js";
import type { MethodDefinition } from "../service/method.js";
import type { Router } from "../service/router.js";
import { guardOf } from "../server/connection-guard.js";
import { sessionInfo } from "../server/session-info.js";
import { Code, RpcError } from "../status.js";
import type { CallProtocol, ObserverSet } from "../call/observer.js";
import type { MethodInfo } from "../service/method.js";
import { encodeGrpcMessage } from "./percent.js";
import { decodeRequestMetadata, findBadMetadata, headerListBytes } from "./request-metadata.js";

/** What the gRPC front needs from the server that owns it. */
export interface DispatchCore {
  readonly router: Router;
  readonly env: CallEnv;
  readonly maxHeaderListSize: number;
  readonly maxDeadlineMs: number | undefined;
  /** Codecs by lower-case content subtype ("proto", "json", ...). */
  readonly codecs: ReadonlyMap<string, Codec>;
  /** Told about requests refused before they became calls (metrics count them). */
  readonly observers?: ObserverSet;
  /** Why new calls are refused right now (not started, stopping), or undefined when serving. */
  refusal(): string | undefined;
  /**
   * True while a graceful stop drains: new gRPC streams are then reset REFUSED_STREAM instead of
   * answered UNAVAILABLE. Nothing processed them, so clients retry them transparently on another
   * connection (gRPC A6), as they do for streams above a GOAWAY's last-stream-id.
   */
  draining?(): boolean;
  /**
   * False when maximumConcurrentRpcs calls are running. A call whose handler starts at once
   * (streaming request) takes its slot here; a unary-request call takes it once its request
   * is complete (see Server), so half-open calls cannot hold slots.
   */
  admit(def: MethodDefinition): boolean;
  /**
   * A generic handler or service interceptor threw (not an RpcError) while the handler was
   * chosen: reports it and returns the message the call's UNKNOWN status carries.
   */
  lookupFailed?(err: unknown, path: string): string;
  /** Runs the handler (inside interceptors) for a call that was admitted. */
  run(call: ServerCall, def: MethodDefinition): void;
}

const GRPC_CONTENT_TYPE = /^application\/grpc(?:[+;]|$)/;

/** Answers a request that is not gRPC at the HTTP level (405, 415, 400). */
function rejectHttp(stream: ServerStreamLike, status: number, code: Code, message: string): void {
  if (stream.destroyed || stream.closed) return;
  stream.respond({ ":status": status, "grpc-status": String(code), "grpc-message": encodeGrpcMessage(message) }, { endStream: true });
  closeWhenUnread(stream);
}

/** Answers a gRPC request with a trailers-only response carrying a status. */
export function trailersOnly(stream: ServerStreamLike, contentType: string, code: Code, message: string, extra?: Record<string, string>): void {
  if (stream.destroyed || stream.closed) return;
  stream.respond({ ":status": 200, "content-type": contentType, "grpc-status": String(code), "grpc-message": encodeGrpcMessage(message), ...extra }, { endStream: true });
  closeWhenUnread(stream);
}

/** trailersOnly() for a request refused before it became a call, told to the observers first. */
function refuse(core: DispatchCore, stream: ServerStreamLike, protocol: CallProtocol, method: MethodInfo | undefined, contentType: string, code: Code, message: string, extra?: Record<string, string>): void {
  if (core.observers?.active) core.observers.callRefused(method, code, stream.session, protocol);
  trailersOnly(stream, contentType, code, message, extra);
}

/**
 * The method a request refused during shutdown names, looked up only for observers: metrics
 * then count the refusal under its method instead of under the unknown-path bucket. Registered
 * methods only: a call that will never run must not run generic handlers or interceptors.
 */
function refusedMethod(core: DispatchCore, path: string | undefined): MethodInfo | undefined {
  return core.observers?.active && path !== undefined ? core.router.peek(path) : undefined;
}

/** After an early answer, a client still sending is told to stop (RST_STREAM NO_ERROR) instead of being read. */
function closeWhenUnread(stream: ServerStreamLike): void {
  setImmediate(() => {
    if (!stream.destroyed && !stream.closed) stream.close(constants.NGHTTP2_NO_ERROR);
  });
}

/** node:http2 hands header values over as latin1 (one char per byte); messages want the UTF-8 text back. */
function headerText(value: string): string {
  return Buffer.from(value, "latin1").toString("utf8");
}

function ignoreStreamError(): void {
  // A stream error (e.g. RST by the peer while writing) ends only that call; 'close' does the cleanup.
}

/**
 * The `'stream'` listener: validates headers in a fixed order, finds the method,
 * builds the call and starts the handler. Every refusal is answered, never thrown.
 */
export function createStreamListener(core: DispatchCore) {
  return function onStream(stream: ServerStreamLike, headers: IncomingHttpHeaders, _flags: number, rawHeaders: string[], protocol: CallProtocol = "grpc"): void {
    stream.on("error", ignoreStreamError);
    // After a GOAWAY for abuse, HEADERS already in the socket buffer must not start handlers.
    if (guardOf(stream.session)?.abandoned) return void stream.close(constants.NGHTTP2_REFUSED_STREAM);
    if (headers[":method"] !== "POST") return rejectHttp(stream, 405, Code.UNIMPLEMENTED, "gRPC requires POST");
    const contentType = headers["content-type"];
    if (typeof contentType !== "string" || !GRPC_CONTENT_TYPE.test(contentType)) {
      return rejectHttp(stream, 415, Code.UNKNOWN, `unsupported content-type ${JSON.stringify(headerText(contentType ?? ""))}`);
    }
    if (headers["te"] !== "trailers") return rejectHttp(stream, 400, Code.INTERNAL, 'gRPC requires the header "te: trailers"');
    const headerBytes = headerListBytes(rawHeaders);
    if (headerBytes > core.maxHeaderListSize) {
      return refuse(core, stream, protocol, undefined, contentType, Code.RESOURCE_EXHAUSTED, `request headers too large (${headerBytes} bytes, limit ${core.maxHeaderListSize})`);
    }
    const refusal = core.refusal();
    if (refusal !== undefined && protocol === "grpc" && core.draining?.() === true) {
      if (core.observers?.active) core.observers.callRefused(refusedMethod(core, headers[":path"]), Code.UNAVAILABLE, stream.session, protocol);
      return void stream.close(constants.NGHTTP2_REFUSED_STREAM);
    }
    if (refusal !== undefined) return refuse(core, stream, protocol, refusedMethod(core, headers[":path"]), contentType, Code.UNAVAILABLE, refusal);
    const bad = findBadMetadata(rawHeaders);
    if (bad !== undefined) return refuse(core, stream, protocol, undefined, contentType, Code.INTERNAL, bad);
    const path = headers[":path"] ?? "";
    let found: MethodDefinition | undefined;
    try {
      found = core.router.lookup(path, () => decodeRequestMetadata(rawHeaders));
    } catch (err) {
      // A generic handler or service interceptor threw while picking the handler: that call
      // fails (an RpcError with its status, anything else UNKNOWN as grpcio does), never the
      // connection or the process.
      if (err instanceof RpcError) return refuse(core, stream, protocol, undefined, contentType, err.code, err.rawMessage);
      return refuse(core, stream, protocol, undefined, contentType, Code.UNKNOWN, core.lookupFailed?.(err, headerText(path)) ?? "Internal error");
    }
    if (!found) return refuse(core, stream, protocol, undefined, contentType, Code.UNIMPLEMENTED, `method not found: ${headerText(path)}`);
    const codec = contentType === "application/grpc" ? core.codecs.get("proto") : core.codecs.get(contentSubtype(contentType));
    if (!codec) return refuse(core, stream, protocol, found, contentType, Code.INTERNAL, `no codec registered for content-subtype ${JSON.stringify(headerText(contentSubtype(contentType)))}`);
    const def = codec === protoCodec ? found : withCodec(found, codec);

    let deadline: Deadline | undefined;
    const timeout = headers["grpc-timeout"];
    if (timeout !== undefined) {
      const parsed = parseTimeout(String(timeout));
      if (parsed.error !== undefined) return refuse(core, stream, protocol, found, contentType, Code.INTERNAL, headerText(parsed.error));
      if (parsed.ms <= 0) return refuse(core, stream, protocol, found, contentType, Code.DEADLINE_EXCEEDED, "deadline exceeded before the call started");
      deadline = Deadline.after(parsed.ms);
    }
    if (core.maxDeadlineMs !== undefined) deadline = Deadline.min(deadline, Deadline.after(core.maxDeadlineMs));

    const encodingHeader = headers["grpc-encoding"];
    const encoding = encodingHeader === undefined ? "identity" : String(encodingHeader);
    if (!isEncoding(encoding)) {
      return refuse(core, stream, protocol, found, contentType, Code.UNIMPLEMENTED, `unsupported grpc-encoding ${JSON.stringify(headerText(encoding))}`, { "grpc-accept-encoding": ACCEPT_ENCODING });
    }
    if (!core.admit(def)) return refuse(core, stream, protocol, found, contentType, Code.RESOURCE_EXHAUSTED, "too many concurrent calls on this server");

    const accept = headers["grpc-accept-encoding"];
    const userAgent = headers["user-agent"];
    const call = new ServerCall(
      stream,
      def,
      {
        contentType,
        encoding,
        acceptEncoding: accept === undefined ? undefined : String(accept),
        deadline,
        userAgent: userAgent === undefined ? undefined : String(userAgent),
        rawHeaders,
        session: sessionInfo(stream.session!),
        protocol,
      },
      core.env,
    );
    core.run(call, def);
  };
}
