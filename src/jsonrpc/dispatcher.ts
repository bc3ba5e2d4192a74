// tinyrpc's RPCDispatcher: a table of public methods plus sub-dispatchers under literal
// prefixes. Lookup: own table first (exact name), then each prefix in registration order
// (the name must start with it; the rest is looked up recursively); first hit wins.

import { ErrorCode, SwitchboardError } from "../errors.js";
import { JSONRPCError, JSONRPCErrorCode } from "./errors.js";
import { bindParams, declaredParams, inferParams, type ParamSpec } from "./params.js";
import type { RPCRequest } from "./protocol.js";

// any parameter list: a method is called with whatever the JSON-RPC params bind to
type AnyFunction = (...args: any[]) => unknown;

/** Options of one registered method. */
export interface RPCMethodOptions {
  /** Public name; defaults to the function's name. */
  name?: string;
  /**
   * Parameter names, in order: "a" required, "b?" optional, "...rest" any number. Wins over
   * the names read from the function's source (needed for bound or native functions).
   */
  params?: readonly string[];
  /**
   * Checks the bound arguments before the call; a returned string (or a thrown error) is
   * answered with -32602 Invalid params carrying that text as `data`.
   */
  validate?: (args: readonly unknown[]) => string | undefined | void;
  /**
   * Pass the params as sent (array, object, or `undefined` when absent) as the one argument,
   * unbound: for methods that read the whole params themselves (the gRPC bridge takes a
   * request message). `validate` then sees `[params]`.
   */
  rawParams?: boolean;
}

interface Entry {
  readonly fn: AnyFunction;
  readonly thisArg: unknown;
  readonly params: readonly ParamSpec[] | undefined;
  readonly validate: RPCMethodOptions["validate"];
  readonly rawParams: boolean;
}

const marks = new WeakMap<Function, RPCMethodOptions>();

function normalize(options: string | RPCMethodOptions | undefined): RPCMethodOptions {
  return typeof options === "string" ? { name: options } : { ...options };
}

/**
 * Marks a function or class method as public without registering it (tinyrpc's module-level
 * `public`); `registerInstance` then collects an object's marked methods. Forms:
 * `rpcPublic(fn)`, `rpcPublic(fn, "name")`, and the TS 5 standard decorators `@rpcPublic`,
 * `@rpcPublic("name")`, `@rpcPublic({ name, params })`.
 */
export function rpcPublic<F extends AnyFunction>(fn: F, context?: ClassMethodDecoratorContext | string | RPCMethodOptions): F;
export function rpcPublic(options: string | RPCMethodOptions): <F extends AnyFunction>(fn: F, context?: ClassMethodDecoratorContext) => F;
export function rpcPublic(first: AnyFunction | string | RPCMethodOptions, second?: ClassMethodDecoratorContext | string | RPCMethodOptions): unknown {
  if (typeof first !== "function") {
    const options = normalize(first);
    return <F extends AnyFunction>(fn: F, context?: ClassMethodDecoratorContext): F => mark(fn, options, context);
  }
  if (typeof second === "object" && second !== null && "kind" in second) return mark(first, {}, second as ClassMethodDecoratorContext);
  return mark(first, normalize(second as string | RPCMethodOptions | undefined));
}

function mark<F extends AnyFunction>(fn: F, options: RPCMethodOptions, context?: ClassMethodDecoratorContext): F {
  if (typeof fn !== "function") throw new SwitchboardError(ErrorCode.BAD_HANDLER, "rpcPublic expects a function");
  if (context !== undefined) {
    if (context.kind !== "method") throw new SwitchboardError(ErrorCode.BAD_HANDLER, "@rpcPublic applies to methods only");
    if (options.name === undefined) {
      if (typeof context.name !== "string") throw new SwitchboardError(ErrorCode.BAD_HANDLER, "@rpcPublic on a symbol-named method needs an explicit name");
      options = { ...options, name: context.name };
    }
  }
  marks.set(fn, options);
  return fn;
}

/** Whether `fn` was marked by `rpcPublic`, and with which options. */
export function publicOptions(fn: unknown): RPCMethodOptions | undefined {
  return typeof fn === "function" ? marks.get(fn) : undefined;
}

export class RPCDispatcher {
  private readonly methods = new Map<string, Entry>();
  private readonly subdispatchers: { readonly prefix: string; readonly dispatcher: RPCDispatcher }[] = [];

  /** Registers `fn` under `name` (or `options.name`, or `fn.name`). Duplicates throw `DUPLICATE_METHOD`. */
  addMethod(fn: AnyFunction, options?: string | RPCMethodOptions, thisArg?: unknown): this {
    if (typeof fn !== "function") throw new SwitchboardError(ErrorCode.BAD_HANDLER, "addMethod expects a function");
    const opts = normalize(options);
    const name = opts.name ?? fn.name;
    if (typeof name !== "string" || name === "") throw new SwitchboardError(ErrorCode.BAD_HANDLER, "a method needs a name: pass one or use a named function");
    if (this.methods.has(name)) throw new SwitchboardError(ErrorCode.DUPLICATE_METHOD, `method ${JSON.stringify(name)} is already registered`);
    let params: readonly ParamSpec[] | undefined;
    if (opts.rawParams === true) {
      if (opts.params !== undefined) throw new SwitchboardError(ErrorCode.BAD_HANDLER, `method ${JSON.stringify(name)}: rawParams and params exclude each other`);
    } else if (opts.params !== undefined) {
      const declared = declaredParams(opts.params);
      if (typeof declared === "string") throw new SwitchboardError(ErrorCode.BAD_HANDLER, `method ${JSON.stringify(name)}: ${declared}`);
      params = declared;
    } else {
      params = inferParams(fn);
    }
    this.methods.set(name, { fn, thisArg, params, validate: opts.validate, rawParams: opts.rawParams === true });
    return this;
  }

  /**
   * Registers immediately (tinyrpc's `dispatcher.public`): `d.public(fn)`, `d.public(fn, "name")`,
   * or `d.public("name")` / `d.public({ ... })` returning a registering function.
   */
  public<F extends AnyFunction>(fn: F, options?: string | RPCMethodOptions): F;
  public(options: string | RPCMethodOptions): <F extends AnyFunction>(fn: F) => F;
  public(first: AnyFunction | string | RPCMethodOptions, options?: string | RPCMethodOptions): unknown {
    if (typeof first !== "function") {
      return <F extends AnyFunction>(fn: F): F => {
        this.addMethod(fn, first);
        return fn;
      };
    }
    this.addMethod(first, options);
    return first;
  }

  /**
   * Adds every `rpcPublic`-marked method of `obj` (own and inherited, bound to `obj`) as a new
   * sub-dispatcher under `prefix`, like tinyrpc's `register_instance`.
   */
  registerInstance(obj: object, prefix = ""): RPCDispatcher {
    const sub = new RPCDispatcher();
    const seen = new Set<string | symbol>();
    for (let proto: object | null = obj; proto !== null && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
      for (const key of Reflect.ownKeys(proto)) {
        if (seen.has(key)) continue;
        seen.add(key);
        const descriptor = Object.getOwnPropertyDescriptor(proto, key);
        const options = publicOptions(descriptor?.value);
        if (!options) continue;
        const name = options.name ?? (typeof key === "string" ? key : undefined);
        if (name === undefined) throw new SwitchboardError(ErrorCode.BAD_HANDLER, "a symbol-named public method needs an explicit name");
        sub.addMethod(descriptor!.value as AnyFunction, { ...options, name }, obj);
      }
    }
    this.addSubdispatch(sub, prefix);
    return sub;
  }

  /** Adds `dispatcher` under a literal prefix (the separator belongs to it: "math."). */
  addSubdispatch(dispatcher: RPCDispatcher, prefix = ""): this {
    if (dispatcher === this) throw new SwitchboardError(ErrorCode.BAD_HANDLER, "a dispatcher cannot be its own sub-dispatcher");
    this.subdispatchers.push({ prefix, dispatcher });
    return this;
  }

  /** Whether `name` resolves to a method. */
  has(name: string): boolean {
    return this.lookup(name) !== undefined;
  }

  /** Every public name, own methods first, sub-dispatchers with their prefixes. */
  methodNames(): string[] {
    const names = [...this.methods.keys()];
    for (const { prefix, dispatcher } of this.subdispatchers) for (const n of dispatcher.methodNames()) names.push(prefix + n);
    return names;
  }

  private lookup(name: string): Entry | undefined {
    const own = this.methods.get(name);
    if (own) return own;
    for (const { prefix, dispatcher } of this.subdispatchers) {
      if (!name.startsWith(prefix)) continue;
      const hit = dispatcher.lookup(name.slice(prefix.length));
      if (hit) return hit;
    }
    return undefined;
  }

  /**
   * Runs one request and returns the method's result. Rejects with a `JSONRPCError`
   * (-32601, -32602) for lookup and binding failures, or with whatever the method threw.
   */
  async dispatch(request: RPCRequest): Promise<unknown> {
    const entry = this.lookup(request.method);
    if (!entry) throw JSONRPCError.standard(JSONRPCErrorCode.METHOD_NOT_FOUND, `no method ${JSON.stringify(request.method)}`);
    const args = entry.rawParams ? [request.params] : bindParams(entry.params, request.params);
    if (typeof args === "string") throw JSONRPCError.standard(JSONRPCErrorCode.INVALID_PARAMS, args);
    if (entry.validate) {
      let problem: string | undefined | void;
      try {
        problem = entry.validate(args);
      } catch (e) {
        problem = e instanceof Error ? e.message : String(e);
      }
      if (typeof problem === "string") throw JSONRPCError.standard(JSONRPCErrorCode.INVALID_PARAMS, problem);
    }
    return await entry.fn.apply(entry.thisArg, args);
  }
}
