// Web request headers -> the header list of an equivalent gRPC request, so dispatch validates
// and routes a gRPC-Web or Connect request exactly as it would a gRPC one.
import type { IncomingHttpHeaders } from "node:http2";

/** Headers that belong to HTTP/1.1 connections or to the web protocol itself, never metadata. */
const DROPPED = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "upgrade",
  "host",
  "te",
  "content-length",
  "content-type",
  "content-encoding",
  "accept-encoding",
  "http2-settings",
  "connect-protocol-version",
  "connect-timeout-ms",
  "connect-content-encoding",
  "connect-accept-encoding",
]);

/** The synthesized gRPC request: headers for dispatch and the raw list metadata is read from. */
export interface GrpcRequest {
  readonly headers: IncomingHttpHeaders;
  readonly rawHeaders: string[];
}

/**
 * Builds the gRPC request for a web request: POST to the same path, `content-type`
 * `application/grpc+{subtype}`, `te: trailers`, the protocol's own headers given in `grpc`
 * (grpc-timeout, grpc-encoding, grpc-accept-encoding), and every other header as metadata.
 */
export function grpcRequest(web: IncomingHttpHeaders, path: string, subtype: string, grpc: Record<string, string | undefined>): GrpcRequest {
  const headers: IncomingHttpHeaders = {
    ":method": "POST",
    ":path": path,
    ":scheme": String(web[":scheme"] ?? "http"),
    ":authority": String(web[":authority"] ?? web["host"] ?? ""),
    "content-type": `application/grpc+${subtype}`,
    te: "trailers",
  };
  for (const [name, value] of Object.entries(grpc)) if (value !== undefined) headers[name] = value;
  for (const [name, value] of Object.entries(web)) {
    if (value === undefined || name.charCodeAt(0) === 58 || DROPPED.has(name) || name in grpc) continue;
    headers[name] = value as string;
  }
  const rawHeaders: string[] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (Array.isArray(value)) for (const v of value) rawHeaders.push(name, v);
    else if (value !== undefined) rawHeaders.push(name, String(value));
  }
  return { headers, rawHeaders };
}

/** The encodings of an Accept-Encoding style list, without weights (`gzip;q=0.8` -> `gzip`). */
export function acceptList(value: string | string[] | undefined): string | undefined {
  if (value === undefined) return undefined;
  const text = Array.isArray(value) ? value.join(",") : value;
  const names = text
    .split(",")
    .map((part) => part.split(";")[0]!.trim().toLowerCase())
    .filter((name) => name !== "");
  return names.length > 0 ? names.join(",") : undefined;
}

/** One header's value as text (repeated headers joined as HTTP joins them). */
export function headerValue(value: string | string[] | undefined): string | undefined {
  if (value === undefined) return undefined;
  return Array.isArray(value) ? value.join(", ") : value;
}
