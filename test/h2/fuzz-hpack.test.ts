import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { HpackDecoder, HpackEncoder, HpackError } from "../../src/h2/hpack/index.js";

// Bounded fuzzing of the HPACK decoder: whatever the octets, decode() returns a well-formed result or throws
// HpackError (never another exception, never hangs), and the dynamic table never exceeds its maximum. Each phase
// stops at its input count or after 10 s, whichever comes first. The PRNG is seeded: set HPACK_FUZZ_SEED to replay.

const SEED = Number(process.env.HPACK_FUZZ_SEED ?? 0x5eed1234) >>> 0 || 1;
const PHASE_MS = 10_000;
console.log(`hpack fuzz seed ${SEED} (HPACK_FUZZ_SEED=${SEED} to reproduce)`);

/** xorshift32. */
function prng(seed: number): (n: number) => number {
  let s = seed >>> 0 || 1;
  return (n: number): number => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) % n;
  };
}

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ""), "hex");

/** Valid blocks to mutate: RFC 7541 Appendix C sequences and our encoder's output. */
const SEQUENCES: Array<{ maxTableSize: number; blocks: Buffer[] }> = [
  {
    maxTableSize: 4096,
    blocks: [
      hex("8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff"),
      hex("8286 84be 5886 a8eb 1064 9cbf"),
      hex("8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf"),
    ],
  },
  {
    maxTableSize: 256,
    blocks: [
      hex(
        "4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 2d1b ff6e 919d 29ad 1718 " +
          "63c7 8f0b 97c8 e9ae 82ae 43d3",
      ),
      hex("4883 640e ffc1 c0bf"),
      hex(
        "88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab 77ad 94e7 821d d7f2 e6c7 " +
          "b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07",
      ),
    ],
  },
  {
    maxTableSize: 4096,
    blocks: [
      hex("400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572"),
      hex("040c 2f73 616d 706c 652f 7061 7468"),
      hex("1008 7061 7373 776f 7264 0673 6563 7265 74"),
      hex("3fe1 1f82"),
    ],
  },
];
{
  const encoder = new HpackEncoder({ maxTableSize: 512 });
  const grpc = [
    ":method", "POST", ":scheme", "http", ":path", "/pkg.Svc/Method", ":authority", "localhost:50051",
    "content-type", "application/grpc", "te", "trailers", "grpc-timeout", "99m", "x-bin", "\u0000\u00ff\u0080",
  ];
  SEQUENCES.push({
    maxTableSize: 512,
    blocks: [encoder.encode(grpc), encoder.encode(grpc), (encoder.setPeerMaxTableSize(100), encoder.encode(grpc))],
  });
}

/** Decodes one block and checks the outcome; returns false when the decoder must be replaced (after an error). */
function decodeChecked(decoder: HpackDecoder, block: Uint8Array, label: () => string): boolean {
  let result;
  try {
    result = decoder.decode(block);
  } catch (err) {
    if (!(err instanceof HpackError)) {
      assert.fail(`${label()}: ${String(err)} is not an HpackError (block ${Buffer.from(block).toString("hex")})`);
    }
    assert.equal(err.code, "COMPRESSION_ERROR");
    return false;
  }
  assert.ok(Array.isArray(result.fields) && result.fields.length % 2 === 0, label());
  for (const s of result.fields) assert.equal(typeof s, "string", label());
  assert.ok(result.listSize >= 0 && Number.isFinite(result.listSize), label());
  assert.ok(decoder.tableSize <= decoder.maxTableSize, `${label()}: table ${decoder.tableSize} > ${decoder.maxTableSize}`);
  return true;
}

describe(`HPACK decoder fuzz (seed ${SEED})`, () => {
  it("random octets (<= 20000 inputs, <= 10 s) -> fields or HpackError, table within its maximum", () => {
    const rnd = prng(SEED);
    const deadline = Date.now() + PHASE_MS;
    let decoder = new HpackDecoder({ maxTableSize: 256, maxHeaderListSize: 2048 });
    let errors = 0;
    let i = 0;
    for (; i < 20_000 && Date.now() < deadline; i++) {
      const length = rnd(8) === 0 ? rnd(600) : rnd(40);
      const block = new Uint8Array(length);
      // Bias towards representation octets so that more inputs get past the first field.
      for (let k = 0; k < length; k++) block[k] = rnd(4) === 0 ? [0x40, 0x00, 0x10, 0x82, 0xbe, 0x20, 0x7f, 0xff][rnd(8)]! : rnd(256);
      if (!decodeChecked(decoder, block, () => `random input ${i}`)) {
        errors++;
        decoder = new HpackDecoder({ maxTableSize: [0, 256, 4096][rnd(3)]!, maxHeaderListSize: [64, 2048, Infinity][rnd(3)]!, maxFields: [3, Infinity][rnd(2)]! });
      }
    }
    console.log(`random octets: ${i} inputs, ${errors} COMPRESSION_ERRORs`);
    assert.ok(errors > 0 && errors < i, "the inputs exercised both outcomes");
  });

  it("mutated valid blocks (bit flips, truncation, splices, insertions; <= 20000, <= 10 s) -> fields or HpackError", () => {
    const rnd = prng(SEED ^ 0xa5a5a5a5);
    const deadline = Date.now() + PHASE_MS;
    const all = SEQUENCES.flatMap((s) => s.blocks);
    let errors = 0;
    let i = 0;
    for (; i < 20_000 && Date.now() < deadline; i++) {
      const seq = SEQUENCES[rnd(SEQUENCES.length)]!;
      const target = rnd(seq.blocks.length);
      const decoder = new HpackDecoder({ maxTableSize: seq.maxTableSize, maxHeaderListSize: rnd(2) ? Infinity : 300 });
      let ok = true;
      for (let b = 0; b < seq.blocks.length && ok; b++) {
        let block: Uint8Array = seq.blocks[b]!;
        if (b === target) block = mutate(block, all, rnd);
        ok = decodeChecked(decoder, block, () => `mutation ${i} block ${b}`);
        if (!ok) errors++;
      }
    }
    console.log(`mutations: ${i} sequences, ${errors} COMPRESSION_ERRORs`);
    assert.ok(errors > 0, "some mutations were rejected");
  });

  it("encoder -> decoder round trip of random lists (<= 5000 lists, <= 10 s) with random table sizes", () => {
    const rnd = prng(SEED ^ 0x3c3c3c3c);
    const deadline = Date.now() + PHASE_MS;
    const modes = ["auto", "always", "never"] as const;
    let encoder = new HpackEncoder();
    let decoder = new HpackDecoder();
    let i = 0;
    for (; i < 5000 && Date.now() < deadline; i++) {
      if (rnd(100) === 0) {
        const own = [0, 64, 256, 4096, 8192][rnd(5)]!;
        encoder = new HpackEncoder({ maxTableSize: own, huffman: modes[rnd(3)]! });
        decoder = new HpackDecoder();
      }
      if (rnd(50) === 0) {
        const size = [0, 100, 1000, 4096, 65536][rnd(5)]!;
        encoder.setPeerMaxTableSize(size);
        decoder.setMaxTableSize(size);
      }
      const fields: string[] = [];
      const n = rnd(10);
      for (let f = 0; f < n; f++) {
        const name = rnd(3) === 0 ? [":path", "content-type", "cookie", "authorization", "x-a"][rnd(5)]! : randomText(rnd, 1 + rnd(12), 0x61, 26);
        fields.push(name, rnd(4) === 0 ? randomText(rnd, rnd(200), 0, 256) : randomText(rnd, rnd(30), 0x20, 0x5f));
      }
      const result = decoder.decode(encoder.encode(fields));
      assert.deepEqual(result.fields, fields, `list ${i}`);
      assert.equal(decoder.tableSize, encoder.tableSize, `list ${i}`);
      assert.ok(decoder.tableSize <= decoder.maxTableSize);
    }
    console.log(`round trips: ${i} lists`);
  });
});

function randomText(rnd: (n: number) => number, length: number, base: number, span: number): string {
  let s = "";
  for (let k = 0; k < length; k++) s += String.fromCharCode(base + rnd(span));
  return s;
}

function mutate(block: Uint8Array, pool: readonly Uint8Array[], rnd: (n: number) => number): Uint8Array {
  const out = Buffer.from(block);
  switch (rnd(5)) {
    case 0: {
      // 1-4 bit flips
      const flips = 1 + rnd(4);
      for (let k = 0; k < flips && out.length > 0; k++) out[rnd(out.length)]! ^= 1 << rnd(8);
      return out;
    }
    case 1:
      return out.subarray(0, rnd(out.length + 1));
    case 2: {
      // splice: head of this block + tail of another
      const other = pool[rnd(pool.length)]!;
      return Buffer.concat([out.subarray(0, rnd(out.length + 1)), other.subarray(rnd(other.length + 1))]);
    }
    case 3: {
      // insert random octets
      const at = rnd(out.length + 1);
      const extra = Buffer.from(Array.from({ length: 1 + rnd(6) }, () => rnd(256)));
      return Buffer.concat([out.subarray(0, at), extra, out.subarray(at)]);
    }
    default: {
      // overwrite one octet with an interesting value
      if (out.length > 0) out[rnd(out.length)] = [0x00, 0x80, 0xff, 0x7f, 0x3f, 0x20, 0x1f, 0xbf][rnd(8)]!;
      return out;
    }
  }
}
