// Raw HTTP/2 for attacks, built on test/wire/raw-h2.ts (its frame and HPACK encoders and
// its HPACK decoder): a socket that writes arbitrary frame sequences (floods, CONTINUATION
// without END_HEADERS, frames before the SETTINGS ack, window overflows) and records what
// the server answers, with timestamps. Loopback only; every wait is bounded.
import * as net from "node:net";
import { encodeFrame, FLAG, FRAME, grpcHeaders, hpackEncode, HpackDecoder, type Header, type HeaderInput } from "../wire/raw-h2.js";

export { FLAG, FRAME, grpcHeaders, hpackEncode, type Header, type HeaderInput };
export { H2_ERROR } from "../wire/raw-h2.js";

export const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");

// ---- frame builders -------------------------------------------------------------------

export function settingsFrame(settings: Record<number, number> = { 0x2: 0 }): Buffer {
  const entries = Object.entries(settings);
  const payload = Buffer.alloc(entries.length * 6);
  entries.forEach(([id, value], i) => {
    payload.writeUInt16BE(Number(id), i * 6);
    payload.writeUInt32BE(value, i * 6 + 2);
  });
  return encodeFrame(FRAME.SETTINGS, 0, 0, payload);
}

export const SETTINGS_ACK = encodeFrame(FRAME.SETTINGS, FLAG.ACK, 0);

/** A HEADERS frame carrying `block` (an encoded header block or a piece of one). */
export function headersFrame(streamId: number, block: Buffer, options: { endStream?: boolean; endHeaders?: boolean } = {}): Buffer {
  const flags = (options.endStream ? FLAG.END_STREAM : 0) | (options.endHeaders === false ? 0 : FLAG.END_HEADERS);
  return encodeFrame(FRAME.HEADERS, flags, streamId, block);
}

export function continuationFrame(streamId: number, block: Buffer, endHeaders = false): Buffer {
  return encodeFrame(FRAME.CONTINUATION, endHeaders ? FLAG.END_HEADERS : 0, streamId, block);
}

/** A whole header block as HEADERS (+ CONTINUATION frames of at most `maxFrame` bytes). */
export function headerBlockFrames(streamId: number, block: Buffer, options: { endStream?: boolean; maxFrame?: number } = {}): Buffer {
  const max = options.maxFrame ?? 16384;
  if (block.length <= max) return headersFrame(streamId, block, { endStream: options.endStream });
  const frames = [headersFrame(streamId, block.subarray(0, max), { endStream: options.endStream, endHeaders: false })];
  for (let off = max; off < block.length; off += max) frames.push(continuationFrame(streamId, block.subarray(off, off + max), off + max >= block.length));
  return Buffer.concat(frames);
}

export function dataFrame(streamId: number, data: Uint8Array, endStream = false): Buffer {
  return encodeFrame(FRAME.DATA, endStream ? FLAG.END_STREAM : 0, streamId, data);
}

/** `data` as DATA frames of at most `maxFrame` bytes (END_STREAM on the last if asked). */
export function dataFrames(streamId: number, data: Uint8Array, endStream = false, maxFrame = 16384): Buffer {
  const parts: Buffer[] = [];
  for (let off = 0; off < data.length || parts.length === 0; off += maxFrame) {
    const end = Math.min(data.length, off + maxFrame);
    parts.push(dataFrame(streamId, data.subarray(off, end), endStream && end === data.length));
  }
  return Buffer.concat(parts);
}

export function rstFrame(streamId: number, code: number): Buffer {
  const p = Buffer.alloc(4);
  p.writeUInt32BE(code);
  return encodeFrame(FRAME.RST_STREAM, 0, streamId, p);
}

export function pingFrame(n: number, ack = false): Buffer {
  const p = Buffer.alloc(8);
  p.writeUInt32BE(n >>> 0, 4);
  return encodeFrame(FRAME.PING, ack ? FLAG.ACK : 0, 0, p);
}

export function windowUpdateFrame(streamId: number, increment: number): Buffer {
  const p = Buffer.alloc(4);
  p.writeUInt32BE(increment);
  return encodeFrame(FRAME.WINDOW_UPDATE, 0, streamId, p);
}

/** The header block of an ordinary gRPC request to `path`, plus `extra` headers. */
export function requestBlock(path: string, extra: readonly HeaderInput[] = []): Buffer {
  return hpackEncode(grpcHeaders(path, extra));
}

// ---- the socket -----------------------------------------------------------------------

export interface GoAway {
  lastStreamId: number;
  code: number;
  debug: string;
  /** performance.now() at arrival. */
  at: number;
}

export interface ReceivedFrame {
  type: number;
  flags: number;
  streamId: number;
  /** Payload of non-DATA frames (DATA payloads are only counted). */
  payload: Buffer | undefined;
  length: number;
  /** performance.now() at arrival. */
  at: number;
}

export interface FrameSocketOptions {
  /** Send the client preface + SETTINGS at once (default true). */
  preface?: boolean;
  /** Our SETTINGS (default ENABLE_PUSH = 0). */
  settings?: Record<number, number>;
  /** Bytes written right after the preface, before anything from the server is read (e.g. frames before the SETTINGS ack). */
  first?: Buffer;
  /** ACK the server's SETTINGS when they arrive (default true). */
  ackSettings?: boolean;
  /** Answer the server's PINGs (default true). */
  answerPings?: boolean;
  /** Return DATA window to the server at once (default true). */
  windowUpdates?: boolean;
  timeoutMs?: number;
  /** Local address to connect from (e.g. 127.0.0.2: another "client IP" on loopback). */
  localAddress?: string;
}

/**
 * One TCP connection to 127.0.0.1 speaking raw HTTP/2 frames. Records every frame the
 * server sends (with arrival time), GOAWAY (code, last stream, debug data), RST_STREAM
 * codes and decoded header blocks per stream.
 */
export class FrameSocket {
  readonly frames: ReceivedFrame[] = [];
  readonly headers = new Map<number, Header[][]>();
  readonly rst = new Map<number, number>();
  readonly dataBytes = new Map<number, number>();
  /** Every GOAWAY received, in order (a destroy after an error GOAWAY adds a second, NO_ERROR one). */
  readonly goaways: GoAway[] = [];
  settingsAt: number | undefined;
  closedAt: number | undefined;
  readonly openedAt = performance.now();
  /** Bytes accepted by socket.write() so far. */
  bytesWritten = 0;
  private buf: Buffer = Buffer.alloc(0);
  private readonly decoder = new HpackDecoder();
  private continuation: { streamId: number; parts: Buffer[] } | undefined;
  private waiters: (() => void)[] = [];
  private readonly o: Required<Omit<FrameSocketOptions, "first" | "settings" | "localAddress">>;
  readonly closed: Promise<void>;

  private constructor(
    readonly socket: net.Socket,
    options: FrameSocketOptions,
  ) {
    this.o = { preface: true, ackSettings: true, answerPings: true, windowUpdates: true, timeoutMs: 5000, ...options };
    this.closed = new Promise((resolve) => {
      socket.once("close", () => {
        this.closedAt ??= performance.now();
        resolve();
        this.wake();
      });
    });
    socket.on("error", () => {});
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
  }

  /** Connects (bounded); with `preface`, the preface and SETTINGS (and `first`) are written at once. */
  static async connect(port: number, options: FrameSocketOptions = {}): Promise<FrameSocket> {
    const socket = net.connect({ host: "127.0.0.1", port, ...(options.localAddress ? { localAddress: options.localAddress } : {}) });
    const fs = new FrameSocket(socket, options);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error("TCP connect timed out"));
      }, fs.o.timeoutMs);
      socket.once("connect", () => {
        clearTimeout(timer);
        resolve();
      });
      socket.once("error", (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
    socket.setNoDelay(true);
    if (fs.o.preface) {
      fs.write(Buffer.concat([PREFACE, settingsFrame(options.settings), ...(options.first ? [options.first] : [])]));
    }
    return fs;
  }

  get isClosed(): boolean {
    return this.closedAt !== undefined;
  }

  /** Writes bytes unless the socket is gone; returns socket.write()'s answer (false: buffer full). */
  write(bytes: Uint8Array): boolean {
    if (this.isClosed || this.socket.destroyed) return false;
    this.bytesWritten += bytes.length;
    return this.socket.write(bytes);
  }

  /** Writes and, if the socket buffer is full, waits (bounded) for 'drain' or close. */
  async writeAndDrain(bytes: Uint8Array, timeoutMs = 5000): Promise<void> {
    if (this.write(bytes)) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.socket.off("drain", done);
        this.socket.off("close", done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.socket.once("drain", done);
      this.socket.once("close", done);
    });
  }

  /** Waits until the server's SETTINGS arrived (bounded). */
  async serverSettings(timeoutMs = this.o.timeoutMs): Promise<void> {
    if (!(await this.waitFor(() => this.settingsAt !== undefined, timeoutMs))) throw new Error("no SETTINGS from the server");
  }

  /** Resolves true once `cond()` holds, false at `timeoutMs` (or when the socket closes and it still does not hold). */
  waitFor(cond: () => boolean, timeoutMs = this.o.timeoutMs): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => finish(cond()), timeoutMs);
      const finish = (v: boolean) => {
        clearTimeout(timer);
        resolve(v);
      };
      const check = () => {
        if (cond()) finish(true);
        else if (this.isClosed) finish(cond());
        else this.waiters.push(check);
      };
      check();
    });
  }

  /** Resolves once the stream was ended (END_STREAM) or reset, or the connection closed or went away with an error. */
  streamDone(streamId: number, timeoutMs = this.o.timeoutMs): Promise<boolean> {
    return this.waitFor(() => this.isStreamDone(streamId), timeoutMs);
  }

  isStreamDone(streamId: number): boolean {
    return this.rst.has(streamId) || this.ended.has(streamId) || (this.goaway !== undefined && (this.goaway.code !== 0 || streamId > this.goaway.lastStreamId));
  }

  private readonly ended = new Set<number>();

  /**
   * The first error GOAWAY received, else the last one: a graceful close may send two (RFC 9113
   * 6.8, last-stream-id 2^31-1 first, then the real one), and the last says which streams ran.
   */
  get goaway(): GoAway | undefined {
    // The first error GOAWAY says why the connection ended; without one, the last graceful one.
    return this.goaways.find((g) => g.code !== 0) ?? this.goaways[this.goaways.length - 1];
  }

  /** The value of `name` in the last header block of the stream (trailers, or the only block). */
  trailer(streamId: number, name: string): string | undefined {
    const blocks = this.headers.get(streamId);
    const last = blocks?.[blocks.length - 1];
    return last?.find(([n]) => n === name)?.[1];
  }

  grpcStatus(streamId: number): number | undefined {
    const v = this.trailer(streamId, "grpc-status");
    return v === undefined ? undefined : Number(v);
  }

  /** Closes the TCP connection (RST if `hard`). */
  destroy(hard = false): void {
    if (hard) this.socket.resetAndDestroy();
    else this.socket.destroy();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  private onData(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    let off = 0;
    while (this.buf.length - off >= 9) {
      const len = this.buf.readUIntBE(off, 3);
      if (this.buf.length - off < 9 + len) break;
      const type = this.buf[off + 3]!;
      const flags = this.buf[off + 4]!;
      const streamId = this.buf.readUInt32BE(off + 5) & 0x7fffffff;
      const payload = this.buf.subarray(off + 9, off + 9 + len);
      off += 9 + len;
      this.onFrame(type, flags, streamId, payload);
    }
    this.buf = off === this.buf.length ? Buffer.alloc(0) : this.buf.subarray(off);
    this.wake();
  }

  private onFrame(type: number, flags: number, streamId: number, payload: Buffer): void {
    const at = performance.now();
    this.frames.push({ type, flags, streamId, payload: type === FRAME.DATA ? undefined : Buffer.from(payload), length: payload.length, at });
    switch (type) {
      case FRAME.SETTINGS:
        if (!(flags & FLAG.ACK)) {
          this.settingsAt ??= at;
          if (this.o.ackSettings) this.write(SETTINGS_ACK);
        }
        return;
      case FRAME.PING:
        if (!(flags & FLAG.ACK) && this.o.answerPings) this.write(encodeFrame(FRAME.PING, FLAG.ACK, 0, payload));
        return;
      case FRAME.GOAWAY:
        this.goaways.push({ lastStreamId: payload.readUInt32BE(0) & 0x7fffffff, code: payload.readUInt32BE(4), debug: payload.subarray(8).toString("latin1"), at });
        return;
      case FRAME.RST_STREAM:
        this.rst.set(streamId, payload.readUInt32BE(0));
        return;
      case FRAME.DATA: {
        this.dataBytes.set(streamId, (this.dataBytes.get(streamId) ?? 0) + payload.length);
        if (payload.length > 0 && this.o.windowUpdates) {
          this.write(Buffer.concat([windowUpdateFrame(0, payload.length), windowUpdateFrame(streamId, payload.length)]));
        }
        if (flags & FLAG.END_STREAM) this.ended.add(streamId);
        return;
      }
      case FRAME.HEADERS: {
        let off = 0;
        let pad = 0;
        if (flags & FLAG.PADDED) {
          pad = payload[0]!;
          off = 1;
        }
        if (flags & FLAG.PRIORITY) off += 5;
        const block = payload.subarray(off, payload.length - pad);
        if (flags & FLAG.END_STREAM) this.ended.add(streamId);
        if (flags & FLAG.END_HEADERS) this.onBlock(streamId, block);
        else this.continuation = { streamId, parts: [Buffer.from(block)] };
        return;
      }
      case FRAME.CONTINUATION: {
        const c = this.continuation;
        if (!c) return;
        c.parts.push(Buffer.from(payload));
        if (flags & FLAG.END_HEADERS) {
          this.continuation = undefined;
          this.onBlock(streamId, Buffer.concat(c.parts));
        }
        return;
      }
      default:
        return;
    }
  }

  private onBlock(streamId: number, block: Buffer): void {
    let list = this.headers.get(streamId);
    if (!list) this.headers.set(streamId, (list = []));
    try {
      list.push(this.decoder.decode(block));
    } catch {
      list.push([]);
    }
  }
}

/** Header blocks for `n` distinct requests are cheapest as one literal block reused: literals without indexing keep no HPACK state. */
export function repeatFrames(n: number, make: (i: number) => Buffer): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < n; i++) parts.push(make(i));
  return Buffer.concat(parts);
}
