import { Code, RpcError } from "../status.js";

/** Flag bit in the 5-byte message prefix that marks a compressed message. */
export const FLAG_COMPRESSED = 1;

/** One received message, still encoded (and maybe compressed). */
export interface Envelope {
  compressed: boolean;
  data: Buffer;
}

const EMPTY = Buffer.alloc(0);

/** Where an EnvelopeReader delivers messages and its one framing error (an object, so no closures per call). */
export interface EnvelopeSink {
  onEnvelope(env: Envelope): void;
  onFramingError(err: RpcError): void;
}

/**
 * Splits an incoming byte stream into length-prefixed gRPC messages. The length is
 * checked against the receive limit as soon as the 5-byte prefix is in, so an
 * oversized message is refused before any of its body is buffered.
 */
export class EnvelopeReader {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Bytes still missing from the current message body; -1 while reading a prefix. */
  private need = -1;
  private flags = 0;
  private failed = false;

  constructor(
    private readonly maxLength: number,
    private readonly sink: EnvelopeSink,
  ) {}

  /** Whether bytes of an unfinished message are held (a truncated body at end of stream). */
  get partial(): boolean {
    return this.pendingBytes > 0 || this.need >= 0;
  }

  /** Feeds one chunk; stops at the first framing error. */
  push(chunk: Buffer): void {
    if (this.failed) return;
    let buf = chunk;
    if (this.pendingBytes > 0) {
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
      if (this.need < 0 ? this.pendingBytes < 5 : this.pendingBytes < this.need) return;
      buf = Buffer.concat(this.pending, this.pendingBytes);
      this.pending = [];
      this.pendingBytes = 0;
    }
    let off = 0;
    while (!this.failed) {
      if (this.need < 0) {
        if (buf.length - off < 5) break;
        const flags = buf[off]!;
        const length = buf.readUInt32BE(off + 1);
        off += 5;
        if (flags > FLAG_COMPRESSED) {
          return this.fail(new RpcError(Code.INTERNAL, `message prefix has unknown flags 0x${flags.toString(16)}`));
        }
        if (length > this.maxLength) {
          return this.fail(new RpcError(Code.RESOURCE_EXHAUSTED, `received message larger than max (${length} vs. ${this.maxLength})`));
        }
        this.flags = flags;
        this.need = length;
      }
      if (buf.length - off < this.need) break;
      const data = this.need === 0 ? EMPTY : buf.subarray(off, off + this.need);
      off += this.need;
      this.need = -1;
      this.sink.onEnvelope({ compressed: this.flags === FLAG_COMPRESSED, data });
    }
    if (off < buf.length && !this.failed) {
      const rest = buf.subarray(off);
      this.pending.push(rest);
      this.pendingBytes = rest.length;
    }
  }

  private fail(err: RpcError): void {
    this.failed = true;
    this.pending = [];
    this.pendingBytes = 0;
    this.sink.onFramingError(err);
  }
}

/** Frames one encoded message with its 5-byte prefix in a single buffer. */
export function frameMessage(data: Uint8Array, compressed: boolean): Buffer {
  const out = Buffer.allocUnsafe(5 + data.byteLength);
  out[0] = compressed ? FLAG_COMPRESSED : 0;
  out.writeUInt32BE(data.byteLength, 1);
  out.set(data, 5);
  return out;
}
