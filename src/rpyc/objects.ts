// Our objects as the peer knows them. An object that goes by reference is named by an id_pack
// (class name, class id, instance id); the same object always gets the same id_pack (the peer
// caches its proxies by it, so `c.same() is c` holds), and instance ids are never 0 (0 means
// "the class"). Each connection counts how often it sent an object and forgets it when the
// peer released as many (HANDLE_DEL) or the connection closed.
import { PyError } from "./py-errors.js";
import { pyRepr } from "./repr.js";

export type IdPack = readonly [string, number, number];

/** Marks arrays (or any object) that must travel by reference, e.g. as a Python list. */
const byReference = new WeakSet<object>();

/** Sends `value` by reference: an array becomes a proxy of a Python list on the other side, not a tuple. */
export function byRef<T extends object>(value: T): T {
  byReference.add(value);
  return value;
}

export function isByRef(value: object): boolean {
  return byReference.has(value);
}

/** A bound method handed out by GETATTR: `obj.name` as a callable of its own. */
export class BoundMethod {
  constructor(
    readonly self: object,
    readonly name: string,
    readonly fn: Function,
  ) {}
}

const instanceIds = new WeakMap<object, number>();
const classIds = new WeakMap<object, number>();
let nextInstanceId = 1;
let nextClassId = 1;
/** Bound methods are cached so `obj.m` keeps one id_pack while the peer holds it. */
const boundMethods = new WeakMap<object, Map<string, BoundMethod>>();

export function boundMethod(self: object, name: string, fn: Function): BoundMethod {
  let byName = boundMethods.get(self);
  if (!byName) boundMethods.set(self, (byName = new Map()));
  let m = byName.get(name);
  if (!m || m.fn !== fn) byName.set(name, (m = new BoundMethod(self, name, fn)));
  return m;
}

function classKey(obj: object): object {
  return typeof obj === "function" ? Function : (Object.getPrototypeOf(obj) ?? Object);
}

/** The Python class name the peer sees: builtins for the kinds it knows, else the JS class name. */
export function classNameOf(obj: object): string {
  if (obj instanceof BoundMethod) return "builtins.method";
  if (typeof obj === "function") return "builtins.function";
  if (Array.isArray(obj)) return "builtins.list";
  if (obj instanceof Map) return "builtins.dict";
  if (obj instanceof ArrayIterator) return "builtins.list_iterator";
  const ctor = (obj as { constructor?: { name?: unknown } }).constructor;
  const name = ctor && typeof ctor.name === "string" && ctor.name !== "" ? ctor.name : "object";
  return `switchboard.${name}`;
}

/** Array iterators' prototype: exported as builtins.list_iterator so the peer needs no INSPECT. */
const ArrayIterator = Object.getPrototypeOf([][Symbol.iterator]()).constructor as new () => object;

/** The object's instance id: never 0 (0 means "the class"), the same for as long as it lives. */
export function instanceIdOf(obj: object): number {
  let inst = instanceIds.get(obj);
  if (inst === undefined) instanceIds.set(obj, (inst = nextInstanceId++));
  return inst;
}

export function idPackOf(obj: object): IdPack {
  const key = classKey(obj);
  let cls = classIds.get(key);
  if (cls === undefined) classIds.set(key, (cls = nextClassId++));
  return [classNameOf(obj), cls, instanceIdOf(obj)];
}

interface Slot {
  readonly obj: object;
  readonly idPack: IdPack;
  /** How many times we sent it and the peer has not released it yet. */
  count: number;
}

/** One connection's exported objects, by instance id. */
export class ObjectTable {
  private readonly slots = new Map<number, Slot>();

  get size(): number {
    return this.slots.size;
  }

  /** Counts one more send of `obj` and returns its id_pack (made once per export, not per send). */
  export(obj: object): IdPack {
    const slot = this.slots.get(instanceIdOf(obj));
    if (slot) {
      slot.count++;
      return slot.idPack;
    }
    const idPack = idPackOf(obj);
    this.slots.set(idPack[2], { obj, idPack, count: 1 });
    return idPack;
  }

  /** The object for an id_pack the peer sent back (KeyError when it is not ours or was released). */
  get(idPack: unknown): object {
    const inst = Array.isArray(idPack) && idPack.length === 3 ? idPack[2] : undefined;
    const slot = typeof inst === "number" ? this.slots.get(inst) : undefined;
    if (!slot) throw new PyError("KeyError", [pyRepr(idPack)]);
    return slot.obj;
  }

  /** HANDLE_DEL: the peer dropped `count` references to `obj` (one of ours: it was looked up by get()). */
  release(obj: object, count: number): void {
    const inst = instanceIdOf(obj);
    const slot = this.slots.get(inst);
    if (!slot) throw new PyError("KeyError", [inst]);
    slot.count -= count;
    if (slot.count <= 0) this.slots.delete(inst);
  }

  has(obj: object): boolean {
    const inst = instanceIds.get(obj);
    return inst !== undefined && this.slots.has(inst);
  }

  clear(): void {
    this.slots.clear();
  }
}
