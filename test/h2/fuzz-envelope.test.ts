import { describe, it } from "node:test";
import { EnvelopeReader, type Envelope } from "../../src/codec/envelope.js";
import { Code, RpcError } from "../../src/status.js";
import { fuzzLoop, grpcFrame, hex, mutateBytes, randomChunks, Rng, seedList, type Budget } from "./fuzz-lib.js";

// Bounded, seeded fuzzing of the gRPC message framing reader (EnvelopeReader: a flag byte, a 4-byte
// big-endian length, the body). Every stream is fed in random splits and checked against a
// reference split computed on the whole stream: each complete envelope is delivered intact, at the
// push that brings its last byte; a prefix with unknown flags gives INTERNAL and a length above the
// limit gives RESOURCE_EXHAUSTED at the push that completes the prefix (before any of the body is
// buffered); nothing is delivered after the one framing error; push() never throws.
// H2_FUZZ_SEEDS=<seed> H2_FUZZ_INDEX=<n> replays one input.

const SEEDS = seedList([0x5eed0003, 0xbadf00d, 0x2024_0005]);
const BUDGET: Budget = { maxInputs: 20_000, ms: 6_000 };
const TEST = { timeout: 30_000 };

interface RefEnvelope {
  compressed: boolean;
  data: Buffer;
  /** Offset just past the envelope's last byte. */
  end: number;
}

interface Reference {
  envelopes: RefEnvelope[];
  /** The framing error and the offset at which the reader can first see it (just past the prefix). */
  error: { code: Code; at: number } | undefined;
  /** Bytes of an unfinished envelope at the end (when there is no error). */
  partial: boolean;
}

/** The split of the whole stream, one envelope after the other, as gRPC's length-prefixed framing defines it. */
function referenceSplit(bytes: Buffer, maxLength: number): Reference {
  const envelopes: RefEnvelope[] = [];
  let off = 0;
  for (;;) {
    const rest = bytes.length - off;
    if (rest < 5) return { envelopes, error: undefined, partial: rest > 0 };
    const flags = bytes[off]!;
    const length = bytes.readUInt32BE(off + 1);
    // Flags are checked before the length: a prefix with both wrong is an INTERNAL error.
    if (flags > 1) return { envelopes, error: { code: Code.INTERNAL, at: off + 5 }, partial: false };
    if (length > maxLength) return { envelopes, error: { code: Code.RESOURCE_EXHAUSTED, at: off + 5 }, partial: false };
    if (rest - 5 < length) return { envelopes, error: undefined, partial: true };
    envelopes.push({ compressed: flags === 1, data: bytes.subarray(off + 5, off + 5 + length), end: off + 5 + length });
    off += 5 + length;
  }
}

/** Feeds `chunks` and compares every step with the reference; returns what differed. */
function feed(bytes: Buffer, chunks: Buffer[], maxLength: number): string | undefined {
  const ref = referenceSplit(bytes, maxLength);
  const got: Envelope[] = [];
  const errors: RpcError[] = [];
  const reader = new EnvelopeReader(maxLength, {
    onEnvelope: (env) => got.push(env),
    onFramingError: (err) => errors.push(err),
  });
  let pushed = 0;
  for (const chunk of chunks) {
    try {
      reader.push(chunk);
    } catch (err) {
      return `push() threw after ${pushed} bytes: ${String(err)}`;
    }
    pushed += chunk.length;
    // Everything complete by now, and nothing more, has been delivered.
    const due = ref.envelopes.filter((e) => e.end <= pushed).length;
    if (got.length !== due) return `after ${pushed} bytes: ${got.length} envelopes delivered, ${due} complete`;
    const errorDue = ref.error !== undefined && ref.error.at <= pushed;
    if (errors.length !== (errorDue ? 1 : 0)) return `after ${pushed} bytes: ${errors.length} framing errors, expected ${errorDue ? 1 : 0} (reference error ${JSON.stringify(ref.error)})`;
  }
  for (let k = 0; k < got.length; k++) {
    const e = ref.envelopes[k]!;
    if (got[k]!.compressed !== e.compressed || !got[k]!.data.equals(e.data)) {
      return `envelope ${k}: got compressed=${got[k]!.compressed} ${hex(got[k]!.data, 64)}, expected compressed=${e.compressed} ${hex(e.data, 64)}`;
    }
  }
  if (ref.error !== undefined) {
    const err = errors[0]!;
    if (!(err instanceof RpcError) || err.code !== ref.error.code) return `framing error ${String(err)} (code ${(err as RpcError).code}), expected code ${ref.error.code}`;
    if (reader.partial) return "the reader still holds bytes after its framing error";
  } else if (reader.partial !== ref.partial) return `partial=${reader.partial} at the end, expected ${ref.partial}`;
  return undefined;
}

/** Envelopes of sizes up to and around the limit, compressed or not, sometimes one too long or with bad flags. */
function envelopeStream(rng: Rng, maxLength: number, clean: boolean): Buffer {
  const parts: Buffer[] = [];
  const n = rng.range(0, 12);
  for (let k = 0; k < n; k++) {
    const size = rng.weighted<() => number>([
      [6, () => rng.int(Math.min(maxLength, 64) + 1)],
      [2, () => rng.int(maxLength + 1)],
      [1, () => maxLength],
      [1, () => 0],
    ])();
    parts.push(grpcFrame(rng.bytes(size), rng.chance(0.3) ? 1 : 0));
  }
  if (!clean && rng.chance(0.4)) {
    // One bad prefix somewhere: a length just or far above the limit, or flags other than 0 and 1.
    const at = rng.int(parts.length + 1);
    const bad = rng.weighted<() => Buffer>([
      [3, () => grpcFrame(rng.bytes(rng.int(8)), 0, maxLength + 1)],
      [2, () => grpcFrame(Buffer.alloc(0), rng.int(2), rng.pick([0xffffffff, 0x80000000, maxLength + 1 + rng.int(1 << 20)]))],
      [2, () => grpcFrame(rng.bytes(rng.int(8)), rng.range(2, 255))],
    ])();
    parts.splice(at, 0, bad);
  }
  return Buffer.concat(parts);
}

/** Splits with empty chunks now and then (a DATA frame with only padding hands over nothing). */
function splits(rng: Rng, bytes: Buffer): Buffer[] {
  const chunks = randomChunks(rng, bytes);
  if (rng.chance(0.2)) chunks.splice(rng.int(chunks.length + 1), 0, Buffer.alloc(0));
  return chunks;
}

const pickMax = (rng: Rng) => rng.pick([0, 1, 5, 16, 64, 100, 1024, 4096]);

describe("gRPC envelope reader fuzzing (EnvelopeReader)", () => {
  it("valid envelope streams in random splits -> every envelope delivered intact, as soon as its last byte arrives", TEST, async (t) => {
    await fuzzLoop(t, SEEDS, BUDGET, async (seed, i) => {
      const rng = Rng.forInput(seed, i);
      const max = pickMax(rng);
      const bytes = envelopeStream(rng, max, true);
      const cut = rng.chance(0.3) ? bytes.subarray(0, rng.int(bytes.length + 1)) : bytes;
      const problem = feed(cut, splits(rng, cut), max);
      return problem && `${problem}\n  max=${max} stream (${cut.length} bytes): ${hex(cut)}`;
    });
  });

  it("mutated envelope streams (bad flags, length lies, bit flips, cuts, splices) -> the same envelopes and error as the reference split", TEST, async (t) => {
    await fuzzLoop(t, SEEDS, BUDGET, async (seed, i) => {
      const rng = Rng.forInput(seed, i);
      const max = pickMax(rng);
      let bytes = envelopeStream(rng, max, false);
      const donor = envelopeStream(rng, max, true);
      const mutations = rng.range(0, 4);
      for (let k = 0; k < mutations; k++) bytes = mutateBytes(rng, bytes, donor);
      const problem = feed(bytes, splits(rng, bytes), max);
      return problem && `${problem}\n  max=${max} stream (${bytes.length} bytes): ${hex(bytes)}`;
    });
  });

  it("a length above the limit -> RESOURCE_EXHAUSTED at the push that completes the prefix, with the body never buffered", TEST, async (t) => {
    await fuzzLoop(t, SEEDS, { maxInputs: 6_000, ms: 3_000 }, async (seed, i) => {
      const rng = Rng.forInput(seed, i);
      const max = pickMax(rng);
      const before = envelopeStream(rng, max, true);
      const length = rng.pick([max + 1, max + 2, 0xffffffff, max + 1 + rng.int(1 << 24)]);
      // The body follows the prefix (up to 64 KiB of it); none of it may be needed to see the error.
      const prefix = grpcFrame(Buffer.alloc(0), rng.int(2), length);
      const body = Buffer.alloc(Math.min(length, rng.int(65_536)), rng.int(256));
      const bytes = Buffer.concat([before, prefix, body]);
      let problem = feed(bytes, splits(rng, bytes), max);
      // And prefix byte by byte after the valid part: the error comes with the fifth byte, not later.
      if (problem === undefined) {
        const errors: RpcError[] = [];
        const reader = new EnvelopeReader(max, { onEnvelope: () => {}, onFramingError: (e) => errors.push(e) });
        reader.push(before);
        for (let k = 0; k < 5 && problem === undefined; k++) {
          reader.push(prefix.subarray(k, k + 1));
          if (errors.length !== (k === 4 ? 1 : 0)) problem = `${errors.length} errors after prefix byte ${k + 1}`;
        }
        if (problem === undefined && errors[0]?.code !== Code.RESOURCE_EXHAUSTED) problem = `error ${String(errors[0])}, expected RESOURCE_EXHAUSTED`;
        reader.push(body);
        if (problem === undefined && (errors.length !== 1 || reader.partial)) problem = `after the body: ${errors.length} errors, partial=${reader.partial}`;
      }
      return problem && `${problem}\n  max=${max} length=${length} valid part ${hex(before, 256)}`;
    });
  });
});
