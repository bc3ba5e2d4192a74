import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Duplex } from "node:stream";
import { connectH2 } from "../../src/h2/client.js";
import type { H2ClientSession } from "../../src/h2/client-session.js";
import type { H2ClientStream } from "../../src/h2/client-stream.js";
import type { H2SessionOptions } from "../../src/h2/options.js";
import {
  bytesToBoundary,
  describeError,
  duplexPair,
  encodeFrame,
  FLAG,
  FRAME,
  fuzzLoop,
  grpcFrame,
  grpcResponseHeaders,
  headerFrames,
  hex,
  hpackEncode,
  MAX_KNOWN_ERROR,
  mutateBytes,
  mutateFrame,
  randomChunks,
  randomFrame,
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

// Bounded, seeded fuzzing of the client side of the HTTP/2 engine (H2ClientSession from connectH2)
// through an in-memory socket pair. The test plays a server: the client opens a few gRPC requests
// (some with a body, some ended, some queued behind the server's stream limit), then the fake server
// sends SETTINGS and random, mutated or spliced frames in random chunks, then a PING whose ACK (or the
// session's close) shows the input was dealt with. For every input: no exception escapes, the session
// settles and closes when the connection goes, every GOAWAY and RST_STREAM it writes carries an
// RFC 9113 error code, it writes nothing after an error GOAWAY, every request stream and PING callback
// it handed out ends, and the heap stays bounded. H2_FUZZ_SEEDS=<seed> H2_FUZZ_INDEX=<n> replays one input.

const SEEDS = seedList([0x5eed0002, 0xfacade, 0x2024_9114]);
const BUDGET: Budget = { maxInputs: 20_000, ms: 7_000 };
const SETTLE_MS = 3_000;
const CLOSE_MS = 4_000;
const TEST = { timeout: 45_000 };

/** Options for connectH2 besides scheme and authority; TIGHT reaches the refusal paths sooner. */
const TIGHT: Partial<H2SessionOptions> = {
  maxHeaderListSize: 1024,
  maxHeaderListPairs: 16,
  initialWindowSize: 2048,
  maxHeaderBlockBytes: 2048,
  maxContinuationFrames: 3,
  floodBurst: 40,
  floodRatePerSecond: 100,
};
const MAX_FRAME = 16_384;

type Teardown = "peer-end" | "graceful-close" | "destroy" | "peer-destroy";

interface RequestPlan {
  /** HEADERS with END_STREAM. */
  endStream: boolean;
  body: Buffer | undefined;
  /** end() after the body. */
  end: boolean;
  /** Read with pause() (the window is not replenished). */
  pause: boolean;
}

interface Input {
  /** What the fake server sends after nothing (the client's preface is only read). */
  frames: Buffer;
  options: Partial<H2SessionOptions>;
  requests: RequestPlan[];
  /** Requests started part-way through the input (they may be refused or queued). */
  late: RequestPlan[];
  ping: boolean;
  interleave: boolean;
  teardown: Teardown;
  before?: (watch: WireWatch) => boolean;
}

interface Seen {
  status: unknown;
  data: Buffer[];
  trailers: Record<string, unknown> | undefined;
  ended: boolean;
  closed: boolean;
  rstCode: number | undefined;
}

interface Outcome {
  watch: WireWatch;
  connectionErrors: number[];
  problems: string[];
  seen: Seen[];
}

function describeInput(input: Input): string {
  const plans = (ps: RequestPlan[]) => ps.map((p) => `${p.endStream ? "E" : ""}${p.body ? `b${p.body.length}` : ""}${p.end ? "e" : ""}${p.pause ? "p" : ""}`).join(",");
  const opts = input.options === TIGHT ? "TIGHT" : "DEFAULT";
  return (
    `options=${opts} requests=[${plans(input.requests)}] late=[${plans(input.late)}] ping=${input.ping} teardown=${input.teardown} interleave=${input.interleave}\n` +
    `  server bytes (${input.frames.length}): ${hex(input.frames)}`
  );
}

const REQUEST_HEADERS = { ":method": "POST", ":path": "/x.Y/Z", "content-type": "application/grpc", te: "trailers" };

async function runClient(rng: Rng, input: Input): Promise<Outcome> {
  const [socket, peer] = duplexPair();
  const sentinel = Buffer.concat([Buffer.from("fz"), rng.bytes(6)]);
  const watch = new WireWatch(peer, sentinel, true);
  const problems: string[] = [];
  const connectionErrors: number[] = [];
  const seen: Seen[] = [];
  const streams: H2ClientStream[] = [];
  let closes = 0;
  let pingCalls = 0;
  let pingsSent = 0;

  const session: H2ClientSession = connectH2(socket as Duplex, { scheme: "http", authority: "fuzz.local", ...input.options });
  session.on("connectionError", (err: Error & { h2Code?: number }) => {
    const code = err.h2Code ?? -1;
    connectionErrors.push(code);
    if (code < 0 || code > MAX_KNOWN_ERROR) problems.push(`connectionError with code ${code}: ${err.message}`);
  });
  session.on("error", (err: Error) => problems.push(`session 'error': ${describeError(err)}`));
  session.on("close", () => closes++);
  const app = (what: string, fn: () => void) => {
    try {
      fn();
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (typeof code !== "string" || !code.startsWith("ERR_HTTP2_")) problems.push(`${what} threw: ${describeError(err)}`);
    }
  };
  const start = (plan: RequestPlan) =>
    app("request", () => {
      const stream = session.request(REQUEST_HEADERS, { endStream: plan.endStream });
      const s: Seen = { status: undefined, data: [], trailers: undefined, ended: false, closed: false, rstCode: undefined };
      seen.push(s);
      streams.push(stream);
      stream.on("response", (headers: Record<string, unknown>) => {
        if (s.status !== undefined) problems.push(`a second 'response' on stream ${stream.id}`);
        s.status = headers[":status"];
      });
      stream.on("headers", () => {});
      stream.on("data", (c: Buffer) => s.data.push(Buffer.from(c)));
      stream.on("trailers", (t: Record<string, unknown>) => {
        if (s.trailers !== undefined) problems.push(`a second 'trailers' on stream ${stream.id}`);
        s.trailers = t;
      });
      stream.on("end", () => (s.ended = true));
      stream.on("error", () => {});
      stream.on("close", () => {
        if (s.closed) problems.push(`stream ${stream.id} emitted 'close' twice`);
        s.closed = true;
        s.rstCode = stream.rstCode;
      });
      if (plan.pause) stream.pause();
      if (!plan.endStream) {
        if (plan.body) stream.write(plan.body);
        if (plan.end) stream.end();
      }
    });
  for (const plan of input.requests) start(plan);
  if (input.ping) {
    app("ping", () => {
      session.ping(() => pingCalls++);
      pingsSent++;
    });
  }

  const boundary = bytesToBoundary(input.frames, MAX_FRAME);
  const tail = Buffer.concat([Buffer.alloc(boundary.pad), boundary.fails ? Buffer.alloc(0) : encodeFrame(FRAME.PING, 0, 0, sentinel)]);
  const chunks = randomChunks(rng, Buffer.concat([input.frames, tail]));
  const lateAt = new Set(input.late.map(() => rng.int(chunks.length + 1)));
  let late = 0;
  for (let k = 0; k <= chunks.length; k++) {
    if (lateAt.has(k)) while (late < input.late.length) start(input.late[late++]!);
    if (k === chunks.length) break;
    watch.write(chunks[k]!);
    if (input.interleave && rng.chance(0.3)) await new Promise((r) => setImmediate(r));
  }
  while (late < input.late.length) start(input.late[late++]!);

  const settled = await waitFor(() => (watch.sentinelAcked || closes > 0 ? true : undefined), SETTLE_MS);
  if (settled === undefined) {
    problems.push(`neither answered the PING nor closed within ${SETTLE_MS} ms (destroyed=${session.destroyed} closed=${session.closed} streams=${session.streamCount} frames written: ${watch.frames.length})`);
  }
  if (input.before !== undefined && settled !== undefined) {
    const ready = input.before;
    if ((await waitFor(() => (ready(watch) ? true : undefined), SETTLE_MS)) === undefined) problems.push(`what the test waits for did not arrive within ${SETTLE_MS} ms`);
  }

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
    const open = streams.filter((_, k) => !seen[k]!.closed);
    if (open.length > 0) problems.push(`${open.length} of ${streams.length} request streams never emitted 'close' (ids ${open.map((s) => s.id).join(",")}; id 0 = never opened)`);
    if (pingCalls !== pingsSent) problems.push(`${pingsSent - pingCalls} ping callbacks never called`);
  }
  if (watch.leftover !== 0) problems.push(`the session wrote ${watch.leftover} bytes of an unfinished frame`);
  problems.push(...watch.violations);
  if (!peer.destroyed) peer.destroy();
  return { watch, connectionErrors, problems, seen };
}

// ---- input builders ---------------------------------------------------------------------------

function pickTeardown(rng: Rng): Teardown {
  return rng.pick<Teardown>(["peer-end", "graceful-close", "destroy", "peer-destroy"]);
}

function requestPlan(rng: Rng, roomy: boolean): RequestPlan {
  const endStream = rng.chance(0.3);
  return {
    endStream,
    body: !endStream && rng.chance(0.7) ? grpcFrame(rng.bytes(rng.smallLength(roomy ? 1000 : 5000))) : undefined,
    end: roomy || rng.chance(0.7),
    pause: !roomy && rng.chance(0.1),
  };
}

/** The server's SETTINGS: the values a server may send, including a small stream limit (requests queue). */
function serverSettings(rng: Rng, roomy: boolean): Buffer {
  const entries: [number, number][] = [];
  if (rng.chance(0.4)) entries.push([0x3, roomy ? rng.pick([100, 256]) : rng.pick([0, 1, 2, 100])]);
  if (rng.chance(0.3)) entries.push([0x4, roomy ? rng.pick([65535, 1 << 20]) : rng.pick([0, 1, 16384, 65535, 1 << 20])]);
  if (rng.chance(0.3)) entries.push([0x5, rng.pick([16384, 32768, 2 ** 24 - 1])]);
  if (rng.chance(0.3)) entries.push([0x1, rng.pick([0, 256, 4096, 65536])]);
  if (rng.chance(0.2)) entries.push([0x6, rng.pick([100, 16384])]);
  return encodeFrame(FRAME.SETTINGS, 0, 0, settingsPayload(entries));
}

interface Traffic {
  frames: Buffer[];
  ids: StreamIds;
  /** Per answered stream: the DATA bytes the server sent (padding removed). */
  sent: Map<number, Buffer>;
}

/**
 * A valid server's answers to requests `ids`: SETTINGS, its ACK, and per stream response HEADERS
 * (sometimes after a 1xx), DATA and trailers with END_STREAM, streams interleaved frame by frame,
 * with PING and WINDOW_UPDATE in between.
 */
function validAnswers(rng: Rng, ids: number[], roomy: boolean): Traffic {
  const frames: Buffer[] = [serverSettings(rng, roomy)];
  if (rng.chance(0.9)) frames.push(encodeFrame(FRAME.SETTINGS, FLAG.ACK, 0));
  const sent = new Map<number, Buffer>();
  const queues = ids.map((id) => {
    const q: Buffer[] = [];
    if (rng.chance(0.1)) q.push(Buffer.concat(headerFrames(rng, id, hpackEncode([[":status", "100"]]), false, true)));
    q.push(Buffer.concat(headerFrames(rng, id, hpackEncode(grpcResponseHeaders()), false, true)));
    const body = rng.chance(0.8) ? Buffer.concat(Array.from({ length: rng.range(1, 3) }, () => grpcFrame(rng.bytes(rng.smallLength(800))))) : Buffer.alloc(0);
    sent.set(id, body);
    for (let at = 0; at < body.length; ) {
      const n = Math.min(body.length - at, rng.range(1, 1000));
      q.push(padded(rng, id, body.subarray(at, at + n)));
      at += n;
    }
    q.push(Buffer.concat(headerFrames(rng, id, hpackEncode([["grpc-status", "0"]]), true, true)));
    return q;
  });
  while (queues.some((q) => q.length > 0)) {
    const q = rng.pick(queues.filter((x) => x.length > 0));
    frames.push(q.shift()!);
    if (rng.chance(0.08)) frames.push(encodeFrame(FRAME.PING, 0, 0, rng.bytes(8)));
    if (rng.chance(0.08)) frames.push(encodeFrame(FRAME.WINDOW_UPDATE, 0, 0, u32(rng.range(1, 65535))));
  }
  return { frames, ids: { known: ids, next: 1 + 2 * ids.length }, sent };
}

function padded(rng: Rng, id: number, data: Buffer): Buffer {
  if (!rng.chance(0.2)) return encodeFrame(FRAME.DATA, 0, id, data);
  const pad = rng.int(32);
  return encodeFrame(FRAME.DATA, FLAG.PADDED, id, Buffer.concat([Buffer.from([pad]), data, Buffer.alloc(pad)]));
}

function baseInput(rng: Rng, roomy = false): Input {
  const requests = Array.from({ length: rng.range(roomy ? 1 : 0, 5) }, () => requestPlan(rng, roomy));
  const late = roomy || rng.chance(0.6) ? [] : Array.from({ length: rng.range(1, 3) }, () => requestPlan(rng, false));
  return { frames: Buffer.alloc(0), options: !roomy && rng.chance(0.3) ? TIGHT : {}, requests, late, ping: !roomy && rng.chance(0.3), interleave: rng.chance(0.3), teardown: pickTeardown(rng) };
}

const requestIds = (input: Input) => input.requests.map((_, k) => 1 + 2 * k);

async function check(rng: Rng, input: Input, stats: WireStats): Promise<string | undefined> {
  const out = await runClient(rng, input);
  stats.add(out.watch, out.seen.length);
  return out.problems.length > 0 ? `${out.problems.join("\n")}\n  input: ${describeInput(input)}` : undefined;
}

// ---- tests ------------------------------------------------------------------------------------

describe("client session fuzzing (H2ClientSession over an in-memory socket, the test plays the server)", () => {
  it("random frames after the server's SETTINGS, with requests open -> no escape, no hang, known GOAWAY codes, every request ends", TEST, async (t) => {
    const stats = new WireStats();
    await fuzzLoop(t, SEEDS, BUDGET, async (seed, i) => {
      const rng = Rng.forInput(seed, i);
      const input = baseInput(rng);
      const ids = requestIds(input);
      const answers = validAnswers(rng, ids, false);
      const frames = rng.chance(0.5) ? answers.frames.slice(0, rng.range(1, answers.frames.length)) : answers.frames;
      const n = rng.chance(0.6) ? rng.range(1, 3) : rng.range(4, 12);
      for (let k = 0; k < n; k++) frames.push(...randomFrame(rng, "server", answers.ids));
      input.frames = Buffer.concat(frames);
      return check(rng, input, stats);
    });
    stats.report(t);
  });

  it("mutated valid responses (length lies, types, flags, ids, bit flips, splices) -> same properties", TEST, async (t) => {
    const stats = new WireStats();
    await fuzzLoop(t, SEEDS, BUDGET, async (seed, i) => {
      const rng = Rng.forInput(seed, i);
      const input = baseInput(rng);
      const frames = [...validAnswers(rng, requestIds(input), false).frames];
      const frameMutations = rng.range(0, 4);
      for (let k = 0; k < frameMutations && frames.length > 0; k++) {
        const at = rng.int(frames.length);
        frames[at] = mutateFrame(rng, frames[at]!, MAX_FRAME);
      }
      let bytes: Buffer = Buffer.concat(frames);
      const byteMutations = frameMutations === 0 ? rng.range(1, 3) : rng.range(0, 2);
      const donor = Buffer.concat(validAnswers(rng, [1, 3], false).frames);
      for (let k = 0; k < byteMutations; k++) bytes = mutateBytes(rng, bytes, donor);
      input.frames = bytes;
      return check(rng, input, stats);
    });
    stats.report(t);
  });

  it("valid responses followed by garbage bytes -> same properties", TEST, async (t) => {
    const stats = new WireStats();
    await fuzzLoop(t, SEEDS, BUDGET, async (seed, i) => {
      const rng = Rng.forInput(seed, i);
      const input = baseInput(rng);
      const answers = validAnswers(rng, requestIds(input), false);
      const garbage = rng.weighted<() => Buffer>([
        [4, () => rng.bytes(rng.range(1, 3000))],
        [1, () => Buffer.from("HTTP/1.1 400 Bad Request\r\n\r\n", "latin1")],
        [1, () => encodeFrame(FRAME.PUSH_PROMISE, FLAG.END_HEADERS, 1, Buffer.concat([u32(2), hpackEncode([[":method", "GET"]])]))],
      ])();
      input.frames = Buffer.concat([...answers.frames, garbage]);
      return check(rng, input, stats);
    });
    stats.report(t);
  });

  it("valid responses in random chunk splits -> every request gets its status, bytes and trailers, no connection error", TEST, async (t) => {
    const stats = new WireStats();
    await fuzzLoop(t, SEEDS, { maxInputs: 6_000, ms: 6_000 }, async (seed, i) => {
      const rng = Rng.forInput(seed, i);
      const input = baseInput(rng, true);
      const answers = validAnswers(rng, requestIds(input), true);
      // The client hands DATA and trailers over as it reads them, so all is in once the PING after them is answered.
      input.frames = Buffer.concat(answers.frames);
      const out = await runClient(rng, input);
      stats.add(out.watch, out.seen.length);
      const problems = [...out.problems];
      if (out.connectionErrors.length > 0) problems.push(`connection errors ${out.connectionErrors.join(",")} on valid responses`);
      if (!out.watch.sentinelAcked) problems.push("valid responses: the PING after them was not answered");
      if (out.watch.errorGoaway) problems.push("valid responses: the client sent an error GOAWAY");
      out.seen.forEach((s, k) => {
        const id = 1 + 2 * k;
        const body = answers.sent.get(id)!;
        const got = Buffer.concat(s.data);
        if (s.status !== 200) problems.push(`stream ${id}: status ${String(s.status)}`);
        if (!got.equals(body)) problems.push(`stream ${id}: received ${got.length} bytes ${hex(got, 64)}, sent ${body.length} bytes ${hex(body, 64)}`);
        if (s.trailers?.["grpc-status"] !== "0") problems.push(`stream ${id}: trailers ${JSON.stringify(s.trailers)}`);
        if (!s.ended) problems.push(`stream ${id}: no 'end'`);
      });
      return problems.length > 0 ? `${problems.join("\n")}\n  input: ${describeInput(input)}` : undefined;
    });
    stats.report(t);
  });

  it(
    "a request queued behind SETTINGS_MAX_CONCURRENT_STREAMS 0 -> 'close' once the session is destroyed",
    { timeout: 10_000 },
    async () => {
      const [socket, peer] = duplexPair();
      peer.on("data", () => {});
      const session = connectH2(socket as Duplex, { scheme: "http", authority: "fuzz.local" });
      // The server's SETTINGS with MAX_CONCURRENT_STREAMS 0: 000006 04 00 00000000 0003 00000000, then its ACK.
      peer.write(encodeFrame(FRAME.SETTINGS, 0, 0, settingsPayload([[0x3, 0]])));
      peer.write(encodeFrame(FRAME.SETTINGS, FLAG.ACK, 0));
      await new Promise((resolve) => session.once("remoteSettings", resolve));
      const stream = session.request(REQUEST_HEADERS);
      assert.equal(stream.id, 0, "the request waits for a slot");
      let streamClosed = false;
      stream.on("close", () => (streamClosed = true));
      stream.on("error", () => {});
      const sessionClosed = new Promise((resolve) => session.once("close", resolve));
      session.destroy();
      await sessionClosed;
      // The stream's 'close' comes on a tick before the session's (which waits for setImmediate).
      assert.equal(streamClosed, true, "the queued request never emitted 'close': its caller waits forever");
    },
  );
});
