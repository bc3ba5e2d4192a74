import type { IncomingHttpHeaders } from "node:http2";
import { decodeGrpcMessage } from "../grpc/percent.js";
import { decodeRequestMetadata } from "../grpc/request-metadata.js";
import { decodeDetailsWith, protoStatusDetailsCodec, type StatusDetailsCodec } from "../grpc/status-details.js";
import { decodeBinaryValue, isBinaryKey, Metadata } from "../metadata.js";
import { Code, isCode, type Status } from "../status.js";

/**
 * Application metadata from response headers or trailers. node:http2 passes the raw
 * header list as a third event argument; it keeps repeated keys apart, so it is preferred.
 */
export function metadataFromHeaders(headers: IncomingHttpHeaders, raw: string[] | undefined): Metadata {
  if (Array.isArray(raw)) return decodeRequestMetadata(raw);
  const md = new Metadata();
  for (const [name, value] of Object.entries(headers)) {
    if (name.startsWith(":") || name.startsWith("grpc-") || name === "content-type" || value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) {
      if (isBinaryKey(name)) {
        for (const part of v.split(",")) {
          const bytes = decodeBinaryValue(part);
          if (bytes) md.pushTrusted(name, bytes);
        }
      } else {
        md.pushTrusted(name, v);
      }
    }
  }
  return md;
}

/** The status in trailers (or trailers-only headers): code, decoded message and rich details (decoded by `detailsCodec`). */
export function statusFromHeaders(headers: IncomingHttpHeaders, detailsCodec: StatusDetailsCodec | null = protoStatusDetailsCodec): Status {
  const rawCode = headers["grpc-status"];
  if (rawCode === undefined) return { code: Code.UNKNOWN, message: "server sent trailers without grpc-status" };
  const code = Number(rawCode);
  if (!/^\d+$/.test(String(rawCode)) || !isCode(code)) return { code: Code.UNKNOWN, message: `server sent an invalid grpc-status ${JSON.stringify(rawCode)}` };
  const message = headers["grpc-message"] === undefined ? "" : decodeGrpcMessage(String(headers["grpc-message"]));
  const status: Status = { code, message };
  const detailsBin = headers["grpc-status-details-bin"];
  if (detailsBin !== undefined) {
    const bytes = decodeBinaryValue(String(detailsBin));
    if (bytes) {
      status.statusDetailsBin = bytes;
      status.details = decodeDetailsWith(detailsCodec, code, message, bytes);
    }
  }
  return status;
}
