// One HTTP/2 stream on the server side (RFC 9113 5.1), with the subset of node:http2's
// ServerHttp2Stream API the gRPC layer uses (respond, write, end, sendTrailers, close, pause,
// resume and the data/end/wantTrailers/drain/close events), so both engines sit behind one
// interface. Sending goes through the session's flow-control scheduler; receiving replenishes
// the stream's window only as the application takes the data.
import { EventEmitter } from "node:events";
import { H2Error } from "./constants.js";
import { outgoingFields, type IncomingHeaders } from "./fields.js";
import type { H2ServerSession } from "./session.js";

/** Above this many queued outgoing bytes write() returns false and 'drain' follows. */
const HIGH_WATER = 64 * 1024;

export interface RespondOptions {
  endStream?: boolean;
  waitForTrailers?: boolean;
  /** Accepted for node compatibility; we never add a date header. */
  sendDate?: boolean;
}

export class H2ServerStream extends EventEmitter {
  /** RST_STREAM code once the stream was reset by either side. */
  rstCode: number | undefined;
  destroyed = false;
  closed = false;
  headersSent = false;
  aborted = false;

  /** @internal the peer ended its side (END_STREAM received) */
  remoteEnded = false;
  /** @internal we sent END_STREAM */
  localEnded = false;
  /** @internal flow control: what the peer may still send us, and what we may send */
  recvWindow: number;
  sendWindow: number;
  /** @internal bytes handed to the application since the last WINDOW_UPDATE */
  consumed = 0;
  /** @internal the declared content-length (-1: none) and the DATA bytes received */
  contentLength = -1;
  received = 0;

  /** @internal outgoing DATA waiting for flow control, oldest first */
  queue: Buffer[] = [];
  queueOffset = 0;
  queuedBytes = 0;
  /** @internal end() was called; END_STREAM follows the queued data (or trailers do) */
  endRequested = false;
  /** @internal trailers given to sendTrailers(), sent once the queue is empty */
  trailers: string[] | Buffer | undefined;
  /** @internal in the session's list of streams with data to send */
  scheduled = false;
  /** @internal respond() announced trailers: END_STREAM waits for sendTrailers() */
  waitForTrailers = false;
  private wantTrailersEmitted = false;
  private needDrain = false;
  private paused = false;
  private inbox: Buffer[] | undefined;
  private endPending = false;

  constructor(
    readonly id: number,
    readonly session: H2ServerSession,
    recvWindow: number,
    sendWindow: number,
  ) {
    super();
    this.recvWindow = recvWindow;
    this.sendWindow = sendWindow;
  }

  get sentHeaders(): boolean {
    return this.headersSent;
  }

  /** Sends the response headers; with `endStream` the response is complete. */
  respond(headers: Record<string, unknown> = {}, options: RespondOptions = {}): void {
    if (this.destroyed || this.closed) throw h2StreamError("ERR_HTTP2_INVALID_STREAM", "the stream has been destroyed");
    if (this.headersSent) throw h2StreamError("ERR_HTTP2_HEADERS_SENT", "response headers have already been sent");
    const block = this.session.encodeHeaders(headers, headers[":status"] === undefined ? { ":status": 200 } : undefined);
    this.headersSent = true;
    this.waitForTrailers = options.waitForTrailers === true;
    const end = options.endStream === true;
    this.session.sendHeaders(this, block, end);
    if (end) this.onLocalEnd();
  }

  /** Queues `chunk` as DATA; false when the caller should wait for 'drain'. */
  write(chunk: Uint8Array | string, encoding?: BufferEncoding | (() => void), cb?: () => void): boolean {
    if (typeof encoding === "function") cb = encoding;
    if (this.destroyed || this.closed || this.endRequested) {
      if (cb) process.nextTick(cb);
      return false;
    }
    if (!this.headersSent) this.respond();
    const buf = typeof chunk === "string" ? Buffer.from(chunk, typeof encoding === "string" ? encoding : "utf8") : Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (buf.length > 0) {
      this.queue.push(buf);
      this.queuedBytes += buf.length;
      this.session.scheduleData(this);
    }
    if (cb) process.nextTick(cb);
    if (this.queuedBytes >= HIGH_WATER) {
      this.needDrain = true;
      return false;
    }
    return true;
  }

  /** Ends our side: END_STREAM after the queued data, or 'wantTrailers' when trailers were announced. */
  end(chunk?: Uint8Array | (() => void), cb?: () => void): this {
    if (typeof chunk === "function") cb = chunk;
    else if (chunk !== undefined) this.write(chunk);
    if (this.endRequested || this.closed) return this;
    if (!this.headersSent) this.respond();
    this.endRequested = true;
    this.session.scheduleData(this);
    if (cb) process.nextTick(cb);
    return this;
  }

  /** Sends trailers (after 'wantTrailers'); they end the stream. */
  sendTrailers(headers: Record<string, unknown>): void {
    if (this.destroyed || this.closed) throw h2StreamError("ERR_HTTP2_INVALID_STREAM", "the stream has been destroyed");
    if (this.trailers !== undefined || this.localEnded) throw h2StreamError("ERR_HTTP2_TRAILERS_ALREADY_SENT", "trailers have already been sent");
    // Encoded when they leave: HPACK blocks must be encoded in the order they are sent.
    this.trailers = this.session.encodeHeaders(headers);
    this.endRequested = true;
    this.session.scheduleData(this);
  }

  cork(): void {
    // Every write of one event-loop turn already leaves in one socket write.
  }

  uncork(): void {}

  /** Stops 'data' events; the peer's window is not replenished while paused. */
  pause(): this {
    this.paused = true;
    return this;
  }

  resume(): this {
    if (!this.paused) return this;
    this.paused = false;
    const inbox = this.inbox;
    this.inbox = undefined;
    if (inbox) for (const chunk of inbox) this.deliver(chunk);
    if (this.endPending && !this.paused) {
      this.endPending = false;
      this.emit("end");
    }
    return this;
  }

  isPaused(): boolean {
    return this.paused;
  }

  /** Resets the stream with `code` (RST_STREAM) unless it is already closed. */
  close(code: number = H2Error.NO_ERROR, cb?: () => void): void {
    if (cb) this.once("close", cb);
    if (this.closed) return;
    this.session.resetStream(this, code);
  }

  destroy(err?: Error): this {
    if (!this.closed) this.session.resetStream(this, err ? H2Error.INTERNAL_ERROR : H2Error.CANCEL);
    return this;
  }

  setTimeout(): void {
    // Calls have their own deadlines; a per-stream idle timer is not offered.
  }

  // ---- driven by the session -----------------------------------------------------------

  /** @internal one DATA payload for the application */
  onData(chunk: Buffer): void {
    if (this.paused) {
      (this.inbox ??= []).push(chunk);
      return;
    }
    this.deliver(chunk);
  }

  private deliver(chunk: Buffer): void {
    if (this.listenerCount("data") === 0) {
      // Nobody reads this stream (it was answered early): the bytes are dropped, not held.
      this.session.consumed(this, chunk.length);
      return;
    }
    this.emit("data", chunk);
    this.session.consumed(this, chunk.length);
  }

  /** @internal END_STREAM arrived (after any data) */
  onRemoteEnd(): void {
    this.remoteEnded = true;
    if (this.paused && this.inbox !== undefined) this.endPending = true;
    else this.emit("end");
  }

  /** @internal the queue is empty after end(): trailers or END_STREAM go out now */
  wantsTrailers(): boolean {
    if (!this.waitForTrailers || this.trailers !== undefined) return false;
    if (!this.wantTrailersEmitted) {
      this.wantTrailersEmitted = true;
      this.emit("wantTrailers");
    }
    return this.trailers === undefined;
  }

  /** @internal the queue shrank: let a writer that was told to wait go on */
  maybeDrain(): void {
    if (this.needDrain && this.queuedBytes < HIGH_WATER) {
      this.needDrain = false;
      this.emit("drain");
    }
  }

  /** @internal */
  onLocalEnd(): void {
    this.localEnded = true;
  }

  /** @internal the stream is over (both sides ended, or reset): 'close' on the next tick */
  onClosed(rstCode: number | undefined, abortedByPeer: boolean): void {
    if (this.closed) return;
    this.closed = true;
    this.destroyed = true;
    this.rstCode = rstCode;
    this.queue = [];
    this.queuedBytes = 0;
    this.inbox = undefined;
    if (abortedByPeer) this.aborted = true;
    process.nextTick(emitClose, this, abortedByPeer);
  }
}

function emitClose(stream: H2ServerStream, aborted: boolean): void {
  if (aborted) stream.emit("aborted");
  stream.emit("close");
}

function h2StreamError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

export type { IncomingHeaders };
export { outgoingFields };
