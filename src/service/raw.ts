import type { BidiStreamingHandler, ClientStreamingHandler, ServerStreamingHandler, UnaryHandler } from "../call/shapes.js";
import type { Metadata } from "../metadata.js";
import type { ServerCallContext } from "../call/context.js";
import type { MethodKind } from "./method.js";

/** Turns bytes into a request; without one, handlers get the raw bytes. */
export type Deserializer<T> = (bytes: Uint8Array) => T;
/** Turns a response into bytes; without one, handlers must return bytes. */
export type Serializer<T> = (message: T) => Uint8Array;

/** A single method implementation (grpcio `RpcMethodHandler`). */
export interface RpcMethodHandler<Req = any, Res = any> {
  readonly requestStreaming: boolean;
  readonly responseStreaming: boolean;
  // Method syntax keeps these bivariant, so a handler whose behavior only aborts
  // (response type `never`) still counts as an RpcMethodHandler.
  requestDeserializer?(bytes: Uint8Array): Req;
  responseSerializer?(message: Res): Uint8Array;
  unaryUnary?(request: Req, ctx: ServerCallContext): Res | Promise<Res>;
  unaryStream?(request: Req, ctx: ServerCallContext): AsyncIterable<Res> | Iterable<Res>;
  streamUnary?(requests: AsyncIterable<Req>, ctx: ServerCallContext): Res | Promise<Res>;
  streamStream?(requests: AsyncIterable<Req>, ctx: ServerCallContext): AsyncIterable<Res> | Iterable<Res>;
}

/** Describes an RPC that has just arrived (grpcio `HandlerCallDetails`). */
export interface HandlerCallDetails {
  /** The full method path, `/package.Service/Method`. */
  readonly method: string;
  readonly invocationMetadata: Metadata;
}

/** Finds the handler for a call, or nothing (grpcio `GenericRpcHandler`). */
export type GenericRpcHandler =
  | ((details: HandlerCallDetails) => RpcMethodHandler | null | undefined)
  | { service(details: HandlerCallDetails): RpcMethodHandler | null | undefined };

/** A generic handler for the methods of one named service (grpcio `ServiceRpcHandler`). */
export interface ServiceRpcHandler {
  service(details: HandlerCallDetails): RpcMethodHandler | null;
  serviceName(): string;
}

/** grpcio `unary_unary_rpc_method_handler`. */
export function unaryUnaryRpcMethodHandler<Req = Uint8Array, Res = Uint8Array>(
  behavior: UnaryHandler<Req, Res>,
  requestDeserializer?: Deserializer<Req>,
  responseSerializer?: Serializer<Res>,
): RpcMethodHandler<Req, Res> {
  return { requestStreaming: false, responseStreaming: false, requestDeserializer, responseSerializer, unaryUnary: behavior };
}

/** grpcio `unary_stream_rpc_method_handler`. */
export function unaryStreamRpcMethodHandler<Req = Uint8Array, Res = Uint8Array>(
  behavior: ServerStreamingHandler<Req, Res>,
  requestDeserializer?: Deserializer<Req>,
  responseSerializer?: Serializer<Res>,
): RpcMethodHandler<Req, Res> {
  return { requestStreaming: false, responseStreaming: true, requestDeserializer, responseSerializer, unaryStream: behavior };
}

/** grpcio `stream_unary_rpc_method_handler`. */
export function streamUnaryRpcMethodHandler<Req = Uint8Array, Res = Uint8Array>(
  behavior: ClientStreamingHandler<Req, Res>,
  requestDeserializer?: Deserializer<Req>,
  responseSerializer?: Serializer<Res>,
): RpcMethodHandler<Req, Res> {
  return { requestStreaming: true, responseStreaming: false, requestDeserializer, responseSerializer, streamUnary: behavior };
}

/** grpcio `stream_stream_rpc_method_handler`. */
export function streamStreamRpcMethodHandler<Req = Uint8Array, Res = Uint8Array>(
  behavior: BidiStreamingHandler<Req, Res>,
  requestDeserializer?: Deserializer<Req>,
  responseSerializer?: Serializer<Res>,
): RpcMethodHandler<Req, Res> {
  return { requestStreaming: true, responseStreaming: true, requestDeserializer, responseSerializer, streamStream: behavior };
}

/** grpcio `method_handlers_generic_handler`: serves `/service/Name` from a map of method handlers. */
export function methodHandlersGenericHandler(service: string, handlers: Record<string, RpcMethodHandler>): ServiceRpcHandler {
  const byPath = new Map<string, RpcMethodHandler>();
  for (const [name, h] of Object.entries(handlers)) byPath.set(`/${service}/${name}`, h);
  return {
    service: (details) => byPath.get(details.method) ?? null,
    serviceName: () => service,
  };
}

/** The call type a method handler implements. */
export function kindOf(h: RpcMethodHandler): MethodKind {
  if (h.requestStreaming) return h.responseStreaming ? "bidi_streaming" : "client_streaming";
  return h.responseStreaming ? "server_streaming" : "unary";
}

/** The behavior function matching the handler's call type. */
export function behaviorOf(h: RpcMethodHandler): Function | undefined {
  switch (kindOf(h)) {
    case "unary":
      return h.unaryUnary;
    case "server_streaming":
      return h.unaryStream;
    case "client_streaming":
      return h.streamUnary;
    case "bidi_streaming":
      return h.streamStream;
  }
}
