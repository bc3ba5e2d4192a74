// Values between MessagePack and JavaScript for the MessagePack-RPC protocol, on top of
// @msgpack/msgpack:
// - integers: 64-bit ones decode to bigint only when they are beyond Number.MAX_SAFE_INTEGER
//   (Python and other peers send any integer over 32 bits as int64/uint64); a bigint encodes
//   as int64/uint64, and one outside that range cannot be encoded;
// - bin <-> Uint8Array (decoded bins are copies, never views of the transport's buffer);
// - ext: the timestamp extension (-1) <-> Date; other types decode to ExtData (and ExtData
//   encodes back) unless an extensionCodec handles them;
// - maps decode to plain objects; keys must be str (see scan.ts);
// - `undefined` object members are left out (as JSON.stringify does), undefined elsewhere is nil.
import { Decoder, Encoder, ExtData, type ExtensionCodecType } from "@msgpack/msgpack";
import { scan, type ScanLimits, type ScanResult } from "./scan.js";

/**
 * What an @msgpack/msgpack `ExtensionCodec` is, declared here: the library's own declaration
 * files name `BufferSource`, a DOM type, so a consumer compiling our types with
 * `skipLibCheck: false` and no DOM lib would fail if our public types imported them.
 */
export interface MsgpackExtensionCodec {
  tryToEncode(object: unknown, context: undefined): { readonly type: number; readonly data: Uint8Array | ((pos: number) => Uint8Array) } | null;
  decode(data: Uint8Array, extType: number, context: undefined): unknown;
}

export interface CodecOptions extends ScanLimits {
  readonly extensionCodec: MsgpackExtensionCodec | undefined;
}

export type Decoded = { readonly ok: true; readonly value: unknown; readonly scan: ScanResult } | { readonly ok: false; readonly scan: ScanResult; readonly detail: string };

const MIN_INT64 = -(2n ** 63n);
const MAX_UINT64 = 2n ** 64n - 1n;
const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function isPlain(value: object): boolean {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

export class MsgpackCodec {
  private readonly decoder: Decoder;
  /** Numbers as the library writes them (safe integers beyond 32 bits as int64/uint64); no bigint. */
  private readonly encoder: Encoder;
  /** With bigint support; the library then writes large safe integers as floats, so `widen` turns them into bigints first. */
  private readonly bigEncoder: Encoder;

  constructor(readonly options: CodecOptions) {
    // an ExtensionCodec satisfies MsgpackExtensionCodec; the library's type adds only an optional brand
    const ext = options.extensionCodec === undefined ? {} : { extensionCodec: options.extensionCodec as ExtensionCodecType<undefined> };
    this.decoder = new Decoder({
      ...ext,
      useBigInt64: true,
      maxStrLength: options.maxStrLength,
      maxBinLength: options.maxBinLength,
      maxExtLength: options.maxExtLength,
      maxArrayLength: options.maxArrayLength,
      maxMapLength: options.maxMapLength,
    });
    // maxDepth + 1: the encoder counts the scalars inside the innermost container as a level
    const encoderOptions = { ...ext, maxDepth: options.maxDepth + 1, ignoreUndefined: true };
    this.encoder = new Encoder({ ...encoderOptions, useBigInt64: false });
    this.bigEncoder = new Encoder({ ...encoderOptions, useBigInt64: true });
  }

  /** Checks and decodes one message. Never throws. */
  decode(bytes: Uint8Array): Decoded {
    const result = scan(bytes, this.options);
    if (result.failure !== undefined) return { ok: false, scan: result, detail: result.detail };
    let value: unknown;
    try {
      value = this.decoder.decode(bytes);
    } catch (e) {
      // what the scan cannot see: an extension's own payload (a timestamp of the wrong size, ...)
      return { ok: false, scan: result, detail: e instanceof Error ? e.message : String(e) };
    }
    if (result.has64 || result.hasBytes) value = narrow(value);
    return { ok: true, value, scan: result };
  }

  /** Encodes a value; throws an Error saying why when it cannot be encoded. */
  encode(value: unknown): Uint8Array {
    try {
      return this.encoder.encode(value);
    } catch (first) {
      const widened = widen(value, 0, this.options.maxDepth + 1);
      if (!widened.found) throw first;
      return this.bigEncoder.encode(widened.value);
    }
  }
}

/** After decoding: bigints within the safe range back to numbers; bins and ext payloads copied. */
function narrow(value: unknown): unknown {
  if (typeof value === "bigint") return value >= MIN_SAFE && value <= MAX_SAFE ? Number(value) : value;
  // new Uint8Array(view) copies into a plain Uint8Array (Buffer#slice would be a view)
  if (value instanceof Uint8Array) return new Uint8Array(value);
  if (value instanceof ExtData) return typeof value.data === "function" ? value : new ExtData(value.type, new Uint8Array(value.data));
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = narrow(value[i]);
    return value;
  }
  if (typeof value === "object" && value !== null && isPlain(value)) {
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) record[key] = narrow(record[key]);
  }
  return value;
}

/**
 * Before encoding with bigint support: a copy in which integers beyond 32 bits are bigints
 * (so they stay integers on the wire) and every bigint is checked to fit 64 bits. Walks
 * arrays and plain objects only: other objects belong to the encoder or an extension codec.
 * `found` says whether any bigint was there (if not, the first failure had another cause).
 */
function widen(value: unknown, depth: number, maxDepth: number): { value: unknown; found: boolean } {
  if (typeof value === "bigint") {
    if (value < MIN_INT64 || value > MAX_UINT64) throw new RangeError(`bigint ${value} does not fit in 64 bits`);
    return { value, found: true };
  }
  if (typeof value === "number") {
    return { value: Number.isSafeInteger(value) && (value > 0xffffffff || value < -0x80000000) ? BigInt(value) : value, found: false };
  }
  if (typeof value !== "object" || value === null || depth > maxDepth) return { value, found: false };
  let found = false;
  if (Array.isArray(value)) {
    const out = value.map((item: unknown) => {
      const w = widen(item, depth + 1, maxDepth);
      found ||= w.found;
      return w.value;
    });
    return { value: out, found };
  }
  if (!isPlain(value)) return { value, found: false };
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    const w = widen(item, depth + 1, maxDepth);
    found ||= w.found;
    // defineProperty: a "__proto__" member stays a member, as the encoder would have written it
    Object.defineProperty(out, key, { value: w.value, enumerable: true, writable: true, configurable: true });
  }
  return { value: out, found };
}
