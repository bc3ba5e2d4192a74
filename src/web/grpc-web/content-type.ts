// gRPC-Web content types (PROTOCOL-WEB.md): application/grpc-web[+subtype] carries binary
// frames, application/grpc-web-text[+subtype] the same frames in base64.

/** A parsed gRPC-Web content type. */
export interface GrpcWebType {
  /** base64 body (grpc-web-text). */
  readonly text: boolean;
  /** The message codec's subtype ("proto" when none is named). */
  readonly subtype: string;
}

const GRPC_WEB = /^application\/grpc-web(-text)?(?:\+([a-z0-9._-]+))?\s*(?:;.*)?$/i;

/** Parses a gRPC-Web content type; undefined for anything else. */
export function parseGrpcWebType(contentType: string | undefined): GrpcWebType | undefined {
  if (contentType === undefined) return undefined;
  const m = GRPC_WEB.exec(contentType);
  if (!m) return undefined;
  return { text: m[1] !== undefined, subtype: (m[2] ?? "proto").toLowerCase() };
}
