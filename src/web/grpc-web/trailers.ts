// The gRPC-Web trailer frame: the status and trailing metadata as HTTP/1-style header lines
// in a body frame whose flag byte has the high bit set (0x80).
import type { OutgoingHttpHeaders } from "node:http2";

/** Flag byte of a gRPC-Web trailer frame. */
export const TRAILER_FLAG = 0x80;

/** Encodes trailers as one gRPC-Web frame: `0x80`, a 4-byte length, `name: value\r\n` lines. */
export function trailerFrame(trailers: OutgoingHttpHeaders): Buffer {
  let block = "";
  for (const [name, value] of Object.entries(trailers)) {
    if (value === undefined || name.charCodeAt(0) === 58) continue;
    for (const v of Array.isArray(value) ? value : [value]) block += `${name.toLowerCase()}: ${String(v)}\r\n`;
  }
  const body = Buffer.from(block, "latin1");
  const frame = Buffer.allocUnsafe(5 + body.length);
  frame[0] = TRAILER_FLAG;
  frame.writeUInt32BE(body.length, 1);
  body.copy(frame, 5);
  return frame;
}
