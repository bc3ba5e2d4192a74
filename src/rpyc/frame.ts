// rpyc's channel framing (rpyc/core/channel.py): [u32 BE payload length][u8 flag][payload]["\n"].
//
// The length counts only the payload; Python reads length + 1 bytes and drops the last one
// unchecked, so the trailing newline must always be sent and is skipped, not verified, here.
// A non-zero flag means the payload is a zlib stream (Python compresses payloads above 3000
// bytes at level 1); this side always sends flag 0.
import { inflateSync } from "node:zlib";
import { ErrorCode, SwitchboardError } from "../errors.js";
import { dumpMessage } from "./brine.js";
import type { PyValue } from "./values.js";

/** Largest frame (and inflated payload) accepted by default: 64 MiB. */
export const DEFAULT_MAX_FRAME_BYTES = 64 * 1024 * 1024;
/** Length (4) and flag (1). */
export const FRAME_HEADER_BYTES = 5;
const NEWLINE = 0x0a;
const MAX_U32 = 0xffffffff;

function tooLong(n: number): SwitchboardError {
  return new SwitchboardError(ErrorCode.BAD_MESSAGE, `an rpyc frame payload of ${n} bytes does not fit the 32-bit length field`);
}

/** One uncompressed frame around `payload`, header and newline included, in one Buffer. */
export function encodeFrame(payload: Uint8Array): Buffer {
  const n = payload.length;
  if (n > MAX_U32) throw tooLong(n);
  const out = Buffer.allocUnsafe(n + FRAME_HEADER_BYTES + 1);
  out.writeUInt32BE(n, 0);
  out[4] = 0;
  out.set(payload, FRAME_HEADER_BYTES);
  out[FRAME_HEADER_BYTES + n] = NEWLINE;
  return out;
}

/**
 * The frame of the rpyc message `(msgType, seq, payload)`, brine written straight into the
 * frame buffer (no copy of the message). Throws BAD_MESSAGE when `payload` is not brine.
 */
export function encodeMessageFrame(msgType: number, seq: number | bigint, payload: PyValue): Buffer {
  const out = dumpMessage(msgType, seq, payload, { head: FRAME_HEADER_BYTES, tail: 1 });
  const n = out.length - FRAME_HEADER_BYTES - 1;
  if (n > MAX_U32) throw tooLong(n);
  out.writeUInt32BE(n, 0);
  out[4] = 0;
  out[out.length - 1] = NEWLINE;
  return out;
}

export interface FrameDecoderOptions {
  /** Largest payload length accepted from the header (default 64 MiB); above it push() throws before buffering the frame. */
  maxFrameBytes?: number;
  /** Largest inflated size of a compressed payload (default: maxFrameBytes). */
  maxInflatedBytes?: number;
}

/**
 * Splits a byte stream into frame payloads. Chunks are kept as they come (no copying while a
 * frame is incomplete) and joined once per frame; a payload inside one chunk is returned as a
 * view of it, so pushed chunks must not be modified afterwards. After a throw the stream is
 * unusable (it is out of sync) and every later push() throws the same error.
 */
export class FrameDecoder {
  readonly maxFrameBytes: number;
  readonly maxInflatedBytes: number;
  private chunks: Buffer[] = [];
  /** Index of the first live chunk in `chunks`. */
  private first = 0;
  /** Bytes of chunks[first] already consumed. */
  private offset = 0;
  private total = 0;
  /** Payload length of the frame whose header was read, or -1 while waiting for a header. */
  private need = -1;
  private flag = 0;
  private failure: SwitchboardError | undefined;

  constructor(opts?: FrameDecoderOptions) {
    this.maxFrameBytes = opts?.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    this.maxInflatedBytes = opts?.maxInflatedBytes ?? this.maxFrameBytes;
  }

  /** Bytes received and not yet returned as (part of) a payload. */
  get buffered(): number {
    return this.total;
  }

  /** Adds received bytes; returns the payloads of the frames they complete (inflated when flagged). */
  push(chunk: Buffer): Buffer[] {
    if (this.failure) throw this.failure;
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.total += chunk.length;
    }
    const out: Buffer[] = [];
    for (;;) {
      if (this.need < 0) {
        if (this.total < FRAME_HEADER_BYTES) break;
        const length = ((this.peek(0) << 24) | (this.peek(1) << 16) | (this.peek(2) << 8) | this.peek(3)) >>> 0;
        const flag = this.peek(4);
        if (length > this.maxFrameBytes) {
          this.fail(`frame of ${length} bytes exceeds the limit of ${this.maxFrameBytes}`);
        }
        this.skip(FRAME_HEADER_BYTES);
        this.need = length;
        this.flag = flag;
      }
      if (this.total < this.need + 1) break;
      const payload = this.take(this.need);
      this.skip(1); // the newline, dropped unchecked as Python does
      const flag = this.flag;
      this.need = -1;
      out.push(flag === 0 ? payload : this.inflate(payload));
    }
    this.compact();
    return out;
  }

  private fail(message: string): never {
    this.failure = new SwitchboardError(ErrorCode.RPYC_PROTOCOL, `bad rpyc frame: ${message}`);
    this.chunks = [];
    this.first = 0;
    this.offset = 0;
    this.total = 0;
    throw this.failure;
  }

  private inflate(payload: Buffer): Buffer {
    try {
      return inflateSync(payload, { maxOutputLength: this.maxInflatedBytes });
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (err.code === "ERR_BUFFER_TOO_LARGE" || e instanceof RangeError) this.fail(`compressed payload inflates beyond the limit of ${this.maxInflatedBytes} bytes`);
      this.fail(`compressed payload is not a zlib stream (${err.message})`);
    }
  }

  /** The byte `i` positions ahead, which must be buffered. */
  private peek(i: number): number {
    let idx = this.first;
    let at = this.offset + i;
    while (at >= this.chunks[idx]!.length) {
      at -= this.chunks[idx]!.length;
      idx++;
    }
    return this.chunks[idx]![at]!;
  }

  private skip(n: number): void {
    this.total -= n;
    while (n > 0) {
      const c = this.chunks[this.first]!;
      const left = c.length - this.offset;
      if (n < left) {
        this.offset += n;
        return;
      }
      n -= left;
      this.first++;
      this.offset = 0;
    }
  }

  /** The next `n` buffered bytes: a view when they sit in one chunk, else one joined copy. */
  private take(n: number): Buffer {
    const c = this.chunks[this.first]!;
    if (this.offset + n <= c.length) {
      const view = c.subarray(this.offset, this.offset + n);
      this.skip(n);
      return view;
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.chunks[this.first]!;
      const m = Math.min(n - filled, chunk.length - this.offset);
      chunk.copy(out, filled, this.offset, this.offset + m);
      filled += m;
      this.skip(m);
    }
    return out;
  }

  /** Drops consumed chunks (so they can be collected); amortised, so a long partial frame costs no repeated shifting. */
  private compact(): void {
    if (this.first === 0) return;
    if (this.first >= this.chunks.length) {
      this.chunks = [];
      this.first = 0;
    } else if (this.chunks.length - this.first <= 8 || this.first * 2 >= this.chunks.length) {
      this.chunks = this.chunks.slice(this.first);
      this.first = 0;
    }
  }
}
