// RFC 7541 decoding errors sent over the wire: each is a connection error of type
// COMPRESSION_ERROR (RFC 9113 4.3). Plus the HPACK features a decoder must accept: the dynamic
// table across blocks, size updates at a block's start, blocks split anywhere over CONTINUATION.
import * as assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import { CODE, continuation, data, headers, M, message, requestBlock, SETTING, Suite, T, type H2Conn } from "./harness.js";

const suite = new Suite();
before(() => suite.start());
afterEach(() => suite.closeConnections());
after(() => suite.stop());

/** An HPACK integer with an N-bit prefix (RFC 7541 5.1), the pattern bits in `first`. */
function int(value: number, prefixBits: number, first = 0): Buffer {
  const max = 2 ** prefixBits - 1;
  if (value < max) return Buffer.from([first | value]);
  const out = [first | max];
  let v = value - max;
  while (v >= 128) {
    out.push((v % 128) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return Buffer.from(out);
}

/** Literal without indexing, new name, both strings raw (not Huffman). */
function literal(name: string, value: string): Buffer {
  return Buffer.concat([Buffer.from([0x00]), int(name.length, 7), Buffer.from(name, "latin1"), int(value.length, 7), Buffer.from(value, "latin1")]);
}

/** Literal without indexing, new name, the value as Huffman bytes given verbatim. */
function huffmanValue(name: string, bytes: number[]): Buffer {
  return Buffer.concat([Buffer.from([0x00]), int(name.length, 7), Buffer.from(name, "latin1"), int(bytes.length, 7, 0x80), Buffer.from(bytes)]);
}

async function expectCompressionError(block: Buffer): Promise<H2Conn> {
  const c = await suite.connect();
  c.send(headers(1, block, { endStream: true }));
  await c.expectGoaway(CODE.COMPRESSION_ERROR);
  return c;
}

describe("HPACK decoding errors -> GOAWAY COMPRESSION_ERROR (7541, 9113 4.3)", () => {
  it("indexed field with index 0 -> GOAWAY COMPRESSION_ERROR (7541 6.1)", T, async () => {
    await expectCompressionError(Buffer.concat([requestBlock(), Buffer.from([0x80])]));
  });

  it("indexed field beyond the static and (empty) dynamic table -> GOAWAY COMPRESSION_ERROR (7541 2.3.3)", T, async () => {
    await expectCompressionError(Buffer.concat([requestBlock(), int(70, 7, 0x80)]));
  });

  it("literal with an indexed name beyond the tables -> GOAWAY COMPRESSION_ERROR (7541 2.3.3)", T, async () => {
    await expectCompressionError(Buffer.concat([requestBlock(), int(200, 4, 0x00), int(1, 7), Buffer.from("v")]));
  });

  it("Huffman string whose padding is not EOS bits (zeros) -> GOAWAY COMPRESSION_ERROR (7541 5.2)", T, async () => {
    // 'a' is 00011 (5 bits); the 3 padding bits are 000 instead of 111.
    await expectCompressionError(Buffer.concat([requestBlock(), huffmanValue("x-huff", [0b00011000])]));
  });

  it("Huffman string padded with more than 7 bits -> GOAWAY COMPRESSION_ERROR (7541 5.2)", T, async () => {
    // 'a' + 3 one-bits, then a whole byte of ones: 11 bits of padding.
    await expectCompressionError(Buffer.concat([requestBlock(), huffmanValue("x-huff", [0b00011111, 0xff])]));
  });

  it("Huffman string containing EOS -> GOAWAY COMPRESSION_ERROR (7541 5.2)", T, async () => {
    await expectCompressionError(Buffer.concat([requestBlock(), huffmanValue("x-huff", [0xff, 0xff, 0xff, 0xff])]));
  });

  it("dynamic table size update above SETTINGS_HEADER_TABLE_SIZE -> GOAWAY COMPRESSION_ERROR (7541 6.3)", T, async () => {
    const c0 = await suite.connect();
    const limit = c0.serverSettings.get(SETTING.HEADER_TABLE_SIZE) ?? 4096;
    c0.close();
    await expectCompressionError(Buffer.concat([int(limit + 1, 5, 0x20), requestBlock()]));
  });

  it("dynamic table size update after a field line -> GOAWAY COMPRESSION_ERROR (7541 4.2)", T, async () => {
    await expectCompressionError(Buffer.concat([requestBlock(), int(0, 5, 0x20)]));
  });

  it("integer encoding that overflows -> GOAWAY COMPRESSION_ERROR (7541 5.1)", T, async () => {
    await expectCompressionError(Buffer.concat([requestBlock(), Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f])]));
  });

  it("string length past the end of the block -> GOAWAY COMPRESSION_ERROR (7541 5.2)", T, async () => {
    await expectCompressionError(Buffer.concat([requestBlock(), Buffer.from([0x00]), int(6, 7), Buffer.from("x-name"), int(50, 7), Buffer.from("short")]));
  });

  it("block ending inside an integer -> GOAWAY COMPRESSION_ERROR (7541 5.1)", T, async () => {
    await expectCompressionError(Buffer.concat([requestBlock(), Buffer.from([0xff, 0x80])]));
  });
});

describe("HPACK features a decoder must accept (7541)", () => {
  it("the dynamic table persists across header blocks on one connection (7541 2.3.2)", T, async () => {
    const c = await suite.connect();
    // Request 1 inserts "x-dyn: 1" (literal with incremental indexing); request 2 refers to it as index 62.
    const insert = Buffer.concat([Buffer.from([0x40]), int(5, 7), Buffer.from("x-dyn"), int(1, 7), Buffer.from("1")]);
    c.send(headers(1, Buffer.concat([requestBlock(), insert])), data(1, message("one"), { endStream: true }));
    assert.equal((await c.response(1)).grpcStatus, "0", c.describe());
    c.send(headers(3, Buffer.concat([requestBlock(), int(62, 7, 0x80)])), data(3, message("two"), { endStream: true }));
    assert.equal((await c.response(3)).grpcStatus, "0", c.describe());
    assert.equal(c.goaways.length, 0, c.describe());
  });

  it("dynamic table size updates at the start of a block are accepted, two in a row too (7541 4.2)", T, async () => {
    const c = await suite.connect();
    c.send(headers(1, Buffer.concat([int(0, 5, 0x20), int(4096, 5, 0x20), requestBlock()])), data(1, message("sz"), { endStream: true }));
    assert.equal((await c.response(1)).grpcStatus, "0", c.describe());
  });

  it("a block split in the middle of an integer and a string over CONTINUATION frames decodes (9113 4.3)", T, async () => {
    const c = await suite.connect();
    const block = Buffer.concat([requestBlock(), literal("x-long", "v".repeat(300))]);
    const parts = [headers(1, block.subarray(0, 1), { endHeaders: false })];
    for (let off = 1; off < block.length; off += 7) parts.push(continuation(1, block.subarray(off, Math.min(block.length, off + 7)), off + 7 >= block.length));
    c.send(...parts, data(1, message("split"), { endStream: true }));
    assert.equal((await c.response(1)).grpcStatus, "0", c.describe());
  });

  it("literal never-indexed and indexed static fields are accepted (7541 6.2.3, 6.1)", T, async () => {
    const c = await suite.connect();
    // :method POST = static 3, :scheme http = static 6; the rest never-indexed literals.
    const never = (n: string, v: string) => Buffer.concat([Buffer.from([0x10]), int(n.length, 7), Buffer.from(n), int(v.length, 7), Buffer.from(v)]);
    const block = Buffer.concat([int(3, 7, 0x80), int(6, 7, 0x80), never(":path", M.echo), never(":authority", "127.0.0.1"), never("content-type", "application/grpc"), never("te", "trailers")]);
    c.send(headers(1, block), data(1, message("static"), { endStream: true }));
    assert.equal((await c.response(1)).grpcStatus, "0", c.describe());
  });
});
