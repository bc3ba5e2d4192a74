import assert from "node:assert/strict";
import http2 from "node:http2";
import net, { type AddressInfo } from "node:net";
import { describe, it } from "node:test";
import { HpackDecoder, HpackEncoder } from "../../src/h2/hpack/index.js";

/** First-octet kinds of the representations (RFC 7541 6). */
function kinds(block: Uint8Array): string {
  // Only meaningful for blocks whose fields are single-octet indexes or literals: enough for these tests,
  // which decode everything anyway.
  const b = block[0]!;
  return b >= 0x80 ? "indexed" : b >= 0x40 ? "incremental" : b >= 0x20 ? "size-update" : b >= 0x10 ? "never" : "without";
}

function pairsOf(decoder: HpackDecoder): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i < decoder.tableLength; i++) out.push(decoder.entry(i)!);
  return out;
}

describe("HPACK encoder representations (RFC 7541 6)", () => {
  it("static table full matches -> one-octet indexed representation", () => {
    const encoder = new HpackEncoder();
    assert.equal(encoder.encode([":method", "GET", ":method", "POST", ":status", "200", ":path", "/"]).toString("hex"), "82838884");
    assert.equal(encoder.tableLength, 0);
  });
  it("static name match -> literal with incremental indexing and the static name index", () => {
    const encoder = new HpackEncoder({ huffman: "never" });
    assert.equal(encoder.encode([":path", "/a"]).toString("hex"), "44022f61");
    assert.equal(encoder.tableLength, 1);
  });
  it("a repeated field -> indexed from the dynamic table the second time", () => {
    const encoder = new HpackEncoder();
    const decoder = new HpackDecoder();
    const fields = ["content-type", "application/grpc", "x-custom", "value"];
    const first = encoder.encode(fields);
    const second = encoder.encode(fields);
    assert.equal(second.toString("hex"), "bfbe");
    assert.deepEqual(decoder.decode(first).fields, fields);
    assert.deepEqual(decoder.decode(second).fields, fields);
  });
  it("a new value for a name in the dynamic table -> literal with the dynamic name index", () => {
    const encoder = new HpackEncoder({ huffman: "never" });
    encoder.encode(["x-custom", "one"]);
    const block = encoder.encode(["x-custom", "two"]);
    assert.equal(block.toString("hex"), "7e0374776f");
  });
  it("authorization, proxy-authorization and set-cookie -> never indexed, never in the table", () => {
    const encoder = new HpackEncoder();
    for (const name of ["authorization", "proxy-authorization", "set-cookie"]) {
      const block = encoder.encode([name, "secret-token-value-long-enough-to-index"]);
      assert.equal(kinds(block), "never", name);
      assert.deepEqual(new HpackDecoder().decode(block).fields, [name, "secret-token-value-long-enough-to-index"]);
    }
    assert.equal(encoder.tableLength, 0);
  });
  it("cookie under 20 octets -> never indexed; longer cookie -> indexed", () => {
    const encoder = new HpackEncoder();
    assert.equal(kinds(encoder.encode(["cookie", "sid=1234567890"])), "never");
    assert.equal(encoder.tableLength, 0);
    assert.equal(kinds(encoder.encode(["cookie", "sid=12345678901234567890"])), "incremental");
    assert.equal(encoder.tableLength, 1);
  });
  it("neverIndex option adds names sent as never-indexed literals", () => {
    const encoder = new HpackEncoder({ neverIndex: ["x-api-key"] });
    assert.equal(kinds(encoder.encode(["x-api-key", "k"])), "never");
    assert.equal(kinds(encoder.encode(["x-api-key", "k"])), "never", "still not indexed the second time");
    assert.equal(kinds(encoder.encode(["authorization", "a"])), "never", "defaults still apply");
  });
  it("values that rarely repeat (content-length, grpc-timeout, date) -> literal without indexing", () => {
    const encoder = new HpackEncoder();
    for (const [name, value] of [["content-length", "17"], ["grpc-timeout", "99m"], ["date", "Mon, 21 Oct 2013 20:13:21 GMT"]]) {
      assert.equal(kinds(encoder.encode([name!, value!])), "without", name);
    }
    assert.equal(encoder.tableLength, 0);
  });
  it("a field bigger than half the table -> literal without indexing (does not flush the table)", () => {
    const encoder = new HpackEncoder({ maxTableSize: 256 });
    encoder.encode(["x-small", "1"]);
    assert.equal(kinds(encoder.encode(["x-big", "v".repeat(100)])), "without");
    assert.equal(encoder.tableLength, 1);
  });
});

describe("HPACK encoder Huffman choice (RFC 7541 5.2)", () => {
  it("auto uses Huffman only when strictly shorter", () => {
    const encoder = new HpackEncoder({ maxTableSize: 0 });
    // "www.example.com": 12 octets coded vs 15 raw -> Huffman (H bit set on the length octet).
    const text = encoder.encode([":authority", "www.example.com"]);
    assert.equal(text[2], 0x80 | 12);
    // Octets 0xfe 0xfd take 27-bit codes: raw is shorter.
    const binary = encoder.encode(["x-bin", "\u00fe\u00fd"]);
    assert.deepEqual([...binary.subarray(-3)], [0x02, 0xfe, 0xfd]);
  });
  it("always and never are obeyed and both decode back", () => {
    for (const huffman of ["always", "never"] as const) {
      const encoder = new HpackEncoder({ huffman });
      const decoder = new HpackDecoder();
      const fields = ["x-a", "\u00fe\u00fd", ":authority", "www.example.com", "x-empty", ""];
      const block = encoder.encode(fields);
      assert.deepEqual(decoder.decode(block).fields, fields);
      assert.equal((block[2]! & 0x80) !== 0, huffman === "always");
    }
  });
});

describe("HPACK encoder table size (RFC 7541 4.2, 6.3)", () => {
  it("peer lowers SETTINGS_HEADER_TABLE_SIZE -> next block starts with a size update and the table is evicted", () => {
    const encoder = new HpackEncoder();
    const decoder = new HpackDecoder();
    decoder.decode(encoder.encode(["x-a", "1".repeat(100), "x-b", "2"]));
    encoder.setPeerMaxTableSize(64);
    decoder.setMaxTableSize(64);
    assert.equal(encoder.hasPendingSizeUpdate, true);
    const block = encoder.encode(["x-b", "2"]);
    assert.equal(block[0], 0x3f); // size update, 5-bit prefix full: 64 = 31 + 33
    assert.equal(block[1], 33);
    assert.deepEqual(decoder.decode(block).fields, ["x-b", "2"]);
    assert.equal(encoder.hasPendingSizeUpdate, false);
    assert.deepEqual(pairsOf(decoder), [["x-b", "2"]]);
    assert.equal(encoder.tableSize, decoder.tableSize);
  });
  it("peer lowers then raises before our next block -> two updates, smallest first", () => {
    const encoder = new HpackEncoder();
    const decoder = new HpackDecoder();
    decoder.decode(encoder.encode(["x-a", "1"]));
    encoder.setPeerMaxTableSize(0);
    encoder.setPeerMaxTableSize(4096);
    decoder.setMaxTableSize(0);
    decoder.setMaxTableSize(4096);
    const block = encoder.encode([]);
    assert.equal(block.toString("hex"), "203fe11f");
    decoder.decode(block);
    assert.equal(decoder.tableLength, 0);
  });
  it("peer sets 0 -> update to 0 and nothing is indexed afterwards", () => {
    const encoder = new HpackEncoder();
    encoder.setPeerMaxTableSize(0);
    const block = encoder.encode(["x-a", "1"]);
    assert.equal(block[0], 0x20);
    assert.equal(kinds(block.subarray(1)), "without");
    assert.equal(encoder.tableLength, 0);
  });
  it("peer setting equal to the current size -> no update", () => {
    const encoder = new HpackEncoder();
    encoder.setPeerMaxTableSize(4096);
    assert.equal(encoder.hasPendingSizeUpdate, false);
    encoder.setPeerMaxTableSize(1 << 20);
    assert.equal(encoder.hasPendingSizeUpdate, false, "own maximum 4096 caps the peer's larger value");
  });
  it("own maxTableSize above 4096 -> used only once the peer allows it, announced by an update", () => {
    const encoder = new HpackEncoder({ maxTableSize: 16384 });
    assert.equal(encoder.maxTableSize, 4096);
    assert.equal(encoder.hasPendingSizeUpdate, false);
    encoder.setPeerMaxTableSize(65536);
    assert.equal(encoder.maxTableSize, 16384);
    const decoder = new HpackDecoder();
    decoder.setMaxTableSize(65536);
    decoder.decode(encoder.encode([":method", "GET"]));
    assert.equal(decoder.maxTableSize, 16384);
  });
  it("own maxTableSize below 4096 -> the first block announces it", () => {
    const encoder = new HpackEncoder({ maxTableSize: 256 });
    const block = encoder.encode([":method", "GET"]);
    assert.equal(block.toString("hex"), "3fe10182");
    const decoder = new HpackDecoder();
    decoder.decode(block);
    assert.equal(decoder.maxTableSize, 256);
  });
  it("bad sizes and huffman modes are RangeErrors", () => {
    assert.throws(() => new HpackEncoder({ maxTableSize: -1 }), RangeError);
    assert.throws(() => new HpackEncoder().setPeerMaxTableSize(Number.NaN), RangeError);
    assert.throws(() => new HpackEncoder({ huffman: "sometimes" as "auto" }), RangeError);
  });
});

describe("HPACK encodeStateless (cacheable blocks)", () => {
  const response = [":status", "200", "content-type", "application/grpc"];
  it("uses only static indexes and literals without indexing", () => {
    const block = HpackEncoder.encodeStateless(response);
    assert.equal(block[0], 0x88);
    assert.equal(block[1], 0x0f, "content-type: literal without indexing, name index 31 (15 + 16)");
    assert.equal(block[2], 0x10);
    assert.equal(HpackEncoder.encodeStateless(["grpc-status", "0"]).toString("hex"), "00" + "88" + "9acac8b21234da8f" + "01" + "30");
  });
  it("decodes the same whatever the decoder's table holds, and changes no table", () => {
    const block = HpackEncoder.encodeStateless([...response, "grpc-status", "0", "authorization", "x"]);
    const fresh = new HpackDecoder();
    const busy = new HpackDecoder();
    busy.decode(new HpackEncoder().encode(["x-a", "1", "content-type", "application/grpc", "grpc-status", "0"]));
    const before = busy.tableSize;
    assert.deepEqual(fresh.decode(block).fields, [...response, "grpc-status", "0", "authorization", "x"]);
    assert.deepEqual(busy.decode(block).fields, [...response, "grpc-status", "0", "authorization", "x"]);
    assert.equal(fresh.tableLength, 0);
    assert.equal(busy.tableSize, before);
  });
  it("same list -> same bytes; a fresh Buffer each time", () => {
    const a = HpackEncoder.encodeStateless(response);
    const b = HpackEncoder.encodeStateless(response);
    assert.deepEqual(a, b);
    assert.notEqual(a.buffer === b.buffer && a.byteOffset === b.byteOffset, true);
  });
});

describe("HPACK encoder input checks and results", () => {
  it("a char above U+00FF -> TypeError (headers are latin1 octets)", () => {
    for (const huffman of ["auto", "never"] as const) {
      assert.throws(() => new HpackEncoder({ huffman }).encode(["x-a", "caf\u20ac"]), TypeError);
    }
  });
  it("odd-length list or a non-string -> TypeError", () => {
    assert.throws(() => new HpackEncoder().encode(["x-a"]), TypeError);
    assert.throws(() => new HpackEncoder().encode(["x-a", 1 as unknown as string]), TypeError);
  });
  it("results do not share memory with later encodes", () => {
    const encoder = new HpackEncoder();
    const first = encoder.encode(["x-a", "1"]);
    const copy = Buffer.from(first);
    encoder.encode(["x-b", "2".repeat(5000)]);
    assert.deepEqual(first, copy);
  });
  it("encoder and decoder tables stay equal over 2000 random lists (table 512, with size changes)", () => {
    let seed = 0x9e3779b9;
    const next = (): number => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return seed >>> 0;
    };
    const names = [":path", "x-a", "x-b", "content-type", "grpc-timeout", "user-agent", "cookie", "x-long"];
    const encoder = new HpackEncoder({ maxTableSize: 512 });
    const decoder = new HpackDecoder({ maxTableSize: 512 });
    decoder.decode(encoder.encode([]));
    for (let i = 0; i < 2000; i++) {
      if (i % 250 === 249) {
        const size = [0, 100, 512, 300][next() % 4]!;
        encoder.setPeerMaxTableSize(size);
        decoder.setMaxTableSize(size);
      }
      const fields: string[] = [];
      const count = next() % 8;
      for (let f = 0; f < count; f++) {
        const name = names[next() % names.length]!;
        fields.push(name, name === "x-long" ? "L".repeat(next() % 400) : String(next() % 20));
      }
      assert.deepEqual(decoder.decode(encoder.encode(fields)).fields, fields);
      assert.equal(decoder.tableSize, encoder.tableSize);
      assert.equal(decoder.tableLength, encoder.tableLength);
      assert.ok(encoder.tableSize <= encoder.maxTableSize);
    }
  });
});

describe("HPACK encoder interop with node:http2 (nghttp2 decodes our blocks)", () => {
  it("30 requests on one connection, table 256 announced by SETTINGS -> the server sees every list unchanged", async () => {
    const received: string[][] = [];
    const lists: string[][] = [];
    for (let i = 0; i < 30; i++) {
      lists.push([
        ":method", i % 3 === 0 ? "GET" : "POST",
        ":scheme", "http",
        ":path", `/pkg.Svc/Method${i % 4}`,
        ":authority", "localhost",
        "content-type", "application/grpc",
        "te", "trailers",
        "grpc-timeout", `${i + 1}m`,
        "x-request-number", String(i),
        "x-repeated", "r".repeat(i % 2 === 0 ? 10 : 120),
        "authorization", "Bearer secret",
      ]);
    }
    const server = http2.createServer({ settings: { headerTableSize: 256 } });
    let fail: (err: Error) => void = () => {};
    const done = new Promise<void>((resolve, reject) => {
      fail = reject;
      server.on("stream", (stream: http2.ServerHttp2Stream, _headers: unknown, _flags: number, rawHeaders: string[]) => {
        received.push(rawHeaders);
        stream.respond({ ":status": 200 }, { endStream: true });
        if (received.length === lists.length) resolve();
      });
      server.on("sessionError", reject);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    const socket = net.connect(port, "127.0.0.1");
    socket.on("error", () => {});
    // nghttp2 answers a block it cannot decode with GOAWAY and closes: fail instead of waiting forever.
    socket.on("close", () => fail(new Error(`connection closed after ${received.length} of ${lists.length} requests`)));
    const frame = (type: number, flags: number, stream: number, payload: Uint8Array): Buffer => {
      const header = Buffer.alloc(9);
      header.writeUIntBE(payload.length, 0, 3);
      header[3] = type;
      header[4] = flags;
      header.writeUInt32BE(stream, 5);
      return Buffer.concat([header, payload]);
    };
    const encoder = new HpackEncoder();
    // The server's SETTINGS (headerTableSize 256) would reach a real client first; announcing it up front is valid too.
    encoder.setPeerMaxTableSize(256);
    const out: Buffer[] = [Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1"), frame(4, 0, 0, new Uint8Array(0))];
    for (const [i, list] of lists.entries()) out.push(frame(1, 0x5, 2 * i + 1, encoder.encode(list)));
    socket.write(Buffer.concat(out));
    try {
      await done;
    } finally {
      socket.destroy();
      server.close();
    }
    assert.deepEqual(received, lists);
  });
});
