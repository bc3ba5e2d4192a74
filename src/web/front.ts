// The web front: the HTTP/2 'stream' listener (and the HTTP/1.1 request handler) that tells
// gRPC-Web, Connect and CORS preflights apart from gRPC, and runs each web request through
// gRPC's own dispatch as a translated stream, so limits, interceptors, events and observers
// apply to every protocol alike.
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http2";
import { createStreamListener, type DispatchCore } from "../grpc/dispatch.js";
import type { ServerStreamLike } from "../grpc/transport.js";
import type { CallProtocol } from "../call/observer.js";
import { Code } from "../status.js";
import { encodeGrpcMessage } from "../grpc/percent.js";
import { WebCallStream, type WebRequest } from "./call-stream.js";
import { isPreflight, preflightResponse, responseCorsHeaders } from "./cors.js";
import { parseGrpcWebType } from "./grpc-web/content-type.js";
import { GrpcWebStream } from "./grpc-web/stream.js";
import { parseConnectType } from "./connect/content-type.js";
import { isConnectGet, parseConnectGet, splitPath } from "./connect/get-request.js";
import { connectTimeout } from "./connect/timeout.js";
import { ConnectUnaryStream } from "./connect/unary-stream.js";
import { ConnectStreamingStream } from "./connect/stream-stream.js";
import { Http1Stream } from "./http1.js";
import { drainThenStop } from "./stop-sending.js";
import { acceptList, grpcRequest, headerValue } from "./request-headers.js";
import type { ResolvedWebOptions } from "./options.js";

/** The listener a server installs for 'stream' (and hands HTTP/1.1 requests to). */
export type WebStreamListener = (stream: ServerStreamLike, headers: IncomingHttpHeaders, flags: number, rawHeaders: string[]) => void;

/**
 * Builds the listener for gRPC, gRPC-Web and Connect on one port. gRPC requests (and anything
 * that is neither web protocol) go to gRPC dispatch untouched, keeping its fixed rejection
 * order (405, 415, 400); gRPC itself over HTTP/1.1 is answered 505.
 */
export function createWebListener(core: DispatchCore, web: ResolvedWebOptions): WebStreamListener {
  const grpc = createStreamListener({
    ...core,
    run(call, def) {
      // Web adapters feed protocol errors of their own framing (bad base64, oversized bodies) to the call.
      if (call.stream instanceof WebCallStream) call.stream.attach(call);
      core.run(call, def);
    },
  });
  const hasCodec = (subtype: string) => core.codecs.has(subtype);
  const refused = (stream: ServerStreamLike, code: Code, protocol: CallProtocol) => {
    if (core.observers?.active) core.observers.callRefused(undefined, code, stream.session, protocol);
  };

  return function onWebStream(stream, headers, flags, rawHeaders) {
    // node:http2 may still emit streams of a session the peer already tore down (sooner seen
    // behind a replaying socket): nothing can be answered there. (Every path below listens for
    // the stream's errors: answer() here, the adapters, or gRPC dispatch; one listener each.)
    if (stream.session === undefined || stream.session.destroyed) return void stream.on("error", ignore);
    const method = headers[":method"];
    const contentType = headerValue(headers["content-type"]);
    const origin = headerValue(headers["origin"]);
    const request: WebRequest = { origin, cors: web.cors };

    if (method === "OPTIONS" && web.cors !== undefined && isPreflight(headers)) return answer(stream, preflightResponse(web.cors, headers));

    if (method === "POST" && web.grpcWeb) {
      const type = parseGrpcWebType(contentType);
      if (type !== undefined) {
        const path = String(headers[":path"] ?? "");
        const req = grpcRequest(headers, path, type.subtype, {});
        const adapter = new GrpcWebStream(stream, request, contentType!, type.text);
        return grpc(adapter, req.headers, flags, req.rawHeaders, "grpc-web");
      }
    }

    if (web.connect && (method === "POST" || (method === "GET" && isConnectGet(String(headers[":path"] ?? ""))))) {
      const type = method === "POST" ? parseConnectType(contentType, hasCodec) : undefined;
      if (method === "GET" || type !== undefined) {
        const streaming = type?.streaming === true;
        // Errors found before dispatch go out as the protocol's own error, through an adapter.
        const fail = (code: Code, message: string, subtype = type?.subtype ?? "json") => {
          refused(stream, code, "connect");
          const adapter = streaming ? new ConnectStreamingStream(stream, request, contentType!) : new ConnectUnaryStream(stream, request, subtype, false, 0);
          adapter.respond({ ":status": 200, "grpc-status": String(code), "grpc-message": encodeGrpcMessage(message) }, { endStream: true });
          closeUnread(adapter);
        };
        const version = headerValue(headers["connect-protocol-version"]);
        if (version !== undefined && version !== "1") return fail(Code.INVALID_ARGUMENT, `unsupported connect-protocol-version ${JSON.stringify(version)} (want 1)`);
        const timeout = connectTimeout(headerValue(headers["connect-timeout-ms"]));
        if (timeout.error !== undefined) return fail(Code.INVALID_ARGUMENT, timeout.error);
        const { path, query } = splitPath(String(headers[":path"] ?? ""));
        // Registered methods only: dispatch's own lookup runs generic handlers and service interceptors, once.
        const def = core.router.peek(path);

        if (method === "GET") {
          const get = parseConnectGet(query);
          if ("error" in get) return fail(Code.INVALID_ARGUMENT, get.error);
          if (!hasCodec(get.subtype)) return fail(Code.INVALID_ARGUMENT, `unsupported encoding ${JSON.stringify(get.subtype)}`);
          // GET is for unary methods declared free of side effects; a path only a generic handler
          // or interceptor could serve declares nothing, and a streaming method's replies would
          // not fit a GET's one-message answer.
          const refusal = def === undefined ? (core.router.servesUnregistered ? "has side effects" : undefined) : def.idempotency !== "no_side_effects" ? "has side effects" : def.kind !== "unary" ? `is a ${def.kind} method` : undefined;
          if (refusal !== undefined) {
            return answer(stream, { ":status": 405, allow: "POST", "content-type": "text/plain; charset=utf-8" }, request, `${path} ${refusal}: Connect GET is only for unary methods with idempotency_level NO_SIDE_EFFECTS\n`);
          }
          const req = grpcRequest(headers, path, get.subtype, {
            "grpc-timeout": timeout.grpcTimeout,
            "grpc-encoding": get.compression,
            "grpc-accept-encoding": acceptList(headers["accept-encoding"]),
          });
          const adapter = new ConnectUnaryStream(stream, request, get.subtype, get.compression !== undefined, 0, get.message);
          return grpc(adapter, req.headers, flags, req.rawHeaders, "connect");
        }

        if (def !== undefined && (def.kind === "unary") === streaming) {
          return answer(stream, { ":status": 415, "content-type": "text/plain; charset=utf-8" }, request, `${path} is a ${def.kind} method: use ${def.kind === "unary" ? "application/{proto,json}" : "application/connect+{proto,json}"}\n`);
        }
        const encoding = nonIdentity(headerValue(headers[streaming ? "connect-content-encoding" : "content-encoding"]));
        const req = grpcRequest(headers, path, type!.subtype, {
          "grpc-timeout": timeout.grpcTimeout,
          "grpc-encoding": encoding,
          "grpc-accept-encoding": acceptList(headers[streaming ? "connect-accept-encoding" : "accept-encoding"]),
        });
        const adapter = streaming
          ? new ConnectStreamingStream(stream, request, contentType!)
          : new ConnectUnaryStream(stream, request, type!.subtype, encoding !== undefined, core.env.maxReceiveMessageLength);
        return grpc(adapter, req.headers, flags, req.rawHeaders, "connect");
      }
    }

    if (stream instanceof Http1Stream && contentType !== undefined && /^application\/grpc(?:[+;]|$)/i.test(contentType)) {
      return answer(stream, { ":status": 505, "content-type": "text/plain; charset=utf-8", "grpc-status": String(Code.UNIMPLEMENTED), "grpc-message": encodeGrpcMessage("gRPC requires HTTP/2") }, request, "gRPC requires HTTP/2; over HTTP/1.1 use gRPC-Web or Connect\n");
    }
    return grpc(stream, headers, flags, rawHeaders);
  };
}

function ignore(): void {
  // A stream error ends only that request; 'close' cleans up.
}

/** Content-Encoding "identity" (or none) means an uncompressed body. */
function nonIdentity(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const v = value.trim().toLowerCase();
  return v === "" || v === "identity" ? undefined : v;
}

/** A plain HTTP answer that is not a call (preflight, 405, 415, 505), with CORS headers when they apply. */
function answer(stream: ServerStreamLike, headers: OutgoingHttpHeaders, request?: WebRequest, body?: string): void {
  // Answers sent here must not crash on a stream the peer resets meanwhile.
  stream.on("error", ignore);
  if (stream.destroyed || stream.closed) return;
  const cors = request === undefined ? undefined : responseCorsHeaders(request.cors, request.origin, headers);
  const out = cors === undefined ? headers : { ...headers, ...cors };
  if (body === undefined) {
    stream.respond(out, { endStream: true });
  } else {
    const bytes = Buffer.from(body, "utf8");
    stream.respond({ ...out, "content-length": String(bytes.length) });
    stream.write(bytes);
    stream.end();
  }
  closeUnread(stream);
}

/** After an answer sent before the request was read, a client still sending is told to stop (see stop-sending.ts). */
function closeUnread(stream: ServerStreamLike): void {
  setImmediate(() => {
    if (stream.destroyed || stream.closed) return;
    // An adapter stops its own transport stream (WebCallStream.close).
    if (stream instanceof WebCallStream) stream.close(0);
    else drainThenStop(stream);
  });
}
