import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Duplex } from "node:stream";
import { H2ServerSession } from "../../src/h2/server-session.js";
import type { H2ServerStream } from "../../src/h2/server-stream.js";
import { DEFAULT_SESSION_OPTIONS, type H2SessionOptions } from "../../src/h2/options.js";
import {
  bytesToBoundary,
  describeError,
  duplexPair,
  encodeFrame,
  FLAG,
  FRAME,
  fuzzLoop,
  grpcFrame,
  grpcRequestHeaders,
  headerFrames,
  hex,
  hpackEncode,
  MAX_KNOWN_ERROR,
  mutateBytes,
  mutateFrame,
  PREFACE,
  randomChunks,
  randomFrame,
  rawFrame,
  Rng,
  seedList,
  settingsPayload,
  u32,
  waitFor,
  WireStats,
  WireWatch,
  type Budget,
  type StreamIds,
} from "./fuzz-lib.js";

// Bounded, seeded fuzzing of the server side of the HTTP/2 engine (H2ServerSession) through an
// in-memory socket pair, so the session's real socket path runs. Every input is one connection: the
// client preface and SETTINGS, then random, mutated or spliced frames in random chunks, then a PING
// whose ACK (or the session's close) shows the input was dealt with. For every input: no exception
// escapes, the session settles (answers the PING or closes) and closes when the peer goes, every GOAWAY
// and RST_STREAM it writes carries an RFC 9113 error code, it writes nothing after an error GOAWAY,
// every stream it handed out is closed with the session, and the heap stays bounded. A failure names
// the seed and input index; H2_FUZZ_SEEDS=<seed> replays a seed.

const SEEDS = seedList([0x5eed0001, 0xc0ffee, 0x2024_9113]);
/** Per test: at most this many inputs and this much time, whichever ends first. */
const BUDGET: Budget = { maxInputs: 20_000, ms: 7_000 };
/** Bounds for one input; they only matter when something hangs (a normal input takes a few event-loop turns). */
const SETTLE_MS = 3_000;
const CLOSE_MS = 4_000;
const TEST = { timeout: 45_000 };

/** Tight limits, so inputs reach the refusal paths (concurrency, header list, CONTINUATION, floods, resets, windows). */
const TIGHT: H2SessionOptions = {
  ...DEFAULT_SESSION_OPTIONS,
  maxConcurrentStreams: 3,
  maxHeaderListSize: 1024,
  maxHeaderListPairs: 16,
  initialWindowSize: 2048,
  maxHeaderBlockBytes: 2048,
  maxContinuationFrames: 3,
  floodBurst: 40,
  floodRatePerSecond: 100,
  resetBurst: 4,
  resetRatePerSecond: 1,
};
/** A larger frame limit: length lies up to it are buffered, not refused. */
const WIDE: H2SessionOptions = { ...DEFAULT_SESSION_OPTIONS, maxFrameSize: 65_536, initialWindowSize: 1 << 20, connectionWindowSize: 1 << 20 };

type HandlerMode = "ignore" | "respond" | "echo" | "reset" | "pause";
type Teardown = "peer-end" | "graceful-close" | "destroy" | "peer-destroy";

interface Input {
  /** The bytes after the client preface (the preface itself unless `preface` replaces it). */
  frames: Buffer;
  preface?: Buffer;
  options: H2SessionOptions;
  mode: HandlerMode;
  /** Let the event loop turn between chunks (handlers and flushes run in between). */
  interleave: boolean;
  teardown: Teardown;
  /** Checks the request headers of each stream handed out (valid traffic only). */
  checkHeaders?: (id: number, headers: Record<string, unknown>) => string | undefined;
  /** Holds the teardown back until this is true (bounded by SETTLE_MS), e.g. until every answer is in. */
  before?: (watch: WireWatch) => boolean;
}

interface Outcome {
  watch: WireWatch;
  connectionErrors: number[];
  problems: string[];
  streams: number;
}

/** What the input was, for a failure message: enough to rebuild it by hand. */
function describeInput(input: Input): string {
  const opts = input.options === TIGHT ? "TIGHT" : input.options === WIDE ? "WIDE" : "DEFAULT";
  const pre = input.preface ? ` preface=${hex(input.preface)}` : "";
  return `options=${opts} handler=${input.mode} teardown=${input.teardown} interleave=${input.interleave}${pre}\n  frames after the preface (${input.frames.length} bytes): ${hex(input.frames)}`;
}

/** Runs one input on a fresh session and returns what was wrong with the session's behaviour. */
async function runServer(rng: Rng, input: Input): Promise<Outcome> {
  const [peer, socket] = duplexPair();
  const sentinel = Buffer.concat([Buffer.from("fz"), rng.bytes(6)]);
  const watch = new WireWatch(peer, sentinel, false);
  const problems: string[] = [];
  const connectionErrors: number[] = [];
  const streams: H2ServerStream[] = [];
  let closes = 0;
  let streamCloses = 0;

  const session = new H2ServerSession(socket as Duplex, input.options);
  session.on("connectionError", (err: Error & { h2Code?: number }) => {
    const code = err.h2Code ?? -1;
    connectionErrors.push(code);
    if (code < 0 || code > MAX_KNOWN_ERROR) problems.push(`connectionError with code ${code}: ${err.message}`);
  });
  // The in-memory socket never fails, so an 'error' from the session is unexpected.
  session.on("error", (err: Error) => problems.push(`session 'error': ${describeError(err)}`));
  session.on("close", () => closes++);
  /** Stream API calls made by the application; only the documented ERR_HTTP2_* refusals may throw. */
  const app = (what: string, fn: () => void) => {
    try {
      fn();
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (typeof code !== "string" || !code.startsWith("ERR_HTTP2_")) problems.push(`${what} threw: ${describeError(err)}`);
    }
  };
  const resetCode = rng.int(MAX_KNOWN_ERROR + 1);
  session.on("stream", (stream: H2ServerStream, headers: Record<string, unknown>) => {
    streams.push(stream);
    stream.on("close", () => streamCloses++);
    stream.on("error", () => {});
    if (typeof headers[":method"] !== "string") problems.push(`'stream' without a :method: ${JSON.stringify(headers)}`);
    const wrong = input.checkHeaders?.(stream.id, headers);
    if (wrong !== undefined) problems.push(wrong);
    const respond = (body: Buffer) =>
      app("respond", () => {
        if (stream.closed) return;
        stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
        stream.on("wantTrailers", () => app("sendTrailers", () => stream.sendTrailers({ "grpc-status": "0" })));
        if (body.length > 0) stream.write(body);
        stream.end();
      });
    switch (input.mode) {
      case "respond":
        stream.on("data", () => {});
        respond(grpcFrame(Buffer.from("ok")));
        break;
      case "echo": {
        const chunks: Buffer[] = [];
        stream.on("data", (c: Buffer) => chunks.push(Buffer.from(c)));
        stream.on("end", () => respond(Buffer.concat(chunks)));
        break;
      }
      case "reset":
        process.nextTick(() => app("close", () => stream.close(resetCode)));
        break;
      case "pause":
        stream.pause();
        break;
      case "ignore":
        break;
    }
  });

  // The input, then filler to the next frame boundary, then the PING that shows it was handled.
  const boundary = bytesToBoundary(input.frames, input.options.maxFrameSize);
  const tail = Buffer.concat([Buffer.alloc(boundary.pad), boundary.fails ? Buffer.alloc(0) : encodeFrame(FRAME.PING, 0, 0, sentinel)]);
  const all = Buffer.concat([input.preface ?? PREFACE, input.frames, tail]);
  for (const chunk of randomChunks(rng, all)) {
    watch.write(chunk);
    if (input.interleave && rng.chance(0.3)) await new Promise((r) => setImmediate(r));
  }

  const settled = await waitFor(() => (watch.sentinelAcked || closes > 0 ? true : undefined), SETTLE_MS);
  if (settled === undefined) {
    problems.push(`neither answered the PING nor closed within ${SETTLE_MS} ms (destroyed=${session.destroyed} closed=${session.closed} streams=${session.streamCount} frames written: ${watch.frames.length})`);
  }

  if (input.before !== undefined && settled !== undefined) {
    const ready = input.before;
    if ((await waitFor(() => (ready(watch) ? true : undefined), SETTLE_MS)) === undefined) problems.push(`what the test waits for did not arrive within ${SETTLE_MS} ms`);
  }

  // The connection ends one of four ways; the session must emit 'close' whichever it is.
  watch.answerPings = true;
  switch (input.teardown) {
    case "peer-end":
      peer.end();
      break;
    case "graceful-close":
      session.close();
      for (const s of streams) app("close", () => s.close(0x8));
      break;
    case "destroy":
      session.destroy();
      break;
    case "peer-destroy":
      peer.destroy();
      break;
  }
  const closed = await waitFor(() => (closes > 0 ? true : undefined), CLOSE_MS);
  if (closed === undefined) problems.push(`no 'close' within ${CLOSE_MS} ms after teardown ${input.teardown} (destroyed=${session.destroyed} streams=${session.streamCount})`);
  else {
    if (closes > 1) problems.push(`'close' emitted ${closes} times`);
    if (session.streamCount !== 0) problems.push(`${session.streamCount} streams still open after 'close'`);
    if (streamCloses !== streams.length) problems.push(`${streams.length - streamCloses} of ${streams.length} streams never emitted 'close'`);
  }
  if (watch.leftover !== 0) problems.push(`the session wrote ${watch.leftover} bytes of an unfinished frame`);
  problems.push(...watch.violations);
  if (!peer.destroyed) peer.destroy();
  return { watch, connectionErrors, problems, streams: streams.length };
}

// ---- input builders ---------------------------------------------------------------------------

function pickOptions(rng: Rng): H2SessionOptions {
  return rng.weighted<H2SessionOptions>([
    [6, DEFAULT_SESSION_OPTIONS],
    [3, TIGHT],
    [1, WIDE],
  ]);
}

function pickMode(rng: Rng): HandlerMode {
  return rng.pick<HandlerMode>(["ignore", "respond", "echo", "reset", "pause"]);
}

function pickTeardown(rng: Rng): Teardown {
  return rng.pick<Teardown>(["peer-end", "graceful-close", "destroy", "peer-destroy"]);
}

/** The client's SETTINGS with values a correct client may send. */
function clientSettings(rng: Rng, roomy: boolean): Buffer {
  const entries: [number, number][] = [];
  if (rng.chance(0.5)) entries.push([0x2, 0]);
  if (rng.chance(0.3)) entries.push([0x1, rng.pick([0, 256, 4096, 65536])]);
  // Without `roomy` the window may be too small for the server to answer at all.
  if (rng.chance(0.3)) entries.push([0x4, roomy ? rng.pick([32768, 65535, 1 << 20]) : rng.pick([0, 1, 16384, 65535, 1 << 20])]);
  if (rng.chance(0.3)) entries.push([0x5, rng.pick([16384, 32768, 2 ** 24 - 1])]);
  if (rng.chance(0.2)) entries.push([0x3, rng.pick([0, 100])]);
  return encodeFrame(FRAME.SETTINGS, 0, 0, settingsPayload(entries));
}

interface Traffic {
  frames: Buffer[];
  ids: StreamIds;
  /** DATA bytes (padding removed) each request sent. */
  sent: Map<number, Buffer>;
}

/**
 * Valid client traffic: SETTINGS, its ACK, and up to `maxRequests` gRPC requests (HEADERS, possibly
 * with CONTINUATION, padding, priority fields), each with DATA and END_STREAM, interleaved with
 * PING, WINDOW_UPDATE and PRIORITY. Stays inside the default limits and windows.
 */
function validTraffic(rng: Rng, maxRequests: number, roomy = false): Traffic {
  const frames: Buffer[] = [clientSettings(rng, roomy)];
  if (rng.chance(0.9)) frames.push(encodeFrame(FRAME.SETTINGS, FLAG.ACK, 0));
  const count = rng.range(0, maxRequests);
  const ids = Array.from({ length: count }, (_, i) => 1 + 2 * i);
  const sent = new Map<number, Buffer>();
  // Each request is a queue of frames; the queues are interleaved frame by frame.
  const queues = ids.map((id) => {
    const q: Buffer[] = [];
    // Each request adds a field to the server's HPACK dynamic table and names the one before it by
    // index 62 (the newest entry, before this block's insertion), so blocks depend on earlier ones.
    const k = ids.indexOf(id);
    const indexed = Buffer.concat([Buffer.from([0x40, 8]), Buffer.from(`x-fuzz-${k % 10}`), Buffer.from([4]), rng.bytes(4).map((b) => 0x61 + (b % 26))]);
    const block = Buffer.concat([hpackEncode(grpcRequestHeaders(rng.chance(0.8) ? "/x.Y/Z" : "/x.Y/Other")), k > 0 ? Buffer.from([0xbe]) : Buffer.alloc(0), indexed]);
    const endAtOnce = rng.chance(0.15);
    q.push(Buffer.concat(headerFrames(rng, id, block, endAtOnce, true)));
    if (endAtOnce) {
      sent.set(id, Buffer.alloc(0));
      return q;
    }
    const body = rng.chance(0.7) ? grpcFrame(rng.bytes(rng.smallLength(1500))) : rng.bytes(rng.smallLength(3000));
    sent.set(id, body);
    let at = 0;
    while (at < body.length) {
      const n = Math.min(body.length - at, rng.range(1, 1200));
      const piece = body.subarray(at, at + n);
      at += n;
      const last = at === body.length && rng.chance(0.6);
      q.push(padded(rng, FRAME.DATA, last ? FLAG.END_STREAM : 0, id, piece));
      if (last) return q;
    }
    q.push(encodeFrame(FRAME.DATA, FLAG.END_STREAM, id));
    return q;
  });
  // Streams open in increasing order (5.1.1): a request's first frame waits for those of lower ids.
  let started = 0;
  while (queues.some((q) => q.length > 0)) {
    const eligible = queues.filter((q, k) => q.length > 0 && k <= started);
    const q = rng.pick(eligible);
    if (q === queues[started]) started++;
    frames.push(q.shift()!);
    if (rng.chance(0.08)) frames.push(encodeFrame(FRAME.PING, 0, 0, rng.bytes(8)));
    // WINDOW_UPDATE on the connection or on a stream already opened (on an idle one it is an error, 6.9).
    if (rng.chance(0.08)) frames.push(encodeFrame(FRAME.WINDOW_UPDATE, 0, rng.chance(0.5) || started === 0 ? 0 : ids[rng.int(started)]!, u32(rng.range(1, 65535))));
    if (rng.chance(0.05)) frames.push(encodeFrame(FRAME.PRIORITY, 0, 1 + 2 * rng.range(count, count + 20), Buffer.from([0, 0, 0, 0, 15])));
  }
  return { frames, ids: { known: ids, next: 1 + 2 * count }, sent };
}

/** DATA with optional padding (6.1). */
function padded(rng: Rng, type: number, flags: number, id: number, data: Buffer): Buffer {
  if (!rng.chance(0.2)) return encodeFrame(type, flags, id, data);
  const pad = rng.int(32);
  return encodeFrame(type, flags | FLAG.PADDED, id, Buffer.concat([Buffer.from([pad]), data, Buffer.alloc(pad)]));
}

function baseInput(rng: Rng, frames: Buffer): Input {
  return { frames, options: pickOptions(rng), mode: pickMode(rng), interleave: rng.chance(0.3), teardown: pickTeardown(rng) };
}

async function check(rng: Rng, input: Input, stats: WireStats): Promise<string | undefined> {
  const out = await runServer(rng, input);
  stats.add(out.watch, out.streams);
  return out.problems.length > 0 ? `${out.problems.join("\n")}\n  input: ${describeInput(input)}` : undefined;
}

// ---- tests ------------------------------------------------------------------------------------

describe("server session fuzzing (H2ServerSession over an in-memory socket)", () => {
  it("random frames after a valid preface and SETTINGS -> no escape, no hang, known GOAWAY codes, silence after an error GOAWAY", TEST, async (t) => {
    const stats = new WireStats();
    await fuzzLoop(t, SEEDS, BUDGET, async (seed, i) => {
      const rng = Rng.forInput(seed, i);
      const traffic = validTraffic(rng, rng.chance(0.5) ? 0 : 3);
      const frames = rng.chance(0.5) ? traffic.frames.slice(0, rng.range(1, traffic.frames.length)) : traffic.frames;
      const n = rng.chance(0.6) ? rng.range(1, 3) : rng.range(4, 12);
      for (let k = 0; k < n; k++) frames.push(...randomFrame(rng, "client", traffic.ids));
      return check(rng, baseInput(rng, Buffer.concat(frames)), stats);
    });
    stats.report(t);
  });

  it("mutated valid gRPC traffic (length lies, types, flags, ids, bit flips, splices) -> same properties", TEST, async (t) => {
    const stats = new WireStats();
    await fuzzLoop(t, SEEDS, BUDGET, async (seed, i) => {
      const rng = Rng.forInput(seed, i);
      const input = baseInput(rng, Buffer.alloc(0));
      const traffic = validTraffic(rng, 4);
      const frames = [...traffic.frames];
      const frameMutations = rng.range(0, 4);
      for (let k = 0; k < frameMutations && frames.length > 0; k++) {
        const at = rng.int(frames.length);
        frames[at] = mutateFrame(rng, frames[at]!, input.options.maxFrameSize);
      }
      let bytes: Buffer = Buffer.concat(frames);
      const byteMutations = frameMutations === 0 ? rng.range(1, 3) : rng.range(0, 2);
      const donor = Buffer.concat(validTraffic(rng, 2).frames);
      for (let k = 0; k < byteMutations; k++) bytes = mutateBytes(rng, bytes, donor);
      input.frames = bytes;
      return check(rng, input, stats);
    });
    stats.report(t);
  });

  it("valid requests followed by garbage bytes -> same properties", TEST, async (t) => {
    const stats = new WireStats();
    await fuzzLoop(t, SEEDS, BUDGET, async (seed, i) => {
      const rng = Rng.forInput(seed, i);
      const traffic = validTraffic(rng, 3);
      const garbage = rng.weighted<() => Buffer>([
        [4, () => rng.bytes(rng.range(1, 3000))],
        // A plausible header that announces a payload the reader must wait for or refuse.
        [2, () => Buffer.concat([rawFrame(rng.int(12), rng.int(256), rng.u32(), Buffer.alloc(0), rng.pick([16_384, 16_385, 65_536, 0xffffff, rng.int(40_000)])), rng.bytes(rng.int(100))])],
        [1, () => Buffer.from("GET / HTTP/1.1\r\nHost: x\r\n\r\n", "latin1")],
        [1, () => Buffer.concat([PREFACE, rng.bytes(rng.int(50))])],
      ])();
      return check(rng, baseInput(rng, Buffer.concat([...traffic.frames, garbage])), stats);
    });
    stats.report(t);
  });

  it("valid gRPC traffic in random chunk splits -> every request answered with its own bytes, no connection error", TEST, async (t) => {
    const stats = new WireStats();
    await fuzzLoop(t, SEEDS, { maxInputs: 6_000, ms: 6_000 }, async (seed, i) => {
      const rng = Rng.forInput(seed, i);
      const traffic = validTraffic(rng, 6, true);
      // Teardown waits until every stream's trailers (HEADERS with END_STREAM) are in.
      const answered = (watch: WireWatch) => [...traffic.sent.keys()].every((id) => watch.frames.some((f) => f.streamId === id && f.type === FRAME.HEADERS && (f.flags & FLAG.END_STREAM) !== 0));
      // Request k carries x-fuzz-k (inserted) and x-fuzz-(k-1) (from the dynamic table), names mod 10.
      const checkHeaders = (id: number, headers: Record<string, unknown>) => {
        const k = (id - 1) / 2;
        const names = k > 0 ? [`x-fuzz-${k % 10}`, `x-fuzz-${(k - 1) % 10}`] : [`x-fuzz-0`];
        const missing = names.filter((n) => typeof headers[n] !== "string" || !/^[a-z]{4}(, [a-z]{4})?$/.test(headers[n] as string));
        return missing.length > 0 ? `stream ${id}: ${missing.join(", ")} missing or wrong in ${JSON.stringify(headers)}` : undefined;
      };
      const input: Input = { frames: Buffer.concat(traffic.frames), options: DEFAULT_SESSION_OPTIONS, mode: "echo", interleave: rng.chance(0.5), teardown: pickTeardown(rng), before: answered, checkHeaders };
      const out = await runServer(rng, input);
      stats.add(out.watch, out.streams);
      const problems = [...out.problems];
      if (out.connectionErrors.length > 0) problems.push(`connection errors ${out.connectionErrors.join(",")} on valid traffic`);
      if (!out.watch.sentinelAcked) problems.push("valid traffic: the PING after it was not answered");
      for (const [id, body] of traffic.sent) {
        const frames = out.watch.frames.filter((f) => f.streamId === id);
        const headers = frames.filter((f) => f.type === FRAME.HEADERS);
        if (headers.length !== 2 || (headers[1]!.flags & FLAG.END_STREAM) === 0) {
          problems.push(`stream ${id}: expected response HEADERS and trailers, got ${frames.map((f) => f.type).join(",")}`);
          continue;
        }
        const echoed = Buffer.concat(frames.filter((f) => f.type === FRAME.DATA).map((f) => f.payload));
        if (!echoed.equals(body)) problems.push(`stream ${id}: echoed ${echoed.length} bytes ${hex(echoed, 64)}, sent ${body.length} bytes ${hex(body, 64)}`);
      }
      return problems.length > 0 ? `${problems.join("\n")}\n  input: ${describeInput(input)}` : undefined;
    });
    stats.report(t);
  });

  it("a damaged connection preface -> GOAWAY PROTOCOL_ERROR, nothing but SETTINGS before it, then close", TEST, async (t) => {
    const stats = new WireStats();
    await fuzzLoop(t, SEEDS, { maxInputs: 3_000, ms: 4_000 }, async (seed, i) => {
      const rng = Rng.forInput(seed, i);
      const at = rng.int(PREFACE.length);
      const preface = Buffer.from(PREFACE);
      preface[at] ^= rng.range(1, 255);
      const cut = rng.chance(0.3) ? preface.subarray(0, rng.range(at + 1, PREFACE.length)) : preface;
      const input: Input = { ...baseInput(rng, Buffer.concat(validTraffic(rng, 1).frames)), preface: cut };
      const out = await runServer(rng, input);
      stats.add(out.watch, out.streams);
      const problems = [...out.problems];
      // The session settles by closing, so the GOAWAY is in whatever the teardown.
      const goaway = out.watch.errorGoaway;
      if (goaway === undefined || goaway.payload.readUInt32BE(4) !== 0x1) problems.push(`expected GOAWAY PROTOCOL_ERROR, got ${goaway ? goaway.payload.readUInt32BE(4) : "none"}`);
      const before = out.watch.frames.slice(0, goaway ? out.watch.frames.indexOf(goaway) : undefined);
      // The server's preface is its SETTINGS, with a connection WINDOW_UPDATE when its window is larger.
      if (before.some((f) => f.type !== FRAME.SETTINGS && !(f.type === FRAME.WINDOW_UPDATE && f.streamId === 0))) problems.push(`frames other than SETTINGS before the GOAWAY: ${before.map((f) => f.type).join(",")}`);
      if (out.watch.sentinelAcked) problems.push("the PING after a bad preface was answered");
      return problems.length > 0 ? `${problems.join("\n")}\n  input: ${describeInput(input)}` : undefined;
    });
    stats.report(t);
  });

  it("the wire checks flag an unknown GOAWAY code, a frame after an error GOAWAY and a cut frame", async () => {
    // The properties above are only as good as these checks: feed them a session that misbehaves.
    const [peer, fake] = duplexPair();
    const watch = new WireWatch(peer, Buffer.alloc(8), false);
    fake.write(encodeFrame(FRAME.GOAWAY, 0, 0, Buffer.from("000000000000000e", "hex")));
    fake.write(encodeFrame(FRAME.GOAWAY, 0, 0, Buffer.from("0000000000000001", "hex")));
    fake.write(encodeFrame(FRAME.PING, FLAG.ACK, 0, Buffer.alloc(8)));
    fake.write(encodeFrame(FRAME.RST_STREAM, 0, 1, u32(0x20)));
    fake.write(Buffer.from("000005", "hex"));
    await waitFor(() => (watch.frames.length === 4 && watch.leftover === 3 ? true : undefined), 2_000);
    assert.equal(watch.sentinelAcked, true);
    assert.equal(watch.violations.length, 5, watch.violations.join("\n"));
    assert.match(watch.violations[0]!, /error code 0xe/);
    assert.match(watch.violations[1]!, /^GOAWAY .* after the error GOAWAY .*code=0xe/);
    assert.match(watch.violations[2]!, /^PING .* after the error GOAWAY/);
    assert.match(watch.violations[3]!, /^RST_STREAM .* after the error GOAWAY/);
    assert.match(watch.violations[4]!, /bad RST_STREAM/);
    assert.equal(watch.leftover, 3);
    peer.destroy();
    fake.destroy();
  });

  it("the fuzz helpers agree with the reader about frame boundaries", () => {
    // A frame of 3 announced bytes with 1 present needs 2 more; a header announcing more than the limit fails.
    assert.deepEqual(bytesToBoundary(rawFrame(0, 0, 1, Buffer.alloc(1), 3), 16_384), { pad: 2, fails: false });
    assert.deepEqual(bytesToBoundary(rawFrame(0, 0, 1, Buffer.alloc(0), 16_385), 16_384), { pad: 0, fails: true });
    assert.deepEqual(bytesToBoundary(Buffer.from([0, 0]), 16_384), { pad: 7, fails: false });
    assert.deepEqual(bytesToBoundary(Buffer.from([0, 0x10]), 16_384), { pad: 7 + 0x1000, fails: false });
    // A partial header that already announces too much still needs its other bytes before the reader fails.
    assert.deepEqual(bytesToBoundary(Buffer.from([0x7f, 0x94]), 16_384), { pad: 7, fails: true });
    assert.deepEqual(bytesToBoundary(encodeFrame(FRAME.PING, 0, 0, Buffer.alloc(8)), 16_384), { pad: 0, fails: false });
  });
});
