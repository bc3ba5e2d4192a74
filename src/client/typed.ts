import type { DescMessage, DescMethod, DescService, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import { Code, RpcError } from "../status.js";
import { protoCodec } from "../codec/codec.js";
import type { MethodKind } from "../service/method.js";
import type { Channel } from "./channel.js";
import { ClientCall, type CallOptions, type ClientMethod } from "./client-call.js";

type In<M> = M extends { input: infer I extends DescMessage } ? MessageInitShape<I> : never;
type Out<M> = M extends { output: infer O extends DescMessage } ? MessageShape<O> : never;

/** Every method can also be opened as a call object (grpclib `Method.open()`). */
export interface Openable<Req, Res> {
  open(options?: CallOptions): ClientCall<Req, Res>;
}

/** `await client.method(request, options)` */
export type UnaryMethod<Req, Res> = ((request: Req, options?: CallOptions) => Promise<Res>) & Openable<Req, Res>;
/** `for await (const r of client.method(request, options))` */
export type ServerStreamingMethod<Req, Res> = ((request: Req, options?: CallOptions) => ClientCall<Req, Res>) & Openable<Req, Res>;
/** `await client.method(requests, options)` with an (async) iterable of requests */
export type ClientStreamingMethod<Req, Res> = ((requests: AsyncIterable<Req> | Iterable<Req>, options?: CallOptions) => Promise<Res>) & Openable<Req, Res>;
/** `for await (const r of client.method(requests, options))` */
export type BidiStreamingMethod<Req, Res> = ((requests: AsyncIterable<Req> | Iterable<Req>, options?: CallOptions) => ClientCall<Req, Res>) & Openable<Req, Res>;

/** The client method type for one method of a generated service. */
export type ClientMethodFor<M> = M extends { methodKind: "unary" }
  ? UnaryMethod<In<M>, Out<M>>
  : M extends { methodKind: "server_streaming" }
    ? ServerStreamingMethod<In<M>, Out<M>>
    : M extends { methodKind: "client_streaming" }
      ? ClientStreamingMethod<In<M>, Out<M>>
      : M extends { methodKind: "bidi_streaming" }
        ? BidiStreamingMethod<In<M>, Out<M>>
        : never;

/** A typed client for a generated service: one method per RPC, by local (camelCase) name. */
export type Client<S extends DescService> = { [K in keyof S["method"]]: ClientMethodFor<S["method"][K]> };

/** The client-side description of a protobuf-es method. */
export function clientMethod(method: DescMethod): ClientMethod<any, any> {
  const input = method.input;
  const output = method.output;
  return {
    path: `/${method.parent.typeName}/${method.name}`,
    kind: method.methodKind,
    serialize: (m) => protoCodec.encode(m, input),
    deserialize: (b) => protoCodec.decode(b, output),
    input,
    output,
  };
}

/**
 * A method known only by path and call type (grpclib `UnaryUnaryMethod(channel, path, None, None)`):
 * bytes in and out with the protobuf codec, plain values with a codec such as JSON.
 */
export function rawMethod(path: string, kind: MethodKind): ClientMethod<any, any> {
  return { path, kind, serialize: (m) => protoCodec.encode(m, undefined), deserialize: (b) => protoCodec.decode(b, undefined) as Uint8Array };
}

/** Creates a typed client for `service` on `channel` (grpclib generated stubs). */
export function createClient<S extends DescService>(service: S, channel: Channel): Client<S> {
  const client: Record<string, unknown> = {};
  for (const m of service.methods) client[m.localName] = bindMethod(channel, clientMethod(m));
  return client as Client<S>;
}

/** A callable for any method, typed or raw (bytes in and out when no (de)serializers are given). */
export function bindMethod<Req, Res>(channel: Channel, method: ClientMethod<Req, Res>): UnaryMethod<Req, Res> | ServerStreamingMethod<Req, Res> | ClientStreamingMethod<Req, Res> | BidiStreamingMethod<Req, Res> {
  const open = (options?: CallOptions) => new ClientCall<Req, Res>(channel, method, options);
  const call = callerFor(method.kind, open);
  return Object.assign(call, { open }) as never;
}

function callerFor<Req, Res>(kind: MethodKind, open: (o?: CallOptions) => ClientCall<Req, Res>) {
  switch (kind) {
    case "unary":
      return async (request: Req, options?: CallOptions) => {
        const call = open(options);
        await call.sendMessage(request, { end: true });
        return single(call);
      };
    case "server_streaming":
      return (request: Req, options?: CallOptions) => {
        const call = open(options);
        call.sendMessage(request, { end: true }).catch(() => {
          // The failure is what the caller's iteration throws.
        });
        return call;
      };
    case "client_streaming":
      return async (requests: AsyncIterable<Req> | Iterable<Req>, options?: CallOptions) => {
        const call = open(options);
        await pump(call, requests);
        return single(call);
      };
    case "bidi_streaming":
      return (requests: AsyncIterable<Req> | Iterable<Req>, options?: CallOptions) => {
        const call = open(options);
        void pump(call, requests).catch(() => {
          // Sending stopped because the call ended; iteration reports the status.
        });
        return call;
      };
  }
}

/** Sends every request, then half-closes; a throwing request source cancels the call. */
async function pump<Req, Res>(call: ClientCall<Req, Res>, requests: AsyncIterable<Req> | Iterable<Req>): Promise<void> {
  await call.sendRequest();
  try {
    for await (const r of requests) await call.sendMessage(r);
  } catch (err) {
    if (!(err instanceof RpcError)) await call.cancel();
    throw err;
  }
  await call.end();
}

/** Reads exactly one response and the OK status of a unary-response call. */
async function single<Req, Res>(call: ClientCall<Req, Res>): Promise<Res> {
  const response = await call.recvMessage();
  await call.recvTrailingMetadata();
  if (response === null) throw new RpcError(Code.UNIMPLEMENTED, "server ended the call with OK but sent no response message");
  return response;
}
