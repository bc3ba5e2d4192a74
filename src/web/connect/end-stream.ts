// The last frame of a Connect streaming response: flag 0x02 and a JSON object with the error
// (absent on success) and the trailing metadata.
import type { OutgoingHttpHeaders } from "node:http2";
import { metadataHeaders } from "../call-stream.js";
import { errorJson } from "./error-json.js";

/** Flag bit of Connect's end-of-stream message. */
export const END_STREAM_FLAG = 0x02;

/** The end-stream frame for a gRPC status and trailing metadata given as one header record. */
export function endStreamFrame(trailers: OutgoingHttpHeaders): Buffer {
  const metadata: Record<string, string[]> = {};
  for (const [name, value] of metadataHeaders(trailers)) metadata[name] = Array.isArray(value) ? value : [value];
  const error = errorJson(trailers);
  const body = Buffer.from(JSON.stringify(error === undefined ? { metadata } : { error, metadata }), "utf8");
  const frame = Buffer.allocUnsafe(5 + body.length);
  frame[0] = END_STREAM_FLAG;
  frame.writeUInt32BE(body.length, 1);
  body.copy(frame, 5);
  return frame;
}
