// Proxies of the peer's objects (netrefs). A netref is a callable JavaScript Proxy:
//   await ref(1, 2)              HANDLE_CALL
//   await ref.method(1, kw({by: 2}))   HANDLE_CALLATTR (one round trip)
//   await ref.attr               HANDLE_GETATTR (an attribute is a thenable until awaited)
// plus the functions below for what has no JavaScript syntax (setattr, repr, dir...).
// One proxy per id_pack and connection; each arrival of the same id_pack counts one more
// reference, and the whole count goes back in one HANDLE_DEL when the proxy is released or
// garbage-collected, as rpyc's own proxies do.
import { SwitchboardError, ErrorCode } from "../errors.js";
import {
  HANDLE_CALL,
  HANDLE_CALLATTR,
  HANDLE_DELATTR,
  HANDLE_DIR,
  HANDLE_GETATTR,
  HANDLE_HASH,
  HANDLE_REPR,
  HANDLE_SETATTR,
  HANDLE_STR,
} from "./consts.js";
import type { IdPack } from "./objects.js";

/** What a connection offers its proxies. */
export interface NetrefOwner {
  syncRequest(handler: number, args: readonly unknown[]): Promise<unknown>;
}

/** Keyword arguments for a call: `ref.increment(kw({ by: 2 }))` is Python's `increment(by=2)`. */
export class Kwargs {
  constructor(readonly values: Readonly<Record<string, unknown>>) {}
}

export function kw(values: Readonly<Record<string, unknown>>): Kwargs {
  return new Kwargs(values);
}

/** Splits a trailing kw() off the arguments into rpyc's (name, value) pairs. */
export function splitKwargs(args: readonly unknown[]): [unknown[], Array<[string, unknown]>] {
  const last = args[args.length - 1];
  if (last instanceof Kwargs) return [args.slice(0, -1), Object.entries(last.values)];
  return [[...args], []];
}

/** The reference count shared by a proxy and its finalizer (which must not hold the proxy). */
export interface RefCell {
  readonly owner: NetrefOwner;
  readonly idPack: IdPack;
  refcount: number;
  released: boolean;
}

const NETREF = Symbol("switchboard.rpyc.netref");

/**
 * Function's own members (apply, call, bind, name...) would hide the peer's attributes of the
 * same names in the types; at run time every name is the peer's.
 */
interface PeerNamedLikeFunction {
  readonly apply: NetrefAttr;
  readonly call: NetrefAttr;
  readonly bind: NetrefAttr;
  readonly name: NetrefAttr;
  readonly length: NetrefAttr;
  readonly toString: NetrefAttr;
}

/** A proxy of an object that lives at the peer. Call it, call its methods, await its attributes. */
export interface Netref extends PeerNamedLikeFunction {
  (...args: unknown[]): Promise<any>;
  readonly [name: string]: NetrefAttr;
}

/** `ref.name`: call it (CALLATTR) or await it (GETATTR). */
export interface NetrefAttr extends PeerNamedLikeFunction, PromiseLike<any> {
  (...args: unknown[]): Promise<any>;
  // `any`: the index has to admit `then`; a chained `ref.a.b` is an attribute at run time
  readonly [name: string]: any;
}

/** The cell behind a netref (connection, id_pack, count), or undefined. */
export function netrefCell(value: unknown): RefCell | undefined {
  if ((typeof value !== "function" && typeof value !== "object") || value === null) return undefined;
  return (value as { [NETREF]?: RefCell })[NETREF];
}

export function isNetref(value: unknown): value is Netref {
  return netrefCell(value) !== undefined;
}

function live(cell: RefCell): RefCell {
  if (cell.released) throw new SwitchboardError(ErrorCode.RPYC_CLOSED, `netref ${cell.idPack[0]} was released`);
  return cell;
}

function attrProxy(parent: () => Promise<unknown>, target: unknown, name: string): NetrefAttr {
  const get = (): Promise<unknown> => parent().then((obj) => getattr(obj as Netref, name));
  const fn = function () {} as unknown as object;
  return new Proxy(fn, {
    apply(_t, _this, args: unknown[]) {
      // one round trip when the parent is the netref itself
      if (target !== undefined) return callattr(target as Netref, name, ...args);
      return parent().then((obj) => callattr(obj as Netref, name, ...args));
    },
    get(_t, prop) {
      if (prop === "then") {
        const p = get();
        return p.then.bind(p);
      }
      if (typeof prop === "symbol") return undefined;
      return attrProxy(get, undefined, prop);
    },
  }) as NetrefAttr;
}

export function makeNetref(cell: RefCell): Netref {
  const fn = function () {} as unknown as object;
  let self: Netref;
  const handler: ProxyHandler<object> = {
    apply(_t, _this, args: unknown[]) {
      const [pos, kwargs] = splitKwargs(args);
      return live(cell).owner.syncRequest(HANDLE_CALL, [self, pos, kwargs]);
    },
    get(_t, prop) {
      if (prop === NETREF) return cell;
      // not a thenable: `await ref` is the ref itself
      if (typeof prop === "symbol" || prop === "then") return undefined;
      return attrProxy(() => Promise.resolve(self), self, prop);
    },
    set() {
      throw new TypeError("assign to a netref's attribute with setattr(ref, name, value)");
    },
    has(_t, prop) {
      return prop === NETREF;
    },
  };
  self = new Proxy(fn, handler) as Netref;
  return self;
}

function requireCell(ref: unknown): RefCell {
  const cell = netrefCell(ref);
  if (!cell) throw new TypeError("not a netref");
  return live(cell);
}

export function getattr(ref: Netref, name: string): Promise<any> {
  return requireCell(ref).owner.syncRequest(HANDLE_GETATTR, [ref, name]);
}

export function callattr(ref: Netref, name: string, ...args: unknown[]): Promise<any> {
  const [pos, kwargs] = splitKwargs(args);
  return requireCell(ref).owner.syncRequest(HANDLE_CALLATTR, [ref, name, pos, kwargs]);
}

export function setattr(ref: Netref, name: string, value: unknown): Promise<void> {
  return requireCell(ref).owner.syncRequest(HANDLE_SETATTR, [ref, name, value]) as Promise<void>;
}

export function delattr(ref: Netref, name: string): Promise<void> {
  return requireCell(ref).owner.syncRequest(HANDLE_DELATTR, [ref, name]) as Promise<void>;
}

/** The peer's repr() of the object. */
export function remoteRepr(ref: Netref): Promise<string> {
  return requireCell(ref).owner.syncRequest(HANDLE_REPR, [ref]) as Promise<string>;
}

/** The peer's str() of the object. */
export function remoteStr(ref: Netref): Promise<string> {
  return requireCell(ref).owner.syncRequest(HANDLE_STR, [ref]) as Promise<string>;
}

export function remoteDir(ref: Netref): Promise<string[]> {
  return requireCell(ref).owner.syncRequest(HANDLE_DIR, [ref]) as Promise<string[]>;
}

export function remoteHash(ref: Netref): Promise<number | bigint> {
  return requireCell(ref).owner.syncRequest(HANDLE_HASH, [ref]) as Promise<number | bigint>;
}
