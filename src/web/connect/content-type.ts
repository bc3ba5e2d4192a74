// Connect content types (connectrpc.com/docs/protocol): `application/{codec}` for unary
// requests, `application/connect+{codec}` for streaming ones.

/** A parsed Connect content type. */
export interface ConnectType {
  readonly streaming: boolean;
  /** The codec's subtype: "proto", "json", or another registered codec's. */
  readonly subtype: string;
}

const CONNECT = /^application\/(connect\+)?([a-z0-9._-]+)\s*(?:;.*)?$/i;

/**
 * Parses a Connect content type whose codec the server has (`hasCodec(subtype)`); undefined
 * for anything else (gRPC's own `application/grpc*` never names a codec here).
 */
export function parseConnectType(contentType: string | undefined, hasCodec: (subtype: string) => boolean): ConnectType | undefined {
  if (contentType === undefined) return undefined;
  const m = CONNECT.exec(contentType);
  if (!m) return undefined;
  const subtype = m[2]!.toLowerCase();
  if (!hasCodec(subtype)) return undefined;
  return { streaming: m[1] !== undefined, subtype };
}
