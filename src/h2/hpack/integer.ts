import { HpackError } from "./errors.js";

/**
 * HPACK integers (RFC 7541 section 5.1): an N-bit prefix, then 7-bit groups least significant first while the
 * high bit is set.
 *
 * No value a peer may legitimately send exceeds 2^32 - 1 (indexes, string lengths and table sizes are all bounded
 * by 32-bit SETTINGS values), so larger integers, and encodings with more continuation octets than such a value
 * needs, are decoding errors: this keeps arithmetic exact in doubles and stops a peer from feeding an endless run
 * of 0x80 octets.
 */
export const MAX_INTEGER = 0xffff_ffff;
/** 2^32 - 1 minus the smallest prefix maximum (1, for a 1-bit prefix) fits in 5 groups of 7 bits. */
export const MAX_CONTINUATION_OCTETS = 5;

/** Where the last readInteger call stopped; one shared object so that reading an integer allocates nothing. */
export const cursor = { pos: 0 };

/**
 * Reads an integer whose prefix occupies the low `prefixBits` bits of buf[pos] (the caller has checked that pos is
 * inside buf). Returns the value and leaves the offset of the next octet in cursor.pos.
 */
export function readInteger(buf: Uint8Array, pos: number, prefixBits: number): number {
  const mask = (1 << prefixBits) - 1;
  let value = buf[pos]! & mask;
  const start = pos;
  pos++;
  if (value < mask) {
    cursor.pos = pos;
    return value;
  }
  let multiplier = 1;
  for (let n = 0; ; n++) {
    if (pos >= buf.length) throw new HpackError("integer truncated", pos);
    if (n === MAX_CONTINUATION_OCTETS) throw new HpackError("integer has too many continuation octets", pos);
    const b = buf[pos++]!;
    value += (b & 0x7f) * multiplier;
    multiplier *= 128;
    if ((b & 0x80) === 0) break;
  }
  if (value > MAX_INTEGER) throw new HpackError(`integer ${value} exceeds 2^32-1`, start);
  cursor.pos = pos;
  return value;
}

/**
 * Writes `value` with an N-bit prefix at out[pos]; `flags` are the representation bits above the prefix. Returns
 * the offset after the last octet written. The caller guarantees room (at most 1 + 5 octets for 32-bit values).
 */
export function writeInteger(out: Uint8Array, pos: number, value: number, prefixBits: number, flags: number): number {
  const mask = (1 << prefixBits) - 1;
  if (value < mask) {
    out[pos++] = flags | value;
    return pos;
  }
  out[pos++] = flags | mask;
  value -= mask;
  while (value >= 128) {
    out[pos++] = (value % 128) | 0x80;
    value = Math.floor(value / 128);
  }
  out[pos++] = value;
  return pos;
}

/** Convenience for tests and tools: the octets of one integer representation. */
export function encodeInteger(value: number, prefixBits: number, flags = 0): Uint8Array {
  const out = new Uint8Array(8);
  return out.subarray(0, writeInteger(out, 0, value, prefixBits, flags));
}

/** Convenience for tests and tools: the value of the integer at buf[offset] and the offset after it. */
export function decodeInteger(buf: Uint8Array, offset: number, prefixBits: number): { value: number; next: number } {
  if (offset >= buf.length) throw new HpackError("integer truncated", offset);
  const value = readInteger(buf, offset, prefixBits);
  return { value, next: cursor.pos };
}
