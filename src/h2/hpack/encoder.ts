import { DynamicTable, ENTRY_OVERHEAD } from "./dynamic-table.js";
import { huffmanEncode, huffmanEncodedLength } from "./huffman.js";
import { writeInteger } from "./integer.js";
import { STATIC_BY_NAME, STATIC_TABLE_LENGTH } from "./static-table.js";

export type HuffmanMode = "auto" | "always" | "never";

export interface HpackEncoderOptions {
  /** The table size this encoder will use, default 4096; the peer's SETTINGS_HEADER_TABLE_SIZE can lower it. */
  maxTableSize?: number;
  /** default auto: Huffman when it is shorter. */
  huffman?: HuffmanMode;
  /** More names to send as never-indexed literals (RFC 7541 6.2.3), in addition to NEVER_INDEXED_NAMES. */
  neverIndex?: Iterable<string>;
}

/**
 * Names always sent as never-indexed literals: credentials whose values an intermediary must not put in a
 * compression context either (RFC 7541 section 7.1.3). `cookie` joins them when its value is short (under 20
 * octets), since guessing a short value is what the compression-context attacks of section 7.1 make feasible; longer
 * cookies are indexed like other fields.
 */
export const NEVER_INDEXED_NAMES: ReadonlySet<string> = new Set(["authorization", "proxy-authorization", "set-cookie"]);
const SHORT_COOKIE = 20;

/**
 * Names whose values rarely repeat: indexing them would only push useful entries out of the table, so they go as
 * literals without indexing (still with a name reference when one exists).
 */
const NOT_INDEXED_NAMES: ReadonlySet<string> = new Set([
  "content-length",
  "date",
  "etag",
  "last-modified",
  "if-modified-since",
  "if-none-match",
  "age",
  "expires",
  "grpc-timeout",
  "grpc-message",
  "grpc-status-details-bin",
  "grpc-trace-bin",
  "traceparent",
  "tracestate",
  "x-request-id",
]);

/** Worst case per field beyond its strings: first octet + 5 integer octets for the name index and two lengths. */
const FIELD_OVERHEAD = 20;
/** Huffman codes are at most 30 bits per octet: 4 output octets per input octet bounds any mode. */
const HUFFMAN_WORST = 4;

/** Shared output buffer (encode never re-enters itself); results are copied out of it. */
let scratch: Buffer = Buffer.allocUnsafeSlow(4096);

export class HpackEncoder {
  private readonly table: DynamicTable;
  /** What we are willing to use (constructor option). */
  private readonly ownMax: number;
  /**
   * The size update(s) the next block must start with: -1 when none; else the smallest maximum the table took since
   * the last block (sent first if below the current maximum), the current maximum following it (section 4.2).
   */
  private pendingMin = -1;
  private readonly huffman: HuffmanMode;
  private readonly neverIndex: ReadonlySet<string>;

  constructor(options: HpackEncoderOptions = {}) {
    const own = options.maxTableSize ?? 4096;
    if (!Number.isInteger(own) || own < 0 || own > 0xffff_ffff) {
      throw new RangeError(`maxTableSize: ${own} is not a table size (an integer from 0 to 2^32-1)`);
    }
    this.ownMax = own;
    // The peer's decoder starts at the protocol's 4096 (RFC 9113 6.5.2) and can only be raised up to its own
    // SETTINGS value, which we have not seen yet: start at min(own, 4096) and say so if that differs from 4096.
    const initial = Math.min(own, 4096);
    this.table = new DynamicTable(initial, true);
    if (initial !== 4096) this.pendingMin = initial;
    this.huffman = options.huffman ?? "auto";
    if (this.huffman !== "auto" && this.huffman !== "always" && this.huffman !== "never") {
      throw new RangeError(`huffman: ${String(this.huffman)} is not auto, always or never`);
    }
    this.neverIndex =
      options.neverIndex === undefined ? NEVER_INDEXED_NAMES : new Set([...NEVER_INDEXED_NAMES, ...options.neverIndex]);
  }

  /** Current dynamic-table size in octets. */
  get tableSize(): number {
    return this.table.size;
  }

  /** Number of dynamic-table entries. */
  get tableLength(): number {
    return this.table.length;
  }

  /** The dynamic table's current maximum size. */
  get maxTableSize(): number {
    return this.table.maxSize;
  }

  /**
   * The next block must start with a dynamic table size update: a cached encodeStateless() block must not be sent
   * as is until encode() has sent one (encode([]) makes a block holding only the update).
   */
  get hasPendingSizeUpdate(): boolean {
    return this.pendingMin >= 0;
  }

  /** The peer's SETTINGS_HEADER_TABLE_SIZE: when it is below our current size, the next encode() starts with a Dynamic Table Size Update (RFC 7541 4.2, 6.3) and evicts. */
  setPeerMaxTableSize(size: number): void {
    if (!Number.isInteger(size) || size < 0 || size > 0xffff_ffff) {
      throw new RangeError(`setPeerMaxTableSize: ${size} is not a table size (an integer from 0 to 2^32-1)`);
    }
    const next = Math.min(size, this.ownMax);
    if (next === this.table.maxSize) return;
    this.pendingMin = this.pendingMin < 0 ? next : Math.min(this.pendingMin, next);
    this.table.setMaxSize(next);
  }

  /** Encodes a header list given as flat [name, value, ...] latin1 strings (names already lower-case). */
  encode(fields: readonly string[]): Buffer {
    let pos = reserve(fields);
    const out = scratch;
    const table = this.table;
    if (this.pendingMin >= 0) {
      if (this.pendingMin < table.maxSize) pos = writeInteger(out, pos, this.pendingMin, 5, 0x20);
      pos = writeInteger(out, pos, table.maxSize, 5, 0x20);
      this.pendingMin = -1;
    }
    const huffman = this.huffman;
    const indexLimit = table.maxSize / 2;
    for (let f = 0; f + 1 < fields.length; f += 2) {
      const name = fields[f]!;
      const value = fields[f + 1]!;
      const fromStatic = STATIC_BY_NAME.get(name);

      if (this.neverIndex.has(name) || (name === "cookie" && value.length < SHORT_COOKIE)) {
        pos = writeLiteral(out, pos, 0x10, nameIndex(fromStatic, table, name), name, value, huffman);
        continue;
      }
      const staticFull = fromStatic?.values.get(value);
      if (staticFull !== undefined) {
        pos = writeInteger(out, pos, staticFull, 7, 0x80);
        continue;
      }
      const dynamicFull = table.byField!.get(name)?.get(value);
      if (dynamicFull !== undefined) {
        pos = writeInteger(out, pos, STATIC_TABLE_LENGTH + 1 + table.positionOf(dynamicFull), 7, 0x80);
        continue;
      }
      const index = nameIndex(fromStatic, table, name);
      if (
        name.length + value.length + ENTRY_OVERHEAD <= indexLimit &&
        !NOT_INDEXED_NAMES.has(name)
      ) {
        pos = writeLiteral(out, pos, 0x40, index, name, value, huffman);
        table.add(name, value);
      } else {
        pos = writeLiteral(out, pos, 0x00, index, name, value, huffman);
      }
    }
    return copyOut(pos);
  }

  /**
   * A header block that never touches the dynamic table (static indexes and literals without indexing only), so its
   * bytes are the same whatever the table state: made once per distinct list and cached by the caller. Used for our
   * constant response headers and trailers (e.g. ":status 200, content-type application/grpc" and "grpc-status 0").
   * Check hasPendingSizeUpdate before sending a cached block.
   */
  static encodeStateless(fields: readonly string[]): Buffer {
    let pos = reserve(fields);
    const out = scratch;
    for (let f = 0; f + 1 < fields.length; f += 2) {
      const name = fields[f]!;
      const value = fields[f + 1]!;
      const fromStatic = STATIC_BY_NAME.get(name);
      const index = fromStatic === undefined ? 0 : fromStatic.index;
      if (NEVER_INDEXED_NAMES.has(name) || (name === "cookie" && value.length < SHORT_COOKIE)) {
        pos = writeLiteral(out, pos, 0x10, index, name, value, "auto");
        continue;
      }
      const staticFull = fromStatic?.values.get(value);
      if (staticFull !== undefined) pos = writeInteger(out, pos, staticFull, 7, 0x80);
      else pos = writeLiteral(out, pos, 0x00, index, name, value, "auto");
    }
    return copyOut(pos);
  }
}

/** Grows the shared buffer to hold the worst-case encoding of `fields` plus two size updates; returns 0. */
function reserve(fields: readonly string[]): number {
  if (fields.length % 2 !== 0) throw new TypeError("header list must be flat [name, value, ...] pairs");
  let room = 16;
  for (let i = 0; i < fields.length; i++) {
    const s = fields[i];
    if (typeof s !== "string") throw new TypeError(`header list item ${i} is not a string`);
    room += s.length * HUFFMAN_WORST + FIELD_OVERHEAD / 2;
  }
  if (scratch.length < room) scratch = Buffer.allocUnsafeSlow(Math.max(room, scratch.length * 2));
  return 0;
}

function copyOut(length: number): Buffer {
  const result = Buffer.allocUnsafe(length);
  scratch.copy(result, 0, 0, length);
  return result;
}

/** Index to reference `name` by (static first: its index never changes), or 0 for a literal name. */
function nameIndex(fromStatic: { index: number } | undefined, table: DynamicTable, name: string): number {
  if (fromStatic !== undefined) return fromStatic.index;
  const n = table.byName!.get(name);
  return n === undefined ? 0 : STATIC_TABLE_LENGTH + 1 + table.positionOf(n);
}

/** A literal representation (6.2): `flags` 0x40 (6-bit prefix), 0x10 or 0x00 (4-bit prefix). */
function writeLiteral(
  out: Buffer,
  pos: number,
  flags: number,
  index: number,
  name: string,
  value: string,
  huffman: HuffmanMode,
): number {
  pos = writeInteger(out, pos, index, flags === 0x40 ? 6 : 4, flags);
  if (index === 0) pos = writeString(out, pos, name, huffman);
  return writeString(out, pos, value, huffman);
}

/** A string literal (5.2), Huffman-coded per `huffman` ("auto": when strictly shorter). */
function writeString(out: Buffer, pos: number, s: string, huffman: HuffmanMode): number {
  const length = s.length;
  if (huffman !== "never") {
    const coded = huffmanEncodedLength(s);
    if (huffman === "always" || coded < length) {
      pos = writeInteger(out, pos, coded, 7, 0x80);
      return huffmanEncode(s, out, pos);
    }
  }
  pos = writeInteger(out, pos, length, 7, 0);
  for (let i = 0; i < length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff) throw new TypeError(`header text is not latin1 (U+${c.toString(16)} at ${i})`);
    out[pos++] = c;
  }
  return pos;
}
