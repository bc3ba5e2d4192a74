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
  /**
   * Definitions built for what generic handlers (or service interceptors) answered, by path,
   * least recently used first. Building one costs a few allocations (~0.2 µs), so hot paths
   * keep theirs; the bound keeps a flood of distinct paths to a catch-all handler from
   * growing it (reliability row 31). Paths nobody answers are never stored.
   */
  private readonly cache = new Map<string, { handler: RpcMethodHandler; def: MethodDefinition }>();
  private interceptors: readonly ServiceInterceptor[] = [];

  /** Cached definitions kept at most. */
  static readonly CACHE_LIMIT = 256;

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

  /**
   * The registered method for `path`, without asking generic handlers or running service
   * interceptors: for protocol checks before dispatch, which must not run interceptors a second
   * time (dispatch's lookup() runs them once, after the request's metadata was validated).
   */
  peek(path: string): MethodDefinition | undefined {
    return this.registered.get(path);
  }

  /** Whether a path that is not registered may still be served (generic handlers or service interceptors). */
  get servesUnregistered(): boolean {
    return this.generic.length > 0 || this.interceptors.length > 0;
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
    const def = buildDefinition(path, handler);
    if (!def) throw new SwitchboardError(ErrorCode.BAD_HANDLER, `handler for ${path} has no behavior for its call type, or the path is malformed`);
    return def;
  }

  private toDefinition(path: string, found: ResolvedHandler): MethodDefinition | undefined {
    if ("handler" in found) return found;
    const hit = this.cache.get(path);
    if (hit !== undefined) {
      this.cache.delete(path);
      if (hit.handler === found) {
        this.cache.set(path, hit);
        return hit.def;
      }
    }
    const def = buildDefinition(path, found);
    if (!def) return undefined;
    if (this.cache.size >= Router.CACHE_LIMIT) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(path, { handler: found, def });
    return def;
  }

  /** @internal definitions cached now (tests check the bound). */
  get cachedDefinitions(): number {
    return this.cache.size;
  }
}

/** The definition for a raw method handler serving `path`; undefined when the path or handler is unusable. */
function buildDefinition(path: string, found: RpcMethodHandler): MethodDefinition | undefined {
  const parts = parsePath(path);
  const behavior = behaviorOf(found);
  if (!parts || !behavior) return undefined;
  const kind = kindOf(found);
  return {
    path,
    service: parts.service,
    name: parts.name,
    kind,
    deserialize: found.requestDeserializer ?? identity,
    serialize: found.responseSerializer ?? passBytes,
    handler: adaptContextHandler(kind, behavior as never),
    unary: kind === "unary" ? (behavior as (req: unknown, ctx: ServerCallContext) => unknown).bind(found) : undefined,
  };
}
