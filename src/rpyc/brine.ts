// Brine, rpyc 5.3's serializer for immutable values (rpyc/core/brine.py), over the values.ts model.
//
// dump() writes the same bytes as Python's brine.dump (shortest forms); load() accepts every
// form Python's loader produces meaning for, and refuses everything else with RPYC_PROTOCOL
// instead of crashing: a peer's garbage must end that connection cleanly, never the process.
import { ErrorCode, SwitchboardError } from "../errors.js";
import { Ellipsis, MAX_DUMP_DEPTH, NotImplemented, PyComplex, PyFloat, PyFrozenSet, PySlice, type PySingleton, type PyValue } from "./values.js";

const TAG_NONE = 0x00;
const TAG_EMPTY_BYTES = 0x01;
const TAG_EMPTY_TUPLE = 0x02;
const TAG_TRUE = 0x03;
const TAG_FALSE = 0x04;
const TAG_NOT_IMPLEMENTED = 0x05;
const TAG_ELLIPSIS = 0x06;
const TAG_STR = 0x08;
const TAG_BYTES1 = 0x0a; // ..0x0d: bytes of length 1..4
const TAG_BYTES_L1 = 0x0e;
const TAG_BYTES_L4 = 0x0f;
const TAG_TUP1 = 0x10; // ..0x13: tuples of 1..4 items
const TAG_TUP_L1 = 0x14;
const TAG_TUP_L4 = 0x15;
const TAG_INT_L1 = 0x16;
const TAG_INT_L4 = 0x17;
const TAG_FLOAT = 0x18;
const TAG_SLICE = 0x19;
const TAG_FSET = 0x1a;
const TAG_COMPLEX = 0x1b;
/** Immediate ints: tag = value + 0x50 for -48..159 (tags 0x20..0xef). */
const IMM_BIAS = 0x50;
const IMM_MIN = -0x30;
const IMM_MAX = 0x9f;

/** Deepest nesting dump() accepts: isDumpable's. */
const DUMP_MAX_DEPTH = MAX_DUMP_DEPTH;
/** Default nesting limit of load(): enough for any real message, far from the JS stack's end. */
export const DEFAULT_MAX_DEPTH = 256;
/**
 * CPython 3.11+ refuses int <-> str conversions above 4300 digits (sys.int_info.default_max_str_digits):
 * its brine.dump cannot produce such an int and its brine.load cannot read one, and parsing
 * huge decimal text costs quadratic time, so the same limit applies here both ways.
 */
export const PYTHON_MAX_INT_DIGITS = 4300;

/** Limits of load(); the defaults suit rpyc messages. */
export interface BrineLoadLimits {
  /** Deepest nesting of tuples/frozensets/slices (default 256). */
  maxDepth?: number;
  /** Most decimal digits in a text int (default 4300, CPython's limit). */
  maxIntDigits?: number;
}

// ---------------------------------------------------------------------------------------------
// dumping
// ---------------------------------------------------------------------------------------------

const SCRATCH_SIZE = 16 * 1024;
/** Results at least this big are handed out as views of the grown scratch rather than copied. */
const HANDOVER_SIZE = 64 * 1024;
// One scratch buffer serves every dump: most messages are small, so each dump costs one pooled
// allocUnsafe for the result instead of growing a fresh buffer from scratch.
let scratch: Buffer = Buffer.allocUnsafeSlow(SCRATCH_SIZE);
let scratchBusy = false;

function notBrine(value: unknown, why?: string): SwitchboardError {
  let shown: string;
  try {
    shown = Array.isArray(value) ? "an array" : typeof value === "object" ? `a ${value?.constructor?.name ?? "null-prototype object"}` : `a ${typeof value}`;
  } catch {
    shown = "this value";
  }
  return new SwitchboardError(ErrorCode.BAD_MESSAGE, `${shown} is not a brine value${why ? ` (${why})` : ""}; only immutable Python values travel by value`);
}

class Writer {
  pos: number;
  constructor(
    public buf: Buffer,
    start: number,
  ) {
    this.pos = start;
  }

  ensure(n: number): void {
    const need = this.pos + n;
    if (need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const grown = Buffer.allocUnsafeSlow(size);
    this.buf.copy(grown, 0, 0, this.pos);
    this.buf = grown;
  }

  byte(b: number): void {
    if (this.pos >= this.buf.length) this.ensure(1);
    this.buf[this.pos++] = b;
  }

  /** ASCII text already known to be ASCII (int digits). */
  ascii(s: string): void {
    const n = s.length;
    this.ensure(n);
    const buf = this.buf;
    let p = this.pos;
    for (let i = 0; i < n; i++) buf[p++] = s.charCodeAt(i);
    this.pos = p;
  }

  u32(n: number): void {
    this.ensure(4);
    this.buf.writeUInt32BE(n, this.pos);
    this.pos += 4;
  }

  /** bytes header (tag, and length when needed) for a body of `n` bytes. */
  bytesHeader(n: number): void {
    this.sizedHeader(n, "bytes", TAG_EMPTY_BYTES, TAG_BYTES1, TAG_BYTES_L1, TAG_BYTES_L4);
  }

  tupleHeader(n: number): void {
    this.sizedHeader(n, "tuple", TAG_EMPTY_TUPLE, TAG_TUP1, TAG_TUP_L1, TAG_TUP_L4);
  }

  /** bytes and tuples alike: an empty tag, tags for 1..4, then a 1-byte or 4-byte length (or count). */
  private sizedHeader(n: number, what: string, empty: number, first: number, long1: number, long4: number): void {
    if (n === 0) this.byte(empty);
    else if (n <= 4) this.byte(first + n - 1);
    else if (n < 256) {
      this.ensure(2);
      this.buf[this.pos++] = long1;
      this.buf[this.pos++] = n;
    } else {
      if (n > 0xffffffff) throw notBrine(n, `${what} too long`);
      this.byte(long4);
      this.u32(n);
    }
  }

  int(v: number): void {
    if (v >= IMM_MIN && v <= IMM_MAX) {
      this.byte(v + IMM_BIAS);
      return;
    }
    // Digits written by hand: String(n) of a non-small integer costs several times more, and
    // ids (ints above 2**31) are in nearly every message. A safe integer has at most 16 digits.
    const neg = v < 0;
    let a = neg ? -v : v;
    let digits = 1;
    for (let t = a; t >= 10; t = Math.floor(t / 10)) digits++;
    const len = neg ? digits + 1 : digits;
    this.ensure(2 + len);
    const buf = this.buf;
    buf[this.pos] = TAG_INT_L1;
    buf[this.pos + 1] = len;
    if (neg) buf[this.pos + 2] = 0x2d;
    const end = this.pos + 2 + len;
    for (let p = end - 1; p >= end - digits; p--) {
      const q = Math.floor(a / 10);
      buf[p] = 0x30 + (a - q * 10);
      a = q;
    }
    this.pos = end;
  }

  bigint(v: bigint): void {
    if (v >= -48n && v <= 159n) {
      this.byte(Number(v) + IMM_BIAS);
      return;
    }
    const s = v.toString();
    const digits = v < 0n ? s.length - 1 : s.length;
    if (digits > PYTHON_MAX_INT_DIGITS) throw notBrine(v, `an int of ${digits} digits; Python reads at most ${PYTHON_MAX_INT_DIGITS}`);
    if (s.length < 256) {
      this.ensure(2);
      this.buf[this.pos++] = TAG_INT_L1;
      this.buf[this.pos++] = s.length;
    } else {
      this.byte(TAG_INT_L4);
      this.u32(s.length);
    }
    this.ascii(s);
  }

  float(v: number): void {
    this.ensure(9);
    this.buf[this.pos++] = TAG_FLOAT;
    this.buf.writeDoubleBE(v, this.pos);
    this.pos += 8;
  }

  /** str: tag 08 and the UTF-8 as one nested bytes value (lone surrogates become U+FFFD, as TextEncoder does). */
  str(s: string): void {
    const n = s.length;
    if (n <= 255) {
      // Fast path for ASCII text: its byte length is known up front, so write it straight
      // after the header and fall back if a non-ASCII character shows up.
      const head = n === 0 ? 1 : n <= 4 ? 1 : 2;
      this.ensure(1 + head + n);
      const buf = this.buf;
      let p = this.pos + 1 + head;
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        buf[p++] = c;
      }
      if (i === n) {
        buf[this.pos++] = TAG_STR;
        this.bytesHeader(n);
        this.pos = p;
        return;
      }
    }
    const len = Buffer.byteLength(s, "utf8");
    this.byte(TAG_STR);
    this.bytesHeader(len);
    this.ensure(len);
    this.pos += this.buf.write(s, this.pos, len, "utf8");
  }

  bytes(v: Uint8Array): void {
    const n = v.length;
    if (n > 0xffffffff) throw notBrine(v, "bytes too long");
    this.bytesHeader(n);
    this.ensure(n);
    this.buf.set(v, this.pos);
    this.pos += n;
  }

  value(v: unknown, depth: number): void {
    switch (typeof v) {
      case "number":
        if (Number.isSafeInteger(v) && !Object.is(v, -0)) this.int(v);
        else this.float(v);
        return;
      case "string":
        this.str(v);
        return;
      case "boolean":
        this.byte(v ? TAG_TRUE : TAG_FALSE);
        return;
      case "bigint":
        this.bigint(v);
        return;
      case "undefined":
        this.byte(TAG_NONE);
        return;
      case "object":
        break;
      default:
        throw notBrine(v);
    }
    if (v === null) {
      this.byte(TAG_NONE);
      return;
    }
    if (depth > DUMP_MAX_DEPTH) throw notBrine(v, `nested deeper than ${DUMP_MAX_DEPTH}`);
    if (Array.isArray(v)) {
      const n = v.length;
      this.tupleHeader(n);
      for (let i = 0; i < n; i++) this.value(v[i], depth + 1);
      return;
    }
    if (v instanceof Uint8Array) this.bytes(v);
    else if (v instanceof PyFloat) this.float(v.value);
    else if (v === Ellipsis) this.byte(TAG_ELLIPSIS);
    else if (v === NotImplemented) this.byte(TAG_NOT_IMPLEMENTED);
    else if (v instanceof PySlice) {
      this.ensure(2);
      this.buf[this.pos++] = TAG_SLICE;
      this.buf[this.pos++] = TAG_TUP1 + 2;
      this.value(v.start, depth + 1);
      this.value(v.stop, depth + 1);
      this.value(v.step, depth + 1);
    } else if (v instanceof PyFrozenSet) {
      this.byte(TAG_FSET);
      const items = v.items;
      const n = items.length;
      this.tupleHeader(n);
      for (let i = 0; i < n; i++) this.value(items[i], depth + 1);
    } else if (v instanceof PyComplex) {
      this.ensure(17);
      this.buf[this.pos++] = TAG_COMPLEX;
      this.buf.writeDoubleBE(v.real, this.pos);
      this.buf.writeDoubleBE(v.imag, this.pos + 8);
      this.pos += 16;
    } else throw notBrine(v);
  }
}

/**
 * Runs `write` on a writer over the shared scratch (or a fresh buffer when a dump is already
 * under way, e.g. from a getter), reserving `head` bytes before and `tail` bytes after the
 * output, and returns one Buffer of exactly head + output + tail bytes.
 */
function withWriter(head: number, tail: number, write: (w: Writer) => void): Buffer {
  const nested = scratchBusy;
  const w = new Writer(nested ? Buffer.allocUnsafe(256) : scratch, head);
  if (!nested) scratchBusy = true;
  try {
    write(w);
    w.ensure(tail);
    w.pos += tail;
  } finally {
    if (!nested) {
      scratchBusy = false;
      // Keep a grown scratch only while it is moderate, so one huge message does not pin memory.
      if (w.buf !== scratch && w.buf.length <= 1024 * 1024) scratch = w.buf;
    }
  }
  const n = w.pos;
  if (nested || (n >= HANDOVER_SIZE && n * 2 >= w.buf.length)) {
    // Hand the written buffer over instead of copying it; it must then not be reused.
    if (!nested && w.buf === scratch) scratch = Buffer.allocUnsafeSlow(SCRATCH_SIZE);
    return w.buf.subarray(0, n);
  }
  const out = Buffer.allocUnsafe(n);
  w.buf.copy(out, 0, 0, n);
  return out;
}

/**
 * Python's `brine.dump(value)`: the shortest encoding, byte for byte. Throws
 * SwitchboardError(BAD_MESSAGE) for anything that is not a brine value (see isDumpable).
 */
export function dump(value: PyValue): Buffer {
  return withWriter(0, 0, (w) => w.value(value, 0));
}

/**
 * The brine of an rpyc message `(msgType, seq, payload)`. With `room`, the result has `head`
 * spare bytes before and `tail` after the brine (for the frame header and newline, see
 * encodeMessageFrame), so the message is written once.
 */
export function dumpMessage(msgType: number, seq: number | bigint, payload: PyValue, room?: { head: number; tail: number }): Buffer {
  return withWriter(room?.head ?? 0, room?.tail ?? 0, (w) => {
    w.byte(TAG_TUP1 + 2);
    w.int(msgType);
    if (typeof seq === "bigint") w.bigint(seq);
    else w.int(seq);
    w.value(payload, 1);
  });
}


// ---------------------------------------------------------------------------------------------
// loading
// ---------------------------------------------------------------------------------------------

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
// Python's int() on bytes: ASCII whitespace around, one sign, digits with single underscores between.
const PY_INT_TEXT = /^[ \t\n\r\x0b\x0c]*([+-]?)([0-9]+(?:_[0-9]+)*)[ \t\n\r\x0b\x0c]*$/;

function bad(offset: number, what: string): SwitchboardError {
  return new SwitchboardError(ErrorCode.RPYC_PROTOCOL, `bad brine at offset ${offset}: ${what}`);
}

class Loader {
  pos = 0;
  readonly end: number;
  readonly buf: Buffer;
  constructor(
    data: Uint8Array,
    readonly maxDepth: number,
    readonly maxIntDigits: number,
  ) {
    this.buf = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    this.end = this.buf.length;
  }

  /** Claims `n` bytes at the current position, refusing a length beyond the input. */
  take(n: number, what: string): number {
    const at = this.pos;
    if (n > this.end - at) throw bad(at, `${what} needs ${n} bytes, only ${this.end - at} left`);
    this.pos = at + n;
    return at;
  }

  u8(what: string): number {
    if (this.pos >= this.end) throw bad(this.pos, `truncated ${what}`);
    return this.buf[this.pos++]!;
  }

  u32(what: string): number {
    const at = this.take(4, what);
    return this.buf.readUInt32BE(at);
  }

  /** The body of a bytes value whose tag is `tag` (already read): [start, end) in the input, or -1 when the tag is not a bytes tag. */
  bytesBody(tag: number): number {
    let n: number;
    if (tag === TAG_EMPTY_BYTES) n = 0;
    else if (tag >= TAG_BYTES1 && tag <= TAG_BYTES1 + 3) n = tag - TAG_BYTES1 + 1;
    else if (tag === TAG_BYTES_L1) n = this.u8("bytes length");
    else if (tag === TAG_BYTES_L4) n = this.u32("bytes length");
    else return -1;
    return this.take(n, "bytes");
  }

  value(depth: number): PyValue {
    const at = this.pos;
    if (at >= this.end) throw bad(at, "truncated input, a value was expected");
    const tag = this.buf[this.pos++]!;
    if (tag >= 0x20 && tag <= 0xef) return tag - IMM_BIAS;
    switch (tag) {
      case TAG_NONE:
        return null;
      case TAG_TRUE:
        return true;
      case TAG_FALSE:
        return false;
      case TAG_NOT_IMPLEMENTED:
        return NotImplemented;
      case TAG_ELLIPSIS:
        return Ellipsis;
      case TAG_STR:
        return this.str(at);
      case TAG_EMPTY_BYTES:
      case TAG_BYTES1:
      case TAG_BYTES1 + 1:
      case TAG_BYTES1 + 2:
      case TAG_BYTES1 + 3:
      case TAG_BYTES_L1:
      case TAG_BYTES_L4: {
        const start = this.bytesBody(tag);
        // A copy: the input is a frame buffer that must not be pinned or aliased by values.
        return Buffer.from(this.buf.subarray(start, this.pos));
      }
      case TAG_EMPTY_TUPLE:
      case TAG_TUP1:
      case TAG_TUP1 + 1:
      case TAG_TUP1 + 2:
      case TAG_TUP1 + 3:
      case TAG_TUP_L1:
      case TAG_TUP_L4:
        return this.tupleItems(tag, at, depth);
      case TAG_INT_L1:
        return this.int(this.u8("int length"));
      case TAG_INT_L4:
        return this.int(this.u32("int length"));
      case TAG_FLOAT: {
        const p = this.take(8, "float");
        return fromDouble(this.buf.readDoubleBE(p));
      }
      case TAG_COMPLEX: {
        const p = this.take(16, "complex");
        return new PyComplex(this.buf.readDoubleBE(p), this.buf.readDoubleBE(p + 8));
      }
      case TAG_SLICE: {
        if (depth > this.maxDepth) throw bad(at, `nested deeper than ${this.maxDepth}`);
        const inner = this.pos;
        const t = this.u8("slice body");
        const items = isTupleTag(t) ? this.tupleItems(t, inner, depth) : null;
        if (items === null || items.length !== 3) throw bad(inner, "a slice body must be a tuple (start, stop, step)");
        return new PySlice(items[0]!, items[1]!, items[2]!);
      }
      case TAG_FSET: {
        if (depth > this.maxDepth) throw bad(at, `nested deeper than ${this.maxDepth}`);
        const inner = this.pos;
        const t = this.u8("frozenset body");
        if (!isTupleTag(t)) throw bad(inner, "a frozenset body must be a tuple of its members");
        return new PyFrozenSet(this.tupleItems(t, inner, depth));
      }
      default:
        throw bad(at, `invalid tag 0x${tag.toString(16).padStart(2, "0")}`);
    }
  }

  /** The items of a tuple whose tag (at `at`) was just read; the tuple itself sits at `depth`. */
  tupleItems(tag: number, at: number, depth: number): PyValue[] {
    if (depth > this.maxDepth) throw bad(at, `nested deeper than ${this.maxDepth}`);
    let n: number;
    if (tag === TAG_EMPTY_TUPLE) return [];
    if (tag === TAG_TUP_L1) n = this.u8("tuple length");
    else if (tag === TAG_TUP_L4) n = this.u32("tuple length");
    else n = tag - TAG_TUP1 + 1;
    // Every item takes at least one byte: refuse an impossible count before allocating for it.
    if (n > this.end - this.pos) throw bad(at, `tuple of ${n} items but only ${this.end - this.pos} bytes left`);
    const items = new Array<PyValue>(n);
    for (let i = 0; i < n; i++) items[i] = this.value(depth + 1);
    return items;
  }

  str(at: number): string {
    const inner = this.pos;
    const tag = this.u8("str body");
    const start = this.bytesBody(tag);
    if (start < 0) throw bad(inner, `a str body must be bytes, got tag 0x${tag.toString(16).padStart(2, "0")}`);
    const end = this.pos;
    const buf = this.buf;
    if (end - start <= 64) {
      let ascii = true;
      for (let i = start; i < end; i++) {
        if (buf[i]! >= 0x80) {
          ascii = false;
          break;
        }
      }
      if (ascii) return buf.toString("latin1", start, end);
    }
    try {
      return utf8.decode(buf.subarray(start, end));
    } catch {
      throw bad(at, "str is not valid UTF-8");
    }
  }

  /** An int written as `len` bytes of decimal text, read the way Python's int(bytes) reads it. */
  int(len: number): number | bigint {
    const at = this.take(len, "int text");
    const buf = this.buf;
    const end = at + len;
    // Fast path: plain `-?digits` short enough to stay exact in a double.
    if (len > 0 && len <= 16) {
      let i = at;
      const neg = buf[i] === 0x2d;
      if (neg) i++;
      if (i < end) {
        let v = 0;
        for (; i < end; i++) {
          const d = buf[i]! - 0x30;
          if (d < 0 || d > 9) break;
          v = v * 10 + d;
        }
        if (i === end && Number.isSafeInteger(v)) return neg ? (v === 0 ? 0 : -v) : v;
      }
    }
    const text = buf.toString("latin1", at, end);
    const m = PY_INT_TEXT.exec(text);
    if (!m) throw bad(at, `int text ${JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}...` : text)} is not a decimal integer`);
    const digits = m[2]!.replace(/_/g, "");
    if (digits.length > this.maxIntDigits) throw bad(at, `int of ${digits.length} digits exceeds the limit of ${this.maxIntDigits}`);
    const big = BigInt(m[1] === "-" ? `-${digits}` : digits);
    return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
  }
}

function isTupleTag(tag: number): boolean {
  return tag === TAG_EMPTY_TUPLE || (tag >= TAG_TUP1 && tag <= TAG_TUP_L4);
}

/** A Python float as values.ts models it: integral values (-0.0 included) stay floats via PyFloat. */
function fromDouble(v: number): number | PyFloat {
  return Number.isInteger(v) ? new PyFloat(v) : v;
}

/**
 * Python's `brine.load(data)`, strict: the whole input must be exactly one value. Every
 * failure (bad tag, truncation, trailing bytes, bad int text, invalid UTF-8, too deep) throws
 * SwitchboardError(RPYC_PROTOCOL) naming the offset.
 */
export function load(data: Uint8Array, limits?: BrineLoadLimits): PyValue {
  const r = new Loader(data, limits?.maxDepth ?? DEFAULT_MAX_DEPTH, limits?.maxIntDigits ?? PYTHON_MAX_INT_DIGITS);
  let value: PyValue;
  try {
    value = r.value(0);
  } catch (e) {
    // A nesting limit far above the default can still meet the stack's end: that is bad input too.
    if (e instanceof RangeError) throw bad(r.pos, "nested too deeply for the stack");
    throw e;
  }
  if (r.pos !== r.end) throw bad(r.pos, `${r.end - r.pos} trailing bytes after the value`);
  return value;
}

/** An rpyc message as loaded: `(msgType, seq, payload)`. */
export interface BrineMessage {
  msgType: number;
  seq: number | bigint;
  payload: PyValue;
}

/**
 * Loads one rpyc message and checks its shape: a 3-tuple of int msg_type, int seq and any
 * payload. The msg_type's meaning is the connection's to check.
 */
export function loadMessage(data: Uint8Array, limits?: BrineLoadLimits): BrineMessage {
  const v = load(data, limits);
  if (!Array.isArray(v) || v.length !== 3) throw new SwitchboardError(ErrorCode.RPYC_PROTOCOL, "bad rpyc message: not a 3-tuple (msg_type, seq, payload)");
  const [msgType, seq, payload] = v as PyValue[];
  if (typeof msgType !== "number" || !Number.isInteger(msgType)) throw new SwitchboardError(ErrorCode.RPYC_PROTOCOL, "bad rpyc message: msg_type is not an int");
  if (!((typeof seq === "number" && Number.isInteger(seq)) || typeof seq === "bigint")) throw new SwitchboardError(ErrorCode.RPYC_PROTOCOL, "bad rpyc message: seq is not an int");
  return { msgType, seq, payload: payload as PyValue };
}

export type { PySingleton };
