// A stream as the server sees it: a request to answer with respond(), DATA and trailers.
import { h2Error, H2Stream } from "./stream.js";
import type { H2ServerSession } from "./server-session.js";

export interface RespondOptions {
  endStream?: boolean;
  waitForTrailers?: boolean;
  /** Accepted for node compatibility; we never add a date header. */
  sendDate?: boolean;
}

const DEFAULT_RESPONSE = Object.freeze({ ":status": 200 });

export class H2ServerStream extends H2Stream {
  declare readonly session: H2ServerSession;
  headersSent = false;

  get sentHeaders(): boolean {
    return this.headersSent;
  }

  /** Sends the response headers; with `endStream` the response is complete. */
  respond(headers: Record<string, unknown> = DEFAULT_RESPONSE, options: RespondOptions = {}): void {
    if (this.destroyed || this.closed) throw h2Error("ERR_HTTP2_INVALID_STREAM", "the stream has been destroyed");
    if (this.headersSent) throw h2Error("ERR_HTTP2_HEADERS_SENT", "response headers have already been sent");
    const block = this.session.headerBlock(headers, headers[":status"] === undefined ? DEFAULT_RESPONSE : undefined);
    this.headersSent = true;
    this.waitForTrailers = options.waitForTrailers === true;
    this.session.sendHeaders(this, block, options.endStream === true);
  }

  /** Sends trailers (after 'wantTrailers'); they end the stream. */
  sendTrailers(headers: Record<string, unknown>): void {
    if (this.destroyed || this.closed) throw h2Error("ERR_HTTP2_INVALID_STREAM", "the stream has been destroyed");
    if (this.trailers !== undefined || this.localEnded) throw h2Error("ERR_HTTP2_TRAILERS_ALREADY_SENT", "trailers have already been sent");
    this.trailers = this.session.headerBlock(headers);
    this.endRequested = true;
    this.session.scheduleData(this);
  }

  protected override beforeWrite(): void {
    if (!this.headersSent) this.respond();
  }
}
