// Message framing for byte-stream transports (TCP, unix sockets, stdio): newline-delimited
// ("line", JSON text never contains a raw newline) or a 4-byte big-endian length prefix
// ("length", any bytes). The size limit is checked before a message is buffered, so an
// oversized or endless message never costs more than the limit in memory.
import { ErrorCode, SwitchboardError } from "../../errors.js";
import { DEFAULT_MAX_MESSAGE_BYTES } from "../transport.js";

/** How messages are delimited on a byte stream. */
export type Framing = "line" | "length";

/** What the decoder found: a message, or a message over the limit (the stream cannot resync). */
export type Frame = { kind: "message"; message: Uint8Array } | { kind: "oversized"; size: number };

const NEWLINE = 0x0a;
const CR = 0x0d;

/** Encodes one message for the wire (an empty message is a legal, empty frame). */
export function encodeFrame(framing: Framing, message: Uint8Array): Uint8Array {
  const out = new Uint8Array(message.length + (framing === "line" ? 1 : 4));
  if (framing === "line") {
    out.set(message, 0);
    out[message.length] = NEWLINE;
  } else {
    new DataView(out.buffer).setUint32(0, message.length, false);
    out.set(message, 4);
  }
  return out;
}

/**
 * Incremental decoder: feed chunks as they arrive, get back the complete frames. A frame may
 * span chunks and a chunk may hold many frames. After an oversized frame the decoder stops
 * (`failed`): the rest of the stream is no longer trustworthy.
 */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Length mode: the announced size of the frame being read, once its header is complete. */
  private expected: number | undefined;
  private failedFlag = false;

  constructor(
    readonly framing: Framing,
    readonly maxMessageBytes: number,
  ) {}

  get failed(): boolean {
    return this.failedFlag;
  }

  /** Bytes held for an incomplete frame. */
  get pendingBytes(): number {
    return this.buffered;
  }

  push(chunk: Uint8Array): Frame[] {
    if (this.failedFlag || chunk.length === 0) return [];
    this.chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    this.buffered += chunk.length;
    return this.framing === "line" ? this.lines() : this.lengths();
  }

  private take(): Buffer {
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.buffered);
    this.chunks = [];
    this.buffered = 0;
    return all;
  }

  private keep(rest: Buffer): void {
    if (rest.length > 0) {
      this.chunks = [rest];
      this.buffered = rest.length;
    }
  }

  private fail(size: number, out: Frame[]): Frame[] {
    this.failedFlag = true;
    this.chunks = [];
    this.buffered = 0;
    out.push({ kind: "oversized", size });
    return out;
  }

  private lines(): Frame[] {
    const out: Frame[] = [];
    // Only the newest chunk can hold a newline not seen before; earlier chunks were scanned.
    const last = this.chunks[this.chunks.length - 1]!;
    if (last.indexOf(NEWLINE) < 0) {
      if (this.buffered > this.maxMessageBytes) return this.fail(this.buffered, out);
      return out;
    }
    let all = this.take();
    let start = 0;
    for (let nl = all.indexOf(NEWLINE, start); nl >= 0; nl = all.indexOf(NEWLINE, start)) {
      // A CR before the newline belongs to the line ending (`\r\n` from terminals and netcat).
      const end = nl > start && all[nl - 1] === CR ? nl - 1 : nl;
      if (end - start > this.maxMessageBytes) return this.fail(end - start, out);
      out.push({ kind: "message", message: all.subarray(start, end) });
      start = nl + 1;
    }
    all = all.subarray(start);
    if (all.length > this.maxMessageBytes) return this.fail(all.length, out);
    this.keep(all);
    return out;
  }

  private lengths(): Frame[] {
    const out: Frame[] = [];
    for (;;) {
      if (this.expected === undefined) {
        if (this.buffered < 4) return out;
        const all = this.take();
        const size = all.readUInt32BE(0);
        if (size > this.maxMessageBytes) return this.fail(size, out);
        this.expected = size;
        this.keep(all.subarray(4));
      }
      if (this.buffered < this.expected) return out;
      const all = this.take();
      out.push({ kind: "message", message: all.subarray(0, this.expected) });
      this.keep(all.subarray(this.expected));
      this.expected = undefined;
    }
  }
}

/** Validates a framing option (user input), defaulting to line framing. */
export function framingOption(value: unknown): Framing {
  if (value === undefined || value === "line" || value === "length") return value ?? "line";
  throw new SwitchboardError(ErrorCode.BAD_OPTION, `framing must be "line" or "length", got ${String(value)}`);
}

/** Validates a size limit option, defaulting to DEFAULT_MAX_MESSAGE_BYTES. */
export function limitOption(value: unknown): number {
  if (value === undefined) return DEFAULT_MAX_MESSAGE_BYTES;
  if (typeof value === "number" && Number.isSafeInteger(value) && value > 0 && value <= 0xffffffff) return value;
  throw new SwitchboardError(ErrorCode.BAD_OPTION, `maxMessageBytes must be a positive integer up to 2^32-1, got ${String(value)}`);
}

/**
 * Builds the reply a transport sends itself for a message over its size limit. The request
 * never reaches RPCServer (it was not read), so the transport answers: by default with a
 * JSON-RPC 2.0 error -32600 (id null, the id is unknown), the shape every JSON-RPC client
 * parses. A transport carrying another protocol passes its own builder, or null to send nothing
 * (then a stream transport just closes the connection).
 */
export type TooLargeReply = ((size: number, limit: number) => Uint8Array) | null;

export const jsonRpcTooLargeReply = (size: number, limit: number): Uint8Array =>
  new TextEncoder().encode(
    JSON.stringify({ jsonrpc: "2.0", id: null, error: { code: -32600, message: `Message too large: ${size} bytes, the limit is ${limit}` } }),
  );
