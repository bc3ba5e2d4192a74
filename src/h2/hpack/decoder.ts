import { DynamicTable, ENTRY_OVERHEAD } from "./dynamic-table.js";
import { HpackError } from "./errors.js";
import { huffmanDecode, huffmanDecodedLength, maxDecodedLength } from "./huffman.js";
import { cursor, readInteger } from "./integer.js";
import { STATIC_NAMES, STATIC_TABLE_LENGTH, STATIC_VALUES } from "./static-table.js";

export interface DecodedBlock {
  /** flat [name0, value0, name1, value1, ...]; names and values as latin1 strings (one JS char per octet, like node:http2's rawHeaders). Empty array when tooLarge. */
  fields: string[];
  /** RFC 9113 6.5.2 header list size: sum of name.length + value.length + 32 over all fields (counted even when tooLarge). */
  listSize: number;
  /** listSize exceeded maxHeaderListSize (decoding still ran to the end so the dynamic table stays in sync, but no strings were kept once over the limit). */
  tooLarge: boolean;
}

export interface HpackDecoderOptions {
  /**
   * Our SETTINGS_HEADER_TABLE_SIZE, default 4096: both the dynamic table's starting maximum and the limit for the
   * peer's size updates. A connection that advertises a smaller value than the protocol's initial 4096 should
   * construct with the default and call setMaxTableSize once the peer has acknowledged the SETTINGS.
   */
  maxTableSize?: number;
  /** Our SETTINGS_MAX_HEADER_LIST_SIZE, default Infinity; over it the block is decoded but tooLarge. */
  maxHeaderListSize?: number;
  /** Most fields kept per block, default Infinity; over it the block is decoded but tooLarge. */
  maxFields?: number;
}

/** Buffer's latin1 slice without toString's argument handling (present in every supported Node version). */
interface Latin1Slicer {
  latin1Slice(start: number, end: number): string;
}

/*
 * Making strings. A call into Buffer#latin1Slice costs ~45 ns whatever the length, more than the rest of decoding a
 * short field, so fields are cut from at most two strings per block: the block itself as latin1 (for raw literals)
 * and all its Huffman-decoded literals laid end to end in `scratch` (turned into one string after the block, then
 * the deferred fields are cut from it). Substrings of these are cheap (V8 shares the parent's characters).
 * Strings that go into the dynamic table are made on their own (latin1Slice) instead, so that a long-lived entry does
 * not keep a whole block alive.
 */

/** Huffman output of the current block, end to end; grown to 8/5 of the largest block seen (decode never re-enters). */
let scratch: Buffer = Buffer.allocUnsafeSlow(4096);
/** Next free offset in scratch during a block. */
let scratchPos = 0;
/** The current block as a latin1 string, made when its first raw literal is read. */
let blockText: string | null = null;
/** Deferred Huffman fields of the current block: triples (index in fields, start, end in scratch). */
let deferred = new Int32Array(48);
let deferredLength = 0;

function defer(field: number, start: number, end: number): void {
  if (deferredLength + 3 > deferred.length) {
    const grown = new Int32Array(deferred.length * 2);
    grown.set(deferred);
    deferred = grown;
  }
  deferred[deferredLength] = field;
  deferred[deferredLength + 1] = start;
  deferred[deferredLength + 2] = end;
  deferredLength += 3;
}

/** readString results besides its return value. */
let stringOctets = 0;
let stringDeferred = false;

const SKIP = 0; // check and measure only
const FIELD = 1; // for the fields array: may be a substring or deferred
const OWN = 2; // for the dynamic table: a string of its own

/**
 * Strings of up to 8 octets are made by String.fromCharCode in one call: cheaper than any native slice for them,
 * and such short values (":status"-like numbers, "te" / "trailers", grpc-timeout values) are common.
 */
const SHORT = 8;
function shortString(b: Uint8Array, s: number, n: number): string {
  switch (n) {
    case 0:
      return "";
    case 1:
      return String.fromCharCode(b[s]!);
    case 2:
      return String.fromCharCode(b[s]!, b[s + 1]!);
    case 3:
      return String.fromCharCode(b[s]!, b[s + 1]!, b[s + 2]!);
    case 4:
      return String.fromCharCode(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!);
    case 5:
      return String.fromCharCode(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!);
    case 6:
      return String.fromCharCode(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!);
    case 7:
      return String.fromCharCode(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!, b[s + 6]!);
    default:
      return String.fromCharCode(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!, b[s + 6]!, b[s + 7]!);
  }
}

function asBuffer(block: Uint8Array): Buffer {
  return Buffer.isBuffer(block) ? block : Buffer.from(block.buffer, block.byteOffset, block.byteLength);
}

/** Prefix lengths of the literal representations (section 6.2). */
const PREFIX_INCREMENTAL = 6;
const PREFIX_LITERAL = 4;

export class HpackDecoder {
  private readonly table: DynamicTable;
  /** Upper bound of any size update: our current SETTINGS_HEADER_TABLE_SIZE. */
  private limit: number;
  /**
   * -1, or the smallest limit we set since the last block when it is below the table's maximum: the next block
   * must then start with a size update to at most this (RFC 7541 section 4.2).
   */
  private requiredUpdate = -1;
  private readonly maxHeaderListSize: number;
  private readonly maxFields: number;

  constructor(options: HpackDecoderOptions = {}) {
    const size = options.maxTableSize ?? 4096;
    checkSize(size, "maxTableSize");
    this.limit = size;
    this.table = new DynamicTable(size);
    this.maxHeaderListSize = options.maxHeaderListSize ?? Infinity;
    this.maxFields = options.maxFields ?? Infinity;
  }

  /** Current dynamic-table size in octets (RFC 7541 4.1). */
  get tableSize(): number {
    return this.table.size;
  }

  /** Number of dynamic-table entries. */
  get tableLength(): number {
    return this.table.length;
  }

  /** The dynamic table's current maximum size (the last size update, or the initial value). */
  get maxTableSize(): number {
    return this.table.maxSize;
  }

  /** Dynamic-table entry at wire index 62 + i (0 = newest), for tests and diagnostics. */
  entry(i: number): [name: string, value: string] | undefined {
    return i >= 0 && i < this.table.length ? [this.table.name(i), this.table.value(i)] : undefined;
  }

  /**
   * We advertised a new SETTINGS_HEADER_TABLE_SIZE (after the peer ACKed): the peer must send a size update <= this
   * at the start of its next block; entries beyond are evicted when it does.
   *
   * Timing: a lower value must be set when the peer ACKs it (blocks sent before the peer saw the SETTINGS carry no
   * update); a higher value may be set as soon as the SETTINGS is sent (the peer may use it before its ACK arrives),
   * setting it at the ACK instead makes an early update to the new size a COMPRESSION_ERROR.
   */
  setMaxTableSize(size: number): void {
    checkSize(size, "setMaxTableSize");
    this.limit = size;
    if (size < this.table.maxSize) {
      this.requiredUpdate = this.requiredUpdate < 0 ? size : Math.min(this.requiredUpdate, size);
    }
  }

  /** Decodes one complete header block (all HEADERS+CONTINUATION fragments concatenated). Throws HpackError on any decoding error (the connection then sends GOAWAY COMPRESSION_ERROR). */
  decode(block: Uint8Array): DecodedBlock {
    const buf = asBuffer(block);
    const end = buf.length;
    const table = this.table;
    let pos = 0;
    blockText = null;
    scratchPos = 0;
    deferredLength = 0;
    const room = maxDecodedLength(end);
    if (scratch.length < room) scratch = Buffer.allocUnsafeSlow(Math.max(room, scratch.length * 2));

    // Dynamic table size updates: only at the start of a block, at most two (the smallest value the limit took
    // since the last block, then the final one; section 4.2).
    let updates = 0;
    let satisfied = this.requiredUpdate < 0;
    while (pos < end && (buf[pos]! & 0xe0) === 0x20) {
      if (++updates > 2) throw new HpackError("more than two dynamic table size updates", pos);
      const size = readInteger(buf, pos, 5);
      if (size > this.limit) {
        throw new HpackError(`dynamic table size update to ${size} exceeds the limit ${this.limit}`, pos);
      }
      if (size <= this.requiredUpdate) satisfied = true;
      table.setMaxSize(size);
      pos = cursor.pos;
    }
    if (!satisfied) {
      throw new HpackError(
        `block does not start with the dynamic table size update (<= ${this.requiredUpdate}) that the new limit requires`,
        0,
      );
    }
    this.requiredUpdate = -1;

    const maxListSize = this.maxHeaderListSize;
    const maxFields = this.maxFields;
    let fields: string[] = [];
    let count = 0;
    let listSize = 0;
    let tooLarge = false;

    while (pos < end) {
      const start = pos;
      const b = buf[pos]!;
      let name: string;
      let value: string;
      let octets: number;

      if (b >= 0x80) {
        // Indexed header field (6.1).
        const index = b < 0xff ? b & 0x7f : readInteger(buf, pos, 7);
        pos = b < 0xff ? pos + 1 : cursor.pos;
        if (index === 0) throw new HpackError("indexed header field with index 0", start);
        if (index <= STATIC_TABLE_LENGTH) {
          name = STATIC_NAMES[index]!;
          value = STATIC_VALUES[index]!;
        } else {
          const i = index - STATIC_TABLE_LENGTH - 1;
          if (i >= table.length) throw new HpackError(`index ${index} is beyond the tables`, start);
          name = table.name(i);
          value = table.value(i);
        }
        octets = name.length + value.length;
      } else if (b >= 0x40) {
        // Literal with incremental indexing (6.2.1): always materialised, the table needs the strings.
        const index = readInteger(buf, pos, PREFIX_INCREMENTAL);
        pos = cursor.pos;
        name = index === 0 ? readString(buf, pos, OWN) : this.nameAt(index, start);
        if (index === 0) pos = cursor.pos;
        value = readString(buf, pos, OWN);
        pos = cursor.pos;
        octets = name.length + value.length;
        table.add(name, value);
      } else if (b >= 0x20) {
        throw new HpackError("dynamic table size update after the first header field", start);
      } else {
        // Literal without indexing (6.2.2, 0000xxxx) or never indexed (6.2.3, 0001xxxx). Once the block is too
        // large its strings are only checked and measured, never built.
        const mode = tooLarge ? SKIP : FIELD;
        const index = readInteger(buf, pos, PREFIX_LITERAL);
        pos = cursor.pos;
        let nameOctets: number;
        let nameDeferred = false;
        let nameStart = 0;
        let nameEnd = 0;
        if (index === 0) {
          name = readString(buf, pos, mode);
          nameOctets = stringOctets;
          nameDeferred = stringDeferred;
          nameStart = stringStart;
          nameEnd = stringEnd;
          pos = cursor.pos;
        } else {
          name = this.nameAt(index, start);
          nameOctets = name.length;
        }
        value = readString(buf, pos, mode);
        pos = cursor.pos;
        octets = nameOctets + stringOctets;
        if (nameDeferred || stringDeferred) {
          listSize += octets + ENTRY_OVERHEAD;
          if (listSize > maxListSize || ++count > maxFields) {
            tooLarge = true;
            fields = [];
            deferredLength = 0;
          } else {
            if (nameDeferred) defer(fields.length, nameStart, nameEnd);
            if (stringDeferred) defer(fields.length + 1, stringStart, stringEnd);
            fields.push(name, value);
          }
          continue;
        }
      }

      listSize += octets + ENTRY_OVERHEAD;
      if (!tooLarge) {
        if (listSize > maxListSize || ++count > maxFields) {
          tooLarge = true;
          fields = [];
          deferredLength = 0;
        } else {
          fields.push(name, value);
        }
      }
    }
    if (deferredLength !== 0) {
      const text = (scratch as unknown as Latin1Slicer).latin1Slice(0, scratchPos);
      for (let i = 0; i < deferredLength; i += 3) fields[deferred[i]!] = text.slice(deferred[i + 1]!, deferred[i + 2]!);
      deferredLength = 0;
    }
    blockText = null;
    return { fields, listSize, tooLarge };
  }

  private nameAt(index: number, start: number): string {
    if (index <= STATIC_TABLE_LENGTH) return STATIC_NAMES[index]!;
    const i = index - STATIC_TABLE_LENGTH - 1;
    if (i >= this.table.length) throw new HpackError(`name index ${index} is beyond the tables`, start);
    return this.table.name(i);
  }
}

/** Where the last deferred string lies in scratch (stringDeferred). */
let stringStart = 0;
let stringEnd = 0;

/**
 * Reads a string literal (5.2) at buf[pos]. Returns it ("" for SKIP and for a deferred Huffman string: see
 * stringDeferred, stringStart, stringEnd), leaves the next offset in cursor.pos and the decoded length in
 * stringOctets.
 */
function readString(buf: Buffer, pos: number, mode: number): string {
  if (pos >= buf.length) throw new HpackError("string literal missing", pos);
  const huffman = buf[pos]! >= 0x80;
  const length = readInteger(buf, pos, 7);
  const from = cursor.pos;
  const to = from + length;
  if (to > buf.length) {
    throw new HpackError(`string literal of ${length} octets overruns the block (${buf.length - from} left)`, pos);
  }
  cursor.pos = to;
  stringDeferred = false;
  if (!huffman) {
    stringOctets = length;
    if (mode !== SKIP && length <= SHORT) return shortString(buf, from, length);
    if (mode === FIELD) {
      if (blockText === null) blockText = (buf as unknown as Latin1Slicer).latin1Slice(0, buf.length);
      return blockText.slice(from, to);
    }
    return mode === OWN ? (buf as unknown as Latin1Slicer).latin1Slice(from, to) : "";
  }
  if (mode === SKIP) {
    stringOctets = huffmanDecodedLength(buf, from, to);
    return "";
  }
  const start = scratchPos;
  const n = huffmanDecode(buf, from, to, scratch, start);
  stringOctets = n;
  if (n <= SHORT) return shortString(scratch, start, n);
  if (mode === OWN) return (scratch as unknown as Latin1Slicer).latin1Slice(start, start + n);
  scratchPos = start + n;
  stringDeferred = true;
  stringStart = start;
  stringEnd = start + n;
  return "";
}

function checkSize(size: number, what: string): void {
  if (!Number.isInteger(size) || size < 0 || size > 0xffff_ffff) {
    throw new RangeError(`${what}: ${size} is not a table size (an integer from 0 to 2^32-1)`);
  }
}
