// One HTTP/2 connection, server side (RFC 9113): the preface, SETTINGS with their ACK timeout,
// frame validation with the RFC's connection and stream errors, HPACK, stream states, flow
// control both ways with fair scheduling of blocked streams, PING, two-phase GOAWAY, and the
// protections a server needs against abusive peers. Every frame this side produces in one
// event-loop turn leaves in one socket write. The API is the subset of node:http2's
// ServerHttp2Session the gRPC layer uses, so both engines sit behind one interface.
import { EventEmitter } from "node:events";
import type { Duplex } from "node:stream";
import {
  CLIENT_PREFACE,
  DEFAULT_WINDOW,
  errorName,
  Flag,
  FrameType,
  H2Error,
  MAX_MAX_FRAME_SIZE,
  MAX_STREAM_ID,
  MAX_WINDOW,
  MIN_MAX_FRAME_SIZE,
  Setting,
} from "./constants.js";
import { outgoingFields, requestFields, trailerFields } from "./fields.js";
import { frameHeader, goawayFrame, headerFrames, pingFrame, rstStreamFrame, SETTINGS_ACK_FRAME, settingsFrame, windowUpdateFrame } from "./frames.js";
import { HpackDecoder, HpackEncoder, HpackError } from "./hpack/index.js";
import { FrameReader, type FrameSink } from "./reader.js";
import { H2ServerStream } from "./stream.js";
import { H2ProtocolError, type H2SessionOptions, type PeerSettings } from "./options.js";

/** Control frames queued for a peer that does not read before we give up on it. */
const MAX_QUEUED_CONTROL_BYTES = 1024 * 1024;
/** Streams we reset whose late frames are ignored rather than treated as errors. */
const RECENT_RESETS = 1024;
/** How long the first (2^31-1) GOAWAY of a graceful close waits for the PING that ends phase one. */
const GOAWAY_PHASE_MS = 1000;
/** After an error GOAWAY, how long the peer gets to read it before the socket is destroyed. */
const GOAWAY_LINGER_MS = 1000;

type HeaderBlock = { streamId: number; endStream: boolean; fragments: Buffer[]; bytes: number; frames: number; trailers: boolean };

export class H2ServerSession extends EventEmitter implements FrameSink {
  closed = false;
  destroyed = false;
  readonly encrypted: boolean;
  readonly alpnProtocol: string | undefined;
  /** The peer's settings (defaults until its SETTINGS frame arrives). */
  readonly remoteSettings: PeerSettings = { headerTableSize: 4096, enablePush: true, maxConcurrentStreams: Infinity, initialWindowSize: DEFAULT_WINDOW, maxFrameSize: MIN_MAX_FRAME_SIZE, maxHeaderListSize: Infinity };

  private readonly streams = new Map<number, H2ServerStream>();
  /** Streams opened whose 'close' event has not been emitted yet. */
  private liveStreams = 0;
  private readonly reader: FrameReader;
  private readonly decoder: HpackDecoder;
  private readonly encoder = new HpackEncoder();
  private prefaceSeen = 0;
  private settingsSeen = false;
  private settingsTimer: NodeJS.Timeout | undefined;
  /** Highest stream id the peer opened (5.1.1: new ids must be larger). */
  private highestId = 0;
  /** Highest stream id we handed to the application (GOAWAY's last-stream-id). */
  private lastProcessedId = 0;
  private goawayLastId = MAX_STREAM_ID;
  private goawaySent = false;
  private ending = false;
  private headerBlock: HeaderBlock | undefined;
  private readonly recentResets = new Set<number>();

  private connRecvWindow = DEFAULT_WINDOW;
  private connRecvTarget = DEFAULT_WINDOW;
  private connConsumed = 0;
  private connSendWindow = DEFAULT_WINDOW;

  private out: Buffer[] = [];
  private outBytes = 0;
  private flushScheduled = false;
  private socketBlocked = false;
  private ready: H2ServerStream[] = [];

  private readonly pings = new Map<string, { cb: (err: Error | null, ms: number, payload: Buffer) => void; at: number }>();
  private floodTokens: number;
  private floodRefillAt = performance.now();
  private resetTokens: number;
  private resetRefillAt = performance.now();
  private timeoutMs = 0;
  private idleTimer: NodeJS.Timeout | undefined;
  private lingerTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly socket: Duplex,
    private readonly o: H2SessionOptions,
  ) {
    super();
    const tls = socket as Duplex & { encrypted?: boolean; alpnProtocol?: string | false };
    this.encrypted = tls.encrypted === true;
    this.alpnProtocol = this.encrypted ? (tls.alpnProtocol || undefined) : "h2c";
    this.reader = new FrameReader(this, o.maxFrameSize);
    this.decoder = new HpackDecoder({ maxHeaderListSize: o.maxHeaderListSize * 2 + 4096, maxFields: o.maxHeaderListPairs });
    this.floodTokens = o.floodBurst;
    this.resetTokens = o.resetBurst;
    socket.on("data", (chunk: Buffer) => this.onSocketData(chunk));
    socket.on("error", (err: Error) => this.destroy(err));
    socket.on("close", () => this.destroy());
    socket.on("end", () => this.onSocketEnd());
    socket.on("drain", () => {
      this.socketBlocked = false;
      this.scheduleFlush();
    });
    this.sendSettings();
  }

  /** Open streams (node's session.state has more; this is what the server reads). */
  get streamCount(): number {
    return this.streams.size;
  }

  // ---- node:http2 session API ------------------------------------------------------------

  /** Graceful close: GOAWAY in two phases (RFC 9113 6.8), then the socket ends when the last stream does. */
  close(cb?: () => void): void {
    if (cb) this.once("close", cb);
    if (this.closed || this.destroyed) return;
    this.closed = true;
    if (this.goawaySent) return this.maybeFinish();
    this.push(goawayFrame(MAX_STREAM_ID, H2Error.NO_ERROR));
    const phaseTwo = () => {
      if (this.destroyed) return;
      clearTimeout(timer);
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

  /** Sends GOAWAY (node's session.goaway); with an error code the connection then ends. */
  goaway(code: number = H2Error.NO_ERROR, lastStreamId?: number, debug?: Uint8Array): void {
    if (this.destroyed) return;
    this.sendGoaway(code, lastStreamId, debug);
    if (code !== H2Error.NO_ERROR) this.endAfterGoaway();
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
    for (const stream of this.streams.values()) stream.onClosed(stream.rstCode ?? (err ? H2Error.INTERNAL_ERROR : H2Error.NO_ERROR), true);
    this.streams.clear();
    this.ready = [];
    for (const [, p] of this.pings) p.cb(new Error("the session was destroyed before the ping was answered"), 0, Buffer.alloc(8));
    this.pings.clear();
    this.socket.destroy();
    process.nextTick(() => {
      if (err) this.emit("error", err);
      this.emit("close");
    });
  }

  /** Sends a PING; `cb(err, ms, payload)` when its ACK arrives. */
  ping(payload?: Buffer | ((err: Error | null, ms: number, payload: Buffer) => void), cb?: (err: Error | null, ms: number, payload: Buffer) => void): boolean {
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

  /** Calls `cb` (and emits 'timeout') after `ms` without input from the peer; 0 turns it off. */
  setTimeout(ms: number, cb?: () => void): void {
    if (cb) this.once("timeout", cb);
    this.timeoutMs = ms;
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    if (ms > 0 && !this.destroyed) {
      this.idleTimer = setTimeout(() => this.emit("timeout"), ms);
      this.idleTimer.unref();
    }
  }

  /** Raises the connection's receive window to `size` (a WINDOW_UPDATE for the difference). */
  setLocalWindowSize(size: number): void {
    if (this.destroyed) return;
    if (size > this.connRecvTarget) {
      const inc = size - this.connRecvTarget;
      this.connRecvTarget = size;
      this.connRecvWindow += inc;
      this.push(windowUpdateFrame(0, inc));
    }
  }

  // ---- used by streams -------------------------------------------------------------------

  /** @internal a header block for `headers`; frozen objects are encoded once, without the dynamic table */
  encodeHeaders(headers: Record<string, unknown>, defaults?: Record<string, unknown>): string[] | Buffer {
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

  /** @internal response headers go out at once (they are not flow-controlled) */
  sendHeaders(stream: H2ServerStream, block: string[] | Buffer, endStream: boolean): void {
    const bytes = Array.isArray(block) ? this.encoder.encode(block) : block;
    this.push(headerFrames(stream.id, bytes, endStream, this.remoteSettings.maxFrameSize));
    if (endStream) this.afterLocalEnd(stream);
  }

  /** @internal the stream has DATA, END_STREAM or trailers to send */
  scheduleData(stream: H2ServerStream): void {
    if (!stream.scheduled) {
      stream.scheduled = true;
      this.ready.push(stream);
    }
    this.scheduleFlush();
  }

  /** @internal the application took `n` bytes of the stream's DATA: its window is replenished */
  consumed(stream: H2ServerStream, n: number): void {
    if (stream.remoteEnded || stream.closed) return;
    stream.consumed += n;
    if (stream.consumed >= this.o.initialWindowSize / 2) {
      stream.recvWindow += stream.consumed;
      this.push(windowUpdateFrame(stream.id, stream.consumed));
      stream.consumed = 0;
    }
  }

  /** @internal RST_STREAM from our side */
  resetStream(stream: H2ServerStream, code: number): void {
    if (stream.closed) return;
    if (!this.destroyed) this.push(rstStreamFrame(stream.id, code));
    this.rememberReset(stream.id);
    this.closeStream(stream, code, false);
  }

  // ---- input -----------------------------------------------------------------------------

  private onSocketData(chunk: Buffer): void {
    if (this.idleTimer) this.idleTimer.refresh();
    if (this.ending) return;
    if (this.prefaceSeen < CLIENT_PREFACE.length) {
      const need = CLIENT_PREFACE.length - this.prefaceSeen;
      const part = chunk.subarray(0, need);
      if (!part.equals(CLIENT_PREFACE.subarray(this.prefaceSeen, this.prefaceSeen + part.length))) {
        return this.connectionError(H2Error.PROTOCOL_ERROR, "invalid connection preface");
      }
      this.prefaceSeen += part.length;
      if (chunk.length <= need) return;
      chunk = chunk.subarray(need);
    }
    try {
      this.reader.push(chunk);
    } catch (err) {
      // A bug of ours must cost this connection, never the process.
      this.connectionError(H2Error.INTERNAL_ERROR, `internal error: ${(err as Error).message}`);
    }
  }

  private onSocketEnd(): void {
    // HTTP/2 has no use for a half-closed TCP connection: a peer that ends its side is gone
    // (node:http2 does the same), and calls waiting on it must not wait forever.
    this.flush();
    this.destroy();
  }

  onOversizedFrame(length: number, type: number): void {
    this.connectionError(H2Error.FRAME_SIZE_ERROR, `frame of type ${type} is ${length} bytes, above SETTINGS_MAX_FRAME_SIZE ${this.reader.maxFrameSize}`);
  }

  onFrame(type: number, flags: number, streamId: number, payload: Buffer): boolean {
    try {
      if (!this.settingsSeen) {
        if (type !== FrameType.SETTINGS || (flags & Flag.ACK) !== 0) throw new H2ProtocolError(H2Error.PROTOCOL_ERROR, "the first frame must be SETTINGS");
      }
      if (this.headerBlock !== undefined && type !== FrameType.CONTINUATION) {
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
          throw new H2ProtocolError(H2Error.PROTOCOL_ERROR, "PUSH_PROMISE from a client");
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
      if (streamId > this.highestId) throw new H2ProtocolError(H2Error.PROTOCOL_ERROR, `DATA on idle stream ${streamId}`);
      if (!this.recentResets.has(streamId)) this.sendRst(streamId, H2Error.STREAM_CLOSED);
      return;
    }
    if (stream.remoteEnded) return this.streamError(stream, H2Error.STREAM_CLOSED);
    if (length > stream.recvWindow) return this.streamError(stream, H2Error.FLOW_CONTROL_ERROR);
    stream.recvWindow -= length;
    if (length === 0 && (flags & Flag.END_STREAM) === 0) this.spendFloodToken();
    // Padding is consumed at once; only the data waits for the application.
    if (data.length < length) this.consumed(stream, length - data.length);
    stream.received += data.length;
    if (stream.contentLength >= 0 && stream.received > stream.contentLength) return this.streamError(stream, H2Error.PROTOCOL_ERROR);
    if (data.length > 0) stream.onData(data);
    if ((flags & Flag.END_STREAM) !== 0) {
      if (stream.contentLength >= 0 && stream.received !== stream.contentLength) return this.streamError(stream, H2Error.PROTOCOL_ERROR);
      this.remoteEnd(stream);
    }
  }

  private onHeaders(flags: number, streamId: number, payload: Buffer): void {
    if (streamId === 0) throw new H2ProtocolError(H2Error.PROTOCOL_ERROR, "HEADERS on stream 0");
    let fragment = unpad(flags, payload, "HEADERS");
    if ((flags & Flag.PRIORITY) !== 0) {
      if (fragment.length < 5) throw new H2ProtocolError(H2Error.FRAME_SIZE_ERROR, "HEADERS too short for its priority fields");
      const dependency = fragment.readUInt32BE(0) & 0x7fffffff;
      fragment = fragment.subarray(5);
      if (dependency === streamId) {
        // 5.3.1: a stream cannot depend on itself. The block is still decoded to keep HPACK in step.
        this.decodeBlock(fragment, flags, streamId);
        return this.sendRst(streamId, H2Error.PROTOCOL_ERROR, true);
      }
    }
    const block: HeaderBlock = { streamId, endStream: (flags & Flag.END_STREAM) !== 0, fragments: [fragment], bytes: fragment.length, frames: 1, trailers: false };
    if ((flags & Flag.END_HEADERS) !== 0) return this.onHeaderBlock(block, fragment);
    this.headerBlock = block;
  }

  private onContinuation(flags: number, streamId: number, payload: Buffer): void {
    const block = this.headerBlock;
    if (block === undefined) throw new H2ProtocolError(H2Error.PROTOCOL_ERROR, "CONTINUATION without a header block in progress");
    if (streamId !== block.streamId) throw new H2ProtocolError(H2Error.PROTOCOL_ERROR, `CONTINUATION on stream ${streamId} inside the header block of stream ${block.streamId}`);
    block.bytes += payload.length;
    block.frames++;
    if (block.bytes > this.o.maxHeaderBlockBytes || block.frames > this.o.maxContinuationFrames) {
      throw new H2ProtocolError(H2Error.ENHANCE_YOUR_CALM, `header block over the limit (${block.frames} frames, ${block.bytes} bytes)`);
    }
    block.fragments.push(payload);
    if ((flags & Flag.END_HEADERS) === 0) return;
    this.headerBlock = undefined;
    this.onHeaderBlock(block, block.fragments.length === 1 ? block.fragments[0]! : Buffer.concat(block.fragments, block.bytes));
  }

  /** Decodes a whole header block; a decoding error is a connection error COMPRESSION_ERROR (4.3). */
  private decodeBlock(bytes: Buffer, _flags: number, _streamId: number) {
    return this.decoder.decode(bytes);
  }

  private onHeaderBlock(block: HeaderBlock, bytes: Buffer): void {
    const id = block.streamId;
    const decoded = this.decodeBlock(bytes, 0, id);
    const existing = this.streams.get(id);
    if (existing !== undefined) return this.onTrailers(existing, block, decoded.fields, decoded.tooLarge);
    if (id <= this.highestId) {
      if (this.recentResets.has(id)) return;
      throw new H2ProtocolError(H2Error.STREAM_CLOSED, `HEADERS on closed stream ${id}`);
    }
    if ((id & 1) === 0) throw new H2ProtocolError(H2Error.PROTOCOL_ERROR, `client stream ${id} has an even identifier`);
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
      this.emit("frameError", FrameType.HEADERS, H2Error.PROTOCOL_ERROR, id, checked);
      return this.sendRst(id, H2Error.PROTOCOL_ERROR, true);
    }
    const stream = new H2ServerStream(id, this, this.o.initialWindowSize, this.remoteSettings.initialWindowSize);
    stream.contentLength = checked.contentLength;
    this.streams.set(id, stream);
    this.liveStreams++;
    stream.once("close", () => this.liveStreams--);
    this.lastProcessedId = id;
    const flags = block.endStream ? Flag.END_STREAM | Flag.END_HEADERS : Flag.END_HEADERS;
    if (block.endStream && checked.contentLength > 0) {
      this.emit("stream", stream, checked.headers, flags, decoded.fields);
      return this.streamError(stream, H2Error.PROTOCOL_ERROR);
    }
    this.emit("stream", stream, checked.headers, flags, decoded.fields);
    if (block.endStream && !stream.closed) this.remoteEnd(stream);
  }

  private onTrailers(stream: H2ServerStream, block: HeaderBlock, fields: string[], tooLarge: boolean): void {
    if (stream.remoteEnded) return this.streamError(stream, H2Error.STREAM_CLOSED);
    // 8.1: a second header block must be trailers, and trailers end the stream.
    if (!block.endStream) return this.streamError(stream, H2Error.PROTOCOL_ERROR);
    if (tooLarge) return this.streamError(stream, H2Error.ENHANCE_YOUR_CALM);
    const checked = trailerFields(fields);
    if (typeof checked === "string") return this.streamError(stream, H2Error.PROTOCOL_ERROR);
    if (stream.contentLength >= 0 && stream.received !== stream.contentLength) return this.streamError(stream, H2Error.PROTOCOL_ERROR);
    stream.emit("trailers", checked, Flag.END_STREAM | Flag.END_HEADERS);
    this.remoteEnd(stream);
  }

  private onPriority(streamId: number, payload: Buffer): void {
    if (streamId === 0) throw new H2ProtocolError(H2Error.PROTOCOL_ERROR, "PRIORITY on stream 0");
    // PRIORITY for streams not yet opened is how some clients build their tree: not a flood.
    if (streamId <= this.highestId) this.spendFloodToken();
    if (payload.length !== 5) return this.sendRst(streamId, H2Error.FRAME_SIZE_ERROR, true);
    // 9113 5.3.2: priority signals are ignored, except that self-dependency is still an error.
    if ((payload.readUInt32BE(0) & 0x7fffffff) === streamId) {
      const stream = this.streams.get(streamId);
      if (stream) this.streamError(stream, H2Error.PROTOCOL_ERROR);
      else this.sendRst(streamId, H2Error.PROTOCOL_ERROR, true);
    }
  }

  private onRstStream(streamId: number, payload: Buffer): void {
    if (streamId === 0) throw new H2ProtocolError(H2Error.PROTOCOL_ERROR, "RST_STREAM on stream 0");
    if (payload.length !== 4) throw new H2ProtocolError(H2Error.FRAME_SIZE_ERROR, "RST_STREAM payload must be 4 bytes");
    if (streamId > this.highestId) throw new H2ProtocolError(H2Error.PROTOCOL_ERROR, `RST_STREAM on idle stream ${streamId}`);
    const stream = this.streams.get(streamId);
    if (stream === undefined) return this.spendFloodToken();
    // Counted as it is read, not when the application hears of it: a burst of HEADERS+RST pairs
    // in one read must not open more streams than the budget allows (rapid reset).
    if (!stream.localEnded) this.spendResetToken();
    this.closeStream(stream, payload.readUInt32BE(0), true);
  }

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
    for (let at = 0; at < payload.length; at += 6) {
      const id = payload.readUInt16BE(at);
      const value = payload.readUInt32BE(at + 2);
      switch (id) {
        case Setting.HEADER_TABLE_SIZE:
          s.headerTableSize = value;
          this.encoder.setPeerMaxTableSize(value);
          break;
        case Setting.ENABLE_PUSH:
          if (value > 1) throw new H2ProtocolError(H2Error.PROTOCOL_ERROR, `SETTINGS_ENABLE_PUSH ${value}`);
          s.enablePush = value === 1;
          break;
        case Setting.MAX_CONCURRENT_STREAMS:
          s.maxConcurrentStreams = value;
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
    this.push(SETTINGS_ACK_FRAME);
    this.emit("remoteSettings", s);
  }

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
    this.emit("goaway", code, last, Buffer.from(payload.subarray(8)));
    // The client opens nothing more: we finish what runs and close.
    this.closed = true;
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
      if (streamId > this.highestId) throw new H2ProtocolError(H2Error.PROTOCOL_ERROR, `WINDOW_UPDATE on idle stream ${streamId}`);
      return this.spendFloodToken();
    }
    if (inc === 0) return this.streamError(stream, H2Error.PROTOCOL_ERROR);
    stream.sendWindow += inc;
    if (stream.sendWindow > MAX_WINDOW) return this.streamError(stream, H2Error.FLOW_CONTROL_ERROR);
    if (stream.queuedBytes > 0 || stream.endRequested) this.scheduleData(stream);
  }

  // ---- stream lifecycle ------------------------------------------------------------------

  private remoteEnd(stream: H2ServerStream): void {
    stream.onRemoteEnd();
    if (stream.localEnded && !stream.closed && stream.queuedBytes === 0) this.closeStream(stream, H2Error.NO_ERROR, false);
  }

  private afterLocalEnd(stream: H2ServerStream): void {
    stream.onLocalEnd();
    if (stream.remoteEnded) this.closeStream(stream, H2Error.NO_ERROR, false);
  }

  private closeStream(stream: H2ServerStream, code: number, byPeer: boolean): void {
    if (stream.closed) return;
    this.streams.delete(stream.id);
    stream.onClosed(code, byPeer && code !== H2Error.NO_ERROR);
    if (this.closed) this.maybeFinish();
  }

  /** A stream error (5.4.2): RST_STREAM with `code`; the connection goes on. */
  private streamError(stream: H2ServerStream, code: number): void {
    this.resetStream(stream, code);
  }

  private sendRst(streamId: number, code: number, remember = false): void {
    this.push(rstStreamFrame(streamId, code));
    if (remember) this.rememberReset(streamId);
  }

  private rememberReset(id: number): void {
    this.recentResets.add(id);
    if (this.recentResets.size > RECENT_RESETS) this.recentResets.delete(this.recentResets.values().next().value!);
  }

  /** A connection error (5.4.1): GOAWAY with `code`, then the connection ends. */
  private connectionError(code: number, message: string): void {
    if (this.destroyed || this.ending) return;
    this.sendGoaway(code, undefined, Buffer.from(message.slice(0, 256)));
    this.emit("connectionError", Object.assign(new Error(`${errorName(code)}: ${message}`), { code: "ERR_SB_H2_PROTOCOL", h2Code: code }));
    this.endAfterGoaway();
  }

  private sendGoaway(code: number, lastStreamId?: number, debug?: Uint8Array): void {
    const last = lastStreamId ?? this.lastProcessedId;
    this.goawaySent = true;
    this.goawayLastId = Math.min(this.goawayLastId, last);
    this.push(goawayFrame(last, code, debug));
  }

  /** After an error GOAWAY: no more input, streams end, the socket closes once the GOAWAY is out. */
  private endAfterGoaway(): void {
    if (this.ending) return;
    this.ending = true;
    this.closed = true;
    this.reader.stopped = true;
    this.headerBlock = undefined;
    for (const stream of [...this.streams.values()]) this.closeStream(stream, H2Error.CANCEL, true);
    this.finish();
  }

  /** After a graceful GOAWAY (ours or the peer's): end once the last stream is done. */
  private maybeFinish(): void {
    if (this.destroyed || !this.closed) return;
    if (this.streams.size === 0) this.finish();
  }

  /** Flushes what is queued, ends our side of the socket, and destroys it if the peer lingers. */
  private finish(): void {
    if (this.destroyed || this.lingerTimer) return;
    this.flush();
    this.socket.end();
    this.lingerTimer = setTimeout(() => this.destroy(), GOAWAY_LINGER_MS);
    this.lingerTimer.unref();
  }

  // ---- output ----------------------------------------------------------------------------

  private sendSettings(): void {
    const o = this.o;
    const entries: [number, number][] = [
      [Setting.MAX_CONCURRENT_STREAMS, o.maxConcurrentStreams],
      [Setting.MAX_HEADER_LIST_SIZE, o.maxHeaderListSize],
    ];
    if (o.initialWindowSize !== DEFAULT_WINDOW) entries.push([Setting.INITIAL_WINDOW_SIZE, o.initialWindowSize]);
    if (o.maxFrameSize !== MIN_MAX_FRAME_SIZE) entries.push([Setting.MAX_FRAME_SIZE, o.maxFrameSize]);
    this.push(settingsFrame(entries));
    if (o.connectionWindowSize > DEFAULT_WINDOW) this.setLocalWindowSize(o.connectionWindowSize);
    this.settingsTimer = setTimeout(() => this.connectionError(H2Error.SETTINGS_TIMEOUT, "SETTINGS not acknowledged in time"), o.settingsTimeoutMs);
    this.settingsTimer.unref();
  }

  private push(buf: Buffer): void {
    this.out.push(buf);
    this.outBytes += buf.length;
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.destroyed) return;
    this.flushScheduled = true;
    setImmediate(flushSession, this);
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
      if (socket.writableLength > MAX_QUEUED_CONTROL_BYTES + this.o.maxQueuedDataBytes) {
        this.sendGoaway(H2Error.ENHANCE_YOUR_CALM, undefined, Buffer.from("peer does not read"));
        this.destroy();
      }
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
          if (this.socketBlocked || this.connSendWindow <= 0 || stream.sendWindow <= 0) {
            // Blocked: a WINDOW_UPDATE or the socket's 'drain' puts it back.
            if (this.connSendWindow <= 0 || this.socketBlocked) this.requeue(stream);
            continue;
          }
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
          if (stream.closed) continue;
          if (stream.endRequested && !stream.localEnded && stream.queuedBytes === 0) {
            if (stream.trailers === undefined && stream.wantsTrailers()) continue; // waits for sendTrailers()
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
        }
        if (stream.queuedBytes > 0) this.requeue(stream);
      }
    }
  }

  private requeue(stream: H2ServerStream): void {
    if (!stream.scheduled) {
      stream.scheduled = true;
      this.ready.push(stream);
    }
  }

  private emitData(stream: H2ServerStream, n: number, endStream: boolean): void {
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

  private spendResetToken(): void {
    const now = performance.now();
    this.resetTokens = Math.min(this.o.resetBurst, this.resetTokens + ((now - this.resetRefillAt) / 1000) * this.o.resetRatePerSecond);
    this.resetRefillAt = now;
    if (--this.resetTokens < 0) throw new H2ProtocolError(H2Error.ENHANCE_YOUR_CALM, "too_many_resets");
  }

  /** Frames that cost us work without moving a call forward share one budget (CVE-2019-9512/9515/9518). */
  private spendFloodToken(): void {
    const now = performance.now();
    this.floodTokens = Math.min(this.o.floodBurst, this.floodTokens + ((now - this.floodRefillAt) / 1000) * this.o.floodRatePerSecond);
    this.floodRefillAt = now;
    if (--this.floodTokens < 0) throw new H2ProtocolError(H2Error.ENHANCE_YOUR_CALM, "flood of control frames");
  }
}

const frozenBlocks = new WeakMap<object, Buffer>();

function flushSession(session: H2ServerSession): void {
  session.flush();
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

