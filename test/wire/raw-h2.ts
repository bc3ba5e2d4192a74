// A minimal HTTP/2 client for wire tests: it writes frames byte by byte, so it can send
// what node's own client refuses (upper-case names, duplicate pseudo-headers, bad bytes),
// and it reads the server's frames with a compact HPACK decoder (dynamic table + Huffman).
// Loopback only; every wait is bounded.
import * as net from "node:net";

export const FRAME = { DATA: 0, HEADERS: 1, PRIORITY: 2, RST_STREAM: 3, SETTINGS: 4, PUSH_PROMISE: 5, PING: 6, GOAWAY: 7, WINDOW_UPDATE: 8, CONTINUATION: 9 } as const;
export const FLAG = { END_STREAM: 0x1, ACK: 0x1, END_HEADERS: 0x4, PADDED: 0x8, PRIORITY: 0x20 } as const;
export const H2_ERROR = { NO_ERROR: 0, PROTOCOL_ERROR: 1, INTERNAL_ERROR: 2, FLOW_CONTROL_ERROR: 3, REFUSED_STREAM: 7, CANCEL: 8, ENHANCE_YOUR_CALM: 11 } as const;

const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");
const DEFAULT_WAIT_MS = 5000;

/** A header as sent or received; values are latin1 strings, so each char is one wire byte. */
export type Header = readonly [name: string, value: string];
export type HeaderInput = readonly [name: string, value: string | Uint8Array];

// ---- HPACK ------------------------------------------------------------------------

const STATIC_TABLE: Header[] = (
  ":authority|:method=GET|:method=POST|:path=/|:path=/index.html|:scheme=http|:scheme=https|:status=200|:status=204|" +
  ":status=206|:status=304|:status=400|:status=404|:status=500|accept-charset|accept-encoding=gzip, deflate|" +
  "accept-language|accept-ranges|accept|access-control-allow-origin|age|allow|authorization|cache-control|" +
  "content-disposition|content-encoding|content-language|content-length|content-location|content-range|content-type|" +
  "cookie|date|etag|expect|expires|from|host|if-match|if-modified-since|if-none-match|if-range|if-unmodified-since|" +
  "last-modified|link|location|max-forwards|proxy-authenticate|proxy-authorization|range|referer|refresh|retry-after|" +
  "server|set-cookie|strict-transport-security|transfer-encoding|user-agent|vary|via|www-authenticate"
)
  .split("|")
  .map((e) => {
    const eq = e.indexOf("=", 1);
    return eq < 0 ? ([e, ""] as const) : ([e.slice(0, eq), e.slice(eq + 1)] as const);
  });

// The HPACK Huffman code (RFC 7541 Appendix B) is canonical, so the bit length of each of the
// 257 symbols is enough to rebuild it: one char per symbol, 'A' = 5 bits ... 'Z' = 30 bits.
const HUFFMAN_LENGTHS =
  "ISXXXXXXXTZXXZXXXXXXXXZXXXXXXXXXBFFHIBDGFFDGDBBBAAABBBBBBBCDKBHFIBCCCCCCCCCCCCCCCCCCCCCCDCDIOIJBKABABABBBACCBBBABCBAABCCCCCKGJIXPRPPRRRSRSSSSSTSTTRSTSSSSQRSRSSTRQPRRSSQSRRTQRSSQQRQSRSSPRRRSRRSVVPORSRUVVVWWVTUOQVWWVWTQQVVXWWWPTPQRQQSRRUUTTVSVWVVWWWWWXWWWWWVZ";
const EOS = 256;

/** Maps `code * 64 + bitLength` to its symbol. */
const HUFFMAN_DECODE: Map<number, number> = (() => {
  const lengths = [...HUFFMAN_LENGTHS].map((c) => c.charCodeAt(0) - 65 + 5);
  const order = lengths.map((_, sym) => sym).sort((a, b) => lengths[a]! - lengths[b]! || a - b);
  const map = new Map<number, number>();
  let code = 0;
  let prev = lengths[order[0]!]!;
  order.forEach((sym, i) => {
    const len = lengths[sym]!;
    if (i > 0) code = (code + 1) * 2 ** (len - prev);
    prev = len;
    map.set(code * 64 + len, sym);
  });
  return map;
})();

function huffmanDecode(buf: Buffer): Buffer {
  const out: number[] = [];
  let code = 0;
  let len = 0;
  for (const byte of buf) {
    for (let bit = 7; bit >= 0; bit--) {
      code = code * 2 + ((byte >> bit) & 1);
      len++;
      if (len > 30) throw new Error("HPACK: bad Huffman code");
      const sym = len >= 5 ? HUFFMAN_DECODE.get(code * 64 + len) : undefined;
      if (sym === undefined) continue;
      if (sym === EOS) throw new Error("HPACK: EOS inside a string");
      out.push(sym);
      code = 0;
      len = 0;
    }
  }
  // Padding: fewer than 8 bits, all ones (the EOS prefix).
  if (len > 7 || code !== 2 ** len - 1) throw new Error("HPACK: bad Huffman padding");
  return Buffer.from(out);
}

/** Decodes header blocks from one peer, keeping the dynamic table across blocks. */
export class HpackDecoder {
  private dynamic: Header[] = [];
  private size = 0;
  private maxSize = 4096;

  decode(block: Buffer): Header[] {
    const headers: Header[] = [];
    let off = 0;
    const int = (prefixBits: number): number => {
      const mask = 2 ** prefixBits - 1;
      let v = block[off++]! & mask;
      if (v < mask) return v;
      let m = 1;
      for (;;) {
        if (off >= block.length) throw new Error("HPACK: truncated integer");
        const b = block[off++]!;
        v += (b & 0x7f) * m;
        m *= 128;
        if ((b & 0x80) === 0) return v;
      }
    };
    const str = (): string => {
      const huffman = (block[off]! & 0x80) !== 0;
      const n = int(7);
      if (off + n > block.length) throw new Error("HPACK: truncated string");
      const raw = block.subarray(off, off + n);
      off += n;
      return (huffman ? huffmanDecode(raw) : raw).toString("latin1");
    };
    while (off < block.length) {
      const b = block[off]!;
      if (b & 0x80) {
        headers.push(this.entry(int(7)));
      } else if ((b & 0xc0) === 0x40) {
        const idx = int(6);
        const name = idx === 0 ? str() : this.entry(idx)[0];
        const h: Header = [name, str()];
        headers.push(h);
        this.insert(h);
      } else if ((b & 0xe0) === 0x20) {
        this.maxSize = int(5);
        this.evict();
      } else {
        const idx = int(4);
        const name = idx === 0 ? str() : this.entry(idx)[0];
        headers.push([name, str()]);
      }
    }
    return headers;
  }

  private entry(index: number): Header {
    if (index >= 1 && index <= STATIC_TABLE.length) return STATIC_TABLE[index - 1]!;
    const h = this.dynamic[index - STATIC_TABLE.length - 1];
    if (!h) throw new Error(`HPACK: index ${index} out of range`);
    return h;
  }

  private insert(h: Header): void {
    this.dynamic.unshift(h);
    this.size += h[0].length + h[1].length + 32;
    this.evict();
  }

  private evict(): void {
    while (this.size > this.maxSize && this.dynamic.length > 0) {
      const h = this.dynamic.pop()!;
      this.size -= h[0].length + h[1].length + 32;
    }
  }
}

function hpackInt(value: number, prefixBits: number, firstByte: number): number[] {
  const mask = 2 ** prefixBits - 1;
  if (value < mask) return [firstByte | value];
  const out = [firstByte | mask];
  let v = value - mask;
  while (v >= 128) {
    out.push((v % 128) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}

function toBytes(v: string | Uint8Array): Buffer {
  return typeof v === "string" ? Buffer.from(v, "latin1") : Buffer.from(v);
}

/**
 * Encodes headers as literals without indexing and without Huffman: every name and
 * value goes on the wire exactly as given (upper case, 0xFF bytes, duplicates).
 */
export function hpackEncode(headers: readonly HeaderInput[]): Buffer {
  const parts: Buffer[] = [];
  for (const [name, value] of headers) {
    const n = toBytes(name);
    const v = toBytes(value);
    parts.push(Buffer.from([0x00, ...hpackInt(n.length, 7, 0)]), n, Buffer.from(hpackInt(v.length, 7, 0)), v);
  }
  return Buffer.concat(parts);
}

// ---- frames -----------------------------------------------------------------------

export function encodeFrame(type: number, flags: number, streamId: number, payload: Uint8Array = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(streamId & 0x7fffffff, 5);
  return Buffer.concat([head, payload]);
}

/** One gRPC length-prefixed message as read back from DATA frames. */
export interface GrpcMessage {
  flag: number;
  data: Buffer;
}

/** Frames a gRPC message: flag byte, 4-byte big-endian length, body. */
export function grpcFrame(data: Uint8Array, flag = 0, declaredLength = data.length): Buffer {
  const head = Buffer.alloc(5);
  head[0] = flag;
  head.writeUInt32BE(declaredLength, 1);
  return Buffer.concat([head, data]);
}

/** Splits response bytes into gRPC messages; throws on a truncated one. */
export function parseGrpcMessages(buf: Buffer): GrpcMessage[] {
  const out: GrpcMessage[] = [];
  let off = 0;
  while (off < buf.length) {
    if (buf.length - off < 5) throw new Error("truncated gRPC message prefix in response");
    const len = buf.readUInt32BE(off + 1);
    if (buf.length - off - 5 < len) throw new Error("truncated gRPC message body in response");
    out.push({ flag: buf[off]!, data: buf.subarray(off + 5, off + 5 + len) });
    off += 5 + len;
  }
  return out;
}

// ---- responses --------------------------------------------------------------------

/** Everything the server sent on one stream. */
export class RawResponse {
  constructor(
    readonly streamId: number,
    /** Header blocks in arrival order: response headers, then trailers (one block for trailers-only). */
    readonly blocks: readonly Header[][],
    readonly data: Buffer,
    /** True when the server ended the stream with END_STREAM. */
    readonly endStream: boolean,
    /** The RST_STREAM error code, when the server reset the stream. */
    readonly rstCode: number | undefined,
  ) {}

  get headers(): readonly Header[] {
    return this.blocks[0] ?? [];
  }

  /** The trailer block; for a trailers-only response this is the only block. */
  get trailers(): readonly Header[] {
    return this.blocks[this.blocks.length - 1] ?? [];
  }

  /** A single HEADERS block with END_STREAM and no DATA. */
  get trailersOnly(): boolean {
    return this.blocks.length === 1 && this.endStream && this.data.length === 0;
  }

  get status(): number | undefined {
    const s = first(this.headers, ":status");
    return s === undefined ? undefined : Number(s);
  }

  get grpcStatus(): number | undefined {
    const s = first(this.trailers, "grpc-status");
    return s === undefined ? undefined : Number(s);
  }

  get grpcMessage(): string | undefined {
    return first(this.trailers, "grpc-message");
  }

  header(name: string): string | undefined {
    return first(this.headers, name);
  }

  trailer(name: string): string | undefined {
    return first(this.trailers, name);
  }

  get messages(): GrpcMessage[] {
    return parseGrpcMessages(this.data);
  }

  /** A short description for assertion messages. */
  describe(): string {
    return JSON.stringify({ blocks: this.blocks, dataBytes: this.data.length, endStream: this.endStream, rstCode: this.rstCode });
  }
}

function first(headers: readonly Header[], name: string): string | undefined {
  for (const [n, v] of headers) if (n === name) return v;
  return undefined;
}

interface StreamState {
  blocks: Header[][];
  data: Buffer[];
  endStream: boolean;
  rstCode: number | undefined;
  /** Send window for our DATA on this stream. */
  window: number;
  queue: { bytes: Buffer; endStream: boolean }[];
  done: boolean;
  waiters: (() => void)[];
}

export interface ConnectOptions {
  /** Bound for the TCP connect and the server's first SETTINGS. */
  timeoutMs?: number;
}

/**
 * One HTTP/2 connection to 127.0.0.1. Our DATA is sent under the server's flow-control
 * windows; DATA from the server is acknowledged with WINDOW_UPDATE at once.
 */
export class RawH2Connection {
  private readonly decoder = new HpackDecoder();
  private readonly streams = new Map<number, StreamState>();
  private buf: Buffer = Buffer.alloc(0);
  private nextId = 1;
  private connWindow = 65535;
  private peerInitialWindow = 65535;
  private peerMaxFrame = 16384;
  private continuation: { streamId: number; flags: number; parts: Buffer[] } | undefined;
  private settingsReceived!: () => void;
  /** Every frame type received, in order (for assertions about GOAWAY and the like). */
  readonly frameLog: { type: number; flags: number; streamId: number; payload: Buffer }[] = [];
  goaway: { lastStreamId: number; code: number } | undefined;
  closed = false;
  /** A protocol problem on our side of the parser; tests fail on it. */
  parseError: Error | undefined;

  private constructor(private readonly socket: net.Socket) {}

  static async connect(port: number, options: ConnectOptions = {}): Promise<RawH2Connection> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_WAIT_MS;
    const socket = net.connect({ host: "127.0.0.1", port });
    const conn = new RawH2Connection(socket);
    const settings = new Promise<void>((resolve) => (conn.settingsReceived = resolve));
    socket.on("data", (chunk: Buffer) => conn.onData(chunk));
    socket.on("error", () => conn.onClose());
    socket.on("close", () => conn.onClose());
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        socket.once("connect", resolve);
        socket.once("error", reject);
      }),
      timeoutMs,
      "TCP connect",
    );
    socket.setNoDelay(true);
    // ENABLE_PUSH = 0; everything else at the defaults.
    const ourSettings = Buffer.from([0x00, 0x02, 0, 0, 0, 0]);
    socket.write(Buffer.concat([PREFACE, encodeFrame(FRAME.SETTINGS, 0, 0, ourSettings)]));
    await withTimeout(settings, timeoutMs, "server SETTINGS");
    return conn;
  }

  /** The next client stream id (odd, increasing). */
  newStreamId(): number {
    const id = this.nextId;
    this.nextId += 2;
    return id;
  }

  /** Sends a header block, split into HEADERS + CONTINUATION frames as needed. */
  sendHeaders(streamId: number, headers: readonly HeaderInput[], options: { endStream?: boolean } = {}): void {
    this.state(streamId);
    const block = hpackEncode(headers);
    const max = this.peerMaxFrame;
    const endStream = options.endStream ? FLAG.END_STREAM : 0;
    if (block.length <= max) {
      this.writeRaw(encodeFrame(FRAME.HEADERS, endStream | FLAG.END_HEADERS, streamId, block));
      return;
    }
    const frames = [encodeFrame(FRAME.HEADERS, endStream, streamId, block.subarray(0, max))];
    for (let off = max; off < block.length; off += max) {
      const last = off + max >= block.length;
      frames.push(encodeFrame(FRAME.CONTINUATION, last ? FLAG.END_HEADERS : 0, streamId, block.subarray(off, off + max)));
    }
    this.writeRaw(Buffer.concat(frames));
  }

  /** Queues DATA; it goes out as the server's windows allow. */
  sendData(streamId: number, bytes: Uint8Array, options: { endStream?: boolean } = {}): void {
    const s = this.state(streamId);
    s.queue.push({ bytes: Buffer.from(bytes), endStream: options.endStream ?? false });
    this.pump();
  }

  sendRst(streamId: number, code: number): void {
    const payload = Buffer.alloc(4);
    payload.writeUInt32BE(code);
    this.writeRaw(encodeFrame(FRAME.RST_STREAM, 0, streamId, payload));
    const s = this.state(streamId);
    s.queue = [];
  }

  writeRaw(bytes: Uint8Array): void {
    if (!this.closed) this.socket.write(bytes);
  }

  /** Resolves with what the server sent once it ended or reset the stream (or the connection closed). */
  async response(streamId: number, timeoutMs = DEFAULT_WAIT_MS): Promise<RawResponse> {
    const s = this.state(streamId);
    await withTimeout(
      new Promise<void>((resolve) => {
        const check = () => (s.done || this.closed ? resolve() : s.waiters.push(check));
        check();
      }),
      timeoutMs,
      `response on stream ${streamId}`,
    );
    if (this.parseError) throw this.parseError;
    return new RawResponse(streamId, s.blocks, Buffer.concat(s.data), s.endStream, s.rstCode);
  }

  /** Resolves once the server's first header block for the stream has arrived. */
  async responseHeaders(streamId: number, timeoutMs = DEFAULT_WAIT_MS): Promise<readonly Header[]> {
    const s = this.state(streamId);
    await withTimeout(
      new Promise<void>((resolve) => {
        const check = () => (s.blocks.length > 0 || s.done || this.closed ? resolve() : s.waiters.push(check));
        check();
      }),
      timeoutMs,
      `response headers on stream ${streamId}`,
    );
    return s.blocks[0] ?? [];
  }

  close(): void {
    if (this.closed) return;
    this.socket.destroy();
    this.onClose();
  }

  // ---- internals ------------------------------------------------------------------

  private state(streamId: number): StreamState {
    let s = this.streams.get(streamId);
    if (!s) {
      s = { blocks: [], data: [], endStream: false, rstCode: undefined, window: this.peerInitialWindow, queue: [], done: false, waiters: [] };
      this.streams.set(streamId, s);
    }
    return s;
  }

  /** Runs the stream's waiters; each re-checks its own condition and re-registers if unmet. */
  private settle(s: StreamState): void {
    const waiters = s.waiters;
    s.waiters = [];
    for (const w of waiters) w();
  }

  private pump(): void {
    for (const [id, s] of this.streams) {
      while (s.queue.length > 0 && !s.done && !this.closed) {
        const item = s.queue[0]!;
        const n = Math.min(item.bytes.length, this.peerMaxFrame, this.connWindow, s.window);
        if (n === 0 && item.bytes.length > 0) break;
        const chunk = item.bytes.subarray(0, n);
        item.bytes = item.bytes.subarray(n);
        this.connWindow -= n;
        s.window -= n;
        const last = item.bytes.length === 0;
        if (last) s.queue.shift();
        this.socket.write(encodeFrame(FRAME.DATA, last && item.endStream ? FLAG.END_STREAM : 0, id, chunk));
      }
      if (s.done) s.queue = [];
    }
  }

  private onClose(): void {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.streams.values()) this.settle(s);
  }

  private onData(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    while (this.buf.length >= 9) {
      const len = this.buf.readUIntBE(0, 3);
      if (this.buf.length < 9 + len) break;
      const type = this.buf[3]!;
      const flags = this.buf[4]!;
      const streamId = this.buf.readUInt32BE(5) & 0x7fffffff;
      const payload = this.buf.subarray(9, 9 + len);
      this.buf = this.buf.subarray(9 + len);
      this.frameLog.push({ type, flags, streamId, payload });
      try {
        this.onFrame(type, flags, streamId, payload);
      } catch (err) {
        this.parseError = err as Error;
        this.close();
        return;
      }
    }
  }

  private onFrame(type: number, flags: number, streamId: number, payload: Buffer): void {
    if (this.continuation && type !== FRAME.CONTINUATION) throw new Error("expected CONTINUATION");
    switch (type) {
      case FRAME.SETTINGS: {
        if (flags & FLAG.ACK) return;
        for (let off = 0; off + 6 <= payload.length; off += 6) {
          const id = payload.readUInt16BE(off);
          const value = payload.readUInt32BE(off + 2);
          if (id === 0x4) {
            const delta = value - this.peerInitialWindow;
            this.peerInitialWindow = value;
            for (const s of this.streams.values()) s.window += delta;
          } else if (id === 0x5) {
            this.peerMaxFrame = value;
          }
        }
        this.writeRaw(encodeFrame(FRAME.SETTINGS, FLAG.ACK, 0));
        this.settingsReceived();
        this.pump();
        return;
      }
      case FRAME.PING:
        if (!(flags & FLAG.ACK)) this.writeRaw(encodeFrame(FRAME.PING, FLAG.ACK, 0, payload));
        return;
      case FRAME.WINDOW_UPDATE: {
        const inc = payload.readUInt32BE(0) & 0x7fffffff;
        if (streamId === 0) this.connWindow += inc;
        else this.state(streamId).window += inc;
        this.pump();
        return;
      }
      case FRAME.GOAWAY:
        this.goaway = { lastStreamId: payload.readUInt32BE(0) & 0x7fffffff, code: payload.readUInt32BE(4) };
        // Streams above lastStreamId were never processed; an error code ends every stream.
        for (const [id, s] of this.streams) {
          if ((id > this.goaway.lastStreamId || this.goaway.code !== 0) && !s.done) {
            s.done = true;
            this.settle(s);
          }
        }
        return;
      case FRAME.RST_STREAM: {
        const s = this.state(streamId);
        s.rstCode = payload.readUInt32BE(0);
        s.done = true;
        s.queue = [];
        this.settle(s);
        return;
      }
      case FRAME.DATA: {
        const s = this.state(streamId);
        let body = payload;
        if (flags & FLAG.PADDED) body = body.subarray(1, body.length - body[0]!);
        s.data.push(Buffer.from(body));
        if (payload.length > 0) {
          // Give the window straight back, so large responses never stall on us.
          const inc = Buffer.alloc(4);
          inc.writeUInt32BE(payload.length);
          this.writeRaw(Buffer.concat([encodeFrame(FRAME.WINDOW_UPDATE, 0, 0, inc), encodeFrame(FRAME.WINDOW_UPDATE, 0, streamId, inc)]));
        }
        if (flags & FLAG.END_STREAM) this.endStream(s);
        return;
      }
      case FRAME.HEADERS: {
        let block = payload;
        let off = 0;
        let pad = 0;
        if (flags & FLAG.PADDED) {
          pad = block[0]!;
          off = 1;
        }
        if (flags & FLAG.PRIORITY) off += 5;
        block = block.subarray(off, block.length - pad);
        if (flags & FLAG.END_HEADERS) this.onHeaderBlock(streamId, flags, block);
        else this.continuation = { streamId, flags, parts: [Buffer.from(block)] };
        return;
      }
      case FRAME.CONTINUATION: {
        const c = this.continuation;
        if (!c || c.streamId !== streamId) throw new Error("unexpected CONTINUATION");
        c.parts.push(Buffer.from(payload));
        if (flags & FLAG.END_HEADERS) {
          this.continuation = undefined;
          this.onHeaderBlock(streamId, c.flags, Buffer.concat(c.parts));
        }
        return;
      }
      default:
        return;
    }
  }

  private onHeaderBlock(streamId: number, flags: number, block: Buffer): void {
    const headers = this.decoder.decode(block);
    const s = this.state(streamId);
    s.blocks.push(headers);
    if (flags & FLAG.END_STREAM) this.endStream(s);
    else this.settle(s);
  }

  private endStream(s: StreamState): void {
    s.endStream = true;
    s.done = true;
    this.settle(s);
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

// ---- gRPC helpers -----------------------------------------------------------------

/** The request headers of an ordinary gRPC call; `extra` is appended as given. */
export function grpcHeaders(path: string, extra: readonly HeaderInput[] = []): HeaderInput[] {
  return [
    [":method", "POST"],
    [":scheme", "http"],
    [":path", path],
    [":authority", "127.0.0.1"],
    ["content-type", "application/grpc"],
    ["te", "trailers"],
    ...extra,
  ];
}

export interface CallOptions {
  /** Headers to send instead of grpcHeaders(path, extra). */
  headers?: readonly HeaderInput[];
  /** Extra headers after the standard ones. */
  extra?: readonly HeaderInput[];
  /** Raw request body bytes (already framed); default: no DATA, END_STREAM on HEADERS. */
  body?: Uint8Array;
  /** Leave the request stream open after the body. */
  keepOpen?: boolean;
  timeoutMs?: number;
}

/** Opens a stream, sends one request and returns the stream id (no waiting). */
export function startCall(conn: RawH2Connection, path: string, options: CallOptions = {}): number {
  const id = conn.newStreamId();
  const headers = options.headers ?? grpcHeaders(path, options.extra);
  const hasBody = options.body !== undefined;
  conn.sendHeaders(id, headers, { endStream: !hasBody && !options.keepOpen });
  if (hasBody) conn.sendData(id, options.body!, { endStream: !options.keepOpen });
  return id;
}

/** Sends one request on `conn` and waits for the whole response. */
export async function call(conn: RawH2Connection, path: string, options: CallOptions = {}): Promise<RawResponse> {
  return conn.response(startCall(conn, path, options), options.timeoutMs);
}

/** One call on a fresh connection, closed afterwards. */
export async function callOnce(port: number, path: string, options: CallOptions = {}): Promise<RawResponse> {
  const conn = await RawH2Connection.connect(port);
  try {
    return await call(conn, path, options);
  } finally {
    conn.close();
  }
}
