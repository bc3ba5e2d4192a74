// Python values as JavaScript sees them on an RPyC connection.
//
// Brine (rpyc's serializer) carries only immutable Python values, and it keeps distinctions
// JavaScript does not have. The mapping:
//   None <-> null (undefined also encodes as None)     bool <-> boolean
//   int  <-> number when it is a safe integer, else bigint (a bigint always encodes as int)
//   float <-> number when the value is not an integer (1.5, NaN, Infinity); an integral
//            float (1.0, -0.0, 1e300) decodes as PyFloat so that it goes back as a float
//   str <-> string      bytes <-> Uint8Array (Buffer too)      tuple <-> Array
//   frozenset <-> PyFrozenSet     slice <-> PySlice     complex <-> PyComplex
//   Ellipsis / NotImplemented <-> the singletons below
// Everything else (lists, dicts, class instances, functions) is not a value: it travels by
// reference as a netref (see connection.ts).

/** A Python float whose value happens to be an integer (1.0): plain numbers that are integers go as int. */
export class PyFloat {
  constructor(readonly value: number) {}
  valueOf(): number {
    return this.value;
  }
  toString(): string {
    if (Number.isFinite(this.value) && Number.isInteger(this.value)) return Object.is(this.value, -0) ? "-0.0" : `${this.value}.0`;
    return String(this.value);
  }
}

/** Marks a number as a Python float even when it is integral (`pyFloat(3)` is `3.0`). */
export function pyFloat(value: number): PyFloat {
  return new PyFloat(value);
}

/** A Python `slice(start, stop, step)`; each part is any value (usually an int or None). */
export class PySlice {
  constructor(
    readonly start: PyValue,
    readonly stop: PyValue,
    readonly step: PyValue,
  ) {}
}

/** A Python `complex`. */
export class PyComplex {
  constructor(
    readonly real: number,
    readonly imag: number,
  ) {}
}

/** A Python `frozenset`: its members in the order they arrived (or were given). */
export class PyFrozenSet implements Iterable<PyValue> {
  readonly items: readonly PyValue[];
  constructor(items: Iterable<PyValue>) {
    this.items = [...items];
  }
  get size(): number {
    return this.items.length;
  }
  [Symbol.iterator](): Iterator<PyValue> {
    return this.items[Symbol.iterator]();
  }
}

class PySingleton {
  constructor(readonly name: "Ellipsis" | "NotImplemented") {}
  toString(): string {
    return this.name;
  }
}

/** Python's `Ellipsis` (`...`). */
export const Ellipsis: PySingleton = Object.freeze(new PySingleton("Ellipsis"));
/** Python's `NotImplemented` (a comparison that does not apply returns it). */
export const NotImplemented: PySingleton = Object.freeze(new PySingleton("NotImplemented"));
export type { PySingleton };

/** Anything brine can carry. Arrays are tuples. */
export type PyValue =
  | null
  | undefined
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | PyFloat
  | PySlice
  | PyComplex
  | PyFrozenSet
  | PySingleton
  | readonly PyValue[];

/** True for a Python float: a PyFloat, or a number that is not a safe integer (1.5, NaN, Infinity, 1e300) or is -0. */
export function isPyFloat(value: unknown): value is number | PyFloat {
  return value instanceof PyFloat || (typeof value === "number" && (!Number.isSafeInteger(value) || Object.is(value, -0)));
}

/** True for a Python int: a safe-integer number or a bigint (booleans are not ints here). */
export function isPyInt(value: unknown): value is number | bigint {
  return typeof value === "bigint" || (typeof value === "number" && Number.isSafeInteger(value) && !Object.is(value, -0));
}

/** Deepest nesting of a brine value (objects nested deeper are not values). */
export const MAX_DUMP_DEPTH = 256;

/**
 * True when `value` is a brine value as a whole (tuples and frozensets of values included):
 * such values travel by value, anything else by reference. On every reply's path, so plain
 * loops, no closures.
 */
export function isDumpable(value: unknown, depth = 0): boolean {
  switch (typeof value) {
    case "boolean":
    case "number":
    case "bigint":
    case "string":
    case "undefined":
      return true;
    case "object":
      break;
    default:
      return false;
  }
  if (value === null) return true;
  if (depth > MAX_DUMP_DEPTH) return false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (!isDumpable(value[i], depth + 1)) return false;
    return true;
  }
  if (value instanceof Uint8Array || value instanceof PyFloat || value instanceof PyComplex || value instanceof PySingleton) return true;
  if (value instanceof PySlice) return isDumpable(value.start, depth + 1) && isDumpable(value.stop, depth + 1) && isDumpable(value.step, depth + 1);
  if (value instanceof PyFrozenSet) {
    const items = value.items;
    for (let i = 0; i < items.length; i++) if (!isDumpable(items[i], depth + 1)) return false;
    return true;
  }
  return false;
}
