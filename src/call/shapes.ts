import type { CallHandler, MethodKind } from "../service/method.js";
import type { ServerCallContext, ServerStream } from "./context.js";
import type { ServerCall } from "./server-call.js";

type MaybePromise<T> = T | Promise<T>;

/** Context-style unary handler: one request in, one response out. */
export type UnaryHandler<Req, Res> = (request: Req, ctx: ServerCallContext) => MaybePromise<Res>;
/** Context-style server-streaming handler: return (or be) an iterable of responses. */
export type ServerStreamingHandler<Req, Res> = (request: Req, ctx: ServerCallContext) => AsyncIterable<Res> | Iterable<Res>;
/** Context-style client-streaming handler: consume the requests, return one response. */
export type ClientStreamingHandler<Req, Res> = (requests: AsyncIterable<Req>, ctx: ServerCallContext) => MaybePromise<Res>;
/** Context-style bidi handler: consume requests while producing responses. */
export type BidiStreamingHandler<Req, Res> = (requests: AsyncIterable<Req>, ctx: ServerCallContext) => AsyncIterable<Res> | Iterable<Res>;
/** Stream-style (grpclib) handler for any call type. */
export type StreamHandler<Req, Res> = (stream: ServerStream<Req, Res>) => Promise<void>;

/** Any context-style handler. */
export type ContextHandler<Req, Res> =
  | UnaryHandler<Req, Res>
  | ServerStreamingHandler<Req, Res>
  | ClientStreamingHandler<Req, Res>
  | BidiStreamingHandler<Req, Res>;

/** A unary response is sent unless the handler chose a non-OK status with setCode. */
async function respondOnce(call: ServerCall<any, any>, response: unknown): Promise<void> {
  if (call.code !== 0 || call.finished) return;
  await call.sendMessage(response);
}

async function respondAll(call: ServerCall<any, any>, responses: AsyncIterable<unknown> | Iterable<unknown>): Promise<void> {
  if (responses == null || (typeof (responses as any)[Symbol.asyncIterator] !== "function" && typeof (responses as any)[Symbol.iterator] !== "function")) {
    throw new TypeError("a streaming handler must return an iterable of responses");
  }
  let burst = 0;
  for await (const response of responses) {
    await call.sendMessage(response);
    // A generator that never waits would hold the event loop for its whole stream;
    // give other calls a turn every so many messages.
    if (++burst === YIELD_EVERY) {
      burst = 0;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }
}

/** Messages a streaming handler may send before yielding the event loop. */
const YIELD_EVERY = 64;

/** Reduces a context-style handler of the given kind to the core CallHandler. */
export function adaptContextHandler(kind: MethodKind, fn: ContextHandler<any, any>): CallHandler {
  switch (kind) {
    case "unary": {
      const h = fn as UnaryHandler<unknown, unknown>;
      return async (call) => respondOnce(call, await h(await call.recvUnary(), call));
    }
    case "server_streaming": {
      const h = fn as ServerStreamingHandler<unknown, unknown>;
      return async (call) => respondAll(call, h(await call.recvUnary(), call));
    }
    case "client_streaming": {
      const h = fn as ClientStreamingHandler<unknown, unknown>;
      return async (call) => respondOnce(call, await h(call, call));
    }
    case "bidi_streaming": {
      const h = fn as BidiStreamingHandler<unknown, unknown>;
      return async (call) => respondAll(call, h(call, call));
    }
  }
}

/** Reduces a stream-style handler to the core CallHandler (it already is one). */
export function adaptStreamHandler(fn: StreamHandler<any, any>): CallHandler {
  return (call) => fn(call);
}
