/**
 * A header block could not be decoded (RFC 7541 section 2.3.3 / RFC 9113 section 4.3): the connection must end
 * with GOAWAY COMPRESSION_ERROR, because the peer's dynamic table and ours can no longer be assumed equal.
 */
export class HpackError extends Error {
  readonly code = "COMPRESSION_ERROR";
  /** Offset in the header block of the octet where the problem was found. */
  readonly offset: number;

  constructor(message: string, offset: number) {
    super(`HPACK: ${message} at byte offset ${offset}`);
    this.name = "HpackError";
    this.offset = offset;
  }
}
