import { promisify } from "node:util";
import * as zlib from "node:zlib";
import { Code, RpcError } from "../status.js";

/** Message encodings Switchboard can read and write. */
export type Encoding = "identity" | "gzip" | "deflate";

/** The encodings we accept, as sent in `grpc-accept-encoding`. */
export const ACCEPT_ENCODING = "identity,deflate,gzip";

const gunzip = promisify(zlib.gunzip);
const inflate = promisify(zlib.inflate);
const gzip = promisify(zlib.gzip);
const deflate = promisify(zlib.deflate);

/** Whether a `grpc-encoding` value names an encoding we support. */
export function isEncoding(name: string): name is Encoding {
  return name === "identity" || name === "gzip" || name === "deflate";
}

/**
 * Decompresses one message, stopping as soon as the output passes `maxOutput`
 * (zlib's maxOutputLength aborts inflation early), so a small zip bomb cannot
 * expand in memory beyond the receive limit.
 */
export async function decompress(encoding: Encoding, data: Buffer, maxOutput: number): Promise<Buffer> {
  if (encoding === "identity") {
    throw new RpcError(Code.INTERNAL, "compressed flag set on a message but grpc-encoding is identity");
  }
  const options = { maxOutputLength: Math.max(1, maxOutput) };
  try {
    return await (encoding === "gzip" ? gunzip(data, options) : inflate(data, options));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE") {
      throw new RpcError(Code.RESOURCE_EXHAUSTED, `decompressed message larger than max (${maxOutput})`);
    }
    throw new RpcError(Code.INTERNAL, `could not decompress ${encoding} message: ${(err as Error).message}`);
  }
}

/** Compresses one message body with the given encoding. */
export async function compress(encoding: Encoding, data: Uint8Array): Promise<Buffer> {
  if (encoding === "gzip") return gzip(data);
  if (encoding === "deflate") return deflate(data);
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}
