import type { DescMessage, DescMethod, DescService, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import {
  adaptContextHandler,
  adaptStreamHandler,
  type BidiStreamingHandler,
  type ClientStreamingHandler,
  type ServerStreamingHandler,
  type StreamHandler,
  type UnaryHandler,
} from "../call/shapes.js";
import { protoCodec } from "../codec/codec.js";
import { ErrorCode, SwitchboardError } from "../errors.js";
import type { Idempotency, MethodDefinition } from "./method.js";

type In<M> = M extends { input: infer I extends DescMessage } ? MessageShape<I> : never;
type Out<M> = M extends { output: infer O extends DescMessage } ? MessageInitShape<O> : never;

/** The context-style handler type for one method of a generated service. */
export type HandlerFor<M> = M extends { methodKind: "unary" }
  ? UnaryHandler<In<M>, Out<M>>
  : M extends { methodKind: "server_streaming" }
    ? ServerStreamingHandler<In<M>, Out<M>>
    : M extends { methodKind: "client_streaming" }
      ? ClientStreamingHandler<In<M>, Out<M>>
      : M extends { methodKind: "bidi_streaming" }
        ? BidiStreamingHandler<In<M>, Out<M>>
        : never;

/** Context-style implementation of a generated service: methods by their local (camelCase) name. */
export type ServiceImpl<S extends DescService> = { [K in keyof S["method"]]?: HandlerFor<S["method"][K]> };

/** Stream-style (grpclib) implementation: every method takes the call's stream. */
export type StreamServiceImpl<S extends DescService> = { [K in keyof S["method"]]?: StreamHandler<In<S["method"][K]>, Out<S["method"][K]>> };

/** How a typed service's handlers are written. */
export type HandlerStyle = "context" | "stream";

/** The path, (de)serializers and schemas of a method from a protobuf-es descriptor. */
export function describeMethod(method: DescMethod): Omit<MethodDefinition, "handler"> {
  const input = method.input;
  const output = method.output;
  return {
    path: `/${method.parent.typeName}/${method.name}`,
    service: method.parent.typeName,
    name: method.name,
    kind: method.methodKind,
    input,
    output,
    deserialize: (bytes) => protoCodec.decode(bytes, input),
    serialize: (message) => protoCodec.encode(message, output),
    ...idempotencyOf(method),
  };
}

/** MethodOptions.idempotency_level (1 NO_SIDE_EFFECTS, 2 IDEMPOTENT), when the method sets it. */
function idempotencyOf(method: DescMethod): { idempotency?: Idempotency } {
  const level = method.idempotency as number;
  if (level === 1) return { idempotency: "no_side_effects" };
  if (level === 2) return { idempotency: "idempotent" };
  return {};
}

/** Turns a generated service and its implementation into method definitions. */
export function typedMethods(service: DescService, impl: object, style: HandlerStyle): MethodDefinition[] {
  const known = new Set(service.methods.map((m) => m.localName));
  for (const key of Object.keys(impl)) {
    if (!known.has(key) && typeof (impl as Record<string, unknown>)[key] === "function") {
      throw new SwitchboardError(ErrorCode.BAD_HANDLER, `${service.typeName} has no method ${JSON.stringify(key)} (methods: ${[...known].join(", ")})`);
    }
  }
  const defs: MethodDefinition[] = [];
  for (const method of service.methods) {
    const fn = (impl as Record<string, unknown>)[method.localName];
    if (fn === undefined) continue;
    if (typeof fn !== "function") throw new SwitchboardError(ErrorCode.BAD_HANDLER, `${service.typeName}.${method.localName} must be a function`);
    const bound = fn.bind(impl);
    defs.push({
      ...describeMethod(method),
      handler: style === "stream" ? adaptStreamHandler(bound) : adaptContextHandler(method.methodKind, bound),
      unary: style === "context" && method.methodKind === "unary" ? bound : undefined,
    });
  }
  return defs;
}
