// A structural pass over MessagePack bytes before any value is built. @msgpack/msgpack has no
// nesting limit and allocates `new Array(n)` for whatever length a header announces, and it
// turns invalid UTF-8 into U+FFFD silently; this pass refuses all of that first, in one loop
// with no recursion and no allocation proportional to announced sizes:
// - malformed bytes (the reserved 0xc1, a value cut short, bytes after the value, invalid
//   UTF-8 in a str, a container announcing more members than bytes remain) -> "parse";
// - well-formed input over a limit (nesting depth, str/bin/ext/array/map lengths) -> "limit";
// - well-formed input JavaScript objects cannot represent faithfully (a map key that is not a
//   str, the key "__proto__") -> "unsupported".
// It also reports where the first members of a top-level array start, so the protocol can
// check the wire types of the type tag and msgid (a float 1.0 decodes to the number 1).
import { isUtf8 } from "node:buffer";

export interface ScanLimits {
  /** Most containers nested in one another; the top-level array counts as 1. */
  readonly maxDepth: number;
  readonly maxStrLength: number;
  readonly maxBinLength: number;
  readonly maxExtLength: number;
  readonly maxArrayLength: number;
  readonly maxMapLength: number;
}

export type ScanFailure = "parse" | "limit" | "unsupported";

export interface ScanResult {
  /** `undefined` when the bytes are one well-formed value within the limits. */
  readonly failure: ScanFailure | undefined;
  readonly detail: string;
  /** Offset of the value where the scan stopped (the input length when it did not). */
  readonly at: number;
  /** Offsets of members 0..3 of a top-level array (as far as they were reached). */
  readonly heads: readonly number[];
  /** A 64-bit integer occurs (the decoder makes it a bigint; small ones become numbers again). */
  readonly has64: boolean;
  /** A bin or ext occurs (the decoder returns views of the input; they are copied). */
  readonly hasBytes: boolean;
}

const PROTO_KEY = Buffer.from("__proto__");

/** Size of the length field after head byte `b` for str8/16/32, bin8/16/32, ext8/16/32, array16/32, map16/32. */
function lengthBytes(b: number): number {
  switch (b) {
    case 0xd9:
    case 0xc4:
    case 0xc7:
      return 1;
    case 0xda:
    case 0xc5:
    case 0xc8:
    case 0xdc:
    case 0xde:
      return 2;
    default:
      return 4;
  }
}

function readLength(bytes: Uint8Array, at: number, size: number): number {
  if (size === 1) return bytes[at]!;
  if (size === 2) return (bytes[at]! << 8) | bytes[at + 1]!;
  return bytes[at]! * 0x1000000 + ((bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!);
}

/** Bytes taken by the fixed-size scalars (nil, bool, ints, floats) by head byte; 0: not one. */
function fixedSize(b: number): number {
  if (b < 0x80 || b >= 0xe0 || b === 0xc0 || b === 0xc2 || b === 0xc3) return 1;
  switch (b) {
    case 0xcc:
    case 0xd0:
      return 2;
    case 0xcd:
    case 0xd1:
      return 3;
    case 0xca:
    case 0xce:
    case 0xd2:
      return 5;
    case 0xcb:
    case 0xcf:
    case 0xd3:
      return 9;
    default:
      return 0;
  }
}

export function scan(bytes: Uint8Array, limits: ScanLimits): ScanResult {
  const end = bytes.length;
  // remaining[d]: members still expected in the container at depth d+1 (maps count keys and values)
  const remaining: number[] = [];
  const isMap: boolean[] = [];
  const heads: number[] = [];
  let topArrayCount = -1;
  let has64 = false;
  let hasBytes = false;
  let pos = 0;
  const stop = (failure: ScanFailure, detail: string): ScanResult => ({ failure, detail, at: pos, heads, has64, hasBytes });

  for (;;) {
    if (pos >= end) return stop("parse", pos === 0 ? "empty message" : "message ends inside a value");
    const depth = remaining.length;
    if (depth === 1 && topArrayCount > 0) {
      const index = topArrayCount - remaining[0]!;
      if (index < 4) heads[index] = pos;
    }
    const isKey = depth > 0 && isMap[depth - 1]! && remaining[depth - 1]! % 2 === 0;
    const b = bytes[pos]!;
    let container = -1; // members announced by an array or map head (maps: twice the entries)

    if (isKey && !((b >= 0xa0 && b <= 0xbf) || b === 0xd9 || b === 0xda || b === 0xdb)) {
      return stop(b === 0xc1 ? "parse" : "unsupported", b === 0xc1 ? "reserved byte 0xc1" : "map keys must be strings");
    }
    const fixed = fixedSize(b);
    if (fixed > 0) {
      if (end - pos < fixed) return stop("parse", "message ends inside a number");
      if (b === 0xcf || b === 0xd3) has64 = true;
      pos += fixed;
    } else if ((b >= 0xa0 && b <= 0xbf) || b === 0xd9 || b === 0xda || b === 0xdb) {
      const header = b <= 0xbf ? 0 : lengthBytes(b);
      if (end - pos < 1 + header) return stop("parse", "message ends inside a str header");
      const length = header === 0 ? b - 0xa0 : readLength(bytes, pos + 1, header);
      if (length > limits.maxStrLength) return stop("limit", `str of ${length} bytes exceeds maxStrLength ${limits.maxStrLength}`);
      const start = pos + 1 + header;
      if (end - start < length) return stop("parse", "message ends inside a str");
      const text = bytes.subarray(start, start + length);
      if (!isUtf8(text)) return stop("parse", "a str is not valid UTF-8");
      if (isKey && length === PROTO_KEY.length && PROTO_KEY.equals(text)) return stop("unsupported", 'the map key "__proto__" is not accepted');
      pos = start + length;
    } else if (b === 0xc4 || b === 0xc5 || b === 0xc6) {
      const header = lengthBytes(b);
      if (end - pos < 1 + header) return stop("parse", "message ends inside a bin header");
      const length = readLength(bytes, pos + 1, header);
      if (length > limits.maxBinLength) return stop("limit", `bin of ${length} bytes exceeds maxBinLength ${limits.maxBinLength}`);
      if (end - pos - 1 - header < length) return stop("parse", "message ends inside a bin");
      hasBytes = true;
      pos += 1 + header + length;
    } else if ((b >= 0xd4 && b <= 0xd8) || b === 0xc7 || b === 0xc8 || b === 0xc9) {
      const header = b >= 0xd4 ? 0 : lengthBytes(b);
      if (end - pos < 1 + header) return stop("parse", "message ends inside an ext header");
      const length = header === 0 ? 1 << (b - 0xd4) : readLength(bytes, pos + 1, header);
      if (length > limits.maxExtLength) return stop("limit", `ext of ${length} bytes exceeds maxExtLength ${limits.maxExtLength}`);
      if (end - pos - 2 - header < length) return stop("parse", "message ends inside an ext");
      hasBytes = true;
      pos += 2 + header + length;
    } else if ((b >= 0x90 && b <= 0x9f) || b === 0xdc || b === 0xdd) {
      const header = b <= 0x9f ? 0 : lengthBytes(b);
      if (end - pos < 1 + header) return stop("parse", "message ends inside an array header");
      const count = header === 0 ? b - 0x90 : readLength(bytes, pos + 1, header);
      if (count > limits.maxArrayLength) return stop("limit", `array of ${count} members exceeds maxArrayLength ${limits.maxArrayLength}`);
      if (depth + 1 > limits.maxDepth) return stop("limit", `nesting deeper than maxDepth ${limits.maxDepth}`);
      pos += 1 + header;
      // every member takes at least one byte: a longer announcement cannot be honest
      if (count > end - pos) return stop("parse", `an array announces ${count} members but only ${end - pos} bytes follow`);
      if (depth === 0) topArrayCount = count;
      container = count;
      if (count > 0) isMap.push(false);
    } else if ((b >= 0x80 && b <= 0x8f) || b === 0xde || b === 0xdf) {
      const header = b <= 0x8f ? 0 : lengthBytes(b);
      if (end - pos < 1 + header) return stop("parse", "message ends inside a map header");
      const count = header === 0 ? b - 0x80 : readLength(bytes, pos + 1, header);
      if (count > limits.maxMapLength) return stop("limit", `map of ${count} entries exceeds maxMapLength ${limits.maxMapLength}`);
      if (depth + 1 > limits.maxDepth) return stop("limit", `nesting deeper than maxDepth ${limits.maxDepth}`);
      pos += 1 + header;
      if (count * 2 > end - pos) return stop("parse", `a map announces ${count} entries but only ${end - pos} bytes follow`);
      container = count * 2;
      if (count > 0) isMap.push(true);
    } else {
      return stop("parse", `reserved byte 0x${b.toString(16)}`);
    }

    if (container > 0) {
      remaining.push(container);
      continue;
    }
    // a value is complete: count it in its container, and close every container it completes
    while (remaining.length > 0) {
      const top = remaining.length - 1;
      remaining[top]!--;
      if (remaining[top]! > 0) break;
      remaining.pop();
      isMap.pop();
    }
    if (remaining.length === 0) break;
  }
  if (pos < end) return stop("parse", `${end - pos} bytes after the end of the message`);
  return { failure: undefined, detail: "", at: pos, heads, has64, hasBytes };
}

/** Whether the value at `at` is encoded in one of MessagePack's integer formats (not a float). */
export function isIntegerAt(bytes: Uint8Array, at: number | undefined): boolean {
  if (at === undefined) return false;
  const b = bytes[at]!;
  return b < 0x80 || b >= 0xe0 || (b >= 0xcc && b <= 0xd3);
}

/**
 * The unsigned 32-bit integer encoded at `at`, or undefined when the value there is not one
 * (another type, negative, too large, or cut short). Used to recover a request's msgid from a
 * message refused before it was decoded.
 */
export function uint32At(bytes: Uint8Array, at: number | undefined): number | undefined {
  if (at === undefined || at >= bytes.length) return undefined;
  const b = bytes[at]!;
  if (b < 0x80) return b;
  const size = b === 0xcc ? 1 : b === 0xcd ? 2 : b === 0xce ? 4 : 0;
  if (size === 0 || bytes.length - at - 1 < size) return undefined;
  return readLength(bytes, at + 1, size);
}
