import { ErrorCode, SwitchboardError } from "./errors.js";

/** A metadata value: text for ordinary keys, bytes for keys ending in `-bin`. */
export type MetadataValue = string | Uint8Array;

/** Anything metadata can be made from: a Metadata, a record, or a list of pairs (grpcio style). */
export type MetadataInit =
  | Metadata
  | Record<string, MetadataValue | readonly MetadataValue[]>
  | Iterable<readonly [string, MetadataValue]>;

const KEY = /^[0-9a-z_.-]+$/;
// Whole 4-character groups, then an optional tail of 2 or 3 characters whose padding, if any, is complete.
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}(?:==)?|[A-Za-z0-9+/]{3}=?)?$/;

/** Whether a key names binary metadata (its values are base64 on the wire). */
export function isBinaryKey(key: string): boolean {
  return key.endsWith("-bin");
}

/** Whether a text value is legal on the wire: printable ASCII and space only. */
export function isLegalTextValue(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

/** Decodes one base64 `-bin` value, padded or not; undefined when it is malformed. */
export function decodeBinaryValue(text: string): Uint8Array | undefined {
  const s = text.trim();
  if (!BASE64.test(s)) return undefined;
  return Buffer.from(s, "base64");
}

/** Encodes bytes for a `-bin` header without padding, as the gRPC spec asks senders to. */
export function encodeBinaryValue(bytes: Uint8Array): string {
  const s = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
  let end = s.length;
  while (end > 0 && s.charCodeAt(end - 1) === 61 /* = */) end--;
  return s.slice(0, end);
}

/**
 * gRPC metadata: an ordered multimap with lower-case ASCII keys. Keys ending in `-bin`
 * hold bytes, all others printable-ASCII strings; both are validated on the way in.
 */
export class Metadata implements Iterable<[string, MetadataValue]> {
  private readonly map = new Map<string, MetadataValue[]>();

  constructor(init?: MetadataInit) {
    if (init === undefined) return;
    if (init instanceof Metadata) {
      for (const [k, v] of init) this.append(k, v);
    } else if (Symbol.iterator in init) {
      for (const [k, v] of init as Iterable<readonly [string, MetadataValue]>) this.append(k, v);
    } else {
      for (const [k, v] of Object.entries(init)) {
        if (Array.isArray(v)) for (const one of v as readonly MetadataValue[]) this.append(k, one);
        else this.append(k, v as MetadataValue);
      }
    }
  }

  /** Adds a value, keeping any values already under the key. */
  append(key: string, value: MetadataValue): this {
    const k = checkKey(key);
    checkValue(k, value);
    const list = this.map.get(k);
    if (list) list.push(value);
    else this.map.set(k, [value]);
    return this;
  }

  /** Replaces all values under the key with this one. */
  set(key: string, value: MetadataValue): this {
    const k = checkKey(key);
    checkValue(k, value);
    this.map.set(k, [value]);
    return this;
  }

  /** The first value under the key, if any. */
  get(key: string): MetadataValue | undefined {
    return this.map.get(key.toLowerCase())?.[0];
  }

  /** All values under the key, in the order they arrived. */
  getAll(key: string): MetadataValue[] {
    return [...(this.map.get(key.toLowerCase()) ?? [])];
  }

  has(key: string): boolean {
    return this.map.has(key.toLowerCase());
  }

  delete(key: string): boolean {
    return this.map.delete(key.toLowerCase());
  }

  keys(): IterableIterator<string> {
    return this.map.keys();
  }

  get size(): number {
    return this.map.size;
  }

  *[Symbol.iterator](): IterableIterator<[string, MetadataValue]> {
    for (const [k, list] of this.map) for (const v of list) yield [k, v];
  }

  /**
   * A plain object view: one entry per key, an array when a key repeats. The object has a
   * null prototype: keys come from the peer, and `__proto__`, `constructor` or `tostring`
   * must stay ordinary entries instead of reaching (or replacing) Object.prototype.
   */
  toJSON(): Record<string, MetadataValue | MetadataValue[]> {
    const out = Object.create(null) as Record<string, MetadataValue | MetadataValue[]>;
    for (const [k, list] of this.map) out[k] = list.length === 1 ? list[0]! : [...list];
    return out;
  }

  /** Writes the entries into an HTTP/2 header object, base64-encoding `-bin` values. */
  writeHeaders(headers: Record<string, string | string[]>): void {
    for (const [k, list] of this.map) {
      const wire = isBinaryKey(k) ? list.map((v) => encodeBinaryValue(v as Uint8Array)) : (list as string[]);
      setOwn(headers, k, wire.length === 1 ? wire[0]! : wire);
    }
  }

  /** Internal: appends a value already validated on the wire. */
  pushTrusted(key: string, value: MetadataValue): void {
    const list = this.map.get(key);
    if (list) list.push(value);
    else this.map.set(key, [value]);
  }
}

/**
 * Sets an own, enumerable property even for the key `__proto__`: plain assignment would run
 * Object.prototype's setter and change (or silently keep) the object's prototype instead.
 */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === "__proto__") Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

/** Headers HTTP/2 or the gRPC protocol own; as metadata they would corrupt the call (RFC 9113 8.2.2). */
const PROTOCOL_KEYS = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te", "host", "content-type", "content-length"]);

function checkKey(key: string): string {
  const k = key.toLowerCase();
  if (!KEY.test(k)) throw new SwitchboardError(ErrorCode.BAD_METADATA, `metadata key ${JSON.stringify(key)} has characters outside [0-9a-z_.-]`);
  if (k.startsWith("grpc-")) throw new SwitchboardError(ErrorCode.BAD_METADATA, `metadata key ${JSON.stringify(key)} is reserved for the gRPC protocol`);
  if (PROTOCOL_KEYS.has(k)) throw new SwitchboardError(ErrorCode.BAD_METADATA, `metadata key ${JSON.stringify(key)} is an HTTP/2 protocol header, not metadata`);
  return k;
}

function checkValue(key: string, value: MetadataValue): void {
  if (isBinaryKey(key)) {
    if (!(value instanceof Uint8Array)) throw new SwitchboardError(ErrorCode.BAD_METADATA, `metadata key ${JSON.stringify(key)} ends in -bin and needs a Uint8Array value`);
  } else if (typeof value !== "string" || !isLegalTextValue(value)) {
    throw new SwitchboardError(ErrorCode.BAD_METADATA, `metadata value for ${JSON.stringify(key)} must be a string of printable ASCII`);
  }
}
