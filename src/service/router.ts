import type { ServerCallContext } from "../call/context.js";
import { adaptContextHandler } from "../call/shapes.js";
import { ErrorCode, SwitchboardError } from "../errors.js";
import type { Metadata } from "../metadata.js";
import { parsePath, type MethodDefinition } from "./method.js";
import { behaviorOf, kindOf, type GenericRpcHandler, type HandlerCallDetails, type RpcMethodHandler } from "./raw.js";

/** What lookups and grpcio-style interceptors pass around: a ready definition or a raw method handler. */
export type ResolvedHandler = MethodDefinition | RpcMethodHandler;

/** A grpcio-style service interceptor: sees call details first and may swap the handler. */
export interface ServiceInterceptor {
  interceptService(
    continuation: (details: HandlerCallDetails) => ResolvedHandler | null | undefined,
    details: HandlerCallDetails,
  ): ResolvedHandler | null | undefined;
}

const identity = (b: Uint8Array) => b;
const passBytes = (m: unknown) => {
  if (m instanceof Uint8Array) return m;
  throw new TypeError("a method without a response serializer must return a Uint8Array");
};

/**
 * Maps method paths to definitions. Registered methods (typed services, registered
 * method handlers) win; generic handlers are asked in order only on a miss.
 */
export class Router {
  private readonly registered = new Map<string, MethodDefinition>();
  private readonly generic: GenericRpcHandler[] = [];
  private readonly converted = new WeakMap<RpcMethodHandler, Map<string, MethodDefinition>>();
  private interceptors: readonly ServiceInterceptor[] = [];

  /** Registers one method; a second registration of the same path is an error. */
  add(def: MethodDefinition): void {
    if (this.registered.has(def.path)) throw new SwitchboardError(ErrorCode.DUPLICATE_METHOD, `method ${def.path} is already registered`);
    this.registered.set(def.path, def);
  }

  addGeneric(handler: GenericRpcHandler): void {
    this.generic.push(handler);
  }

  setServiceInterceptors(interceptors: readonly ServiceInterceptor[]): void {
    this.interceptors = interceptors;
  }

  /** All registered definitions (for listings such as reflection). */
  definitions(): IterableIterator<MethodDefinition> {
    return this.registered.values();
  }

  /** Finds the method for a path; `metadata` is only read when generic handlers or interceptors need it. */
  lookup(path: string, metadata: () => Metadata): MethodDefinition | undefined {
    if (this.interceptors.length === 0) {
      const hit = this.registered.get(path);
      if (hit || this.generic.length === 0) return hit;
    }
    const details: HandlerCallDetails = {
      method: path,
      get invocationMetadata() {
        return metadata();
      },
    };
    let continuation = (d: HandlerCallDetails): ResolvedHandler | null | undefined => this.registered.get(d.method) ?? this.askGeneric(d);
    for (let i = this.interceptors.length - 1; i >= 0; i--) {
      const interceptor = this.interceptors[i]!;
      const next = continuation;
      continuation = (d) => interceptor.interceptService(next, d);
    }
    const found = continuation(details);
    return found ? this.toDefinition(path, found) : undefined;
  }

  private askGeneric(details: HandlerCallDetails): RpcMethodHandler | undefined {
    for (const g of this.generic) {
      const h = typeof g === "function" ? g(details) : g.service(details);
      if (h) return h;
    }
    return undefined;
  }

  /** The definition serving `path` with a raw method handler; throws when the handler is incomplete. */
  definitionFor(path: string, handler: RpcMethodHandler): MethodDefinition {
    const def = this.toDefinition(path, handler);
    if (!def) throw new SwitchboardError(ErrorCode.BAD_HANDLER, `handler for ${path} has no behavior for its call type, or the path is malformed`);
    return def;
  }

  private toDefinition(path: string, found: ResolvedHandler): MethodDefinition | undefined {
    if ("handler" in found) return found;
    let byPath = this.converted.get(found);
    const cached = byPath?.get(path);
    if (cached) return cached;
    const parts = parsePath(path);
    const behavior = behaviorOf(found);
    if (!parts || !behavior) return undefined;
    const kind = kindOf(found);
    const def: MethodDefinition = {
      path,
      service: parts.service,
      name: parts.name,
      kind,
      deserialize: found.requestDeserializer ?? identity,
      serialize: found.responseSerializer ?? passBytes,
      handler: adaptContextHandler(kind, behavior as never),
      unary: kind === "unary" ? (behavior as (req: unknown, ctx: ServerCallContext) => unknown).bind(found) : undefined,
    };
    if (!byPath) this.converted.set(found, (byPath = new Map()));
    byPath.set(path, def);
    return def;
  }
}
