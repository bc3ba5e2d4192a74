// One HTTP/2 stream (RFC 9113 5.1): the part both sides share. Sending goes through the
// connection's flow-control scheduler (write/end queue DATA; END_STREAM or trailers follow
// the data); receiving hands DATA to the application and replenishes the stream's window
// only as it is taken (pause() holds it back). The API is the subset of node:http2's
// Http2Stream the gRPC layer uses, so both engines sit behind one interface.
import { EventEmitter } from "node:events";
import { H2Error } from "./constants.js";
import type { H2Connection } from "./connection.js";

/** Above this many queued outgoing bytes write() returns false and 'drain' follows. */
const HIGH_WATER = 64 * 1024;

export abstract class H2Stream extends EventEmitter {
  /** RST_STREAM code once the stream was reset by either side; 0 once it closed normally. */
  rstCode: number | undefined;
  destroyed = false;
  closed = false;
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
  /** @internal trailers to send once the queue is empty (fields, or a ready block); encoded as they leave */
  trailers: string[] | Buffer | undefined;
  /** @internal END_STREAM waits for sendTrailers() */
  waitForTrailers = false;
  /** @internal in the connection's list of streams with something to send */
  scheduled = false;
  private wantTrailersEmitted = false;
  private needDrain = false;
  private paused = false;
  private inbox: Buffer[] | undefined;
  private endPending = false;

  constructor(
    /** The stream identifier (a client's queued request gets its id when it opens). */
    public id: number,
    readonly session: H2Connection,
    recvWindow: number,
    sendWindow: number,
  ) {
    super();
    this.recvWindow = recvWindow;
    this.sendWindow = sendWindow;
  }

  /** Called before the first DATA: a server stream sends default response headers. */
  protected beforeWrite(): void {}

  /** Queues `chunk` as DATA; false when the caller should wait for 'drain'. */
  write(chunk: Uint8Array | string, encoding?: BufferEncoding | (() => void), cb?: () => void): boolean {
    if (typeof encoding === "function") cb = encoding;
    if (this.destroyed || this.closed || this.endRequested) {
      if (cb) process.nextTick(cb);
      return false;
    }
    this.beforeWrite();
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
    this.beforeWrite();
    this.endRequested = true;
    this.session.scheduleData(this);
    if (cb) process.nextTick(cb);
    return this;
  }

  get writableEnded(): boolean {
    return this.endRequested || this.localEnded;
  }

  /**
   * True once END_STREAM went out, as node's Writable after 'finish' (emitted then): a reset
   * after that point can no longer overtake the response's DATA.
   */
  get writableFinished(): boolean {
    return this.localEnded;
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

  // ---- driven by the connection ----------------------------------------------------------

  /** @internal one DATA payload for the application */
  onData(chunk: Buffer): void {
    if (this.paused) {
      (this.inbox ??= []).push(chunk);
      return;
    }
    this.deliver(chunk);
  }

  private deliver(chunk: Buffer): void {
    // Nobody reads a stream that was answered early: with no listener its bytes are dropped, not held.
    this.emit("data", chunk);
    this.session.consumed(this, chunk.length);
  }

  /** @internal END_STREAM arrived (after any data) */
  onRemoteEnd(): void {
    this.remoteEnded = true;
    if (this.paused && this.inbox !== undefined) this.endPending = true;
    else this.emit("end");
  }

  /** @internal the queue is empty after end(): true while trailers are still awaited */
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

  /** @internal the stream is over (both sides ended, or reset): 'close' on the next tick */
  onClosed(rstCode: number, abortedByPeer: boolean, error?: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.destroyed = true;
    this.rstCode = rstCode;
    this.queue = [];
    this.queuedBytes = 0;
    this.inbox = undefined;
    if (abortedByPeer) this.aborted = true;
    process.nextTick(emitClose, this, abortedByPeer, error);
  }
}

function emitClose(stream: H2Stream, aborted: boolean, error: Error | undefined): void {
  if (aborted) stream.emit("aborted");
  if (error && stream.listenerCount("error") > 0) stream.emit("error", error);
  stream.emit("close");
  stream.session.closeEmitted(stream);
}

/** An error with a node-style `code` property. */
export function h2Error(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}
