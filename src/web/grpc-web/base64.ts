// grpc-web-text request bodies: base64 that may arrive split at any byte and may be several
// padded segments one after another ("AAA=AAA="), decoded as it arrives.

const BASE64_QUANTUM = /^[A-Za-z0-9+/]{2}(?:==|[A-Za-z0-9+/]=|[A-Za-z0-9+/]{2})$/;

/** Decodes a base64 stream chunk by chunk; throws on text that is not base64. */
export class Base64StreamDecoder {
  private rest = "";

  /** Decodes every complete 4-character group of `chunk` (with what was left over before). */
  push(chunk: Buffer): Buffer {
    const text = this.rest + chunk.toString("latin1").replace(/[\r\n\t ]/g, "");
    const usable = text.length - (text.length % 4);
    this.rest = text.slice(usable);
    if (usable === 0) return Buffer.alloc(0);
    const parts: Buffer[] = [];
    let start = 0;
    for (let i = 0; i < usable; i += 4) {
      const quantum = text.slice(i, i + 4);
      if (!BASE64_QUANTUM.test(quantum)) throw new Error(`invalid base64 at offset ${i}: ${JSON.stringify(quantum)}`);
      // A padded group ends a segment: decode up to it, the next group starts a new one.
      if (quantum.charCodeAt(3) === 61 /* = */ || i + 4 === usable) {
        parts.push(Buffer.from(text.slice(start, i + 4), "base64"));
        start = i + 4;
      }
    }
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }

  /** Throws when the body ended inside a 4-character group. */
  finish(): void {
    if (this.rest !== "") throw new Error(`base64 body ends with an incomplete group ${JSON.stringify(this.rest)}`);
  }
}
