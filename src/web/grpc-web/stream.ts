// A gRPC-Web request as a gRPC server stream: message frames pass through unchanged (base64 for
// grpc-web-text), the status becomes a trailer frame in the body, a trailers-only status stays
// in the response headers, and the response content type mirrors the request's.
import type { OutgoingHttpHeaders } from "node:http2";
import type { ServerStreamLike } from "../../grpc/transport.js";
import { Code, RpcError } from "../../status.js";
import { WebCallStream, type WebRequest } from "../call-stream.js";
import { Base64StreamDecoder } from "./base64.js";
import { trailerFrame } from "./trailers.js";

/** The gRPC-Web adapter (see WebCallStream). */
export class GrpcWebStream extends WebCallStream {
  private readonly decoder: Base64StreamDecoder | undefined;
  private broken = false;

  constructor(
    inner: ServerStreamLike,
    request: WebRequest,
    /** The request's content type, echoed on the response. */
    private readonly contentType: string,
    private readonly text: boolean,
  ) {
    super(inner, request);
    this.decoder = text ? new Base64StreamDecoder() : undefined;
  }

  protected override onBody(chunk: Buffer): void {
    if (this.broken) return;
    if (this.decoder === undefined) return this.deliver(chunk);
    let bytes: Buffer;
    try {
      bytes = this.decoder.push(chunk);
    } catch (err) {
      return this.malformed(err);
    }
    if (bytes.length > 0) this.deliver(bytes);
  }

  protected override onBodyEnd(): void {
    if (this.broken) return;
    try {
      this.decoder?.finish();
    } catch (err) {
      return this.malformed(err);
    }
    this.deliverEnd();
  }

  private malformed(err: unknown): void {
    this.broken = true;
    this.failRequest(new RpcError(Code.INTERNAL, `malformed grpc-web-text body: ${(err as Error).message}`));
  }

  write(chunk: Uint8Array): boolean {
    return this.inner.write(this.text ? Buffer.from(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString("base64"), "latin1") : chunk);
  }

  protected respondHeaders(headers: OutgoingHttpHeaders): void {
    this.sendHead({ ...headers, "content-type": this.contentType });
  }

  protected respondTrailersOnly(headers: OutgoingHttpHeaders): void {
    this.sendHead({ ...headers, "content-type": this.contentType }, true);
  }

  protected respondTrailers(trailers: OutgoingHttpHeaders): void {
    this.write(trailerFrame(trailers));
    this.inner.end();
  }
}
