// Frame serialization (RFC 9113 4.1 and 6). Each builder returns the bytes of one whole frame;
// DATA keeps its payload separate so large messages are never copied into a frame buffer.
import { FRAME_HEADER_LENGTH, FrameType, Flag } from "./constants.js";

/** The 9-octet frame header. */
export function frameHeader(length: number, type: number, flags: number, streamId: number): Buffer {
  const b = Buffer.allocUnsafe(FRAME_HEADER_LENGTH);
  writeFrameHeader(b, 0, length, type, flags, streamId);
  return b;
}

export function writeFrameHeader(b: Buffer, at: number, length: number, type: number, flags: number, streamId: number): void {
  b[at] = length >>> 16;
  b[at + 1] = (length >>> 8) & 0xff;
  b[at + 2] = length & 0xff;
  b[at + 3] = type;
  b[at + 4] = flags;
  b.writeUInt32BE(streamId & 0x7fffffff, at + 5);
}

/** A frame with a payload copied in after its header (for small control frames and header blocks). */
export function frame(type: number, flags: number, streamId: number, payload?: Uint8Array): Buffer {
  const length = payload ? payload.byteLength : 0;
  const b = Buffer.allocUnsafe(FRAME_HEADER_LENGTH + length);
  writeFrameHeader(b, 0, length, type, flags, streamId);
  if (payload) b.set(payload, FRAME_HEADER_LENGTH);
  return b;
}

export function settingsFrame(entries: ReadonlyArray<readonly [number, number]>): Buffer {
  const b = Buffer.allocUnsafe(FRAME_HEADER_LENGTH + entries.length * 6);
  writeFrameHeader(b, 0, entries.length * 6, FrameType.SETTINGS, 0, 0);
  let at = FRAME_HEADER_LENGTH;
  for (const [id, value] of entries) {
    b.writeUInt16BE(id, at);
    b.writeUInt32BE(value, at + 2);
    at += 6;
  }
  return b;
}

export const SETTINGS_ACK_FRAME = frame(FrameType.SETTINGS, Flag.ACK, 0);

export function pingFrame(payload: Uint8Array, ack: boolean): Buffer {
  return frame(FrameType.PING, ack ? Flag.ACK : 0, 0, payload);
}

export function rstStreamFrame(streamId: number, code: number): Buffer {
  const b = Buffer.allocUnsafe(FRAME_HEADER_LENGTH + 4);
  writeFrameHeader(b, 0, 4, FrameType.RST_STREAM, 0, streamId);
  b.writeUInt32BE(code, FRAME_HEADER_LENGTH);
  return b;
}

export function windowUpdateFrame(streamId: number, increment: number): Buffer {
  const b = Buffer.allocUnsafe(FRAME_HEADER_LENGTH + 4);
  writeFrameHeader(b, 0, 4, FrameType.WINDOW_UPDATE, 0, streamId);
  b.writeUInt32BE(increment, FRAME_HEADER_LENGTH);
  return b;
}

export function goawayFrame(lastStreamId: number, code: number, debug?: Uint8Array): Buffer {
  const debugLength = debug ? debug.byteLength : 0;
  const b = Buffer.allocUnsafe(FRAME_HEADER_LENGTH + 8 + debugLength);
  writeFrameHeader(b, 0, 8 + debugLength, FrameType.GOAWAY, 0, 0);
  b.writeUInt32BE(lastStreamId & 0x7fffffff, FRAME_HEADER_LENGTH);
  b.writeUInt32BE(code, FRAME_HEADER_LENGTH + 4);
  if (debug) b.set(debug, FRAME_HEADER_LENGTH + 8);
  return b;
}

/**
 * A header block as HEADERS plus CONTINUATION frames of at most `maxFrameSize` octets each,
 * in one buffer (the frames of one block must not be interleaved with anything else).
 */
export function headerFrames(streamId: number, block: Uint8Array, endStream: boolean, maxFrameSize: number, type: number = FrameType.HEADERS): Buffer {
  const endFlag = endStream ? Flag.END_STREAM : 0;
  if (block.byteLength <= maxFrameSize) {
    const b = Buffer.allocUnsafe(FRAME_HEADER_LENGTH + block.byteLength);
    writeFrameHeader(b, 0, block.byteLength, type, endFlag | Flag.END_HEADERS, streamId);
    b.set(block, FRAME_HEADER_LENGTH);
    return b;
  }
  const count = Math.ceil(block.byteLength / maxFrameSize);
  const b = Buffer.allocUnsafe(count * FRAME_HEADER_LENGTH + block.byteLength);
  let at = 0;
  for (let i = 0, off = 0; i < count; i++, off += maxFrameSize) {
    const piece = block.subarray(off, Math.min(off + maxFrameSize, block.byteLength));
    const last = i === count - 1;
    const flags = (i === 0 ? endFlag : 0) | (last ? Flag.END_HEADERS : 0);
    writeFrameHeader(b, at, piece.byteLength, i === 0 ? type : FrameType.CONTINUATION, flags, streamId);
    b.set(piece, at + FRAME_HEADER_LENGTH);
    at += FRAME_HEADER_LENGTH + piece.byteLength;
  }
  return b;
}
