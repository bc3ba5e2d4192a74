// Services and the `exposed` mark. A service is the root object a connection hands out; like
// rpyc, only members named `exposed_x` (reachable as `x` too) or marked `@exposed` can be used
// by the peer, and the name a registry knows is derived from the class.
import type { Connection } from "./connection.js";
import { PyError } from "./py-errors.js";

/** Functions (methods, getters, setters) marked @exposed. */
const exposedFunctions = new WeakSet<Function>();
/** Instances whose @exposed fields were initialised: instance -> field names. */
const exposedFields = new WeakMap<object, Set<string>>();

type ExposableContext =
  | ClassMethodDecoratorContext
  | ClassGetterDecoratorContext
  | ClassSetterDecoratorContext
  | ClassFieldDecoratorContext
  | ClassAccessorDecoratorContext;

/**
 * Marks a method, getter or field as reachable by the peer under its own name (and as
 * `exposed_<name>`), like rpyc's `@rpyc.exposed` inside an `@rpyc.service` class.
 */
export function exposed<T>(value: T, context: ExposableContext): T | void {
  if (context.kind === "field") {
    const name = String(context.name);
    context.addInitializer(function (this: unknown) {
      const self = this as object;
      let names = exposedFields.get(self);
      if (!names) exposedFields.set(self, (names = new Set()));
      names.add(name);
    });
    return;
  }
  if (context.kind === "accessor") {
    const v = value as { get?: Function; set?: Function };
    if (v.get) exposedFunctions.add(v.get);
    if (v.set) exposedFunctions.add(v.set);
    return;
  }
  if (typeof value === "function") exposedFunctions.add(value);
  return value;
}

/** True when `name` on `obj` was marked with @exposed (as a method, getter, setter or field). */
export function isMarkedExposed(obj: object, name: string): boolean {
  if (exposedFields.get(obj)?.has(name)) return true;
  for (let p: object | null = obj; p !== null && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    const d = Object.getOwnPropertyDescriptor(p, name);
    if (!d) continue;
    if (typeof d.value === "function") return exposedFunctions.has(d.value);
    return (d.get !== undefined && exposedFunctions.has(d.get)) || (d.set !== undefined && exposedFunctions.has(d.set));
  }
  return false;
}

/**
 * rpyc's naming: ALIASES (or SERVICE_NAME first) upper-cased, else the class name upper-cased
 * without a trailing "SERVICE" (`CalculatorService` -> `CALCULATOR`).
 */
export function serviceAliasesOf(cls: { name: string; ALIASES?: readonly string[]; SERVICE_NAME?: string }): string[] {
  const own = [...(cls.SERVICE_NAME !== undefined ? [cls.SERVICE_NAME] : []), ...(cls.ALIASES ?? [])];
  if (own.length > 0) return [...new Set(own.map((a) => a.toUpperCase()))];
  const upper = cls.name.toUpperCase();
  return [upper.endsWith("SERVICE") && upper.length > "SERVICE".length ? upper.slice(0, -"SERVICE".length) : upper];
}

/**
 * The base of RPyC services. Subclass it and expose members:
 *
 * ```ts
 * class CalculatorService extends Service {
 *   exposed_add(a: number, b: number) { return a + b; }
 *   @exposed mul(a: number, b: number) { return a * b; }
 * }
 * ```
 *
 * A server given the class makes one instance per connection; given an instance, all
 * connections share it.
 */
export class Service {
  /** The names the service registers under; the first is its name. */
  static ALIASES?: readonly string[];
  /** Put in front of ALIASES when set. */
  static SERVICE_NAME?: string;

  static getServiceAliases(): string[] {
    return serviceAliasesOf(this);
  }

  static getServiceName(): string {
    return serviceAliasesOf(this)[0]!;
  }

  /** Called when a connection starts, before its first message is handled. */
  onConnect(_conn: Connection): void | Promise<void> {}

  /** Called after a connection ended and its objects were released. */
  onDisconnect(_conn: Connection): void | Promise<void> {}

  exposed_get_service_name(): string {
    return (this.constructor as typeof Service).getServiceName();
  }

  /** A tuple, as rpyc answers. */
  exposed_get_service_aliases(): string[] {
    return (this.constructor as typeof Service).getServiceAliases();
  }

  /** rpyc's Service refuses every attribute write and delete. */
  _rpyc_setattr(_name: string, _value: unknown): never {
    throw new PyError("AttributeError", ["access denied"]);
  }

  _rpyc_delattr(_name: string): never {
    throw new PyError("AttributeError", ["access denied"]);
  }
}

/** A service with nothing to offer: what a client that only calls serves to the other side. */
export class VoidService extends Service {}
