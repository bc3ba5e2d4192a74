// The server side of a connection: the client's preface, streams the client opens (request
// rules of RFC 9113 8.3.1, the concurrency limit, rapid-reset accounting) and a graceful
// close in two GOAWAY phases (6.8). The API is the subset of node:http2's ServerHttp2Session
// the gRPC layer uses.
import type { Duplex } from "node:stream";
import { CLIENT_PREFACE, Flag, H2Error, MAX_STREAM_ID, Setting } from "./constants.js";
import { H2Connection, type HeaderBlock } from "./connection.js";
import { requestFields, trailerFields } from "./fields.js";
import { goawayFrame } from "./frames.js";
import type { DecodedBlock } from "./hpack/index.js";
import { H2ProtocolError, type H2SessionOptions } from "./options.js";
import { H2ServerStream } from "./server-stream.js";
import { TokenBucket } from "../token-bucket.js";
import type { H2Stream } from "./stream.js";

/** How long the first (2^31-1) GOAWAY of a graceful close waits for the PING that ends phase one. */
const GOAWAY_PHASE_MS = 1000;
/** Skipped id ranges remembered per connection. */
const MAX_GAPS = 64;

export class H2ServerSession extends H2Connection {
  private prefaceSeen = 0;
  /** Highest stream id the client opened (5.1.1: new ids must be larger). */
  private highestId = 0;
  /** Streams opened whose 'close' event has not been emitted yet. */
  private liveStreams = 0;
  /**
   * Ranges [from, to] of client ids skipped over (5.1.1: they can never open), the newest
   * last. Every other id up to highestId was opened, so this is how a closed stream is told
   * from one that never existed without remembering each closed id. Clients rarely skip.
   */
  private readonly gaps: number[] = [];
  private readonly resets: TokenBucket;

  constructor(socket: Duplex, o: H2SessionOptions) {
    super(socket, o);
    this.resets = new TokenBucket(o.resetBurst, o.resetRatePerSecond);
    // 3.4: the server's preface is its SETTINGS, sent without waiting for the client's.
    this.sendSettings();
  }

  protected extraSettings(): [number, number][] {
    return [[Setting.MAX_CONCURRENT_STREAMS, this.o.maxConcurrentStreams]];
  }

  protected isIdle(id: number): boolean {
    return id > this.highestId;
  }

  /**
   * Between a graceful close's two GOAWAYs: the connection must not end even with no stream
   * open, since the client may be sending streams it opened before our first GOAWAY reached it;
   * only the second GOAWAY tells it which of them we processed.
   */
  private firstGoawayOnly = false;

  /** Graceful close: GOAWAY 2^31-1, a PING round trip, then GOAWAY with the real last stream (6.8). */
  override close(cb?: () => void): void {
    if (cb) this.once("close", cb);
    if (this.closed || this.destroyed) return;
    this.closed = true;
    if (this.goawaySent) return this.maybeFinish();
    this.push(goawayFrame(MAX_STREAM_ID, H2Error.NO_ERROR));
    this.firstGoawayOnly = true;
    const phaseTwo = () => {
      clearTimeout(timer);
      if (!this.firstGoawayOnly || this.destroyed) return;
      this.firstGoawayOnly = false;
      this.sendGoaway(H2Error.NO_ERROR);
      this.maybeFinish();
    };
    const timer = setTimeout(phaseTwo, GOAWAY_PHASE_MS);
    timer.unref();
    try {
      this.ping(phaseTwo);
    } catch {
      phaseTwo();
    }
  }

  protected override maybeFinish(): void {
    if (this.firstGoawayOnly) return;
    super.maybeFinish();
  }

  protected override beforeFrames(chunk: Buffer): Buffer | undefined {
    if (this.prefaceSeen >= CLIENT_PREFACE.length) return chunk;
    const need = CLIENT_PREFACE.length - this.prefaceSeen;
    const part = chunk.subarray(0, need);
    if (!part.equals(CLIENT_PREFACE.subarray(this.prefaceSeen, this.prefaceSeen + part.length))) {
      this.connectionError(H2Error.PROTOCOL_ERROR, "invalid connection preface");
      return undefined;
    }
    this.prefaceSeen += part.length;
    return chunk.length <= need ? undefined : chunk.subarray(need);
  }

  protected onHeaderBlock(block: HeaderBlock, decoded: DecodedBlock): void {
    const id = block.streamId;
    const existing = this.streams.get(id) as H2ServerStream | undefined;
    if (existing !== undefined) return this.onTrailers(existing, block, decoded);
    if (id <= this.highestId) {
      if (this.recentResets.has(id)) return;
      // 5.1: a stream that ended is closed; 5.1.1: an id below one already used that never opened is a PROTOCOL_ERROR.
      if (!this.skipped(id)) throw new H2ProtocolError(H2Error.STREAM_CLOSED, `HEADERS on closed stream ${id}`);
      throw new H2ProtocolError(H2Error.PROTOCOL_ERROR, `stream ${id} is lower than stream ${this.highestId}, already opened`);
    }
    if ((id & 1) === 0) throw new H2ProtocolError(H2Error.PROTOCOL_ERROR, `client stream ${id} has an even identifier`);
    if (id > this.highestId + 2 || (this.highestId === 0 && id > 1)) this.rememberGap(this.highestId === 0 ? 1 : this.highestId + 2, id - 2);
    this.highestId = id;
    // 6.8: not processed after our GOAWAY; the reset tells the client at once that it may retry.
    if (this.goawaySent && id > this.goawayLastId) return this.sendRst(id, H2Error.REFUSED_STREAM, true);
    if (this.ending) return;
    // Streams count until the application has heard of their end: resets read in the same chunk
    // as their HEADERS must not let handlers outnumber the limit (rapid reset).
    if (this.liveStreams >= this.o.maxConcurrentStreams) return this.sendRst(id, H2Error.REFUSED_STREAM, true);
    if (decoded.tooLarge) return this.sendRst(id, H2Error.ENHANCE_YOUR_CALM, true);
    const checked = requestFields(decoded.fields);
    if (typeof checked === "string") {
      return this.sendRst(id, H2Error.PROTOCOL_ERROR, true);
    }
    const stream = new H2ServerStream(id, this, this.o.initialWindowSize, this.remoteSettings.initialWindowSize);
    stream.contentLength = checked.contentLength;
    this.addStream(stream);
    this.liveStreams++;
    this.lastProcessedId = id;
    this.emit("stream", stream, checked.headers, block.endStream ? Flag.END_STREAM | Flag.END_HEADERS : Flag.END_HEADERS, decoded.fields);
    if (!block.endStream || stream.closed) return;
    if (checked.contentLength > 0) return this.resetStream(stream, H2Error.PROTOCOL_ERROR);
    this.remoteEnd(stream);
  }

  private onTrailers(stream: H2ServerStream, block: HeaderBlock, decoded: DecodedBlock): void {
    if (stream.remoteEnded) return this.resetStream(stream, H2Error.STREAM_CLOSED);
    // 8.1: a second header block must be trailers, and trailers end the stream.
    if (!block.endStream) return this.resetStream(stream, H2Error.PROTOCOL_ERROR);
    if (decoded.tooLarge) return this.resetStream(stream, H2Error.ENHANCE_YOUR_CALM);
    const checked = trailerFields(decoded.fields);
    if (typeof checked === "string") return this.resetStream(stream, H2Error.PROTOCOL_ERROR);
    if (stream.contentLength >= 0 && stream.received !== stream.contentLength) return this.resetStream(stream, H2Error.PROTOCOL_ERROR);
    stream.emit("trailers", checked, Flag.END_STREAM | Flag.END_HEADERS, decoded.fields);
    this.remoteEnd(stream);
  }

  private rememberGap(from: number, to: number): void {
    this.gaps.push(from, to);
    // Bounded: a client skipping ids on purpose only makes the oldest gaps read as closed streams (also a connection error).
    if (this.gaps.length > 2 * MAX_GAPS) this.gaps.splice(0, 2);
  }

  private skipped(id: number): boolean {
    for (let i = 0; i < this.gaps.length; i += 2) if (id >= this.gaps[i]! && id <= this.gaps[i + 1]!) return true;
    return false;
  }

  /** The application heard the stream's 'close': it no longer counts against the limit. */
  override closeEmitted(): void {
    this.liveStreams--;
  }

  /** Counted as it is read, not when the application hears of it: a burst of HEADERS+RST pairs in one read must not open more streams than the budget allows. */
  protected override onPeerReset(stream: H2Stream): void {
    if (stream.localEnded) return;
    if (!this.resets.take()) throw new H2ProtocolError(H2Error.ENHANCE_YOUR_CALM, "too_many_resets");
  }
}
