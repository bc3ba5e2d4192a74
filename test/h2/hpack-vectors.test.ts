import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decodeInteger, encodeInteger, HpackDecoder, HpackEncoder } from "../../src/h2/hpack/index.js";
import { huffmanEncode, huffmanEncodedLength } from "../../src/h2/hpack/huffman.js";

// The worked examples of RFC 7541 Appendix C: exact octets, the header lists they carry and the dynamic table
// (newest first) and its size after each block.

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ""), "hex");

interface Step {
  readonly octets: string;
  readonly fields: readonly string[];
  readonly table: ReadonlyArray<readonly [string, string]>;
  readonly size: number;
}

function tableOf(decoder: HpackDecoder): Array<[string, string]> {
  const entries: Array<[string, string]> = [];
  for (let i = 0; i < decoder.tableLength; i++) entries.push(decoder.entry(i)!);
  return entries;
}

/** Decodes the steps in order on one decoder, checking fields, table contents and size after each. */
function decodeSequence(steps: readonly Step[], maxTableSize?: number): void {
  const decoder = new HpackDecoder(maxTableSize === undefined ? {} : { maxTableSize });
  for (const [i, step] of steps.entries()) {
    const result = decoder.decode(hex(step.octets));
    assert.deepEqual(result.fields, step.fields, `block ${i + 1} fields`);
    assert.equal(result.tooLarge, false);
    let listSize = 0;
    for (let f = 0; f < step.fields.length; f += 2) listSize += step.fields[f]!.length + step.fields[f + 1]!.length + 32;
    assert.equal(result.listSize, listSize, `block ${i + 1} list size`);
    assert.deepEqual(tableOf(decoder), step.table, `block ${i + 1} dynamic table`);
    assert.equal(decoder.tableSize, step.size, `block ${i + 1} table size`);
  }
}

/** Encodes the steps' lists on one encoder and decodes them on one decoder: the lists come back unchanged. */
function roundTrip(steps: readonly Step[], maxTableSize: number, huffman: "auto" | "always" | "never"): Buffer[] {
  const encoder = new HpackEncoder({ maxTableSize, huffman });
  const decoder = new HpackDecoder({ maxTableSize });
  const blocks: Buffer[] = [];
  for (const step of steps) {
    const block = encoder.encode(step.fields);
    blocks.push(block);
    assert.deepEqual(decoder.decode(block).fields, step.fields);
    assert.ok(decoder.tableSize <= maxTableSize);
    assert.equal(decoder.tableSize, encoder.tableSize, "encoder and decoder tables agree");
  }
  return blocks;
}

describe("RFC 7541 C.1 integer representation", () => {
  it("C.1.1 10 with a 5-bit prefix -> 0a", () => {
    assert.deepEqual([...encodeInteger(10, 5)], [0x0a]);
    assert.deepEqual(decodeInteger(Uint8Array.of(0xea), 0, 5), { value: 10, next: 1 });
  });
  it("C.1.2 1337 with a 5-bit prefix -> 1f 9a 0a", () => {
    assert.deepEqual([...encodeInteger(1337, 5)], [0x1f, 0x9a, 0x0a]);
    assert.deepEqual(decodeInteger(Uint8Array.of(0xff, 0x9a, 0x0a), 0, 5), { value: 1337, next: 3 });
  });
  it("C.1.3 42 starting at an octet boundary (8-bit prefix) -> 2a", () => {
    assert.deepEqual([...encodeInteger(42, 8)], [0x2a]);
    assert.deepEqual(decodeInteger(Uint8Array.of(0x2a), 0, 8), { value: 42, next: 1 });
  });
  it("prefix boundaries: 2^N-1 takes a continuation octet of 0, 2^32-1 round-trips for every prefix", () => {
    for (let n = 1; n <= 8; n++) {
      const max = (1 << n) - 1;
      assert.deepEqual([...encodeInteger(max, n)], [max, 0]);
      assert.deepEqual([...encodeInteger(max - 1, n)], [max - 1]);
      for (const v of [0, max - 1, max, max + 1, 127 + max, 128 + max, 16383, 2 ** 31, 2 ** 32 - 1]) {
        const octets = encodeInteger(v, n);
        assert.deepEqual(decodeInteger(octets, 0, n), { value: v, next: octets.length }, `${v} on ${n} bits`);
      }
    }
  });
});

describe("RFC 7541 C.2 header field representation", () => {
  it("C.2.1 literal with indexing: custom-key: custom-header, table size 55", () => {
    decodeSequence([
      {
        octets: "400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572",
        fields: ["custom-key", "custom-header"],
        table: [["custom-key", "custom-header"]],
        size: 55,
      },
    ]);
  });
  it("C.2.2 literal without indexing: :path: /sample/path, table empty", () => {
    decodeSequence([
      { octets: "040c 2f73 616d 706c 652f 7061 7468", fields: [":path", "/sample/path"], table: [], size: 0 },
    ]);
  });
  it("C.2.3 literal never indexed: password: secret, table empty", () => {
    decodeSequence([
      { octets: "1008 7061 7373 776f 7264 0673 6563 7265 74", fields: ["password", "secret"], table: [], size: 0 },
    ]);
  });
  it("C.2.4 indexed: 82 -> :method: GET, table empty", () => {
    decodeSequence([{ octets: "82", fields: [":method", "GET"], table: [], size: 0 }]);
  });
  it("the encoder makes the same octets for C.2.1 and C.2.4, and never-indexes password-like names it is told", () => {
    const encoder = new HpackEncoder({ huffman: "never" });
    assert.equal(
      encoder.encode(["custom-key", "custom-header"]).toString("hex"),
      "400a637573746f6d2d6b65790d637573746f6d2d686561646572",
    );
    assert.equal(encoder.encode([":method", "GET"]).toString("hex"), "82");
    const withNeverIndex = new HpackEncoder({ huffman: "never", neverIndex: ["password"] });
    assert.equal(withNeverIndex.encode(["password", "secret"]).toString("hex"), "100870617373776f726406736563726574");
  });
});

const C3: Step[] = [
  {
    octets: "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
    fields: [":method", "GET", ":scheme", "http", ":path", "/", ":authority", "www.example.com"],
    table: [[":authority", "www.example.com"]],
    size: 57,
  },
  {
    octets: "8286 84be 5808 6e6f 2d63 6163 6865",
    fields: [":method", "GET", ":scheme", "http", ":path", "/", ":authority", "www.example.com", "cache-control", "no-cache"],
    table: [
      ["cache-control", "no-cache"],
      [":authority", "www.example.com"],
    ],
    size: 110,
  },
  {
    octets: "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65",
    fields: [":method", "GET", ":scheme", "https", ":path", "/index.html", ":authority", "www.example.com", "custom-key", "custom-value"],
    table: [
      ["custom-key", "custom-value"],
      ["cache-control", "no-cache"],
      [":authority", "www.example.com"],
    ],
    size: 164,
  },
];

const C4: Step[] = [
  { ...C3[0]!, octets: "8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff" },
  { ...C3[1]!, octets: "8286 84be 5886 a8eb 1064 9cbf" },
  { ...C3[2]!, octets: "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf" },
];

const DATE1 = "Mon, 21 Oct 2013 20:13:21 GMT";
const DATE2 = "Mon, 21 Oct 2013 20:13:22 GMT";
const LOCATION = "https://www.example.com";
const COOKIE = "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1";

const C5: Step[] = [
  {
    octets:
      "4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3120 474d " +
      "546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
    fields: [":status", "302", "cache-control", "private", "date", DATE1, "location", LOCATION],
    table: [
      ["location", LOCATION],
      ["date", DATE1],
      ["cache-control", "private"],
      [":status", "302"],
    ],
    size: 222,
  },
  {
    octets: "4803 3330 37c1 c0bf",
    fields: [":status", "307", "cache-control", "private", "date", DATE1, "location", LOCATION],
    table: [
      [":status", "307"],
      ["location", LOCATION],
      ["date", DATE1],
      ["cache-control", "private"],
    ],
    size: 222,
  },
  {
    octets:
      "88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d 54c0 5a04 677a 6970 7738 666f " +
      "6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049 5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b " +
      "2076 6572 7369 6f6e 3d31",
    fields: [
      ":status", "200", "cache-control", "private", "date", DATE2, "location", LOCATION,
      "content-encoding", "gzip", "set-cookie", COOKIE,
    ],
    table: [
      ["set-cookie", COOKIE],
      ["content-encoding", "gzip"],
      ["date", DATE2],
    ],
    size: 215,
  },
];

const C6: Step[] = [
  {
    ...C5[0]!,
    octets:
      "4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 2d1b ff6e 919d 29ad 1718 63c7 " +
      "8f0b 97c8 e9ae 82ae 43d3",
  },
  { ...C5[1]!, octets: "4883 640e ffc1 c0bf" },
  {
    ...C5[2]!,
    octets:
      "88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab 77ad 94e7 821d d7f2 e6c7 b335 " +
      "dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07",
  },
];

describe("RFC 7541 C.3 requests without Huffman coding", () => {
  it("decodes C.3.1-C.3.3 with the dynamic table after each block", () => decodeSequence(C3));
  it("the encoder (Huffman never) makes exactly the C.3 octets", () => {
    const blocks = roundTrip(C3, 4096, "never");
    assert.deepEqual(
      blocks.map((b) => b.toString("hex")),
      C3.map((s) => s.octets.replace(/\s+/g, "")),
    );
  });
});

describe("RFC 7541 C.4 requests with Huffman coding", () => {
  it("decodes C.4.1-C.4.3 with the dynamic table after each block", () => decodeSequence(C4));
  it("the encoder (Huffman auto) makes exactly the C.4 octets", () => {
    const blocks = roundTrip(C4, 4096, "auto");
    assert.deepEqual(
      blocks.map((b) => b.toString("hex")),
      C4.map((s) => s.octets.replace(/\s+/g, "")),
    );
  });
});

describe("RFC 7541 C.5 responses without Huffman coding (table size 256)", () => {
  it("decodes C.5.1-C.5.3 with evictions as in the RFC", () => decodeSequence(C5, 256));
  it("the encoder's C.5 lists decode back, Huffman never and always", () => {
    roundTrip(C5, 256, "never");
    roundTrip(C5, 256, "always");
  });
});

describe("RFC 7541 C.6 responses with Huffman coding (table size 256)", () => {
  it("decodes C.6.1-C.6.3 with evictions as in the RFC", () => decodeSequence(C6, 256));
  it("the encoder's C.6 lists decode back with Huffman auto", () => {
    roundTrip(C6, 256, "auto");
  });
});

describe("Huffman coding of the Appendix C literals matches octet for octet", () => {
  const strings: Array<[string, string]> = [
    ["www.example.com", "f1e3 c2e5 f23a 6ba0 ab90 f4ff"],
    ["no-cache", "a8eb 1064 9cbf"],
    ["custom-key", "25a8 49e9 5ba9 7d7f"],
    ["custom-value", "25a8 49e9 5bb8 e8b4 bf"],
    ["302", "6402"],
    ["307", "640e ff"],
    ["private", "aec3 771a 4b"],
    [DATE1, "d07a be94 1054 d444 a820 0595 040b 8166 e082 a62d 1bff"],
    [DATE2, "d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff"],
    [LOCATION, "9d29 ad17 1863 c78f 0b97 c8e9 ae82 ae43 d3"],
    ["gzip", "9bd9 ab"],
    [COOKIE, "94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07"],
  ];
  for (const [text, coded] of strings) {
    it(`${JSON.stringify(text.length > 24 ? text.slice(0, 24) + "..." : text)} -> ${coded.slice(0, 14)}...`, () => {
      const expected = hex(coded);
      assert.equal(huffmanEncodedLength(text), expected.length);
      const out = new Uint8Array(expected.length);
      assert.equal(huffmanEncode(text, out, 0), expected.length);
      assert.deepEqual(Buffer.from(out), expected);
    });
  }
});

describe("RFC 7541 Appendix B Huffman table as written", () => {
  it("is the canonical code of its lengths (each code follows from the previous one), EOS is 30 one-bits", async () => {
    const { HUFFMAN_CODES, HUFFMAN_LENGTHS, EOS } = await import("../../src/h2/hpack/huffman-table.js");
    assert.equal(HUFFMAN_CODES.length, 257);
    assert.equal(HUFFMAN_LENGTHS.length, 257);
    const order = [...HUFFMAN_CODES.keys()].sort((a, b) => HUFFMAN_LENGTHS[a]! - HUFFMAN_LENGTHS[b]! || a - b);
    let code = 0;
    let length = HUFFMAN_LENGTHS[order[0]!]!;
    for (const [k, sym] of order.entries()) {
      if (k > 0) {
        code = (code + 1) * 2 ** (HUFFMAN_LENGTHS[sym]! - length);
        length = HUFFMAN_LENGTHS[sym]!;
      }
      assert.equal(HUFFMAN_CODES[sym], code, `symbol ${sym}`);
    }
    assert.equal(HUFFMAN_CODES[EOS], 2 ** 30 - 1);
    assert.equal(HUFFMAN_LENGTHS[EOS], 30);
    // Complete: Kraft sum exactly 1.
    assert.equal(HUFFMAN_LENGTHS.reduce((sum, len) => sum + 2 ** (30 - len), 0), 2 ** 30);
  });
});
