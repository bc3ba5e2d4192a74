import type { DescMessage } from "@bufbuild/protobuf";
import type { ServerCallContext } from "../call/context.js";
import type { ServerCall } from "../call/server-call.js";

/** The four gRPC call types, named as protobuf-es names them. */
export type MethodKind = "unary" | "server_streaming" | "client_streaming" | "bidi_streaming";

/** What the router knows about a method: its wire path and call type. */
export interface MethodInfo {
  /** `/package.Service/Method` */
  readonly path: string;
  /** `package.Service` */
  readonly service: string;
  /** `Method` */
  readonly name: string;
  readonly kind: MethodKind;
}

/** The core form every handler shape is reduced to: it drives one call to its end. */
export type CallHandler = (call: ServerCall<any, any>) => Promise<void> | void;

/**
 * A method ready to serve: wire path, call type, (de)serializers and the core
 * handler. Typed services, raw handler factories and generic handlers all become this.
 */
export interface MethodDefinition<I = any, O = any> extends MethodInfo {
  readonly deserialize: (bytes: Uint8Array) => I;
  readonly serialize: (message: O) => Uint8Array;
  readonly handler: CallHandler;
  /**
   * The context-style unary function behind `handler`, when there is one: lets the server
   * run simple unary calls without promise machinery (same semantics as `handler`).
   */
  readonly unary?: (request: I, ctx: ServerCallContext) => unknown;
  /** Present for typed services; lets other codecs (JSON) and reflection see the schema. */
  readonly input?: DescMessage;
  readonly output?: DescMessage;
  /**
   * The method's `idempotency_level` option, when it has one: Connect serves GET requests only
   * for "no_side_effects" methods.
   */
  readonly idempotency?: Idempotency;
}

/** protobuf's MethodOptions.idempotency_level, for methods that set it. */
export type Idempotency = "no_side_effects" | "idempotent";

/** Whether the client sends exactly one message for this kind of method. */
export function isUnaryRequest(kind: MethodKind): boolean {
  return kind === "unary" || kind === "server_streaming";
}

/** Splits `/package.Service/Method`; undefined when the path has another shape. */
export function parsePath(path: string): { service: string; name: string } | undefined {
  if (path.length < 4 || path.charCodeAt(0) !== 47) return undefined;
  const slash = path.indexOf("/", 1);
  if (slash <= 1 || slash === path.length - 1 || path.indexOf("/", slash + 1) !== -1) return undefined;
  return { service: path.slice(1, slash), name: path.slice(slash + 1) };
}
