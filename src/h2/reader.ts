// Splits the byte stream of a connection into frames (RFC 9113 4.1). Payloads are views into
// the socket's chunks (no copy) unless a frame spans chunks. The length is checked against
// our SETTINGS_MAX_FRAME_SIZE before a frame is buffered, so a peer cannot make us hold more.
import { FRAME_HEADER_LENGTH } from "./constants.js";

/** What the reader hands over; returning false stops reading (the connection is over). */
export interface FrameSink {
  onFrame(type: number, flags: number, streamId: number, payload: Buffer): boolean;
  /** A frame longer than the limit was announced (a connection error FRAME_SIZE_ERROR). */
  onOversizedFrame(length: number, type: number): void;
}

export class FrameReader {
  private pending: Buffer | undefined;
  stopped = false;

  constructor(
    private readonly sink: FrameSink,
    /** Our advertised SETTINGS_MAX_FRAME_SIZE. */
    public maxFrameSize: number,
  ) {}

  /** Bytes buffered towards an incomplete frame. */
  get buffered(): number {
    return this.pending ? this.pending.length : 0;
  }

  push(chunk: Buffer): void {
    if (this.stopped) return;
    let buf = chunk;
    if (this.pending !== undefined) {
      buf = Buffer.concat([this.pending, chunk]);
      this.pending = undefined;
    }
    let at = 0;
    const end = buf.length;
    while (end - at >= FRAME_HEADER_LENGTH) {
      const length = (buf[at]! << 16) | (buf[at + 1]! << 8) | buf[at + 2]!;
      const type = buf[at + 3]!;
      if (length > this.maxFrameSize) {
        this.stopped = true;
        this.sink.onOversizedFrame(length, type);
        return;
      }
      if (end - at < FRAME_HEADER_LENGTH + length) break;
      const flags = buf[at + 4]!;
      const streamId = buf.readUInt32BE(at + 5) & 0x7fffffff;
      const start = at + FRAME_HEADER_LENGTH;
      at = start + length;
      if (!this.sink.onFrame(type, flags, streamId, buf.subarray(start, at)) || this.stopped) {
        this.stopped = true;
        return;
      }
    }
    // A small tail of a big chunk is copied so the chunk itself can be freed.
    if (at < end) this.pending = at === 0 ? buf : end - at < 4096 ? Buffer.from(buf.subarray(at)) : buf.subarray(at);
  }
}
