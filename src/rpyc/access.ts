// The attribute policy and the Python behaviour of our objects: what GETATTR, SETATTR,
// DELATTR, CALL and the dunder requests do to a JavaScript object the peer holds.
//
// Policy (rpyc's Connection._check_attr, same order): with allowExposedAttrs, a name starting
// with the prefix passes, and `name` resolves to `exposed_name` when that exists; safe dunders
// pass with allowSafeAttrs; public names with allowPublicAttrs; all with allowAllAttrs; a member
// marked @exposed passes under its own name (and as `exposed_name`). Everything else is
// AttributeError("cannot access 'name'"). An object may take over with _rpyc_getattr,
// _rpyc_setattr, _rpyc_delattr, as in rpyc.
import type { ProtocolConfig } from "./config.js";
import { SAFE_ATTRS } from "./config.js";
import { BoundMethod, boundMethod, classNameOf } from "./objects.js";
import { inferParams, type ParamSpec } from "../jsonrpc/params.js";
import { cannotAccess, PyError } from "./py-errors.js";
import { pyRepr } from "./repr.js";
import { isMarkedExposed } from "./service.js";
import { NotImplemented, PySlice, type PyValue } from "./values.js";

type Policy = Pick<ProtocolConfig, "allowSafeAttrs" | "allowExposedAttrs" | "allowPublicAttrs" | "allowAllAttrs" | "exposedPrefix" | "allowGetattr" | "allowSetattr" | "allowDelattr">;

type Obj = Record<string, unknown> & object;

/** `name in obj`, leaving out what every JavaScript object or function inherits. */
export function hasAttr(obj: object, name: string): boolean {
  for (let p: object | null = obj; p !== null && p !== Object.prototype && p !== Function.prototype; p = Object.getPrototypeOf(p)) {
    if (Object.prototype.hasOwnProperty.call(p, name)) return true;
  }
  return false;
}

function pyName(name: unknown): string {
  if (typeof name === "string") return name;
  if (name instanceof Uint8Array) return new TextDecoder("utf-8", { fatal: true }).decode(name);
  throw new PyError("TypeError", ["name must be a string"]);
}

/** The member `name` resolves to under the policy, or AttributeError. */
export function checkAttr(policy: Policy, obj: object, name: string, perm: "allowGetattr" | "allowSetattr" | "allowDelattr"): string {
  if (!policy[perm]) throw cannotAccess(name);
  const prefix = policy.allowExposedAttrs ? policy.exposedPrefix : "";
  let plain = policy.allowAllAttrs;
  plain ||= policy.allowExposedAttrs && prefix !== "" && name.startsWith(prefix);
  plain ||= policy.allowSafeAttrs && SAFE_ATTRS.has(name);
  plain ||= policy.allowPublicAttrs && !name.startsWith("_");
  const marked = isMarkedExposed(obj, name);
  const hasExposed = prefix !== "" && hasAttr(obj, prefix + name);
  if ((plain || marked) && (!hasExposed || hasAttr(obj, name))) {
    // `exposed_mul` for a member marked @exposed as `mul`
    if (prefix !== "" && name.startsWith(prefix) && !hasAttr(obj, name)) {
      const bare = name.slice(prefix.length);
      if (isMarkedExposed(obj, bare)) return bare;
    }
    return name;
  }
  if (hasExposed) return prefix + name;
  throw cannotAccess(name);
}

function typeName(obj: object): string {
  const full = classNameOf(obj);
  return full.slice(full.lastIndexOf(".") + 1);
}

function noAttribute(obj: object, name: string): PyError {
  return new PyError("AttributeError", [`'${typeName(obj)}' object has no attribute ${pyRepr(name)}`]);
}

/** Python's index into a sequence: negative counts from the end; out of range is IndexError. */
function seqIndex(length: number, index: unknown, what: string): number {
  if (typeof index === "bigint") index = Number(index);
  if (typeof index !== "number" || !Number.isInteger(index)) throw new PyError("TypeError", [`${what} indices must be integers or slices, not ${typeof index}`]);
  const i = index < 0 ? length + index : index;
  if (i < 0 || i >= length) throw new PyError("IndexError", [`${what} index out of range`]);
  return i;
}

function sliceOf(length: number, s: PySlice): number[] {
  const num = (v: unknown): number | undefined => (v === null || v === undefined ? undefined : Number(v));
  const step = num(s.step) ?? 1;
  if (step === 0) throw new PyError("ValueError", ["slice step cannot be zero"]);
  const clamp = (v: number | undefined, dflt: number, lo: number, hi: number): number => {
    if (v === undefined) return dflt;
    const x = v < 0 ? v + length : v;
    return Math.min(Math.max(x, lo), hi);
  };
  const out: number[] = [];
  if (step > 0) for (let i = clamp(num(s.start), 0, 0, length); i < clamp(num(s.stop), length, 0, length); i += step) out.push(i);
  else for (let i = clamp(num(s.start), length - 1, -1, length - 1); i > clamp(num(s.stop), -1, -1, length - 1); i += step) out.push(i);
  return out;
}

function stopIteration(): PyError {
  return new PyError("StopIteration");
}

function isIterator(obj: object): obj is Iterator<unknown> | AsyncIterator<unknown> {
  return typeof (obj as { next?: unknown }).next === "function";
}

type Dunder = (this: any, ...args: any[]) => unknown;

// The dunders below take their object as `this`, so one function serves every object and a
// BoundMethod of it is cached like any method's.
const LIST_DUNDERS: Readonly<Record<string, Dunder>> = {
  __len__(this: unknown[]) {
    return this.length;
  },
  __getitem__(this: unknown[], i: unknown) {
    return i instanceof PySlice ? sliceOf(this.length, i).map((k) => this[k]) : this[seqIndex(this.length, i, "list")];
  },
  __setitem__(this: unknown[], i: unknown, v: unknown) {
    this[seqIndex(this.length, i, "list")] = v;
  },
  __contains__(this: unknown[], v: unknown) {
    return this.includes(v);
  },
  __iter__(this: unknown[]) {
    return this[Symbol.iterator]();
  },
};

const DICT_DUNDERS: Readonly<Record<string, Dunder>> = {
  __len__(this: Map<unknown, unknown>) {
    return this.size;
  },
  __getitem__(this: Map<unknown, unknown>, k: unknown) {
    if (!this.has(k)) throw new PyError("KeyError", [k as PyValue]);
    return this.get(k);
  },
  __setitem__(this: Map<unknown, unknown>, k: unknown, v: unknown) {
    this.set(k, v);
  },
  __contains__(this: Map<unknown, unknown>, k: unknown) {
    return this.has(k);
  },
  __iter__(this: Map<unknown, unknown>) {
    return this.keys();
  },
};

function iterSelf(this: object): unknown {
  return this;
}

function iterOfIterable(this: object): unknown {
  const it = (this as { [Symbol.iterator]?: () => unknown })[Symbol.iterator] ?? (this as { [Symbol.asyncIterator]?: () => unknown })[Symbol.asyncIterator];
  return it!.call(this);
}

function finishNext(x: IteratorResult<unknown>): unknown {
  if (x.done) throw stopIteration();
  return x.value;
}

function nextOfIterator(this: Iterator<unknown> | AsyncIterator<unknown>): unknown {
  const r = this.next();
  return r instanceof Promise ? r.then(finishNext) : finishNext(r as IteratorResult<unknown>);
}

function callSelf(this: object, ...args: unknown[]): unknown {
  return invoke(this, args, []);
}

/** Python dunders for JavaScript objects that do not define them: lists, dicts, iterators, callables. */
function builtinDunder(obj: object, name: string): Dunder | undefined {
  const table = Array.isArray(obj) ? LIST_DUNDERS : obj instanceof Map ? DICT_DUNDERS : undefined;
  if (table) return Object.hasOwn(table, name) ? table[name] : undefined;
  switch (name) {
    case "__iter__":
      if (isIterator(obj)) return iterSelf;
      return typeof (obj as { [Symbol.iterator]?: unknown })[Symbol.iterator] === "function" ||
        typeof (obj as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === "function"
        ? iterOfIterable
        : undefined;
    case "__next__":
      return isIterator(obj) ? nextOfIterator : undefined;
    case "__call__":
      return typeof obj === "function" || obj instanceof BoundMethod ? callSelf : undefined;
    default:
      return undefined;
  }
}

/** The Python dunders an object answers without defining them (for INSPECT). */
export function builtinDunders(obj: object): string[] {
  const names = ["__len__", "__getitem__", "__setitem__", "__contains__", "__iter__", "__next__", "__call__"];
  return names.filter((n) => builtinDunder(obj, n) !== undefined);
}

/** HANDLE_GETATTR. */
export function getAttr(policy: Policy, obj: object, rawName: unknown): unknown {
  const name = pyName(rawName);
  const override = (obj as Obj)["_rpyc_getattr"];
  const resolved = typeof override === "function" ? undefined : checkAttr(policy, obj, name, "allowGetattr");
  if (resolved === undefined) return (override as (n: string) => unknown).call(obj, name);
  if (hasAttr(obj, resolved)) {
    const value = (obj as Obj)[resolved];
    if (typeof value === "function" && typeof obj !== "function" && !isClass(value)) return boundMethod(obj, resolved, value);
    return value;
  }
  const dunder = builtinDunder(obj, resolved);
  if (dunder) return boundMethod(obj, resolved, dunder);
  throw noAttribute(obj, resolved);
}

const classes = new WeakMap<Function, boolean>();

/** A `class` (constructed, not called). Cached: the test reads the function's whole source text. */
function isClass(fn: Function): boolean {
  let is = classes.get(fn);
  if (is === undefined) classes.set(fn, (is = /^class[\s{]/.test(Function.prototype.toString.call(fn))));
  return is;
}

/** HANDLE_SETATTR. */
export function setAttr(policy: Policy, obj: object, rawName: unknown, value: unknown): void {
  const name = pyName(rawName);
  const override = (obj as Obj)["_rpyc_setattr"];
  if (typeof override === "function") {
    override.call(obj, name, value);
    return;
  }
  const resolved = checkAttr(policy, obj, name, "allowSetattr");
  (obj as Obj)[resolved] = value;
}

/** HANDLE_DELATTR. */
export function delAttr(policy: Policy, obj: object, rawName: unknown): void {
  const name = pyName(rawName);
  const override = (obj as Obj)["_rpyc_delattr"];
  if (typeof override === "function") {
    override.call(obj, name);
    return;
  }
  const resolved = checkAttr(policy, obj, name, "allowDelattr");
  if (!hasAttr(obj, resolved)) throw noAttribute(obj, resolved);
  delete (obj as Obj)[resolved];
}

const paramCache = new WeakMap<Function, ParamSpec[] | null>();

function paramsOf(fn: Function): ParamSpec[] | undefined {
  let specs = paramCache.get(fn);
  if (specs === undefined) paramCache.set(fn, (specs = inferParams(fn) ?? null));
  return specs ?? undefined;
}

/** Positional and keyword arguments bound to a JavaScript parameter list, with Python's TypeErrors. */
export function bindArgs(fn: Function, label: string, args: readonly unknown[], kwargs: ReadonlyArray<readonly [string, unknown]>): unknown[] {
  const specs = paramsOf(fn);
  if (kwargs.length === 0) {
    if (specs && !specs.some((s) => s.rest) && args.length > specs.length)
      throw new PyError("TypeError", [`${label}() takes ${specs.length} positional argument${specs.length === 1 ? "" : "s"} but ${args.length} ${args.length === 1 ? "was" : "were"} given`]);
    return [...args];
  }
  if (!specs) throw new PyError("TypeError", [`${label}() does not take keyword arguments (its parameter names are unknown)`]);
  const fixed = specs.filter((s) => !s.rest);
  if (args.length > fixed.length && !specs.some((s) => s.rest))
    throw new PyError("TypeError", [`${label}() takes ${fixed.length} positional argument${fixed.length === 1 ? "" : "s"} but ${args.length} ${args.length === 1 ? "was" : "were"} given`]);
  const out = [...args];
  for (const [key, value] of kwargs) {
    const i = fixed.findIndex((s) => s.name === key);
    if (i < 0) throw new PyError("TypeError", [`${label}() got an unexpected keyword argument ${pyRepr(key)}`]);
    if (i < args.length) throw new PyError("TypeError", [`${label}() got multiple values for argument ${pyRepr(key)}`]);
    out[i] = value;
  }
  return out;
}

const rawCallables = new WeakSet<Function>();

/**
 * Marks a function that takes the peer's call as it came, `(args, kwargs)` with kwargs as
 * (name, value) pairs, instead of having keyword arguments bound to its parameters here (a
 * ThreadPoolServer method binds them in its worker thread).
 */
export function rawCallable<F extends (args: readonly unknown[], kwargs: ReadonlyArray<readonly [string, unknown]>) => unknown>(fn: F): F {
  rawCallables.add(fn);
  return fn;
}

/** HANDLE_CALL on one of our objects. */
export function invoke(obj: object, args: readonly unknown[], kwargs: ReadonlyArray<readonly [string, unknown]>): unknown {
  if (obj instanceof BoundMethod) {
    if (rawCallables.has(obj.fn)) return obj.fn.call(obj.self, args, kwargs);
    return obj.fn.apply(obj.self, bindArgs(obj.fn, obj.name, args, kwargs));
  }
  if (typeof obj === "function") {
    if (isClass(obj)) return Reflect.construct(obj, bindArgs(obj, obj.name, args, kwargs));
    return obj(...bindArgs(obj, obj.name || "function", args, kwargs));
  }
  const call = (obj as Obj)["__call__"];
  if (typeof call === "function") return call.apply(obj, bindArgs(call, "__call__", args, kwargs));
  throw new PyError("TypeError", [`'${typeName(obj)}' object is not callable`]);
}

/** A member (or builtin dunder) by name, without the policy: for the requests rpyc runs unchecked. */
function member(obj: object, name: string): Function | undefined {
  const own = hasAttr(obj, name) ? (obj as Obj)[name] : undefined;
  const fn = typeof own === "function" ? own : builtinDunder(obj, name);
  return fn && ((...a: unknown[]) => fn.apply(obj, a));
}

/** HANDLE_REPR. */
export function reprOf(obj: object): unknown {
  const m = member(obj, "__repr__");
  if (m) return m();
  if (Array.isArray(obj)) return `[${obj.map((v) => pyRepr(v)).join(", ")}]`;
  if (obj instanceof Map) return `{${[...obj].map(([k, v]) => `${pyRepr(k)}: ${pyRepr(v)}`).join(", ")}}`;
  if (obj instanceof BoundMethod) return `<bound method ${typeName(obj.self)}.${obj.name}>`;
  return `<${classNameOf(obj)} object>`;
}

/** HANDLE_STR. */
export function strOf(obj: object): unknown {
  const m = member(obj, "__str__");
  return m ? m() : reprOf(obj);
}

/** HANDLE_HASH: a user __hash__, else the object's identity. */
export function hashOf(obj: object, identity: number): unknown {
  const m = member(obj, "__hash__");
  return m ? m() : identity;
}

const CMP_OPS = new Set(["__eq__", "__ne__", "__lt__", "__gt__", "__le__", "__ge__", "__cmp__"]);

/** HANDLE_CMP: the object's own comparison, else identity for ==/!= and NotImplemented otherwise. */
export function compare(policy: Policy, obj: object, other: unknown, op: unknown): unknown {
  const name = pyName(op);
  if (!CMP_OPS.has(name)) throw cannotAccess(name);
  checkAttr(policy, obj, name, "allowGetattr");
  const m = member(obj, name);
  if (m) return m(other);
  if (name === "__eq__") return obj === other;
  if (name === "__ne__") return obj !== other;
  return NotImplemented;
}

/** HANDLE_DIR: the names the peer may read. */
export function dirOf(policy: Policy, obj: object): string[] {
  const names = new Set<string>();
  for (let p: object | null = obj; p !== null && p !== Object.prototype && p !== Function.prototype; p = Object.getPrototypeOf(p))
    for (const n of Object.getOwnPropertyNames(p)) if (n !== "constructor") names.add(n);
  const out = new Set<string>();
  for (const n of names) {
    try {
      checkAttr(policy, obj, n, "allowGetattr");
      out.add(n);
      if (policy.allowExposedAttrs && n.startsWith(policy.exposedPrefix)) out.add(n.slice(policy.exposedPrefix.length));
    } catch {
      // refused names are not listed
    }
  }
  for (const n of builtinDunders(obj)) out.add(n);
  return [...out].sort();
}
