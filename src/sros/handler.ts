import type { MethodKind } from "../service/method.js";
import type { Context } from "./context.js";

type MaybePromise<T> = T | Promise<T>;

// Handlers take the request (or an async iterable of requests) first and the Context second,
// as SR OS scripts define them: `def handler(request, context)`. Requests are protobuf-es
// messages for services given by descriptor, Uint8Array otherwise; responses likewise, where a
// plain object with the message's fields stands in for a message (SR OS handlers return dicts).

/** One request in, one response out. */
export type UnaryHandler<Req = any, Res = any> = (request: Req, context: Context) => MaybePromise<Res>;
/** One request in, responses out: return (or be) an iterable, e.g. a generator. */
export type ServerStreamingHandler<Req = any, Res = any> = (request: Req, context: Context) => MaybePromise<Iterable<Res> | AsyncIterable<Res>>;
/** Requests in (`for await`), one response out. */
export type ClientStreamingHandler<Req = any, Res = any> = (requests: AsyncIterable<Req>, context: Context) => MaybePromise<Res>;
/** Requests in, responses out. */
export type BidiStreamingHandler<Req = any, Res = any> = (requests: AsyncIterable<Req>, context: Context) => MaybePromise<Iterable<Res> | AsyncIterable<Res>>;

/** A handler function for any call type; the RPC's call type decides how it is called. */
export type Handler<Req = any, Res = any> =
  | UnaryHandler<Req, Res>
  | ServerStreamingHandler<Req, Res>
  | ClientStreamingHandler<Req, Res>
  | BidiStreamingHandler<Req, Res>;

/** Whether the client sends a stream of messages for this call type. */
export function requestStreaming(kind: MethodKind): boolean {
  return kind === "client_streaming" || kind === "bidi_streaming";
}

/** Whether the handler answers with a stream of messages for this call type. */
export function responseStreaming(kind: MethodKind): boolean {
  return kind === "server_streaming" || kind === "bidi_streaming";
}
