// The HTTP/2 conformance harness (RFC 9113, RFC 7541), in the spirit of h2spec: a raw client
// that writes any frame sequence, parses every frame the server sends (with arrival times),
// and asserts what the RFC requires: GOAWAY with an exact error code followed by the server
// closing TCP, RST_STREAM with an exact code, PING ACKs, and calls that still succeed.
//
// The server under test is chosen in one place: TRANSPORT below ("switchboard" = our own
// engine in src/h2/; override with SWITCHBOARD_H2_TRANSPORT to compare with another engine).
// Every wait is bounded; loopback only.
import * as assert from "node:assert/strict";
import * as net from "node:net";
import * as tls from "node:tls";
import { encodeFrame, FLAG, FRAME, grpcFrame, grpcHeaders, hpackEncode, HpackDecoder, parseGrpcMessages, type Header, type HeaderInput } from "../../wire/raw-h2.js";
import { PREFACE, settingsFrame, SETTINGS_ACK, windowUpdateFrame } from "../../reliability/frames.js";
import { methodMap, Server, ServerCredentials, type ServerOptions, type ServerStream } from "../../../src/index.js";

export { encodeFrame, FLAG, FRAME, grpcFrame, grpcHeaders, hpackEncode, PREFACE, settingsFrame, SETTINGS_ACK, windowUpdateFrame, type Header, type HeaderInput };

/** Which HTTP/2 engine the server runs on; the one knob for every conformance file. */
export const TRANSPORT = process.env["SWITCHBOARD_H2_TRANSPORT"] ?? "switchboard";

/** RFC 9113 section 7 error codes. */
export const CODE = {
  NO_ERROR: 0x0,
  PROTOCOL_ERROR: 0x1,
  INTERNAL_ERROR: 0x2,
  FLOW_CONTROL_ERROR: 0x3,
  SETTINGS_TIMEOUT: 0x4,
  STREAM_CLOSED: 0x5,
  FRAME_SIZE_ERROR: 0x6,
  REFUSED_STREAM: 0x7,
  CANCEL: 0x8,
  COMPRESSION_ERROR: 0x9,
  CONNECT_ERROR: 0xa,
  ENHANCE_YOUR_CALM: 0xb,
  INADEQUATE_SECURITY: 0xc,
  HTTP_1_1_REQUIRED: 0xd,
} as const;

/** RFC 9113 section 6.5.2 setting identifiers. */
export const SETTING = {
  HEADER_TABLE_SIZE: 0x1,
  ENABLE_PUSH: 0x2,
  MAX_CONCURRENT_STREAMS: 0x3,
  INITIAL_WINDOW_SIZE: 0x4,
  MAX_FRAME_SIZE: 0x5,
  MAX_HEADER_LIST_SIZE: 0x6,
} as const;

export const MAX_WINDOW = 2 ** 31 - 1;
const WAIT_MS = 5000;

const CODE_NAMES = Object.fromEntries(Object.entries(CODE).map(([k, v]) => [v, k])) as Record<number, string>;
const TYPE_NAMES = Object.fromEntries(Object.entries(FRAME).map(([k, v]) => [v, k])) as Record<number, string>;

export function codeName(code: number): string {
  return CODE_NAMES[code] ?? `0x${code.toString(16)}`;
}

/** A per-test time bound for `it(name, T, fn)`: generous, since a failing expectGoaway waits its full bound. */
export const T = { timeout: 20_000 };

// ---- the server under test ----------------------------------------------------------------

/** Method paths of the conformance service (raw bytes in and out). */
export const M = {
  /** Unary: answers with the request bytes. */
  echo: "/conformance.Echo/Unary",
  /** Unary: answers with the request bytes once `release()` is called (or after 10 s). */
  hold: "/conformance.Echo/Hold",
  /** Server streaming: the request is "count size" (text); answers with `count` messages of `size` bytes. */
  stream: "/conformance.Echo/Stream",
  /** Client streaming: answers with the total request bytes received, as text. */
  collect: "/conformance.Echo/Collect",
  /** Bidi: echoes every message. */
  bidi: "/conformance.Echo/Bidi",
} as const;

export interface ConformanceServer {
  readonly server: Server;
  readonly port: number;
  /** Lets every call parked in M.hold finish. */
  release(): void;
  /** Hold calls currently parked. */
  readonly held: number;
  stop(graceMs?: number): Promise<void>;
}

export interface StartOptions {
  tls?: { key: Buffer; cert: Buffer };
}

/** Starts the conformance service on 127.0.0.1:0 on the engine chosen by TRANSPORT. */
export async function startServer(options: ServerOptions = {}, start: StartOptions = {}): Promise<ConformanceServer> {
  // `transport` is passed through a cast so this compiles whether or not ServerOptions declares it yet.
  const server = new Server({ ...options, transport: TRANSPORT } as ServerOptions);
  let waiters: (() => void)[] = [];
  let held = 0;
  const park = () =>
    new Promise<void>((resolve) => {
      held++;
      const timer = setTimeout(done, 10_000);
      function done() {
        clearTimeout(timer);
        held--;
        resolve();
      }
      waiters.push(done);
    });
  const bytes = (m: unknown) => (m instanceof Uint8Array ? m : new Uint8Array(0));
  server.addMethods(
    methodMap({
      [M.echo]: {
        kind: "unary",
        handler: async (s: ServerStream<unknown, unknown>) => {
          const req = await s.recvMessage();
          await s.sendMessage(bytes(req));
        },
      },
      [M.hold]: {
        kind: "unary",
        handler: async (s: ServerStream<unknown, unknown>) => {
          const req = await s.recvMessage();
          await park();
          await s.sendMessage(bytes(req));
        },
      },
      [M.stream]: {
        kind: "server_streaming",
        handler: async (s: ServerStream<unknown, unknown>) => {
          const req = Buffer.from(bytes(await s.recvMessage())).toString("latin1");
          const [count, size] = req.split(" ").map(Number);
          const payload = new Uint8Array(size ?? 0).fill(0x61);
          for (let i = 0; i < (count ?? 0); i++) await s.sendMessage(payload);
        },
      },
      [M.collect]: {
        kind: "client_streaming",
        handler: async (s: ServerStream<unknown, unknown>) => {
          let total = 0;
          for (;;) {
            const m = await s.recvMessage();
            if (m === null) break;
            total += bytes(m).length;
          }
          await s.sendMessage(Buffer.from(String(total), "latin1"));
        },
      },
      [M.bidi]: {
        kind: "bidi_streaming",
        handler: async (s: ServerStream<unknown, unknown>) => {
          for (;;) {
            const m = await s.recvMessage();
            if (m === null) break;
            await s.sendMessage(bytes(m));
          }
        },
      },
    }),
  );
  const port = start.tls
    ? await server.addSecurePort("127.0.0.1:0", ServerCredentials.ssl({ keyCertPairs: [{ privateKey: start.tls.key, certChain: start.tls.cert }] }))
    : await server.addInsecurePort("127.0.0.1:0");
  server.start();
  return {
    server,
    port,
    release() {
      const w = waiters;
      waiters = [];
      for (const done of w) done();
    },
    get held() {
      return held;
    },
    stop: (graceMs = 0) => server.stop(graceMs),
  };
}

// ---- frames -------------------------------------------------------------------------------

export interface Frame {
  type: number;
  flags: number;
  streamId: number;
  payload: Buffer;
  /** performance.now() at arrival. */
  at: number;
}

export interface GoAway {
  lastStreamId: number;
  code: number;
  debug: string;
}

export function describeFrame(f: Frame): string {
  const name = TYPE_NAMES[f.type] ?? `type 0x${f.type.toString(16)}`;
  let extra = "";
  if (f.type === FRAME.GOAWAY && f.payload.length >= 8) {
    extra = ` last=${f.payload.readUInt32BE(0) & 0x7fffffff} ${codeName(f.payload.readUInt32BE(4))}`;
    if (f.payload.length > 8) extra += ` "${f.payload.subarray(8).toString("latin1").slice(0, 60)}"`;
  } else if (f.type === FRAME.RST_STREAM && f.payload.length >= 4) extra = ` ${codeName(f.payload.readUInt32BE(0))}`;
  else if (f.type === FRAME.WINDOW_UPDATE && f.payload.length >= 4) extra = ` +${f.payload.readUInt32BE(0)}`;
  else if (f.type === FRAME.DATA) extra = ` len=${f.payload.length}`;
  return `${name}(s${f.streamId}${f.flags ? ` f0x${f.flags.toString(16)}` : ""}${extra})`;
}

/** A frame with any header fields, including a set reserved bit and any length field. */
export function rawFrame(type: number, flags: number, streamId: number, payload: Uint8Array = Buffer.alloc(0), options: { reservedBit?: boolean; length?: number } = {}): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(options.length ?? payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(((streamId & 0x7fffffff) | (options.reservedBit ? 0x80000000 : 0)) >>> 0, 5);
  return Buffer.concat([head, payload]);
}

export function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

export function settingsPayload(entries: readonly (readonly [id: number, value: number])[]): Buffer {
  const b = Buffer.alloc(entries.length * 6);
  entries.forEach(([id, value], i) => {
    b.writeUInt16BE(id, i * 6);
    b.writeUInt32BE(value >>> 0, i * 6 + 2);
  });
  return b;
}

export function settings(entries: readonly (readonly [id: number, value: number])[]): Buffer {
  return encodeFrame(FRAME.SETTINGS, 0, 0, settingsPayload(entries));
}

export function ping(payload: Buffer = Buffer.from("h2-conf!"), ack = false): Buffer {
  return encodeFrame(FRAME.PING, ack ? FLAG.ACK : 0, 0, payload);
}

export function rst(streamId: number, code: number): Buffer {
  return encodeFrame(FRAME.RST_STREAM, 0, streamId, u32(code));
}

export function windowUpdate(streamId: number, increment: number): Buffer {
  return encodeFrame(FRAME.WINDOW_UPDATE, 0, streamId, u32(increment));
}

export function goawayFrame(lastStreamId: number, code: number, streamId = 0): Buffer {
  return encodeFrame(FRAME.GOAWAY, 0, streamId, Buffer.concat([u32(lastStreamId), u32(code)]));
}

/** PRIORITY payload: exclusive bit + dependency, weight. */
export function priorityPayload(dependsOn: number, weight = 15, exclusive = false): Buffer {
  const b = Buffer.alloc(5);
  b.writeUInt32BE(((dependsOn & 0x7fffffff) | (exclusive ? 0x80000000 : 0)) >>> 0);
  b[4] = weight;
  return b;
}

export function priority(streamId: number, dependsOn: number, weight = 15): Buffer {
  return encodeFrame(FRAME.PRIORITY, 0, streamId, priorityPayload(dependsOn, weight));
}

export interface HeadersFrameOptions {
  endStream?: boolean;
  /** Default true. */
  endHeaders?: boolean;
  /** Pad length (PADDED flag); `padDeclared` overrides the pad length byte. */
  pad?: number;
  padDeclared?: number;
  /** PRIORITY flag with this dependency. */
  dependsOn?: number;
}

/** A HEADERS frame around an already encoded block (or a piece of one). */
export function headers(streamId: number, block: Buffer, o: HeadersFrameOptions = {}): Buffer {
  let flags = (o.endStream ? FLAG.END_STREAM : 0) | (o.endHeaders === false ? 0 : FLAG.END_HEADERS);
  const parts: Buffer[] = [];
  if (o.pad !== undefined) {
    flags |= FLAG.PADDED;
    parts.push(Buffer.from([o.padDeclared ?? o.pad]));
  }
  if (o.dependsOn !== undefined) {
    flags |= FLAG.PRIORITY;
    parts.push(priorityPayload(o.dependsOn));
  }
  parts.push(block);
  if (o.pad !== undefined) parts.push(Buffer.alloc(o.pad));
  return encodeFrame(FRAME.HEADERS, flags, streamId, Buffer.concat(parts));
}

export function continuation(streamId: number, block: Buffer, endHeaders = true): Buffer {
  return encodeFrame(FRAME.CONTINUATION, endHeaders ? FLAG.END_HEADERS : 0, streamId, block);
}

/** A DATA frame; with `pad`, PADDED and that many zero bytes (`padDeclared` overrides the pad length byte). */
export function data(streamId: number, bytes: Uint8Array, o: { endStream?: boolean; pad?: number; padDeclared?: number } = {}): Buffer {
  let flags = o.endStream ? FLAG.END_STREAM : 0;
  let payload = Buffer.from(bytes);
  if (o.pad !== undefined) {
    flags |= FLAG.PADDED;
    payload = Buffer.concat([Buffer.from([o.padDeclared ?? o.pad]), payload, Buffer.alloc(o.pad)]);
  }
  return encodeFrame(FRAME.DATA, flags, streamId, payload);
}

/** The header block of an ordinary gRPC request (literal, no indexing, no Huffman). */
export function requestBlock(path: string = M.echo, extra: readonly HeaderInput[] = []): Buffer {
  return hpackEncode(grpcHeaders(path, extra));
}

/** One gRPC message carrying `bytes`. */
export function message(bytes: Uint8Array | string): Buffer {
  return grpcFrame(typeof bytes === "string" ? Buffer.from(bytes, "latin1") : bytes);
}

// ---- the connection -------------------------------------------------------------------------

export interface ConnectOptions {
  /** Our SETTINGS entries (default ENABLE_PUSH = 0). */
  settings?: readonly (readonly [id: number, value: number])[];
  /** Replace the whole opening (preface + SETTINGS) with these bytes. */
  opening?: Buffer;
  /** Wait for the server's SETTINGS before returning (default true unless `opening` is given). */
  waitSettings?: boolean;
  /** Return every DATA byte at once with WINDOW_UPDATE (default true). */
  autoWindowUpdate?: boolean;
  /** Connect over TLS with ALPN h2. */
  tls?: { ca: Buffer };
}

interface StreamView {
  blocks: Header[][];
  data: Buffer[];
  dataBytes: number;
  endStream: boolean;
  rst: number | undefined;
}

/** A response as the raw client saw it. */
export interface Response {
  streamId: number;
  headers: Header[];
  trailers: Header[];
  data: Buffer;
  rst: number | undefined;
  endStream: boolean;
  status: string | undefined;
  grpcStatus: string | undefined;
}

/**
 * One client connection speaking raw frames. Keeps every frame the server sent, decodes
 * header blocks, tracks the server's flow-control windows for `sendBody`, and answers the
 * server's SETTINGS and PINGs as a well-behaved client would.
 */
export class H2Conn {
  readonly frames: Frame[] = [];
  /** The server's first SETTINGS, as id -> value. */
  readonly serverSettings = new Map<number, number>();
  /** SETTINGS ACKs the server sent (for our SETTINGS frames). */
  settingsAcks = 0;
  closedAt: number | undefined;
  readonly closed: Promise<void>;
  /** Next client stream id. */
  nextId = 1;
  /** Our send windows (what the server allows us), for sendBody. */
  connSendWindow = 65535;
  private peerInitialWindow = 65535;
  private readonly streamSendWindows = new Map<number, number>();
  private readonly streams = new Map<number, StreamView>();
  private readonly decoder = new HpackDecoder();
  private continuation: { streamId: number; endStream: boolean; parts: Buffer[] } | undefined;
  private buf: Buffer = Buffer.alloc(0);
  private waiters: (() => void)[] = [];
  private gotSettings = false;
  /** A problem parsing what the server sent (our side); surfaced by the assertions. */
  parseError: string | undefined;
  /** While true, the server's PINGs are kept unanswered (releasePings() answers them). */
  holdPings = false;
  private heldPings: Buffer[] = [];

  private constructor(
    readonly socket: net.Socket,
    private readonly autoWindowUpdate: boolean,
  ) {
    this.closed = new Promise((resolve) => {
      socket.once("close", () => {
        this.closedAt = performance.now();
        resolve();
        this.wake();
      });
    });
    socket.on("error", () => {});
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
  }

  static async connect(port: number, o: ConnectOptions = {}): Promise<H2Conn> {
    const socket = o.tls ? tls.connect({ host: "127.0.0.1", port, ca: o.tls.ca, servername: "localhost", ALPNProtocols: ["h2"] }) : net.connect({ host: "127.0.0.1", port });
    const conn = new H2Conn(socket, o.autoWindowUpdate ?? true);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error("connect timed out"));
      }, WAIT_MS);
      socket.once(o.tls ? "secureConnect" : "connect", () => {
        clearTimeout(timer);
        resolve();
      });
      socket.once("error", (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
    socket.setNoDelay(true);
    if (o.opening) {
      conn.send(o.opening);
      if (o.waitSettings) await conn.waitSettings();
      return conn;
    }
    conn.send(Buffer.concat([PREFACE, settings(o.settings ?? [[SETTING.ENABLE_PUSH, 0]])]));
    if (o.waitSettings ?? true) await conn.waitSettings();
    return conn;
  }

  get isClosed(): boolean {
    return this.closedAt !== undefined;
  }

  /** Writes raw bytes (ignored once the socket is gone). */
  send(...chunks: Buffer[]): void {
    if (!this.socket.destroyed) this.socket.write(Buffer.concat(chunks));
  }

  newStreamId(): number {
    const id = this.nextId;
    this.nextId += 2;
    return id;
  }

  close(): void {
    this.socket.destroy();
  }

  async waitSettings(): Promise<void> {
    if (!(await this.waitFor(() => this.gotSettings))) throw new Error(`no SETTINGS from the server; saw ${this.describe()}`);
  }

  /** Resolves true once `cond()` holds; false at `timeoutMs` or when the connection closed without it. */
  waitFor(cond: () => boolean, timeoutMs = WAIT_MS): Promise<boolean> {
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

  /** The first frame (from index `from`) matching `pred`, waiting up to `timeoutMs`. */
  async waitFrame(pred: (f: Frame) => boolean, timeoutMs = WAIT_MS, from = 0): Promise<Frame | undefined> {
    let found: Frame | undefined;
    await this.waitFor(() => (found = this.frames.slice(from).find(pred)) !== undefined, timeoutMs);
    return found;
  }

  /** Every frame received so far, for assertion messages. */
  describe(): string {
    const list = this.frames.map(describeFrame);
    const shown = list.length > 40 ? [...list.slice(0, 20), `...${list.length - 40} more...`, ...list.slice(-20)] : list;
    return `[${shown.join(", ")}]${this.isClosed ? " then TCP closed" : " (TCP still open)"}${this.parseError ? ` parse error: ${this.parseError}` : ""}`;
  }

  get goaways(): GoAway[] {
    return this.frames.filter((f) => f.type === FRAME.GOAWAY).map(parseGoaway);
  }

  /**
   * A connection error (RFC 9113 5.4.1): the server sends GOAWAY with exactly `code`, then closes
   * the TCP connection. Checks exactly one GOAWAY arrived and, when given, its last-stream-id.
   */
  async expectGoaway(code: number, o: { lastStreamId?: number; timeoutMs?: number } = {}): Promise<GoAway> {
    const timeoutMs = o.timeoutMs ?? WAIT_MS;
    const f = await this.waitFrame((x) => x.type === FRAME.GOAWAY, timeoutMs);
    if (!f) assert.fail(`expected GOAWAY ${codeName(code)}, got no GOAWAY: ${this.describe()}`);
    const g = parseGoaway(f);
    assert.equal(codeName(g.code), codeName(code), `expected GOAWAY ${codeName(code)}, got GOAWAY ${codeName(g.code)}: ${this.describe()}`);
    await Promise.race([this.closed, new Promise((r) => setTimeout(r, timeoutMs).unref())]);
    assert.ok(this.isClosed, `GOAWAY ${codeName(code)} arrived but the server did not close the TCP connection within ${timeoutMs} ms: ${this.describe()}`);
    const all = this.goaways;
    assert.equal(all.length, 1, `expected exactly one GOAWAY, got ${all.length}: ${this.describe()}`);
    if (o.lastStreamId !== undefined) assert.equal(g.lastStreamId, o.lastStreamId, `GOAWAY last-stream-id: ${this.describe()}`);
    return g;
  }

  /** A stream error (RFC 9113 5.4.2): RST_STREAM with exactly `code` on `streamId`. */
  async expectRst(streamId: number, code: number, timeoutMs = WAIT_MS): Promise<void> {
    const f = await this.waitFrame((x) => (x.type === FRAME.RST_STREAM && x.streamId === streamId) || x.type === FRAME.GOAWAY, timeoutMs);
    if (!f || f.type !== FRAME.RST_STREAM) assert.fail(`expected RST_STREAM ${codeName(code)} on stream ${streamId}, got ${this.describe()}`);
    const got = f.payload.readUInt32BE(0);
    assert.equal(codeName(got), codeName(code), `expected RST_STREAM ${codeName(code)} on stream ${streamId}: ${this.describe()}`);
  }

  /** The server answers a PING with an ACK carrying the same 8 bytes (proves the connection is alive and in sync). */
  async expectPing(payload: Buffer = Buffer.from(`p${Math.random().toString(36).slice(2, 9)}`.padEnd(8, "x").slice(0, 8))): Promise<void> {
    const from = this.frames.length;
    this.send(ping(payload));
    const f = await this.waitFrame((x) => x.type === FRAME.PING && (x.flags & FLAG.ACK) !== 0 && x.payload.equals(payload), WAIT_MS, from);
    assert.ok(f, `expected PING ACK with payload ${payload.toString("hex")}: ${this.describe()}`);
  }

  /** Answers the PINGs held while `holdPings` was on, and answers later ones at once. */
  releasePings(): void {
    this.holdPings = false;
    for (const payload of this.heldPings.splice(0)) this.send(ping(payload, true));
  }

  /** Opens a stream with request HEADERS and no END_STREAM (the stream stays open on both sides). */
  openStream(path: string = M.echo, extra: readonly HeaderInput[] = []): number {
    const id = this.newStreamId();
    this.send(headers(id, requestBlock(path, extra)));
    return id;
  }

  /**
   * An error the RFC lets the server signal on the stream or on the whole connection
   * (e.g. 4.2: an oversized DATA frame): RST_STREAM `code` on `streamId`, or GOAWAY `code` then TCP closed.
   */
  async expectStreamOrConnectionError(streamId: number, code: number): Promise<void> {
    const f = await this.waitFrame((x) => (x.type === FRAME.RST_STREAM && x.streamId === streamId) || x.type === FRAME.GOAWAY);
    if (!f) assert.fail(`expected RST_STREAM or GOAWAY ${codeName(code)}, got ${this.describe()}`);
    if (f.type === FRAME.GOAWAY) {
      await this.expectGoaway(code);
      return;
    }
    assert.equal(codeName(f.payload.readUInt32BE(0)), codeName(code), `RST_STREAM code on stream ${streamId}: ${this.describe()}`);
  }

  /** Sends a whole gRPC call as one burst (headers + one message) and returns its stream id. */
  startCall(path: string = M.echo, body: Uint8Array | string = "hello", extra: readonly HeaderInput[] = []): number {
    const id = this.newStreamId();
    this.send(headers(id, requestBlock(path, extra)), data(id, message(body), { endStream: true }));
    return id;
  }

  /** Waits until the stream ended (END_STREAM or RST_STREAM) or the connection went away. */
  async response(streamId: number, timeoutMs = WAIT_MS): Promise<Response> {
    const done = await this.waitFor(() => {
      const s = this.streams.get(streamId);
      return s !== undefined && (s.endStream || s.rst !== undefined);
    }, timeoutMs);
    if (!done) assert.fail(`stream ${streamId} did not finish: ${this.describe()}`);
    return this.view(streamId);
  }

  /** A call that must succeed: :status 200, grpc-status 0, and the echoed bytes. */
  async expectCallOk(path: string = M.echo, body = "still-working"): Promise<Response> {
    const id = this.startCall(path, body);
    const r = await this.response(id);
    assert.equal(r.status, "200", `expected :status 200 on stream ${id}: ${this.describe()}`);
    assert.equal(r.grpcStatus, "0", `expected grpc-status 0 on stream ${id}: ${JSON.stringify(r.trailers)} ${this.describe()}`);
    if (path === M.echo) assert.equal(parseGrpcMessages(r.data)[0]?.data.toString("latin1"), body);
    return r;
  }

  view(streamId: number): Response {
    const s = this.streams.get(streamId) ?? { blocks: [], data: [], dataBytes: 0, endStream: false, rst: undefined };
    const headersBlock = s.blocks[0] ?? [];
    const trailers = s.blocks[s.blocks.length - 1] ?? [];
    const get = (h: Header[], n: string) => h.find(([k]) => k === n)?.[1];
    return {
      streamId,
      headers: headersBlock,
      trailers,
      data: Buffer.concat(s.data),
      rst: s.rst,
      endStream: s.endStream,
      status: get(headersBlock, ":status"),
      grpcStatus: get(trailers, "grpc-status"),
    };
  }

  /** DATA bytes (payload lengths, padding included) the server sent on a stream, or on all streams with 0. */
  dataReceived(streamId = 0): number {
    let n = 0;
    for (const f of this.frames) if (f.type === FRAME.DATA && (streamId === 0 || f.streamId === streamId)) n += f.payload.length;
    return n;
  }

  /**
   * Sends `bytes` as DATA on `streamId`, never beyond the windows the server granted (its
   * SETTINGS_INITIAL_WINDOW_SIZE and WINDOW_UPDATEs), waiting (bounded) for more window.
   */
  async sendBody(streamId: number, bytes: Buffer, endStream: boolean, timeoutMs = 20_000): Promise<void> {
    const maxFrame = this.serverSettings.get(SETTING.MAX_FRAME_SIZE) ?? 16384;
    const deadline = performance.now() + timeoutMs;
    let off = 0;
    while (off < bytes.length || (bytes.length === 0 && off === 0)) {
      if (bytes.length === 0) {
        this.send(data(streamId, bytes, { endStream }));
        return;
      }
      const room = () => Math.min(this.connSendWindow, this.streamWindow(streamId));
      if (room() <= 0) {
        const ok = await this.waitFor(() => room() > 0, Math.max(1, deadline - performance.now()));
        if (!ok) throw new Error(`no flow-control window from the server after ${off} bytes: ${this.describe()}`);
      }
      const n = Math.min(room(), maxFrame, bytes.length - off);
      const last = off + n === bytes.length;
      this.connSendWindow -= n;
      this.streamSendWindows.set(streamId, this.streamWindow(streamId) - n);
      const ok = this.socket.write(data(streamId, bytes.subarray(off, off + n), { endStream: last && endStream }));
      off += n;
      if (!ok) await new Promise<void>((r) => (this.socket.destroyed ? r() : this.socket.once("drain", r)));
      if (this.isClosed) throw new Error(`connection closed after ${off} bytes: ${this.describe()}`);
    }
  }

  private streamWindow(id: number): number {
    return this.streamSendWindows.get(id) ?? this.peerInitialWindow;
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const fn of w) fn();
  }

  private stream(id: number): StreamView {
    let s = this.streams.get(id);
    if (!s) this.streams.set(id, (s = { blocks: [], data: [], dataBytes: 0, endStream: false, rst: undefined }));
    return s;
  }

  private onData(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    let off = 0;
    while (this.buf.length - off >= 9) {
      const len = this.buf.readUIntBE(off, 3);
      if (this.buf.length - off < 9 + len) break;
      const f: Frame = {
        type: this.buf[off + 3]!,
        flags: this.buf[off + 4]!,
        streamId: this.buf.readUInt32BE(off + 5) & 0x7fffffff,
        payload: Buffer.from(this.buf.subarray(off + 9, off + 9 + len)),
        at: performance.now(),
      };
      off += 9 + len;
      this.frames.push(f);
      try {
        this.onFrame(f);
      } catch (err) {
        this.parseError ??= (err as Error).message;
      }
    }
    this.buf = off === this.buf.length ? Buffer.alloc(0) : this.buf.subarray(off);
    this.wake();
  }

  private onFrame(f: Frame): void {
    switch (f.type) {
      case FRAME.SETTINGS: {
        if (f.flags & FLAG.ACK) {
          this.settingsAcks++;
          return;
        }
        for (let o = 0; o + 6 <= f.payload.length; o += 6) {
          const id = f.payload.readUInt16BE(o);
          const value = f.payload.readUInt32BE(o + 2);
          if (!this.gotSettings) this.serverSettings.set(id, value);
          if (id === SETTING.INITIAL_WINDOW_SIZE) {
            const delta = value - this.peerInitialWindow;
            this.peerInitialWindow = value;
            for (const [sid, w] of this.streamSendWindows) this.streamSendWindows.set(sid, w + delta);
          }
        }
        this.gotSettings = true;
        this.send(SETTINGS_ACK);
        return;
      }
      case FRAME.PING:
        if (f.flags & FLAG.ACK) return;
        if (this.holdPings) this.heldPings.push(f.payload);
        else this.send(ping(f.payload, true));
        return;
      case FRAME.WINDOW_UPDATE: {
        const inc = f.payload.readUInt32BE(0) & 0x7fffffff;
        if (f.streamId === 0) this.connSendWindow += inc;
        else this.streamSendWindows.set(f.streamId, this.streamWindow(f.streamId) + inc);
        return;
      }
      case FRAME.RST_STREAM:
        this.stream(f.streamId).rst = f.payload.readUInt32BE(0);
        return;
      case FRAME.DATA: {
        const s = this.stream(f.streamId);
        let body = f.payload;
        if (f.flags & FLAG.PADDED) body = body.subarray(1, body.length - body[0]!);
        s.data.push(body);
        s.dataBytes += f.payload.length;
        if (f.payload.length > 0 && this.autoWindowUpdate) this.send(windowUpdate(0, f.payload.length), windowUpdate(f.streamId, f.payload.length));
        if (f.flags & FLAG.END_STREAM) s.endStream = true;
        return;
      }
      case FRAME.HEADERS: {
        let off = 0;
        let pad = 0;
        if (f.flags & FLAG.PADDED) {
          pad = f.payload[0]!;
          off = 1;
        }
        if (f.flags & FLAG.PRIORITY) off += 5;
        const block = f.payload.subarray(off, f.payload.length - pad);
        const endStream = (f.flags & FLAG.END_STREAM) !== 0;
        if (f.flags & FLAG.END_HEADERS) this.onBlock(f.streamId, block, endStream);
        else this.continuation = { streamId: f.streamId, endStream, parts: [block] };
        return;
      }
      case FRAME.CONTINUATION: {
        const c = this.continuation;
        if (!c || c.streamId !== f.streamId) throw new Error("server sent CONTINUATION out of place");
        c.parts.push(f.payload);
        if (f.flags & FLAG.END_HEADERS) {
          this.continuation = undefined;
          this.onBlock(f.streamId, Buffer.concat(c.parts), c.endStream);
        }
        return;
      }
      default:
        return;
    }
  }

  private onBlock(streamId: number, block: Buffer, endStream: boolean): void {
    const s = this.stream(streamId);
    s.blocks.push(this.decoder.decode(block));
    if (endStream) s.endStream = true;
  }
}

export function parseGoaway(f: Frame): GoAway {
  return { lastStreamId: f.payload.readUInt32BE(0) & 0x7fffffff, code: f.payload.readUInt32BE(4), debug: f.payload.subarray(8).toString("latin1") };
}

// ---- per-file setup -------------------------------------------------------------------------

/**
 * The server and connections of one test file: `before` starts the server, `after` stops it;
 * `connect()` connections are closed after each test.
 */
export class Suite {
  private srv: ConformanceServer | undefined;
  private conns: H2Conn[] = [];

  constructor(private readonly options: ServerOptions = {}) {}

  async start(): Promise<void> {
    this.srv = await startServer(this.options);
  }

  get server(): ConformanceServer {
    if (!this.srv) throw new Error("the suite's server is not started");
    return this.srv;
  }

  get port(): number {
    return this.server.port;
  }

  async connect(o: ConnectOptions = {}): Promise<H2Conn> {
    const c = await H2Conn.connect(this.port, o);
    this.conns.push(c);
    return c;
  }

  /** Proves the server still serves a fresh connection after whatever the test did. */
  async expectServerHealthy(): Promise<void> {
    const c = await this.connect();
    await c.expectCallOk();
  }

  closeConnections(): void {
    for (const c of this.conns.splice(0)) c.close();
    this.srv?.release();
  }

  async stop(): Promise<void> {
    this.closeConnections();
    await this.srv?.stop(0);
  }
}
