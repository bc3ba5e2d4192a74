// A Connect streaming request as a gRPC server stream: envelopes are gRPC frames already
// (flag 0x01 compressed), so they pass through both ways; the status becomes the end-stream
// message, and every streaming response is HTTP 200.
import type { OutgoingHttpHeaders } from "node:http2";
import type { ServerStreamLike } from "../../grpc/transport.js";
import { metadataHeaders, WebCallStream, type WebRequest } from "../call-stream.js";
import { endStreamFrame } from "./end-stream.js";

/** The Connect streaming adapter (see WebCallStream). */
export class ConnectStreamingStream extends WebCallStream {
  constructor(
    inner: ServerStreamLike,
    request: WebRequest,
    /** The request's content type, echoed on the response. */
    private readonly contentType: string,
  ) {
    super(inner, request);
  }

  write(chunk: Uint8Array): boolean {
    return this.inner.write(chunk);
  }

  protected respondHeaders(headers: OutgoingHttpHeaders): void {
    this.sendHead(this.head(headers));
  }

  protected respondTrailersOnly(headers: OutgoingHttpHeaders): void {
    if (this.inner.destroyed || this.inner.closed) return;
    // Metadata go in the end-stream message; the encodings the server accepts (an unsupported
    // connect-content-encoding's answer) stay a header.
    this.sendHead(this.head({ "grpc-accept-encoding": headers["grpc-accept-encoding"] }));
    this.inner.write(endStreamFrame(headers));
    this.inner.end();
  }

  protected respondTrailers(trailers: OutgoingHttpHeaders): void {
    this.inner.write(endStreamFrame(trailers));
    this.inner.end();
  }

  private head(headers: OutgoingHttpHeaders): OutgoingHttpHeaders {
    const out: OutgoingHttpHeaders = { ":status": 200, "content-type": this.contentType };
    for (const [name, value] of metadataHeaders(headers)) out[name] = value;
    if (headers["grpc-encoding"] !== undefined) out["connect-content-encoding"] = String(headers["grpc-encoding"]);
    if (headers["grpc-accept-encoding"] !== undefined) out["connect-accept-encoding"] = String(headers["grpc-accept-encoding"]);
    return out;
  }
}
