import { decodeBinaryValue, isBinaryKey, isLegalTextValue, Metadata } from "../metadata.js";

/**
 * Headers that belong to HTTP/2 or the gRPC protocol rather than to the application;
 * they never show up in invocation metadata.
 */
function isProtocolHeader(name: string): boolean {
  return (
    name.charCodeAt(0) === 58 /* : */ ||
    name.startsWith("grpc-") ||
    name === "content-type" ||
    name === "te" ||
    name === "content-length" ||
    name === "connection" ||
    name === "host"
  );
}

/**
 * Checks every application header before dispatch: text values printable ASCII,
 * `-bin` values valid base64 (padded or not, comma-separated when repeated).
 * Returns a description of the first bad header, or undefined.
 */
export function findBadMetadata(raw: readonly string[]): string | undefined {
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (isProtocolHeader(name)) continue;
    const value = raw[i + 1]!;
    if (isBinaryKey(name)) {
      for (const part of value.split(",")) {
        if (decodeBinaryValue(part) === undefined) return `metadata ${name} is not valid base64`;
      }
    } else if (!isLegalTextValue(value)) {
      return `metadata ${name} has a value outside printable ASCII`;
    }
  }
  return undefined;
}

/** Builds invocation metadata from raw headers already checked by findBadMetadata. */
export function decodeRequestMetadata(raw: readonly string[]): Metadata {
  const md = new Metadata();
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (isProtocolHeader(name)) continue;
    const value = raw[i + 1]!;
    if (isBinaryKey(name)) {
      for (const part of value.split(",")) md.pushTrusted(name, decodeBinaryValue(part) ?? new Uint8Array());
    } else {
      md.pushTrusted(name, value);
    }
  }
  return md;
}

/** Bytes a header list counts against the limit, as HTTP/2 SETTINGS_MAX_HEADER_LIST_SIZE counts them. */
export function headerListBytes(raw: readonly string[]): number {
  let total = 0;
  for (let i = 0; i < raw.length; i++) total += raw[i]!.length + (i % 2 === 0 ? 32 : 0);
  return total;
}
