// A Connect unary request as a gRPC server stream: the bare request body (or a GET's query
// message) becomes one gRPC frame; the response is held until the status is known, then sent
// as an HTTP status with the bare message (OK) or a JSON error, response metadata as headers
// and trailing metadata as `trailer-` headers.
import type { OutgoingHttpHeaders } from "node:http2";
import type { ServerStreamLike } from "../../grpc/transport.js";
import { Code, RpcError } from "../../status.js";
import { metadataHeaders, WebCallStream, type WebRequest } from "../call-stream.js";
import { connectHttpStatus } from "./codes.js";
import { errorJson, statusCodeOf } from "./error-json.js";

const MISSING_REPLY: OutgoingHttpHeaders = { "grpc-status": String(Code.INTERNAL), "grpc-message": "the call ended without a response message" };

/** The Connect unary adapter (see WebCallStream). */
export class ConnectUnaryStream extends WebCallStream {
  private body: Buffer[] = [];
  private bodyBytes = 0;
  private tooLarge = false;
  private reply: { compressed: boolean; data: Buffer } | undefined;

  constructor(
    inner: ServerStreamLike,
    request: WebRequest,
    /** The codec subtype of request and response (`application/{subtype}`). */
    private readonly subtype: string,
    /** Whether the request body (or GET message) is compressed (Content-Encoding / `compression`). */
    private readonly compressed: boolean,
    /** The largest request accepted (maxReceiveMessageLength). */
    private readonly maxBytes: number,
    /** A GET's message from the query; the body is then ignored. */
    private readonly preset?: Buffer,
  ) {
    super(inner, request);
  }

  protected override onBody(chunk: Buffer): void {
    if (this.preset !== undefined || this.tooLarge) return;
    this.bodyBytes += chunk.length;
    if (this.bodyBytes > this.maxBytes) {
      // Refused as soon as it is too large, as gRPC refuses a frame by its length prefix.
      this.tooLarge = true;
      this.body = [];
      this.failRequest(new RpcError(Code.RESOURCE_EXHAUSTED, `received message larger than max (more than ${this.maxBytes} bytes)`));
      return;
    }
    this.body.push(chunk);
  }

  protected override onBodyEnd(): void {
    if (this.tooLarge) return;
    const data = this.preset ?? Buffer.concat(this.body, this.bodyBytes);
    this.body = [];
    const frame = Buffer.allocUnsafe(5 + data.length);
    frame[0] = this.compressed ? 1 : 0;
    frame.writeUInt32BE(data.length, 1);
    data.copy(frame, 5);
    this.deliver(frame);
    this.deliverEnd();
  }

  /** The one response message (a gRPC frame from the call); kept until the status is known. */
  write(chunk: Uint8Array): boolean {
    const frame = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    this.reply = { compressed: (frame[0]! & 1) === 1, data: frame.subarray(5) };
    return true;
  }

  protected respondHeaders(): void {
    // Held: a unary Connect response's HTTP status depends on the call's outcome.
  }

  protected respondTrailersOnly(headers: OutgoingHttpHeaders): void {
    this.sendUnary({}, headers);
  }

  protected respondTrailers(trailers: OutgoingHttpHeaders): void {
    this.sendUnary(this.grpcHeaders ?? {}, trailers);
  }

  private sendUnary(head: OutgoingHttpHeaders, trailers: OutgoingHttpHeaders): void {
    const out: OutgoingHttpHeaders = {};
    for (const [name, value] of metadataHeaders(head)) out[name] = value;
    for (const [name, value] of metadataHeaders(trailers)) out[`trailer-${name}`] = value;
    const accept = head["grpc-accept-encoding"] ?? trailers["grpc-accept-encoding"];
    if (accept !== undefined) out["accept-encoding"] = String(accept);
    // OK without a message cannot be answered as a unary response: it is the server's error.
    const failure = statusCodeOf(trailers) !== 0 ? trailers : this.reply === undefined ? MISSING_REPLY : undefined;
    let body: Buffer;
    if (failure === undefined) {
      out[":status"] = 200;
      out["content-type"] = `application/${this.subtype}`;
      if (this.reply!.compressed && head["grpc-encoding"] !== undefined) out["content-encoding"] = String(head["grpc-encoding"]);
      body = this.reply!.data;
    } else {
      out[":status"] = connectHttpStatus(statusCodeOf(failure));
      out["content-type"] = "application/json";
      body = Buffer.from(JSON.stringify(errorJson(failure)), "utf8");
    }
    this.reply = undefined;
    out["content-length"] = String(body.length);
    if (this.inner.destroyed || this.inner.closed) return;
    this.sendHead(out, body.length === 0);
    if (body.length > 0) {
      this.inner.write(body);
      this.inner.end();
    }
  }
}
