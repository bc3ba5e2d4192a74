import assert from "node:assert/strict";
import http2 from "node:http2";
import net, { type AddressInfo } from "node:net";
import { describe, it } from "node:test";
import { encodeInteger, HpackDecoder, HpackEncoder, HpackError } from "../../src/h2/hpack/index.js";

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ""), "hex");
const bytes = (...parts: Array<string | Uint8Array | number[]>): Buffer =>
  Buffer.concat(parts.map((p) => (typeof p === "string" ? hex(p) : Buffer.from(p))));

/** A raw string literal (H = 0). */
const raw = (s: string): Buffer => Buffer.concat([Buffer.from(encodeInteger(s.length, 7)), Buffer.from(s, "latin1")]);
/** Literal with incremental indexing, new name. */
const addLiteral = (name: string, value: string): Buffer => Buffer.concat([hex("40"), raw(name), raw(value)]);
/** Literal without indexing, new name. */
const plainLiteral = (name: string, value: string): Buffer => Buffer.concat([hex("00"), raw(name), raw(value)]);
/** Dynamic table size update. */
const sizeUpdate = (size: number): Uint8Array => encodeInteger(size, 5, 0x20);
/** Indexed field. */
const indexed = (index: number): Uint8Array => encodeInteger(index, 7, 0x80);

function assertCompressionError(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof HpackError, `expected HpackError, got ${String(err)}`);
    assert.equal(err.code, "COMPRESSION_ERROR");
    assert.match(err.message, message);
    assert.match(err.message, /at byte offset \d+/);
    return true;
  });
}

function entries(decoder: HpackDecoder): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i < decoder.tableLength; i++) out.push(decoder.entry(i)!);
  return out;
}

describe("HPACK integers (RFC 7541 5.1)", () => {
  it("more than 5 continuation octets -> COMPRESSION_ERROR", () => {
    assertCompressionError(() => new HpackDecoder().decode(hex("ff 80 80 80 80 80 00")), /too many continuation/);
  });
  it("value above 2^32-1 -> COMPRESSION_ERROR", () => {
    // 127 + 0x0f_ffff_ff80 in 5 continuation octets.
    assertCompressionError(() => new HpackDecoder().decode(hex("ff 80 ff ff ff 7f")), /exceeds 2\^32-1/);
  });
  it("integer truncated after a continuation octet -> COMPRESSION_ERROR", () => {
    assertCompressionError(() => new HpackDecoder().decode(hex("ff 80")), /integer truncated/);
  });
  it("redundant zero continuation octets within the limit decode (index 2 as 7f+... is 1f... style)", () => {
    // 0x80 | 0x7f, then 0x80 0x00: 127 + 0 = 127 -> beyond the tables (a valid integer, an invalid index).
    assertCompressionError(() => new HpackDecoder().decode(hex("ff 80 00")), /index 127 is beyond/);
  });
});

describe("HPACK Huffman string literals (RFC 7541 5.2)", () => {
  it("EOS symbol inside a string -> COMPRESSION_ERROR", () => {
    // Name "ff ff ff ff": 30 one-bits are the EOS code.
    assertCompressionError(() => new HpackDecoder().decode(hex("00 84 ff ff ff ff 01 61")), /EOS symbol/);
  });
  it("padding longer than 7 bits -> COMPRESSION_ERROR", () => {
    // 'a' is 00011, then 11 one-bits.
    assertCompressionError(() => new HpackDecoder().decode(hex("00 82 1f ff 01 61")), /longer than 7 bits/);
  });
  it("a whole octet of padding (8 one-bits, no symbol) -> COMPRESSION_ERROR", () => {
    assertCompressionError(() => new HpackDecoder().decode(hex("00 81 ff 01 61")), /longer than 7 bits/);
  });
  it("padding that is not the most significant bits of EOS -> COMPRESSION_ERROR", () => {
    // 'a' (00011) then 000.
    assertCompressionError(() => new HpackDecoder().decode(hex("00 81 18 01 61")), /not the most significant bits of EOS/);
  });
  it("Huffman string with valid padding decodes ('a' + 111) and an empty Huffman string is the empty string", () => {
    const result = new HpackDecoder().decode(hex("00 81 1f 80"));
    assert.deepEqual(result.fields, ["a", ""]);
  });
  it("invalid Huffman in a block already over maxHeaderListSize -> still COMPRESSION_ERROR", () => {
    const decoder = new HpackDecoder({ maxHeaderListSize: 10 });
    assertCompressionError(() => decoder.decode(bytes("82", "00 81 18 01 61")), /EOS/);
  });
});

describe("HPACK indexes (RFC 7541 2.3.3, 6.1)", () => {
  it("indexed field with index 0 -> COMPRESSION_ERROR", () => {
    assertCompressionError(() => new HpackDecoder().decode(hex("80")), /index 0/);
  });
  it("indexed field beyond static + dynamic tables -> COMPRESSION_ERROR", () => {
    assertCompressionError(() => new HpackDecoder().decode(hex("be")), /index 62 is beyond/);
    const decoder = new HpackDecoder();
    decoder.decode(addLiteral("x", "y"));
    assert.deepEqual(decoder.decode(hex("be")).fields, ["x", "y"]);
    assertCompressionError(() => decoder.decode(hex("bf")), /index 63 is beyond/);
  });
  it("literal name index beyond the tables -> COMPRESSION_ERROR (incremental, without, never indexed)", () => {
    assertCompressionError(() => new HpackDecoder().decode(bytes("7e", raw("v"))), /name index 62/);
    assertCompressionError(() => new HpackDecoder().decode(bytes("0f 2f", raw("v"))), /name index 62/);
    assertCompressionError(() => new HpackDecoder().decode(bytes("1f 2f", raw("v"))), /name index 62/);
  });
  it("literal with a static name index keeps the static name", () => {
    assert.deepEqual(new HpackDecoder().decode(bytes("04", raw("/x"))).fields, [":path", "/x"]);
  });
});

describe("HPACK truncated input", () => {
  it("string literal longer than the rest of the block -> COMPRESSION_ERROR", () => {
    assertCompressionError(() => new HpackDecoder().decode(hex("00 05 61 62")), /overruns the block/);
  });
  it("literal whose name or value is missing -> COMPRESSION_ERROR", () => {
    assertCompressionError(() => new HpackDecoder().decode(hex("40")), /string literal missing/);
    assertCompressionError(() => new HpackDecoder().decode(hex("00 01 61")), /string literal missing/);
    assertCompressionError(() => new HpackDecoder().decode(hex("44")), /string literal missing/);
  });
  it("a failed block leaves no half-made state that breaks the error type of later calls", () => {
    const decoder = new HpackDecoder();
    assertCompressionError(() => decoder.decode(hex("00 05 61 62")), /overruns/);
    assertCompressionError(() => decoder.decode(hex("80")), /index 0/);
  });
});

describe("HPACK dynamic table size updates (RFC 7541 4.2, 6.3)", () => {
  it("size update above the limit (default 4096) -> COMPRESSION_ERROR", () => {
    assertCompressionError(() => new HpackDecoder().decode(bytes(sizeUpdate(4097), "82")), /exceeds the limit 4096/);
  });
  it("size update after a header field -> COMPRESSION_ERROR", () => {
    assertCompressionError(() => new HpackDecoder().decode(bytes("82", sizeUpdate(100))), /after the first header field/);
  });
  it("three size updates at the start of a block -> COMPRESSION_ERROR", () => {
    assertCompressionError(
      () => new HpackDecoder().decode(bytes(sizeUpdate(0), sizeUpdate(100), sizeUpdate(200), "82")),
      /more than two/,
    );
  });
  it("two size updates at the start are accepted, the last one sets the maximum", () => {
    const decoder = new HpackDecoder();
    decoder.decode(addLiteral("a", "b"));
    const result = decoder.decode(bytes(sizeUpdate(0), sizeUpdate(1000), "82"));
    assert.deepEqual(result.fields, [":method", "GET"]);
    assert.equal(decoder.maxTableSize, 1000);
    assert.equal(decoder.tableLength, 0, "the update to 0 emptied the table");
  });
  it("a block made only of a size update is valid and yields no fields", () => {
    const decoder = new HpackDecoder();
    assert.deepEqual(decoder.decode(sizeUpdate(100)), { fields: [], listSize: 0, tooLarge: false });
  });
  it("size update to 0 empties the table; smaller update evicts oldest first", () => {
    const decoder = new HpackDecoder();
    decoder.decode(bytes(addLiteral("a", "1"), addLiteral("b", "2"), addLiteral("c", "3")));
    assert.equal(decoder.tableSize, 3 * 34);
    decoder.decode(sizeUpdate(70));
    assert.deepEqual(entries(decoder), [
      ["c", "3"],
      ["b", "2"],
    ]);
    decoder.decode(sizeUpdate(0));
    assert.equal(decoder.tableSize, 0);
    assert.equal(decoder.tableLength, 0);
  });
  it("after setMaxTableSize below the table maximum, a block without a size update -> COMPRESSION_ERROR", () => {
    const decoder = new HpackDecoder();
    decoder.setMaxTableSize(1024);
    assertCompressionError(() => decoder.decode(hex("82")), /does not start with the dynamic table size update/);
  });
  it("after setMaxTableSize, an update above the new limit -> COMPRESSION_ERROR", () => {
    const decoder = new HpackDecoder();
    decoder.setMaxTableSize(1024);
    assertCompressionError(() => decoder.decode(bytes(sizeUpdate(2048), "82")), /exceeds the limit 1024/);
  });
  it("after setMaxTableSize, an update <= the new limit is accepted, evicts, and is required only once", () => {
    const decoder = new HpackDecoder();
    decoder.decode(bytes(addLiteral("a", "x".repeat(60)), addLiteral("b", "y".repeat(60))));
    assert.equal(decoder.tableSize, 2 * 93);
    decoder.setMaxTableSize(100);
    decoder.decode(bytes(sizeUpdate(100), "82"));
    assert.deepEqual(entries(decoder), [["b", "y".repeat(60)]]);
    assert.deepEqual(decoder.decode(hex("82")).fields, [":method", "GET"]);
  });
  it("limit lowered then raised before the next block: the smallest must be signalled -> else COMPRESSION_ERROR", () => {
    const decoder = new HpackDecoder();
    decoder.setMaxTableSize(100);
    decoder.setMaxTableSize(2000);
    assertCompressionError(() => decoder.decode(bytes(sizeUpdate(2000), "82")), /does not start/);
    const other = new HpackDecoder();
    other.setMaxTableSize(100);
    other.setMaxTableSize(2000);
    other.decode(bytes(sizeUpdate(100), sizeUpdate(2000), "82"));
    assert.equal(other.maxTableSize, 2000);
  });
  it("setMaxTableSize above the current maximum requires no update, and allows updates up to it", () => {
    const decoder = new HpackDecoder();
    decoder.setMaxTableSize(65536);
    assert.deepEqual(decoder.decode(hex("82")).fields, [":method", "GET"]);
    decoder.decode(sizeUpdate(65536));
    assert.equal(decoder.maxTableSize, 65536);
  });
  it("constructor maxTableSize is both the starting maximum and the update limit", () => {
    const decoder = new HpackDecoder({ maxTableSize: 256 });
    assert.equal(decoder.maxTableSize, 256);
    assertCompressionError(() => decoder.decode(sizeUpdate(257)), /exceeds the limit 256/);
  });
  it("bad table sizes are RangeErrors for the caller, not COMPRESSION_ERROR", () => {
    assert.throws(() => new HpackDecoder({ maxTableSize: -1 }), RangeError);
    assert.throws(() => new HpackDecoder().setMaxTableSize(1.5), RangeError);
  });
});

describe("HPACK dynamic table eviction (RFC 7541 4.4)", () => {
  it("an entry larger than the maximum size empties the table and is not inserted", () => {
    const decoder = new HpackDecoder({ maxTableSize: 100 });
    decoder.decode(addLiteral("a", "b"));
    const result = decoder.decode(addLiteral("big", "v".repeat(100)));
    assert.deepEqual(result.fields, ["big", "v".repeat(100)], "the field itself is still emitted");
    assert.equal(decoder.tableLength, 0);
    assert.equal(decoder.tableSize, 0);
  });
  it("an entry exactly the maximum size fits and evicts everything else", () => {
    const decoder = new HpackDecoder({ maxTableSize: 100 });
    decoder.decode(addLiteral("a", "b"));
    decoder.decode(addLiteral("n", "v".repeat(67)));
    assert.deepEqual(entries(decoder), [["n", "v".repeat(67)]]);
    assert.equal(decoder.tableSize, 100);
  });
  it("a literal whose name refers to the entry it evicts keeps that name (name read before eviction)", () => {
    const decoder = new HpackDecoder({ maxTableSize: 40 });
    decoder.decode(addLiteral("name", "v1"));
    // 0x7e = incremental indexing, name index 62 (the entry about to be evicted).
    const result = decoder.decode(bytes("7e", raw("v2")));
    assert.deepEqual(result.fields, ["name", "v2"]);
    assert.deepEqual(entries(decoder), [["name", "v2"]]);
  });
  it("eviction is oldest first and indexes shift as entries are added", () => {
    const decoder = new HpackDecoder({ maxTableSize: 34 * 3 });
    decoder.decode(bytes(addLiteral("a", "1"), addLiteral("b", "2"), addLiteral("c", "3"), addLiteral("d", "4")));
    assert.deepEqual(entries(decoder), [
      ["d", "4"],
      ["c", "3"],
      ["b", "2"],
    ]);
    assert.deepEqual(decoder.decode(bytes(indexed(62), indexed(64))).fields, ["d", "4", "b", "2"]);
  });
  it("the ring buffer keeps order across growth and wrap-around (300 inserts, table never above its maximum)", () => {
    const decoder = new HpackDecoder({ maxTableSize: 34 * 50 });
    for (let i = 0; i < 300; i++) {
      decoder.decode(addLiteral("k", String.fromCharCode(0x30 + (i % 64))));
      assert.ok(decoder.tableSize <= 34 * 50);
    }
    assert.equal(decoder.tableLength, 50);
    for (let j = 0; j < 50; j++) assert.equal(decoder.entry(j)![1], String.fromCharCode(0x30 + ((299 - j) % 64)));
  });
});

describe("HPACK header list limits (RFC 9113 6.5.2, 10.5.1)", () => {
  it("list size over maxHeaderListSize -> tooLarge, no fields, size still counted, table still updated", () => {
    const decoder = new HpackDecoder({ maxHeaderListSize: 100 });
    const result = decoder.decode(bytes("82", addLiteral("a", "x".repeat(50)), plainLiteral("b", "y".repeat(10)), addLiteral("c", "z")));
    assert.equal(result.tooLarge, true);
    assert.deepEqual(result.fields, []);
    assert.equal(result.listSize, 42 + 83 + 43 + 34);
    assert.deepEqual(entries(decoder), [
      ["c", "z"],
      ["a", "x".repeat(50)],
    ]);
    // The next block is independent and sees the same table as the peer.
    assert.deepEqual(decoder.decode(bytes(indexed(62), indexed(62))).fields, ["c", "z", "c", "z"]);
  });
  it("list size exactly maxHeaderListSize is not tooLarge", () => {
    const decoder = new HpackDecoder({ maxHeaderListSize: 42 });
    assert.deepEqual(decoder.decode(hex("82")), { fields: [":method", "GET"], listSize: 42, tooLarge: false });
    assert.equal(decoder.decode(hex("8282")).tooLarge, true);
  });
  it("more fields than maxFields -> tooLarge", () => {
    const decoder = new HpackDecoder({ maxFields: 3 });
    assert.equal(decoder.decode(hex("828486")).tooLarge, false);
    const result = decoder.decode(hex("82848687"));
    assert.equal(result.tooLarge, true);
    assert.deepEqual(result.fields, []);
    assert.equal(result.listSize, 42 + 38 + 43 + 44);
  });
  it("HPACK bomb: a 4 KB entry referenced 20000 times -> tooLarge with no fields kept, table intact", () => {
    const decoder = new HpackDecoder({ maxTableSize: 4096, maxHeaderListSize: 65536 });
    const value = "v".repeat(4096 - 32 - 4);
    const refs = Buffer.alloc(20_000, 0xbe); // index 62, one octet each
    const result = decoder.decode(bytes(addLiteral("bomb", value), refs));
    assert.equal(result.tooLarge, true);
    assert.deepEqual(result.fields, []);
    assert.equal(result.listSize, 20_001 * 4096);
    assert.equal(decoder.tableLength, 1);
    assert.equal(decoder.tableSize, 4096);
  });
  it("HPACK bomb of literals without indexing: over the limit their strings are only measured", () => {
    const decoder = new HpackDecoder({ maxHeaderListSize: 1000 });
    const block = Buffer.concat(Array.from({ length: 200 }, () => plainLiteral("n", "w".repeat(100))));
    const result = decoder.decode(block);
    assert.equal(result.tooLarge, true);
    assert.deepEqual(result.fields, []);
    assert.equal(result.listSize, 200 * 133);
  });
  it("Huffman literals are measured at their decoded length for the list size", () => {
    const encoded = new HpackEncoder({ maxTableSize: 0, huffman: "always" }).encode(["x-name", "www.example.com"]);
    const decoder = new HpackDecoder({ maxHeaderListSize: 52 });
    const result = decoder.decode(encoded.subarray(1)); // drop the size update to 0
    assert.equal(result.listSize, 6 + 15 + 32);
    assert.equal(result.tooLarge, true);
  });
});

describe("HPACK decoder output", () => {
  it("an empty block yields no fields", () => {
    assert.deepEqual(new HpackDecoder().decode(new Uint8Array(0)), { fields: [], listSize: 0, tooLarge: false });
  });
  it("accepts a plain Uint8Array view (not a Buffer) at an offset", () => {
    const backing = new Uint8Array([0xaa, 0xaa, 0x82, 0x00, 0x01, 0x61, 0x01, 0x62, 0xaa]);
    const view = new Uint8Array(backing.buffer, 2, 6);
    assert.deepEqual(new HpackDecoder().decode(view).fields, [":method", "GET", "a", "b"]);
  });
  it("octets 0x00-0xff come back as latin1 chars (one char per octet), raw and Huffman", () => {
    let all = "";
    for (let c = 0; c < 256; c++) all += String.fromCharCode(c);
    for (const huffman of ["never", "always"] as const) {
      const block = new HpackEncoder({ huffman }).encode(["x-bin", all, "x-short", "\u00e9\u00ff\u0000"]);
      const result = new HpackDecoder().decode(block);
      assert.deepEqual(result.fields, ["x-bin", all, "x-short", "\u00e9\u00ff\u0000"]);
    }
  });
  it("fields from long raw and Huffman literals in one block are each correct (shared block and scratch text)", () => {
    const fields = ["x-a", "a".repeat(40), "x-b", "0123456789/abcdefghij", "x-c", "short", "x-d", "Z".repeat(33)];
    for (const huffman of ["never", "always", "auto"] as const) {
      const block = new HpackEncoder({ maxTableSize: 0, huffman }).encode(fields);
      assert.deepEqual(new HpackDecoder().decode(block.subarray(1)).fields, fields);
    }
  });
});

describe("HPACK decoder interop with node:http2 (nghttp2 encodes, we decode)", () => {
  it("30 requests from a node:http2 client on one connection -> every list decodes as sent", async () => {
    const decoder = new HpackDecoder();
    const decoded: string[][] = [];
    let fail: (err: Error) => void = () => {};
    let finish: () => void = () => {};
    const done = new Promise<void>((resolve, reject) => {
      fail = reject;
      finish = resolve;
    });
    // A bare TCP server that speaks just enough HTTP/2 to collect header blocks: skip the preface, send an empty
    // SETTINGS, and decode HEADERS (+ CONTINUATION) payloads in order on one decoder.
    const server = net.createServer((socket) => {
      socket.write(Buffer.from("000000040000000000", "hex"));
      let input = Buffer.alloc(0);
      let prefaceSeen = false;
      let fragments: Buffer[] = [];
      socket.on("data", (chunk: Buffer) => {
        input = Buffer.concat([input, chunk]);
        if (!prefaceSeen) {
          if (input.length < 24) return;
          input = input.subarray(24);
          prefaceSeen = true;
        }
        try {
          while (input.length >= 9) {
            const length = input.readUIntBE(0, 3);
            if (input.length < 9 + length) break;
            const type = input[3]!;
            const flags = input[4]!;
            let payload = input.subarray(9, 9 + length);
            input = input.subarray(9 + length);
            if (type === 4 && (flags & 1) === 0) socket.write(Buffer.from("000000040100000000", "hex"));
            if (type !== 1 && type !== 9) continue;
            if (type === 1) {
              const pad = flags & 0x8 ? payload[0]! : 0;
              payload = payload.subarray(flags & 0x8 ? 1 : 0, payload.length - pad);
              if (flags & 0x20) payload = payload.subarray(5);
            }
            fragments.push(payload);
            if (flags & 0x4) {
              decoded.push(decoder.decode(Buffer.concat(fragments)).fields);
              fragments = [];
              if (decoded.length === 30) finish();
            }
          }
        } catch (err) {
          fail(err as Error);
        }
      });
      socket.on("error", () => {});
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    const client = http2.connect(`http://127.0.0.1:${port}`);
    client.on("error", () => {});
    const sent: Array<Record<string, string>> = [];
    for (let i = 0; i < 30; i++) {
      const headers: Record<string, string> = {
        ":method": "POST",
        ":path": `/pkg.Svc/Method${i % 3}`,
        "content-type": "application/grpc",
        te: "trailers",
        "grpc-timeout": `${i * 7 + 1}m`,
        "user-agent": "grpc-node-js/1.14.7",
        "x-number": String(i),
        "x-long": "L".repeat(i * 50),
      };
      sent.push(headers);
      client.request(headers, { endStream: true }).on("error", () => {});
    }
    try {
      await done;
    } finally {
      client.destroy();
      server.close();
    }
    for (const [i, fields] of decoded.entries()) {
      const got = new Map<string, string>();
      for (let f = 0; f < fields.length; f += 2) got.set(fields[f]!, fields[f + 1]!);
      for (const [name, value] of Object.entries(sent[i]!)) assert.equal(got.get(name), value, `request ${i} ${name}`);
      assert.equal(got.get(":scheme"), "http");
      assert.equal(got.get(":authority"), `127.0.0.1:${port}`);
    }
    assert.ok(decoder.tableSize <= 4096);
  });
});
