// One HTTP/2 connection (RFC 9113), the part both sides share: SETTINGS with their ACK timeout,
// frame validation with the RFC's connection and stream errors, HPACK, stream states, flow
// control both ways with fair scheduling of blocked streams, PING, GOAWAY, and the flood
// budget. Every frame this side produces in one event-loop turn leaves in one socket write.
// H2ServerSession and H2ClientSession add what only one side does (opening streams, the
// preface, request vs response rules).
import { EventEmitter } from "node:events";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import type { TLSSocket } from "node:tls";
import { DEFAULT_WINDOW, errorName, Flag, FrameType, H2Error, MAX_MAX_FRAME_SIZE, MAX_STREAM_ID, MAX_WINDOW, MIN_MAX_FRAME_SIZE, Setting } from "./constants.js";
import { outgoingFields } from "./fields.js";
import { frameHeader, goawayFrame, headerFrames, pingFrame, rstStreamFrame, SETTINGS_ACK_FRAME, settingsFrame, windowUpdateFrame } from "./frames.js";
import { HpackDecoder, HpackEncoder, HpackError, type DecodedBlock } from "./hpack/index.js";
import { H2ProtocolError, type H2SessionOptions, type PeerSettings } from "./options.js";
import { FrameReader, type FrameSink } from "./reader.js";
import type { H2Stream } from "./stream.js";
import { TokenBucket } from "../token-bucket.js";
import { RecentIds } from "./recent-ids.js";

/** Control frames a peer that does not read may make us queue before we give up on it. */
const MAX_QUEUED_CONTROL_BYTES = 1024 * 1024;
/** Streams we reset whose late frames are ignored rather than treated as errors. */
const RECENT_RESETS = 1024;
/** After an error GOAWAY or a graceful end, how long the peer gets to close before the socket is destroyed. */
const LINGER_MS = 1000;

/** A header block being received (HEADERS, then CONTINUATION until END_HEADERS). */
export interface HeaderBlock {
  streamId: number;
  endStream: boolean;
  fragments: Buffer[];
  bytes: number;
  frames: number;
}

type PingCallback = (err: Error | null, ms: number, payload: Buffer) => void;

export abstract class H2Connection extends EventEmitter implements FrameSink {
  closed = false;
  destroyed = false;
  readonly encrypted: boolean;
  readonly alpnProtocol: string | undefined;
  /** The peer's settings (defaults until its SETTINGS frame arrives). */
  readonly remoteSettings: PeerSettings = { headerTableSize: 4096, enablePush: true, maxConcurrentStreams: Infinity, initialWindowSize: DEFAULT_WINDOW, maxFrameSize: MIN_MAX_FRAME_SIZE, maxHeaderListSize: Infinity };

  protected readonly streams = new Map<number, H2Stream>();
  protected readonly reader: FrameReader;
  protected readonly decoder: HpackDecoder;
  protected readonly encoder = new HpackEncoder();
  protected settingsSeen = false;
  private settingsTimer: NodeJS.Timeout | undefined;
  /** Highest stream id the application was handed (our GOAWAY's last-stream-id). */
  protected lastProcessedId = 0;
  protected goawayLastId = MAX_STREAM_ID;
  protected goawaySent = false;
  /** An error GOAWAY went out: no more input is read. */
  protected ending = false;
  private headerBlockInProgress: HeaderBlock | undefined;
  protected readonly recentResets = new RecentIds(RECENT_RESETS);

  private connRecvWindow = DEFAULT_WINDOW;
  private connRecvTarget = DEFAULT_WINDOW;
  private connConsumed = 0;
  private connSendWindow = DEFAULT_WINDOW;

  private out: Buffer[] = [];
  private outBytes = 0;
  private flushScheduled = false;
  private socketBlocked = false;
  private ready: H2Stream[] = [];

  private readonly pings = new Map<string, { cb: PingCallback; at: number }>();
  private readonly flood: TokenBucket;
  private idleTimer: NodeJS.Timeout | undefined;
  private lingerTimer: NodeJS.Timeout | undefined;

  /** The transport (typed as node types it; an in-memory duplex works the same). */
  readonly socket: Socket | TLSSocket;

  constructor(
    socket: Duplex,
    protected readonly o: H2SessionOptions,
  ) {
    super();
    this.socket = socket as Socket;
    const tls = socket as Duplex & { encrypted?: boolean; alpnProtocol?: string | false };
    this.encrypted = tls.encrypted === true;
    this.alpnProtocol = this.encrypted ? tls.alpnProtocol || undefined : "h2c";
    this.reader = new FrameReader(this, o.maxFrameSize);
    this.decoder = new HpackDecoder({ maxHeaderListSize: o.maxHeaderListSize * 2 + 4096, maxFields: o.maxHeaderListPairs });
    this.flood = new TokenBucket(o.floodBurst, o.floodRatePerSecond);
    socket.on("data", (chunk: Buffer) => this.onSocketData(chunk));
    socket.on("error", (err: Error) => this.destroy(err));
    socket.on("close", () => this.destroy());
    socket.on("end", () => {
      // HTTP/2 has no use for a half-closed TCP connection: a peer that ends its side is gone
      // (node:http2 does the same), and calls waiting on it must not wait forever.
      this.flush();
      this.destroy();
    });
    socket.on("drain", () => {
      this.socketBlocked = false;
      this.scheduleFlush();
    });
  }

  /** Our SETTINGS have not been acknowledged yet. */
  get pendingSettingsAck(): boolean {
    return this.settingsTimer !== undefined;
  }

  /** A server may not send SETTINGS_ENABLE_PUSH 1 (6.5.2). */
  protected get isClient(): boolean {
    return false;
  }

  /** Streams open now. */
  get streamCount(): number {
    return this.streams.size;
  }

  // ---- what each side adds -----------------------------------------------------------------

  /** Our SETTINGS entries (besides the ones every side sends). */
  protected abstract extraSettings(): [number, number][];
  /** A complete header block arrived on `block.streamId` (new stream, response, or trailers). */
  protected abstract onHeaderBlock(block: HeaderBlock, decoded: DecodedBlock): void;
  /** Whether `id` names a stream in the idle state (5.1): frames on it other than HEADERS/PRIORITY are errors. */
  protected abstract isIdle(id: number): boolean;
  /** The peer said GOAWAY: `lastStreamId` is the last of our streams it processed. */
  protected onPeerGoaway(_code: number, _lastStreamId: number): void {}
  /** Input before the frames (the server reads the client's preface here); returns what is left. */
  protected beforeFrames(chunk: Buffer): Buffer | undefined {
    return chunk;
  }

  // ---- node:http2 session API ------------------------------------------------------------

  /** Graceful close: GOAWAY NO_ERROR, then the socket ends when the last stream does. */
  close(cb?: () => void): void {
    if (cb) this.once("close", cb);
    if (this.closed || this.destroyed) return;
    this.closed = true;
    if (!this.goawaySent) this.sendGoaway(H2Error.NO_ERROR);
    this.maybeFinish();
  }

  /** Sends GOAWAY (node's session.goaway); with an error code the connection then ends. */
  goaway(code: number = H2Error.NO_ERROR, lastStreamId?: number, debug?: NodeJS.ArrayBufferView): void {
    if (this.destroyed) return;
    this.sendGoaway(code, lastStreamId, debug && new Uint8Array(debug.buffer, debug.byteOffset, debug.byteLength));
    if (code !== H2Error.NO_ERROR) this.endAfterGoaway(H2Error.CANCEL);
    else this.maybeFinish();
  }

  destroy(err?: Error, code?: number): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.closed = true;
    this.reader.stopped = true;
    if (code !== undefined && !this.goawaySent) {
      this.sendGoaway(code);
      this.flush();
    }
    clearTimeout(this.settingsTimer);
    clearTimeout(this.idleTimer);
    clearTimeout(this.lingerTimer);
    for (const stream of this.streams.values()) stream.onClosed(stream.rstCode ?? (err ? H2Error.INTERNAL_ERROR : H2Error.NO_ERROR), true, err);
    this.streams.clear();
    this.onEnded(err);
    this.ready = [];
    for (const [, p] of this.pings) p.cb(Object.assign(new Error("the session was destroyed before the ping was answered"), { code: "ERR_HTTP2_PING_CANCEL" }), 0, Buffer.alloc(8));
    this.pings.clear();
    this.socket.destroy();
    // After the streams' 'close' events and what they set off, as node does (it waits for the socket).
    setImmediate(() => {
      if (err) this.emit("error", err);
      this.emit("close");
    });
  }

  /** Sends a PING; `cb(err, ms, payload)` when its ACK arrives. */
  ping(payload?: Buffer | PingCallback, cb?: PingCallback): boolean {
    if (typeof payload === "function") {
      cb = payload;
      payload = undefined;
    }
    if (this.destroyed) throw Object.assign(new Error("the session has been destroyed"), { code: "ERR_HTTP2_INVALID_SESSION" });
    if (this.pings.size >= 10) throw Object.assign(new Error("too many pings in flight"), { code: "ERR_HTTP2_PING_CANCEL" });
    const data = payload ?? randomPayload();
    if (data.length !== 8) throw Object.assign(new RangeError("a PING payload must be 8 bytes"), { code: "ERR_HTTP2_PING_LENGTH" });
    this.pings.set(data.toString("latin1"), { cb: cb ?? noop, at: performance.now() });
    this.push(pingFrame(data, false));
    return true;
  }

  /** Emits 'timeout' (and calls `cb`) after `ms` without input from the peer; 0 turns it off. */
  setTimeout(ms: number, cb?: () => void): void {
    if (cb) this.once("timeout", cb);
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    if (ms > 0 && !this.destroyed) {
      this.idleTimer = setTimeout(() => this.emit("timeout"), ms);
      this.idleTimer.unref();
    }
  }

  /** Raises the connection's receive window to `size` (a WINDOW_UPDATE for the difference). */
  setLocalWindowSize(size: number): void {
    if (this.destroyed || size <= this.connRecvTarget) return;
    const inc = size - this.connRecvTarget;
    this.connRecvTarget = size;
    this.connRecvWindow += inc;
    this.push(windowUpdateFrame(0, inc));
  }

  // ---- used by streams -------------------------------------------------------------------

  /** @internal header fields for `headers`, or a ready block for a frozen object (encoded once, without the dynamic table) */
  headerBlock(headers: Record<string, unknown>, defaults?: Record<string, unknown>): string[] | Buffer {
    if (defaults === undefined && Object.isFrozen(headers)) {
      let block = frozenBlocks.get(headers);
      if (block === undefined) {
        block = HpackEncoder.encodeStateless(outgoingFields(headers));
        frozenBlocks.set(headers, block);
      }
      return block;
    }
    return outgoingFields(defaults ? { ...defaults, ...headers } : headers);
  }

  /** @internal HEADERS go out at once (they are not flow-controlled); HPACK encodes in sending order */
  sendHeaders(stream: H2Stream, block: string[] | Buffer, endStream: boolean): void {
    // A cached block carries no table size update; one the peer is owed goes in front of it.
    const bytes = Array.isArray(block) ? this.encoder.encode(block) : this.encoder.hasPendingSizeUpdate ? Buffer.concat([this.encoder.encode([]), block]) : block;
    this.push(headerFrames(stream.id, bytes, endStream, this.remoteSettings.maxFrameSize));
    if (endStream) {
      stream.endRequested = true;
      this.afterLocalEnd(stream);
    }
  }

  /** @internal the stream has DATA, END_STREAM or trailers to send */
  scheduleData(stream: H2Stream): void {
    this.requeue(stream);
    this.scheduleFlush();
  }

  /** @internal the application took `n` bytes of the stream's DATA: its window is replenished */
  consumed(stream: H2Stream, n: number): void {
    if (stream.remoteEnded || stream.closed) return;
    stream.consumed += n;
    if (stream.consumed >= this.o.initialWindowSize / 2) {
      stream.recvWindow += stream.consumed;
      this.push(windowUpdateFrame(stream.id, stream.consumed));
      stream.consumed = 0;
    }
  }

  /** @internal RST_STREAM from our side */
  resetStream(stream: H2Stream, code: number): void {
    if (stream.closed) return;
    if (!this.destroyed) this.push(rstStreamFrame(stream.id, code));
    this.rememberReset(stream.id);
    this.closeStream(stream, code, false);
  }

  // ---- input -----------------------------------------------------------------------------

  private onSocketData(chunk: Buffer): void {
    if (this.idleTimer) this.idleTimer.refresh();
    if (this.ending) return;
    const rest = this.beforeFrames(chunk);
    if (rest === undefined || rest.length === 0) return;
    try {
      this.reader.push(rest);
    } catch (err) {
      // A bug of ours must cost this connection, never the process.
      this.connectionError(H2Error.INTERNAL_ERROR, `internal error: ${(err as Error).message}`);
    }
  }

  onOversizedFrame(length: number, type: number): void {
    this.connectionError(H2Error.FRAME_SIZE_ERROR, `frame of type ${type} is ${length} bytes, above SETTINGS_MAX_FRAME_SIZE ${this.reader.maxFrameSize}`);
  }

  onFrame(type: number, flags: number, streamId: number, payload: Buffer): boolean {
    try {
      if (!this.settingsSeen && (type !== FrameType.SETTINGS || (flags & Flag.ACK) !== 0)) {
        throw new H2ProtocolError(H2Error.PROTOCOL_ERROR, "the first frame must be SETTINGS");
      }
      if (this.headerBlockInProgress !== undefined && type !== FrameType.CONTINUATION) {
        throw new H2ProtocolError(H2Error.PROTOCOL_ERROR, `frame of type ${type} inside a header block`);
      }
      switch (type) {
        case FrameType.DATA:
          this.onData(flags, streamId, payload);
          break;
        case FrameType.HEADERS:
          this.onHeaders(flags, streamId, payload);
          break;
        case FrameType.PRIORITY:
          this.onPriority(streamId, payload);
          break;
        case FrameType.RST_STREAM:
          this.onRstStream(streamId, payload);
          break;
        case FrameType.SETTINGS:
          this.onSettings(flags, streamId, payload);
          break;
        case FrameType.PUSH_PROMISE:
          // A client never receives one with SETTINGS_ENABLE_PUSH 0; a server never does at all (8.4).
          throw new H2ProtocolError(H2Error.PROTOCOL_ERROR, "PUSH_PROMISE is not allowed");
        case FrameType.PING:
          this.onPing(flags, streamId, payload);
          break;
        case FrameType.GOAWAY:
          this.onGoaway(streamId, payload);
          break;
        case FrameType.WINDOW_UPDATE:
          this.onWindowUpdate(streamId, payload);
          break;
        case FrameType.CONTINUATION:
          this.onContinuation(flags, streamId, payload);
          break;
        default:
          // 5.5: unknown frame types are ignored (but still count against floods).
          this.spendFloodToken();
      }
    } catch (err) {
      if (err instanceof H2ProtocolError) this.connectionError(err.code, err.message);
      else if (err instanceof HpackError) this.connectionError(H2Error.COMPRESSION_ERROR, err.message);
      else this.connectionError(H2Error.INTERNAL_ERROR, `internal error: ${(err as Error).message}`);
      return false;
    }
    return !this.ending && !this.destroyed;
  }

  private onData(flags: number, streamId: number, payload: Buffer): void {
    if (streamId === 0) throw new H2ProtocolError(H2Error.PROTOCOL_ERROR, "DATA on stream 0");
    const length = payload.length;
    // 6.9.1: the whole payload, padding included, counts against both windows.
    if (length > this.connRecvWindow) throw new H2ProtocolError(H2Error.FLOW_CONTROL_ERROR, "DATA beyond the connection window");
    this.connRecvWindow -= length;
    this.connConsumed += length;
    if (this.connConsumed >= this.connRecvTarget / 2) {
      this.push(windowUpdateFrame(0, this.connConsumed));
      this.connRecvWindow += this.connConsumed;
      this.connConsumed = 0;
    }
    const data = unpad(flags, payload, "DATA");
    const stream = this.streams.get(streamId);
    if (stream === undefined) {
      if (this.isIdle(streamId)) throw new H2ProtocolError(H2Error.PROTOCOL_ERROR, `DATA on idle stream ${streamId}`);
      if (!this.recentResets.has(streamId)) this.sendRst(streamId, H2Error.STREAM_CLOSED);
      return;
    }
    if (stream.remoteEnded) return this.resetStream(stream, H2Error.STREAM_CLOSED);
    if (length > stream.recvWindow) return this.resetStream(stream, H2Error.FLOW_CONTROL_ERROR);
    stream.recvWindow -= length;
    if (length === 0 && (flags & Flag.END_STREAM) === 0) this.spendFloodToken();
    // Padding is consumed at once; only the data waits for the application.
    if (data.length < length) this.consumed(stream, length - data.length);
    stream.received += data.length;
    if (stream.contentLength >= 0 && stream.received > stream.contentLength) return this.resetStream(stream, H2Error.PROTOCOL_ERROR);
    if (data.length > 0) stream.onData(data);
    if ((flags & Flag.END_STREAM) !== 0) {
      if (stream.contentLength >= 0 && stream.received !== stream.contentLength) return this.resetStream(stream, H2Error.PROTOCOL_ERROR);
      this.remoteEnd(stream);
    }
  }

  private onHeaders(flags: number, streamId: number, payload: Buffer): void {
    if (streamId === 0) throw new H2ProtocolError(H2Error.PROTOCOL_ERROR, "HEADERS on stream 0");
    let fragment = unpad(flags, payload, "HEADERS");
    let selfDependent = false;
    if ((flags & Flag.PRIORITY) !== 0) {
      if (fragment.length < 5) throw new H2ProtocolError(H2Error.FRAME_SIZE_ERROR, "HEADERS too short for its priority fields");
      selfDependent = (fragment.readUInt32BE(0) & 0x7fffffff) === streamId;
      fragment = fragment.subarray(5);
    }
    const block: HeaderBlock = { streamId, endStream: (flags & Flag.END_STREAM) !== 0, fragments: [fragment], bytes: fragment.length, frames: 1 };
    if (selfDependent) block.endStream = false;
    if ((flags & Flag.END_HEADERS) === 0) {
      this.headerBlockInProgress = block;
      if (selfDependent) this.selfDependent = streamId;
      return;
    }
    this.completeBlock(block, fragment, selfDependent);
  }

  /** A HEADERS frame whose stream depends on itself (5.3.1): decoded (HPACK state), then reset. */
  private selfDependent = 0;

  private onContinuation(flags: number, streamId: number, payload: Buffer): void {
    const block = this.headerBlockInProgress;
    if (block === undefined) throw new H2ProtocolError(H2Error.PROTOCOL_ERROR, "CONTINUATION without a header block in progress");
    if (streamId !== block.streamId) throw new H2ProtocolError(H2Error.PROTOCOL_ERROR, `CONTINUATION on stream ${streamId} inside the header block of stream ${block.streamId}`);
    block.bytes += payload.length;
    block.frames++;
    if (block.bytes > this.o.maxHeaderBlockBytes || block.frames > this.o.maxContinuationFrames) {
      throw new H2ProtocolError(H2Error.ENHANCE_YOUR_CALM, `header block over the limit (${block.frames} frames, ${block.bytes} bytes)`);
    }
    block.fragments.push(payload);
    if ((flags & Flag.END_HEADERS) === 0) return;
    this.headerBlockInProgress = undefined;
    const selfDependent = this.selfDependent === streamId;
    this.selfDependent = 0;
    this.completeBlock(block, Buffer.concat(block.fragments, block.bytes), selfDependent);
  }

  private completeBlock(block: HeaderBlock, bytes: Buffer, selfDependent: boolean): void {
    // 4.3: every block is decoded, even one about to be refused, to keep HPACK state in step.
    const decoded = this.decoder.decode(bytes);
    if (selfDependent) {
      const stream = this.streams.get(block.streamId);
      if (stream) return this.resetStream(stream, H2Error.PROTOCOL_ERROR);
      return this.sendRst(block.streamId, H2Error.PROTOCOL_ERROR, true);
    }
    this.onHeaderBlock(block, decoded);
  }

  private onPriority(streamId: number, payload: Buffer): void {
    if (streamId === 0) throw new H2ProtocolError(H2Error.PROTOCOL_ERROR, "PRIORITY on stream 0");
    // PRIORITY for streams not yet opened is how some clients build their tree: not a flood.
    if (!this.isIdle(streamId)) this.spendFloodToken();
    if (payload.length !== 5) return this.sendRst(streamId, H2Error.FRAME_SIZE_ERROR, true);
    // 5.3.2: priority signals are ignored, except that self-dependency is still an error.
    if ((payload.readUInt32BE(0) & 0x7fffffff) === streamId) {
      const stream = this.streams.get(streamId);
      if (stream) this.resetStream(stream, H2Error.PROTOCOL_ERROR);
      else this.sendRst(streamId, H2Error.PROTOCOL_ERROR, true);
    }
  }

  private onRstStream(streamId: number, payload: Buffer): void {
    if (streamId === 0) throw new H2ProtocolError(H2Error.PROTOCOL_ERROR, "RST_STREAM on stream 0");
    if (payload.length !== 4) throw new H2ProtocolError(H2Error.FRAME_SIZE_ERROR, "RST_STREAM payload must be 4 bytes");
    if (this.isIdle(streamId)) throw new H2ProtocolError(H2Error.PROTOCOL_ERROR, `RST_STREAM on idle stream ${streamId}`);
    const stream = this.streams.get(streamId);
    if (stream === undefined) return this.spendFloodToken();
    this.onPeerReset(stream);
    this.closeStream(stream, payload.readUInt32BE(0), true);
  }

  /** The peer reset one of the open streams (the server counts these: rapid reset). */
  protected onPeerReset(_stream: H2Stream): void {}

  private onSettings(flags: number, streamId: number, payload: Buffer): void {
    if (streamId !== 0) throw new H2ProtocolError(H2Error.PROTOCOL_ERROR, "SETTINGS on a stream");
    if ((flags & Flag.ACK) !== 0) {
      if (payload.length !== 0) throw new H2ProtocolError(H2Error.FRAME_SIZE_ERROR, "SETTINGS ACK with a payload");
      clearTimeout(this.settingsTimer);
      this.settingsTimer = undefined;
      this.emit("localSettings");
      return;
    }
    if (payload.length % 6 !== 0) throw new H2ProtocolError(H2Error.FRAME_SIZE_ERROR, "SETTINGS payload is not a multiple of 6 bytes");
    if (this.settingsSeen) this.spendFloodToken();
    this.settingsSeen = true;
    const s = this.remoteSettings;
    for (let at = 0; at < payload.length; at += 6) this.applySetting(s, payload.readUInt16BE(at), payload.readUInt32BE(at + 2));
    this.push(SETTINGS_ACK_FRAME);
    this.emit("remoteSettings", s);
  }

  private applySetting(s: PeerSettings, id: number, value: number): void {
    switch (id) {
      case Setting.HEADER_TABLE_SIZE:
        s.headerTableSize = value;
        this.encoder.setPeerMaxTableSize(value);
        break;
      case Setting.ENABLE_PUSH:
        if (value > 1 || (value === 1 && this.isClient)) throw new H2ProtocolError(H2Error.PROTOCOL_ERROR, `SETTINGS_ENABLE_PUSH ${value}`);
        s.enablePush = value === 1;
        break;
      case Setting.MAX_CONCURRENT_STREAMS:
        s.maxConcurrentStreams = value;
        this.onPeerStreamLimit();
        break;
      case Setting.INITIAL_WINDOW_SIZE: {
        if (value > MAX_WINDOW) throw new H2ProtocolError(H2Error.FLOW_CONTROL_ERROR, `SETTINGS_INITIAL_WINDOW_SIZE ${value} above 2^31-1`);
        const delta = value - s.initialWindowSize;
        s.initialWindowSize = value;
        // 6.9.2: the change applies to every open stream's window, which may go negative.
        for (const stream of this.streams.values()) {
          stream.sendWindow += delta;
          if (stream.sendWindow > MAX_WINDOW) throw new H2ProtocolError(H2Error.FLOW_CONTROL_ERROR, `stream ${stream.id} window above 2^31-1`);
          if (delta > 0 && stream.queuedBytes > 0) this.scheduleData(stream);
        }
        break;
      }
      case Setting.MAX_FRAME_SIZE:
        if (value < MIN_MAX_FRAME_SIZE || value > MAX_MAX_FRAME_SIZE) throw new H2ProtocolError(H2Error.PROTOCOL_ERROR, `SETTINGS_MAX_FRAME_SIZE ${value} out of range`);
        s.maxFrameSize = value;
        break;
      case Setting.MAX_HEADER_LIST_SIZE:
        s.maxHeaderListSize = value;
        break;
      case Setting.ENABLE_CONNECT_PROTOCOL:
        if (value > 1) throw new H2ProtocolError(H2Error.PROTOCOL_ERROR, `SETTINGS_ENABLE_CONNECT_PROTOCOL ${value}`);
        break;
      default:
      // 6.5.2: unknown settings are ignored.
    }
  }

  /** The peer changed SETTINGS_MAX_CONCURRENT_STREAMS (the client may start queued requests). */
  protected onPeerStreamLimit(): void {}

  private onPing(flags: number, streamId: number, payload: Buffer): void {
    if (streamId !== 0) throw new H2ProtocolError(H2Error.PROTOCOL_ERROR, "PING on a stream");
    if (payload.length !== 8) throw new H2ProtocolError(H2Error.FRAME_SIZE_ERROR, "PING payload must be 8 bytes");
    if ((flags & Flag.ACK) !== 0) {
      const key = payload.toString("latin1");
      const p = this.pings.get(key);
      if (p) {
        this.pings.delete(key);
        p.cb(null, performance.now() - p.at, Buffer.from(payload));
      }
      return;
    }
    this.spendFloodToken();
    if (this.ending) return;
    // The ACK goes out before the application hears of the ping (a policy GOAWAY follows it).
    this.push(pingFrame(payload, true));
    this.emit("ping", Buffer.from(payload));
  }

  private onGoaway(streamId: number, payload: Buffer): void {
    if (streamId !== 0) throw new H2ProtocolError(H2Error.PROTOCOL_ERROR, "GOAWAY on a stream");
    if (payload.length < 8) throw new H2ProtocolError(H2Error.FRAME_SIZE_ERROR, "GOAWAY payload shorter than 8 bytes");
    const last = payload.readUInt32BE(0) & 0x7fffffff;
    const code = payload.readUInt32BE(4);
    this.closed = true;
    this.onPeerGoaway(code, last);
    this.emit("goaway", code, last, Buffer.from(payload.subarray(8)));
    // The peer opens nothing more: what runs finishes, then the connection closes.
    this.maybeFinish();
  }

  private onWindowUpdate(streamId: number, payload: Buffer): void {
    if (payload.length !== 4) throw new H2ProtocolError(H2Error.FRAME_SIZE_ERROR, "WINDOW_UPDATE payload must be 4 bytes");
    const inc = payload.readUInt32BE(0) & 0x7fffffff;
    if (streamId === 0) {
      if (inc === 0) throw new H2ProtocolError(H2Error.PROTOCOL_ERROR, "WINDOW_UPDATE with increment 0 on the connection");
      this.connSendWindow += inc;
      if (this.connSendWindow > MAX_WINDOW) throw new H2ProtocolError(H2Error.FLOW_CONTROL_ERROR, "connection window above 2^31-1");
      if (this.ready.length > 0) this.scheduleFlush();
      return;
    }
    const stream = this.streams.get(streamId);
    if (stream === undefined) {
      if (this.isIdle(streamId)) throw new H2ProtocolError(H2Error.PROTOCOL_ERROR, `WINDOW_UPDATE on idle stream ${streamId}`);
      return this.spendFloodToken();
    }
    if (inc === 0) return this.resetStream(stream, H2Error.PROTOCOL_ERROR);
    stream.sendWindow += inc;
    if (stream.sendWindow > MAX_WINDOW) return this.resetStream(stream, H2Error.FLOW_CONTROL_ERROR);
    if (stream.queuedBytes > 0 || stream.endRequested) this.scheduleData(stream);
  }

  // ---- stream lifecycle ------------------------------------------------------------------

  protected addStream(stream: H2Stream): void {
    this.streams.set(stream.id, stream);
  }

  protected remoteEnd(stream: H2Stream): void {
    stream.onRemoteEnd();
    if (stream.localEnded && !stream.closed) this.closeStream(stream, H2Error.NO_ERROR, false);
  }

  private afterLocalEnd(stream: H2Stream): void {
    stream.localEnded = true;
    // After this flush's frames are queued: a 'finish' listener may reset the stream.
    process.nextTick(emitFinish, stream);
    if (stream.remoteEnded) this.closeStream(stream, H2Error.NO_ERROR, false);
  }

  /** @internal a stream's 'close' event has been emitted */
  closeEmitted(_stream: H2Stream): void {}

  protected closeStream(stream: H2Stream, code: number, byPeer: boolean, error?: Error): void {
    if (stream.closed) return;
    this.streams.delete(stream.id);
    stream.onClosed(code, byPeer && code !== H2Error.NO_ERROR, error);
    this.onStreamClosed(stream);
    if (this.closed) this.maybeFinish();
  }

  /** The connection is over (destroyed): what never opened must end too. */
  protected onEnded(_err?: Error): void {}

  /** A stream left the open set (the client starts a queued request). */
  protected onStreamClosed(_stream: H2Stream): void {}

  protected sendRst(streamId: number, code: number, remember = false): void {
    this.push(rstStreamFrame(streamId, code));
    if (remember) this.rememberReset(streamId);
  }

  private rememberReset(id: number): void {
    this.recentResets.add(id);
  }

  /** A connection error (5.4.1): GOAWAY with `code`, then the connection ends. */
  protected connectionError(code: number, message: string): void {
    if (this.destroyed || this.ending) return;
    this.sendGoaway(code, undefined, Buffer.from(message.slice(0, 256)));
    this.emit("connectionError", Object.assign(new Error(`${errorName(code)}: ${message}`), { code: "ERR_SB_H2_PROTOCOL", h2Code: code }));
    this.endAfterGoaway(H2Error.CANCEL);
  }

  protected sendGoaway(code: number, lastStreamId?: number, debug?: Uint8Array): void {
    const last = lastStreamId ?? this.lastProcessedId;
    this.goawaySent = true;
    this.goawayLastId = Math.min(this.goawayLastId, last);
    this.push(goawayFrame(last, code, debug));
  }

  /** After an error GOAWAY: no more input, streams end, the socket closes once the GOAWAY is out. */
  private endAfterGoaway(streamCode: number): void {
    if (this.ending) return;
    this.ending = true;
    this.closed = true;
    this.reader.stopped = true;
    this.headerBlockInProgress = undefined;
    const lost = Object.assign(new Error("the connection ended with an error GOAWAY"), { code: "ERR_HTTP2_SESSION_ERROR" });
    for (const stream of [...this.streams.values()]) this.closeStream(stream, streamCode, true, lost);
    this.finish();
  }

  /** After a graceful GOAWAY (ours or the peer's): end once the last stream is done. */
  protected maybeFinish(): void {
    if (this.destroyed || !this.closed) return;
    if (this.streams.size === 0) this.finish();
  }

  /** Flushes what is queued, ends our side of the socket, and destroys it if the peer lingers. */
  private finish(): void {
    if (this.destroyed || this.lingerTimer) return;
    this.flush();
    this.socket.end();
    this.lingerTimer = setTimeout(() => this.destroy(), LINGER_MS);
    this.lingerTimer.unref();
  }

  // ---- output ----------------------------------------------------------------------------

  /** Our SETTINGS (the connection preface's second half) and the connection window. */
  protected sendSettings(): void {
    const o = this.o;
    const entries: [number, number][] = [...this.extraSettings(), [Setting.MAX_HEADER_LIST_SIZE, o.maxHeaderListSize]];
    if (o.initialWindowSize !== DEFAULT_WINDOW) entries.push([Setting.INITIAL_WINDOW_SIZE, o.initialWindowSize]);
    if (o.maxFrameSize !== MIN_MAX_FRAME_SIZE) entries.push([Setting.MAX_FRAME_SIZE, o.maxFrameSize]);
    this.push(settingsFrame(entries));
    if (o.connectionWindowSize > DEFAULT_WINDOW) this.setLocalWindowSize(o.connectionWindowSize);
    this.settingsTimer = setTimeout(() => this.connectionError(H2Error.SETTINGS_TIMEOUT, "SETTINGS not acknowledged in time"), o.settingsTimeoutMs);
    this.settingsTimer.unref();
  }

  protected push(buf: Buffer): void {
    this.out.push(buf);
    this.outBytes += buf.length;
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.destroyed) return;
    this.flushScheduled = true;
    setImmediate(flushConnection, this);
  }

  /** @internal DATA for the streams that have some (within the windows), then one socket write. */
  flush(): void {
    this.flushScheduled = false;
    if (this.destroyed) return;
    if (this.ready.length > 0) this.runScheduler();
    const bufs = this.out;
    if (bufs.length === 0) return;
    const total = this.outBytes;
    this.out = [];
    this.outBytes = 0;
    const socket = this.socket;
    if (socket.destroyed || !socket.writable) return;
    let ok: boolean;
    if (bufs.length === 1) ok = socket.write(bufs[0]!);
    else if (total <= 64 * 1024) ok = socket.write(Buffer.concat(bufs, total));
    else {
      socket.cork();
      for (let i = 0; i < bufs.length - 1; i++) socket.write(bufs[i]!);
      ok = socket.write(bufs[bufs.length - 1]!);
      socket.uncork();
    }
    if (!ok) {
      this.socketBlocked = true;
      // A peer that sends but never reads fills our queue with ACKs and resets: cut it off.
      if (socket.writableLength > MAX_QUEUED_CONTROL_BYTES + this.o.maxQueuedDataBytes) this.destroy(undefined, H2Error.ENHANCE_YOUR_CALM);
    }
  }

  /** Moves queued DATA into frames, one frame per stream per round, while the windows allow. */
  private runScheduler(): void {
    const maxFrame = this.remoteSettings.maxFrameSize;
    let progress = true;
    while (progress && this.ready.length > 0) {
      progress = false;
      const round = this.ready;
      this.ready = [];
      for (const stream of round) {
        stream.scheduled = false;
        if (stream.closed) continue;
        if (stream.queuedBytes > 0) {
          if (this.socketBlocked || this.connSendWindow <= 0) {
            // The socket's 'drain' or a connection WINDOW_UPDATE schedules another flush.
            this.requeue(stream);
            continue;
          }
          // Without stream window it waits for that stream's WINDOW_UPDATE, out of the list.
          if (stream.sendWindow <= 0) continue;
          const n = Math.min(stream.queuedBytes, stream.sendWindow, this.connSendWindow, maxFrame);
          const last = n === stream.queuedBytes && stream.endRequested && stream.trailers === undefined && !stream.waitForTrailers;
          this.emitData(stream, n, last);
          progress = true;
          if (last) {
            this.afterLocalEnd(stream);
            continue;
          }
        }
        if (stream.queuedBytes === 0) {
          stream.maybeDrain();
          if (stream.closed || stream.localEnded || !stream.endRequested || stream.queuedBytes > 0) {
            if (stream.queuedBytes > 0) this.requeue(stream);
            continue;
          }
          if (stream.trailers === undefined && stream.wantsTrailers()) continue; // sendTrailers() schedules it again
          if (stream.closed || stream.localEnded) continue;
          if (stream.trailers !== undefined) {
            const t = stream.trailers;
            stream.trailers = undefined;
            this.sendHeaders(stream, t, true);
          } else {
            this.out.push(frameHeader(0, FrameType.DATA, Flag.END_STREAM, stream.id));
            this.outBytes += 9;
            this.afterLocalEnd(stream);
          }
          progress = true;
          continue;
        }
        this.requeue(stream);
      }
    }
  }

  private requeue(stream: H2Stream): void {
    if (!stream.scheduled) {
      stream.scheduled = true;
      this.ready.push(stream);
    }
  }

  private emitData(stream: H2Stream, n: number, endStream: boolean): void {
    this.out.push(frameHeader(n, FrameType.DATA, endStream ? Flag.END_STREAM : 0, stream.id));
    this.outBytes += 9 + n;
    stream.sendWindow -= n;
    this.connSendWindow -= n;
    stream.queuedBytes -= n;
    let left = n;
    while (left > 0) {
      const head = stream.queue[0]!;
      const avail = head.length - stream.queueOffset;
      if (avail <= left) {
        this.out.push(stream.queueOffset === 0 ? head : head.subarray(stream.queueOffset));
        stream.queue.shift();
        stream.queueOffset = 0;
        left -= avail;
      } else {
        this.out.push(head.subarray(stream.queueOffset, stream.queueOffset + left));
        stream.queueOffset += left;
        left = 0;
      }
    }
  }

  /** Frames that cost us work without moving a call forward share one budget (CVE-2019-9512/9515/9518). */
  protected spendFloodToken(): void {
    if (!this.flood.take()) throw new H2ProtocolError(H2Error.ENHANCE_YOUR_CALM, "flood of control frames");
  }
}

const frozenBlocks = new WeakMap<object, Buffer>();

function flushConnection(c: H2Connection): void {
  c.flush();
}

/** The payload of a DATA or HEADERS frame without its padding (6.1, 6.2). */
function unpad(flags: number, payload: Buffer, what: string): Buffer {
  if ((flags & Flag.PADDED) === 0) return payload;
  if (payload.length < 1) throw new H2ProtocolError(H2Error.FRAME_SIZE_ERROR, `padded ${what} without a pad length`);
  const pad = payload[0]!;
  if (pad >= payload.length) throw new H2ProtocolError(H2Error.PROTOCOL_ERROR, `${what} padding of ${pad} bytes is not shorter than the payload`);
  return payload.subarray(1, payload.length - pad);
}

function randomPayload(): Buffer {
  const b = Buffer.allocUnsafe(8);
  b.writeDoubleBE(Math.random());
  return b;
}

function noop(): void {}

function emitFinish(stream: H2Stream): void {
  stream.emit("finish");
}
