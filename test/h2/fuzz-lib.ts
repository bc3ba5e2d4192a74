// Shared pieces of the engine's fuzz tests (fuzz-frames, fuzz-client-frames, fuzz-envelope): a
// seeded PRNG, an in-memory socket pair, a frame splitter for what a session writes, frame
// generators and byte/frame mutators, and the per-test guards (bounded loops, escaped
// exceptions, heap growth). Everything random comes from one Rng made from (seed, input index),
// so any failing input can be rebuilt from the two numbers printed with it.
import { Duplex } from "node:stream";
import { encodeFrame, FLAG, FRAME, grpcFrame, hpackEncode, type HeaderInput } from "../wire/raw-h2.js";

export { encodeFrame, FLAG, FRAME, grpcFrame, hpackEncode, type HeaderInput };

export const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");
/** The highest error code RFC 9113 section 7 defines (HTTP_1_1_REQUIRED). */
export const MAX_KNOWN_ERROR = 0xd;
export const MAX_STREAM_ID = 2 ** 31 - 1;

// ---- PRNG -------------------------------------------------------------------------------------

/** xorshift32: small, fast and the same sequence on every platform. */
export class Rng {
  private s: number;

  constructor(seed: number) {
    this.s = seed >>> 0 || 0x9e3779b9;
  }

  /** The generator for input `index` of a run with `seed` (inputs can be replayed one by one). */
  static forInput(seed: number, index: number): Rng {
    // A multiplicative mix so neighbouring indices start far apart in the sequence.
    let h = Math.imul((seed ^ 0x85ebca6b) >>> 0, 0x9e3779b1) ^ Math.imul(index + 1, 0xc2b2ae35);
    h ^= h >>> 16;
    h = Math.imul(h, 0x7feb352d);
    h ^= h >>> 15;
    const rng = new Rng(h >>> 0);
    for (let i = 0; i < 4; i++) rng.u32();
    return rng;
  }

  u32(): number {
    let s = this.s;
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    this.s = s >>> 0;
    return this.s;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return n <= 1 ? 0 : Math.floor((this.u32() / 2 ** 32) * n);
  }

  /** An integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  chance(p: number): boolean {
    return this.u32() / 2 ** 32 < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  /** One of `entries` with probability proportional to its weight. */
  weighted<T>(entries: ReadonlyArray<readonly [weight: number, value: T]>): T {
    let total = 0;
    for (const [w] of entries) total += w;
    let r = this.int(total);
    for (const [w, v] of entries) {
      if (r < w) return v;
      r -= w;
    }
    return entries[entries.length - 1]![1];
  }

  bytes(n: number): Buffer {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) b[i] = this.u32() & 0xff;
    return b;
  }

  /** A length skewed towards small values (most fuzz payloads are short). */
  smallLength(max: number): number {
    const bucket = this.int(4);
    const cap = bucket === 0 ? 8 : bucket === 1 ? 32 : bucket === 2 ? 256 : max;
    return this.int(Math.min(cap, max) + 1);
  }
}

// ---- in-memory sockets ------------------------------------------------------------------------

/**
 * Two connected duplex streams, like the two ends of a TCP connection: what one writes arrives on
 * the other in a later event-loop turn (setImmediate, as socket reads do), end() arrives as 'end',
 * and destroying one end ends the other's input. Writes never block.
 */
export function duplexPair(): [Duplex, Duplex] {
  const ends: Duplex[] = [];
  const make = (peerIndex: number): Duplex =>
    new Duplex({
      read() {},
      write(chunk: Buffer, _encoding, cb) {
        const peer = ends[peerIndex]!;
        // A copy: the writer may reuse its buffer, as it may with a real socket.
        const copy = Buffer.from(chunk);
        setImmediate(() => {
          if (!peer.destroyed && !peer.readableEnded) peer.push(copy);
        });
        cb();
      },
      final(cb) {
        const peer = ends[peerIndex]!;
        setImmediate(() => {
          if (!peer.destroyed) peer.push(null);
        });
        cb();
      },
      destroy(err, cb) {
        const peer = ends[peerIndex]!;
        setImmediate(() => {
          if (!peer.destroyed) peer.push(null);
        });
        cb(err);
      },
    });
  ends.push(make(1), make(0));
  return [ends[0]!, ends[1]!];
}

// ---- frames as read back ----------------------------------------------------------------------

export interface Frame {
  type: number;
  flags: number;
  streamId: number;
  payload: Buffer;
}

/** Splits a byte stream into frames (RFC 9113 4.1); no length limit, since it reads a session under test. */
export class FrameSplitter {
  private buf: Buffer = Buffer.alloc(0);
  private prefaceLeft: number;

  /** `skipPreface`: the stream starts with the client connection preface (a client session's output). */
  constructor(skipPreface = false) {
    this.prefaceLeft = skipPreface ? PREFACE.length : 0;
  }

  /** Bytes of an unfinished frame (or preface) held at the end. */
  get leftover(): number {
    return this.buf.length;
  }

  /** The preface bytes that did not match, if any. */
  badPreface: Buffer | undefined;

  push(chunk: Buffer): Frame[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    if (this.prefaceLeft > 0) {
      if (this.buf.length < this.prefaceLeft) return [];
      const start = PREFACE.length - this.prefaceLeft;
      const got = this.buf.subarray(0, this.prefaceLeft);
      if (!got.equals(PREFACE.subarray(start))) this.badPreface = Buffer.from(got);
      this.buf = this.buf.subarray(this.prefaceLeft);
      this.prefaceLeft = 0;
    }
    const frames: Frame[] = [];
    let at = 0;
    while (this.buf.length - at >= 9) {
      const length = this.buf.readUIntBE(at, 3);
      if (this.buf.length - at < 9 + length) break;
      frames.push({
        type: this.buf[at + 3]!,
        flags: this.buf[at + 4]!,
        streamId: this.buf.readUInt32BE(at + 5) & 0x7fffffff,
        payload: Buffer.from(this.buf.subarray(at + 9, at + 9 + length)),
      });
      at += 9 + length;
    }
    this.buf = at === this.buf.length ? Buffer.alloc(0) : Buffer.from(this.buf.subarray(at));
    return frames;
  }
}

/**
 * What must follow `frames` (the bytes after the preface) for a reader whose limit is `maxFrameSize`
 * to stand at a frame boundary: `pad` more bytes (zeros), or, when `fails`, the `pad` bytes that
 * complete a frame header announcing more than the limit (the reader stops there, whatever follows).
 */
export function bytesToBoundary(frames: Buffer, maxFrameSize: number): { pad: number; fails: boolean } {
  let at = 0;
  for (;;) {
    const rest = frames.length - at;
    if (rest === 0) return { pad: 0, fails: false };
    const head = Buffer.alloc(9);
    frames.copy(head, 0, at, at + Math.min(9, rest));
    const length = head.readUIntBE(0, 3);
    // The reader needs the whole header before it looks at the length.
    if (length > maxFrameSize) return { pad: Math.max(0, 9 - rest), fails: true };
    if (rest < 9 + length) return { pad: 9 + length - rest, fails: false };
    at += 9 + length;
  }
}

/** A frame whose header says what the caller wants: any 32-bit stream id (R bit included) and any declared length. */
export function rawFrame(type: number, flags: number, streamId32: number, payload: Uint8Array, declaredLength = payload.length): Buffer {
  const b = Buffer.alloc(9 + payload.length);
  b.writeUIntBE(declaredLength & 0xffffff, 0, 3);
  b[3] = type & 0xff;
  b[4] = flags & 0xff;
  b.writeUInt32BE(streamId32 >>> 0, 5);
  b.set(payload, 9);
  return b;
}

export function settingsPayload(entries: ReadonlyArray<readonly [number, number]>): Buffer {
  const b = Buffer.alloc(entries.length * 6);
  entries.forEach(([id, value], i) => {
    b.writeUInt16BE(id & 0xffff, i * 6);
    b.writeUInt32BE(value >>> 0, i * 6 + 2);
  });
  return b;
}

export function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

export function goawayPayload(lastStreamId: number, code: number, debug: Uint8Array = Buffer.alloc(0)): Buffer {
  return Buffer.concat([u32(lastStreamId), u32(code), debug]);
}

export function describeFrame(f: Frame): string {
  const names = ["DATA", "HEADERS", "PRIORITY", "RST_STREAM", "SETTINGS", "PUSH_PROMISE", "PING", "GOAWAY", "WINDOW_UPDATE", "CONTINUATION"];
  const name = names[f.type] ?? `type 0x${f.type.toString(16)}`;
  let extra = "";
  if (f.type === FRAME.GOAWAY && f.payload.length >= 8) extra = ` last=${f.payload.readUInt32BE(0) & 0x7fffffff} code=0x${f.payload.readUInt32BE(4).toString(16)}`;
  if (f.type === FRAME.RST_STREAM && f.payload.length >= 4) extra = ` code=0x${f.payload.readUInt32BE(0).toString(16)}`;
  return `${name} flags=0x${f.flags.toString(16)} stream=${f.streamId} len=${f.payload.length}${extra}`;
}

// ---- what a peer sends ------------------------------------------------------------------------

/** The request headers of a gRPC call as the brief of these tests writes them. */
export function grpcRequestHeaders(path = "/x.Y/Z"): HeaderInput[] {
  return [
    [":method", "POST"],
    [":scheme", "http"],
    [":path", path],
    [":authority", "fuzz.local"],
    ["content-type", "application/grpc"],
    ["te", "trailers"],
  ];
}

export function grpcResponseHeaders(): HeaderInput[] {
  return [
    [":status", "200"],
    ["content-type", "application/grpc"],
  ];
}

/** Header lists that are malformed in one way each (8.2, 8.3): the stream is reset, the connection lives. */
const MALFORMED_REQUESTS: HeaderInput[][] = [
  [[":method", "POST"], [":path", "/x.Y/Z"], ["content-type", "application/grpc"]],
  [[":method", "POST"], [":scheme", "http"], [":path", "/x.Y/Z"], ["Content-Type", "application/grpc"]],
  [[":method", "POST"], [":scheme", "http"], [":path", "/x.Y/Z"], [":path", "/a.B/C"]],
  [[":method", "POST"], [":scheme", "http"], [":path", "/x.Y/Z"], ["connection", "close"]],
  [[":method", "POST"], [":scheme", "http"], [":path", "/x.Y/Z"], ["te", "gzip"]],
  [["content-type", "application/grpc"], [":method", "POST"], [":scheme", "http"], [":path", "/x.Y/Z"]],
  [[":method", "POST"], [":scheme", "http"], [":path", "/x.Y/Z"], ["x-bad", "a\r\nb"]],
  [[":method", "POST"], [":scheme", "http"], [":path", "/x.Y/Z"], ["content-length", "3"]],
  [[":method", "POST"], [":scheme", "http"], [":path", "/x.Y/Z"], ["content-length", "-1"]],
  [[":status", "200"]],
  [[":method", "CONNECT"], [":authority", "a:1"]],
  [[":method", "POST"], [":scheme", "http"], [":path", ""], ["x", ""]],
];

const MALFORMED_RESPONSES: HeaderInput[][] = [
  [[":status", "2000"]],
  [[":status", "abc"]],
  [["content-type", "application/grpc"]],
  [[":status", "200"], [":status", "200"]],
  [[":status", "200"], [":path", "/"]],
  [[":status", "100"]],
  [[":status", "103"], ["link", "</a>"]],
  [[":status", "200"], ["Upper", "x"]],
  [[":status", "200"], ["connection", "keep-alive"]],
  [[":status", "200"], ["content-length", "2"]],
  [[":status", "204"]],
];

const TRAILERS: HeaderInput[][] = [
  [["grpc-status", "0"]],
  [["grpc-status", "13"], ["grpc-message", "boom"]],
  [[":status", "200"]],
  [["grpc-status", "0"], ["x-\u00ff", "v"]],
  [],
];

/** Which side the fuzzer plays: "client" sends requests to a server session, "server" answers a client session. */
export type PeerRole = "client" | "server";

/** Stream ids worth aiming at: the ones in play, their neighbours, and the edge values. */
export interface StreamIds {
  /** Ids the peer opened or may answer (client role: ids it sent HEADERS on; server role: the session's requests). */
  known: number[];
  /** The next id the peer would open (client role). */
  next: number;
}

export function pickStreamId(rng: Rng, ids: StreamIds): number {
  return rng.weighted<() => number>([
    [3, () => 0],
    [10, () => (ids.known.length > 0 ? rng.pick(ids.known) : 1)],
    [4, () => ids.next],
    [2, () => ids.next + 2 * rng.range(1, 50)],
    [2, () => rng.range(1, 40) * 2],
    [1, () => MAX_STREAM_ID],
    [1, () => MAX_STREAM_ID - 1],
    [1, () => rng.u32() & 0x7fffffff],
    // The reserved bit set: receivers must ignore it (4.1).
    [1, () => (0x80000000 | (ids.known.length > 0 ? rng.pick(ids.known) : 1)) >>> 0],
  ])();
}

/** A header block: valid for the role, malformed, garbage HPACK, or a mutated valid one. */
export function headerBlock(rng: Rng, role: PeerRole, trailers: boolean): Buffer {
  const valid = trailers ? rng.pick(TRAILERS) : role === "client" ? grpcRequestHeaders(rng.chance(0.8) ? "/x.Y/Z" : `/x.Y/${"a".repeat(rng.int(40))}`) : grpcResponseHeaders();
  return rng.weighted<() => Buffer>([
    [10, () => hpackEncode(valid)],
    [3, () => hpackEncode(rng.pick(role === "client" ? MALFORMED_REQUESTS : MALFORMED_RESPONSES))],
    [2, () => rng.bytes(rng.smallLength(64))],
    [2, () => flipBits(rng, hpackEncode(valid), rng.range(1, 4))],
    // Indexed fields from the static table, with a dynamic-table size update or an index past the table.
    [1, () => Buffer.from([rng.pick([0x20, 0x3f, 0x82, 0x83]), 0x86, 0x84, rng.pick([0xbe, 0xff, 0x80, 0x41])])],
    [1, () => Buffer.concat([hpackEncode(valid), hpackEncode(Array.from({ length: rng.range(1, 200) }, (_, i) => [`x-${i}`, "v".repeat(rng.int(64))] as const))])],
  ])();
}

/** A DATA payload: a gRPC message, several, a lying envelope, or raw bytes. */
function dataPayload(rng: Rng): Buffer {
  return rng.weighted<() => Buffer>([
    [6, () => grpcFrame(rng.bytes(rng.smallLength(300)))],
    [2, () => Buffer.concat([grpcFrame(rng.bytes(3)), grpcFrame(rng.bytes(5), 1)])],
    [2, () => grpcFrame(rng.bytes(rng.smallLength(20)), rng.pick([0, 1, 2, 0x80]), rng.pick([0, 3, 0xffffffff, 1 << 24]))],
    [2, () => rng.bytes(rng.smallLength(2000))],
  ])();
}

/**
 * Adds padding (PADDED flag) and/or priority fields to a HEADERS or DATA payload. With `valid`, the
 * padding is exactly as long as announced and the priority never names the stream itself.
 */
function decorate(rng: Rng, type: number, flags: number, payload: Buffer, streamId: number, valid: boolean): [number, Buffer] {
  let out = payload;
  if (type === FRAME.HEADERS && rng.chance(0.2)) {
    flags |= FLAG.PRIORITY;
    let dep = rng.chance(0.2) ? 0 : rng.chance(0.2) ? streamId : rng.u32();
    if (valid && (dep & 0x7fffffff) === streamId) dep = 0;
    out = Buffer.concat([u32(dep), Buffer.from([rng.int(256)]), out]);
  }
  if (rng.chance(0.15)) {
    flags |= FLAG.PADDED;
    const pad = valid || rng.chance(0.8) ? rng.int(16) : rng.int(256);
    out = Buffer.concat([Buffer.from([pad]), out, Buffer.alloc(valid || rng.chance(0.8) ? pad : rng.int(pad + 1))]);
  }
  return [flags, out];
}

/** HEADERS (and CONTINUATION frames when the block is split) carrying `block`; `valid` keeps padding and priority well-formed. */
export function headerFrames(rng: Rng, streamId: number, block: Buffer, endStream: boolean, valid = false): Buffer[] {
  const pieces: Buffer[] = [];
  const splits = rng.chance(0.2) ? rng.range(1, 4) : 0;
  let rest = block;
  for (let i = 0; i < splits && rest.length > 1; i++) {
    const cut = rng.range(1, rest.length - 1);
    pieces.push(rest.subarray(0, cut));
    rest = rest.subarray(cut);
  }
  pieces.push(rest);
  const frames: Buffer[] = [];
  pieces.forEach((piece, i) => {
    const last = i === pieces.length - 1;
    if (i === 0) {
      const [flags, payload] = decorate(rng, FRAME.HEADERS, (endStream ? FLAG.END_STREAM : 0) | (last ? FLAG.END_HEADERS : 0), piece, streamId, valid);
      frames.push(encodeFrame(FRAME.HEADERS, flags, streamId, payload));
    } else frames.push(encodeFrame(FRAME.CONTINUATION, last ? FLAG.END_HEADERS : 0, streamId, piece));
  });
  return frames;
}

/**
 * One frame (or a HEADERS + CONTINUATION group) of any type, mostly well-formed in shape with
 * values drawn from the interesting ranges, sometimes not. `role` is who sends it.
 */
export function randomFrame(rng: Rng, role: PeerRole, ids: StreamIds): Buffer[] {
  const id = pickStreamId(rng, ids);
  const anyFlags = rng.chance(0.1) ? rng.int(256) : -1;
  const withFlags = (flags: number) => (anyFlags >= 0 ? anyFlags : flags);
  const kind = rng.weighted<number>([
    [10, FRAME.DATA],
    [10, FRAME.HEADERS],
    [3, FRAME.PRIORITY],
    [5, FRAME.RST_STREAM],
    [6, FRAME.SETTINGS],
    [2, FRAME.PUSH_PROMISE],
    [5, FRAME.PING],
    [3, FRAME.GOAWAY],
    [6, FRAME.WINDOW_UPDATE],
    [3, FRAME.CONTINUATION],
    [3, 0x100], // unknown type
  ]);
  switch (kind) {
    case FRAME.DATA: {
      const [flags, payload] = decorate(rng, FRAME.DATA, rng.chance(0.4) ? FLAG.END_STREAM : 0, rng.chance(0.1) ? Buffer.alloc(0) : dataPayload(rng), id, false);
      return [rawFrame(FRAME.DATA, withFlags(flags), id, payload)];
    }
    case FRAME.HEADERS: {
      const trailers = rng.chance(0.3);
      const block = headerBlock(rng, role, trailers);
      if (anyFlags >= 0) return [rawFrame(FRAME.HEADERS, anyFlags, id, block)];
      const frames = headerFrames(rng, id & 0x7fffffff, block, trailers || rng.chance(0.4));
      if (id === 0 || id >>> 31) frames[0] = rawFrame(FRAME.HEADERS, frames[0]![4]!, id, frames[0]!.subarray(9));
      return frames;
    }
    case FRAME.PRIORITY: {
      const dep = rng.chance(0.2) ? id : rng.chance(0.3) ? pickStreamId(rng, ids) : rng.u32();
      const payload = Buffer.concat([u32(dep), Buffer.from([rng.int(256)])]);
      return [rawFrame(FRAME.PRIORITY, withFlags(0), id, rng.chance(0.1) ? payload.subarray(0, rng.int(5)) : payload)];
    }
    case FRAME.RST_STREAM:
      return [rawFrame(FRAME.RST_STREAM, withFlags(0), id, rng.chance(0.1) ? rng.bytes(rng.pick([0, 3, 5, 8])) : u32(rng.chance(0.8) ? rng.int(14) : rng.u32()))];
    case FRAME.SETTINGS: {
      const ack = rng.chance(0.25);
      if (ack) return [rawFrame(FRAME.SETTINGS, withFlags(FLAG.ACK), rng.chance(0.9) ? 0 : id, rng.chance(0.9) ? Buffer.alloc(0) : rng.bytes(6))];
      const entries: [number, number][] = [];
      const n = rng.int(5);
      for (let i = 0; i < n; i++) entries.push(randomSetting(rng));
      let payload = settingsPayload(entries);
      if (rng.chance(0.05)) payload = Buffer.concat([payload, rng.bytes(rng.range(1, 5))]);
      return [rawFrame(FRAME.SETTINGS, withFlags(0), rng.chance(0.9) ? 0 : id, payload)];
    }
    case FRAME.PUSH_PROMISE: {
      const block = headerBlock(rng, "client", false);
      return [rawFrame(FRAME.PUSH_PROMISE, withFlags(FLAG.END_HEADERS), id, Buffer.concat([u32(ids.next + 1), block]))];
    }
    case FRAME.PING: {
      const payload = rng.chance(0.9) ? rng.bytes(8) : rng.bytes(rng.pick([0, 7, 9, 64]));
      return [rawFrame(FRAME.PING, withFlags(rng.chance(0.3) ? FLAG.ACK : 0), rng.chance(0.9) ? 0 : id, payload)];
    }
    case FRAME.GOAWAY: {
      const last = rng.chance(0.5) ? pickStreamId(rng, ids) : rng.u32();
      const code = rng.chance(0.8) ? rng.int(14) : rng.u32();
      const payload = rng.chance(0.1) ? rng.bytes(rng.int(8)) : goawayPayload(last, code, rng.bytes(rng.smallLength(40)));
      return [rawFrame(FRAME.GOAWAY, withFlags(0), rng.chance(0.9) ? 0 : id, payload)];
    }
    case FRAME.WINDOW_UPDATE: {
      const inc = rng.weighted<() => number>([
        [5, () => rng.range(1, 70000)],
        [2, () => 0],
        [2, () => 0x7fffffff],
        [1, () => 0x80000000 | rng.int(100)],
        [2, () => rng.u32()],
      ])();
      return [rawFrame(FRAME.WINDOW_UPDATE, withFlags(0), rng.chance(0.5) ? 0 : id, rng.chance(0.05) ? rng.bytes(rng.pick([0, 3, 5])) : u32(inc))];
    }
    case FRAME.CONTINUATION:
      return [rawFrame(FRAME.CONTINUATION, withFlags(rng.chance(0.6) ? FLAG.END_HEADERS : 0), id, rng.chance(0.5) ? hpackEncode([["x-c", "v"]]) : rng.bytes(rng.smallLength(64)))];
    default:
      return [rawFrame(rng.range(0x0a, 0xff), rng.int(256), id, rng.bytes(rng.smallLength(100)))];
  }
}

/** A setting id (known ones mostly) with a value from the edges of its range, or anything. */
function randomSetting(rng: Rng): [number, number] {
  const id = rng.weighted<number>([
    [3, 0x1],
    [2, 0x2],
    [3, 0x3],
    [4, 0x4],
    [3, 0x5],
    [2, 0x6],
    [1, 0x8],
    [2, rng.int(0x10000)],
  ]);
  const value = rng.weighted<() => number>([
    [4, () => rng.int(70000)],
    [2, () => rng.pick([0, 1, 2, 16383, 16384, 16385, 65535, 65536, 2 ** 24 - 1, 2 ** 24, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1])],
    [1, () => rng.u32()],
  ])();
  return [id, value];
}

// ---- mutators ---------------------------------------------------------------------------------

export function flipBits(rng: Rng, input: Buffer, count: number): Buffer {
  const b = Buffer.from(input);
  if (b.length === 0) return b;
  for (let i = 0; i < count; i++) b[rng.int(b.length)]! ^= 1 << rng.int(8);
  return b;
}

/** One frame-level change: a length that lies, another type, flags, stream id, or a damaged payload. */
export function mutateFrame(rng: Rng, frame: Buffer, maxFrameSize: number): Buffer {
  const b = Buffer.from(frame);
  const length = b.readUIntBE(0, 3);
  switch (rng.int(7)) {
    case 0: {
      // Length-field lies: a little off either way, zero, just past the limit, or huge.
      const lie = rng.weighted<() => number>([
        [5, () => Math.min(0xffffff, Math.max(0, length + rng.range(-9, 9)))],
        [1, () => 0],
        [2, () => maxFrameSize],
        [2, () => maxFrameSize + 1],
        [1, () => 0xffffff],
        [1, () => rng.int(0x1000000)],
      ])();
      b.writeUIntBE(lie, 0, 3);
      return b;
    }
    case 1:
      b[3] = rng.chance(0.8) ? rng.int(10) : rng.int(256);
      return b;
    case 2:
      b[4] = rng.int(256);
      return b;
    case 3:
      b.writeUInt32BE(rng.chance(0.5) ? rng.u32() : (b.readUInt32BE(5) ^ (1 << rng.int(32))) >>> 0, 5);
      return b;
    case 4:
      return b.length > 9 ? Buffer.concat([b.subarray(0, 9), flipBits(rng, b.subarray(9), rng.range(1, 3))]) : b;
    case 5:
      // The payload cut short while the header still announces the old length.
      return b.subarray(0, 9 + rng.int(Math.max(1, length)));
    default:
      // Extra bytes after the payload: the next frame header starts in the wrong place.
      return Buffer.concat([b, rng.bytes(rng.range(1, 12))]);
  }
}

/** One byte-level change anywhere in a stream of frames. */
export function mutateBytes(rng: Rng, input: Buffer, donor?: Buffer): Buffer {
  if (input.length === 0) return rng.bytes(rng.range(1, 32));
  const at = rng.int(input.length);
  switch (rng.int(7)) {
    case 0:
      return flipBits(rng, input, rng.range(1, 8));
    case 1: {
      const b = Buffer.from(input);
      b[at] = rng.pick([0x00, 0xff, 0x7f, 0x80, rng.int(256)]);
      return b;
    }
    case 2:
      return Buffer.concat([input.subarray(0, at), rng.bytes(rng.range(1, 16)), input.subarray(at)]);
    case 3:
      return Buffer.concat([input.subarray(0, at), input.subarray(Math.min(input.length, at + rng.range(1, 16)))]);
    case 4:
      return input.subarray(0, at);
    case 5: {
      const len = rng.range(1, Math.min(64, input.length - at));
      return Buffer.concat([input.subarray(0, at + len), input.subarray(at, at + len), input.subarray(at + len)]);
    }
    default: {
      // Splicing: part of another stream of valid frames dropped in at a random offset.
      const other = donor && donor.length > 0 ? donor : input;
      const from = rng.int(other.length);
      const piece = other.subarray(from, from + rng.range(1, 200));
      return Buffer.concat([input.subarray(0, at), piece, input.subarray(at)]);
    }
  }
}

/** `bytes` in 1..n chunks at random offsets (a reader must not care where a chunk ends). */
export function randomChunks(rng: Rng, bytes: Buffer): Buffer[] {
  if (bytes.length === 0) return [];
  const mode = rng.int(4);
  if (mode === 0) return [bytes];
  const out: Buffer[] = [];
  let at = 0;
  while (at < bytes.length) {
    const n = mode === 1 ? 1 + rng.int(3) : mode === 2 ? 1 + rng.int(40) : 1 + rng.int(2000);
    out.push(bytes.subarray(at, at + n));
    at += n;
  }
  // Byte-at-a-time over a long input would only cost time; coalesce the tail.
  if (out.length > 400) return [...out.slice(0, 399), Buffer.concat(out.slice(399))];
  return out;
}

// ---- guards -----------------------------------------------------------------------------------

/** Seeds for a run: the fixed list, or H2_FUZZ_SEEDS="1,2,0x10" to replay others. */
export function seedList(fixed: readonly number[]): number[] {
  const env = process.env["H2_FUZZ_SEEDS"];
  if (!env) return [...fixed];
  return env.split(",").map((s) => Number(s.trim()) >>> 0);
}

/** Records exceptions and rejections no listener caught while a test runs. */
export class EscapeGuard {
  readonly escaped: string[] = [];
  private readonly onException = (err: unknown) => this.escaped.push(`uncaughtException: ${describeError(err)}`);
  private readonly onRejection = (err: unknown) => this.escaped.push(`unhandledRejection: ${describeError(err)}`);

  install(): this {
    process.on("uncaughtException", this.onException);
    process.on("unhandledRejection", this.onRejection);
    return this;
  }

  remove(): void {
    process.off("uncaughtException", this.onException);
    process.off("unhandledRejection", this.onRejection);
  }
}

export function describeError(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}\n${err.stack ?? ""}` : String(err);
}

/** Heap growth across a test, sampled as it runs. */
export class HeapWatch {
  private readonly start = process.memoryUsage().heapUsed;
  peak = 0;

  constructor(private readonly limitBytes = 200 * 1024 * 1024) {}

  /** The growth so far, or a message once it is above the limit. */
  sample(): string | undefined {
    const grown = process.memoryUsage().heapUsed - this.start;
    if (grown > this.peak) this.peak = grown;
    return grown > this.limitBytes ? `heap grew by ${(grown / 2 ** 20).toFixed(1)} MB (limit ${this.limitBytes / 2 ** 20} MB)` : undefined;
  }
}

/** Resolves with `what()` once it is not undefined, checked after each event-loop turn; undefined after `ms`. */
export function waitFor<T>(what: () => T | undefined, ms: number): Promise<T | undefined> {
  const deadline = performance.now() + ms;
  return new Promise((resolve) => {
    const check = () => {
      const v = what();
      if (v !== undefined) return resolve(v);
      if (performance.now() > deadline) return resolve(undefined);
      // setImmediate lets socket deliveries and session flushes (both setImmediate) run in between.
      setImmediate(check);
    };
    check();
  });
}

export function hex(b: Buffer, max = 4096): string {
  const s = b.toString("hex");
  return s.length > max * 2 ? `${s.slice(0, max * 2)}…(${b.length} bytes)` : s;
}

// ---- the peer's view of a session under test --------------------------------------------------

/**
 * Reads what a session writes, from the peer's end of the pair, and checks it frame by frame: only
 * known frame types, GOAWAY and RST_STREAM codes RFC 9113 defines, and silence after an error GOAWAY.
 * Sees the PING ACK that carries `sentinel`, answers the session's PINGs when `answerPings` is set,
 * and closes the peer's end when the session closes its own (as a TCP peer would).
 */
export class WireWatch {
  readonly frames: Frame[] = [];
  readonly violations: string[] = [];
  errorGoaway: Frame | undefined;
  sentinelAcked = false;
  /** The session ended its side of the connection. */
  ended = false;
  answerPings = false;
  private readonly splitter: FrameSplitter;

  constructor(
    private readonly peer: Duplex,
    private readonly sentinel: Buffer,
    /** The session is a client: its output starts with the connection preface. */
    clientPreface: boolean,
  ) {
    this.splitter = new FrameSplitter(clientPreface);
    peer.on("data", (chunk: Buffer) => {
      for (const f of this.splitter.push(chunk)) this.inspect(f);
      if (this.splitter.badPreface) this.violations.push(`the client preface was ${hex(this.splitter.badPreface)}`);
    });
    peer.on("end", () => {
      this.ended = true;
      if (!peer.writableEnded) peer.end();
    });
    peer.on("error", (err: Error) => this.violations.push(`the peer's end of the pair failed: ${describeError(err)}`));
  }

  /** Bytes of an unfinished frame the session wrote (a frame cut in half is a bug). */
  get leftover(): number {
    return this.splitter.leftover;
  }

  write(bytes: Buffer): void {
    if (this.peer.writable && !this.peer.destroyed) this.peer.write(bytes);
  }

  private inspect(f: Frame): void {
    this.frames.push(f);
    if (this.errorGoaway !== undefined) {
      this.violations.push(`${describeFrame(f)} written after the error GOAWAY (${describeFrame(this.errorGoaway)})`);
    }
    if (f.type > FRAME.CONTINUATION) this.violations.push(`a frame of unknown type written: ${describeFrame(f)}`);
    switch (f.type) {
      case FRAME.GOAWAY: {
        if (f.payload.length < 8 || f.streamId !== 0) {
          this.violations.push(`malformed GOAWAY written: ${describeFrame(f)}`);
          break;
        }
        const code = f.payload.readUInt32BE(4);
        if (code > MAX_KNOWN_ERROR) this.violations.push(`GOAWAY with error code 0x${code.toString(16)}, not one of RFC 9113 section 7`);
        if (code !== 0) this.errorGoaway ??= f;
        break;
      }
      case FRAME.RST_STREAM: {
        const code = f.payload.length === 4 ? f.payload.readUInt32BE(0) : -1;
        if (code < 0 || code > MAX_KNOWN_ERROR || f.streamId === 0) this.violations.push(`bad RST_STREAM written: ${describeFrame(f)}`);
        break;
      }
      case FRAME.PING:
        if ((f.flags & FLAG.ACK) !== 0) {
          if (f.payload.equals(this.sentinel)) this.sentinelAcked = true;
        } else if (this.answerPings && f.payload.length === 8) this.write(encodeFrame(FRAME.PING, FLAG.ACK, 0, f.payload));
        break;
    }
  }
}

/** How inputs ended, printed per test: shows the inputs reach past the first frame. */
export class WireStats {
  inputs = 0;
  answered = 0;
  streams = 0;
  readonly goaways = new Map<number, number>();
  readonly resets = new Map<number, number>();

  add(watch: WireWatch, streams: number): void {
    this.inputs++;
    if (watch.sentinelAcked) this.answered++;
    this.streams += streams;
    for (const f of watch.frames) {
      if (f.type === FRAME.GOAWAY && f.payload.length >= 8) bump(this.goaways, f.payload.readUInt32BE(4));
      if (f.type === FRAME.RST_STREAM && f.payload.length === 4) bump(this.resets, f.payload.readUInt32BE(0));
    }
  }

  report(t: DiagnosticContext): void {
    const show = (m: Map<number, number>) => [...m].sort((a, b) => a[0] - b[0]).map(([code, n]) => `0x${code.toString(16)}:${n}`).join(" ") || "none";
    t.diagnostic(`${this.inputs} inputs: ${this.answered} left the session answering, ${this.streams} streams`);
    t.diagnostic(`GOAWAY codes written ${show(this.goaways)}; RST_STREAM codes written ${show(this.resets)}`);
  }
}

function bump(m: Map<number, number>, key: number): void {
  m.set(key, (m.get(key) ?? 0) + 1);
}

// ---- the loop ---------------------------------------------------------------------------------

export interface Budget {
  /** Inputs per test, shared by its seeds. */
  maxInputs: number;
  /** Wall-clock per test, shared by its seeds. */
  ms: number;
}

export interface DiagnosticContext {
  diagnostic(message: string): void;
}

/**
 * Runs `runOne(seed, index)` for each seed until its share of the input count or of the time is
 * used, with escaped exceptions and heap growth checked after every input. `runOne` returns a
 * description of what went wrong, or undefined.
 */
export async function fuzzLoop(t: DiagnosticContext, seeds: readonly number[], budget: Budget, runOne: (seed: number, index: number) => Promise<string | undefined>): Promise<void> {
  const guard = new EscapeGuard().install();
  const heap = new HeapWatch();
  try {
    for (const seed of seeds) {
      const seedName = `0x${seed.toString(16)}`;
      t.diagnostic(`seed ${seedName}`);
      const started = performance.now();
      const deadline = started + budget.ms / seeds.length;
      const max = Math.ceil(budget.maxInputs / seeds.length);
      // H2_FUZZ_INDEX=<n> replays one input of each seed.
      const only = process.env["H2_FUZZ_INDEX"];
      let i = only === undefined ? 0 : Number(only);
      const end = only === undefined ? max : i + 1;
      for (; i < end && performance.now() < deadline; i++) {
        const problem = await runOne(seed, i);
        const where = `seed ${seedName} input ${i} (replay: H2_FUZZ_SEEDS=${seedName} H2_FUZZ_INDEX=${i})`;
        if (problem !== undefined) throw new Error(`${where}: ${problem}`);
        if (guard.escaped.length > 0) throw new Error(`${where}: an exception escaped:\n${guard.escaped.join("\n")}`);
        if (i % 32 === 0) {
          const grown = heap.sample();
          if (grown !== undefined) throw new Error(`${where}: ${grown}`);
        }
      }
      t.diagnostic(`seed ${seedName}: ${i} inputs in ${Math.round(performance.now() - started)} ms`);
    }
    const grown = heap.sample();
    if (grown !== undefined) throw new Error(grown);
    t.diagnostic(`heap growth peak ${(heap.peak / 2 ** 20).toFixed(1)} MB`);
  } finally {
    guard.remove();
  }
}
