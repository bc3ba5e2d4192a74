// rpyc channel framing: [u32 BE length][u8 flag][payload]["\n"], zlib when flagged; limits.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { deflateRawSync, deflateSync, gzipSync } from "node:zlib";
import { ErrorCode } from "../../src/errors.js";
import { DEFAULT_MAX_FRAME_BYTES, FrameDecoder, encodeFrame, encodeMessageFrame } from "../../src/rpyc/frame.js";
import { rpycPeerSkip, runPython } from "./python-peer.js";

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ""), "hex");

/** A frame with an explicit flag and last byte, as a peer might send it. */
function rawFrame(payload: Buffer, flag: number, last = 0x0a): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(payload.length, 0);
  head[4] = flag;
  return Buffer.concat([head, payload, Buffer.from([last])]);
}

function isProtocolError(pattern: RegExp) {
  return (e: Error & { code?: string }) => {
    assert.equal(e.code, ErrorCode.RPYC_PROTOCOL);
    assert.match(e.message, pattern);
    return true;
  };
}

describe("frame encoding", () => {
  test("encodeFrame writes length, flag 0, payload and the newline", () => {
    assert.equal(encodeFrame(hex("1251501153115102")).toString("hex"), "00000008 00 1251501153115102 0a".replace(/ /g, ""));
    assert.equal(encodeFrame(Buffer.alloc(0)).toString("hex"), "00000000000a");
  });

  test("encodeMessageFrame gives the traced first client frame for (1, 0, (3, (1, ())))", () => {
    assert.equal(encodeMessageFrame(1, 0, [3, [1, []]]).toString("hex"), "00000008 00 1251501153115102 0a".replace(/ /g, ""));
  });

  test("encodeMessageFrame of a large message has the right length and trailing newline", () => {
    const f = encodeMessageFrame(2, 7, Buffer.alloc(100_000, 9));
    assert.equal(f.readUInt32BE(0), f.length - 6);
    assert.equal(f[4], 0);
    assert.equal(f[f.length - 1], 0x0a);
    assert.deepEqual(new FrameDecoder().push(f)[0], f.subarray(5, -1));
  });
});

describe("FrameDecoder", () => {
  const payloads = [hex("1251501153115102"), Buffer.alloc(0), Buffer.from("x".repeat(300)), Buffer.from("last")];
  const stream = Buffer.concat([...payloads.slice(0, 2).map(encodeFrame), rawFrame(deflateSync(payloads[2]!, { level: 1 }), 1), encodeFrame(payloads[3]!)]);

  test("a stream split at every byte boundary yields the same payloads", () => {
    for (let i = 0; i <= stream.length; i++) {
      const d = new FrameDecoder();
      const got = [...d.push(stream.subarray(0, i)), ...d.push(stream.subarray(i))];
      assert.deepEqual(got, payloads, `split at ${i}`);
      assert.equal(d.buffered, 0);
    }
  });

  test("a stream fed one byte at a time yields the same payloads", () => {
    const d = new FrameDecoder();
    const got: Buffer[] = [];
    for (let i = 0; i < stream.length; i++) got.push(...d.push(stream.subarray(i, i + 1)));
    assert.deepEqual(got, payloads);
  });

  test("many frames in one chunk all come out, in order", () => {
    const many = Array.from({ length: 1000 }, (_, i) => Buffer.from(`payload ${i}`));
    const got = new FrameDecoder().push(Buffer.concat(many.map(encodeFrame)));
    assert.deepEqual(got, many);
  });

  test("buffered counts bytes of an incomplete frame", () => {
    const d = new FrameDecoder();
    const f = encodeFrame(Buffer.from("hello"));
    assert.deepEqual(d.push(f.subarray(0, 3)), []);
    assert.equal(d.buffered, 3);
    assert.deepEqual(d.push(f.subarray(3, 8)), []);
    assert.equal(d.buffered, 3); // header consumed, 3 payload bytes held
    assert.deepEqual(d.push(f.subarray(8)), [Buffer.from("hello")]);
    assert.equal(d.buffered, 0);
  });

  test("a frame spread over many chunks is joined once, correctly", () => {
    const payload = Buffer.from(Array.from({ length: 200_000 }, (_, i) => i & 0xff));
    const f = encodeFrame(payload);
    const d = new FrameDecoder();
    const got: Buffer[] = [];
    for (let i = 0; i < f.length; i += 1000) got.push(...d.push(f.subarray(i, i + 1000)));
    assert.deepEqual(got, [payload]);
  });

  test("the byte after the payload is dropped unchecked, as Python does", () => {
    const d = new FrameDecoder();
    assert.deepEqual(d.push(Buffer.concat([rawFrame(Buffer.from("a"), 0, 0x58), encodeFrame(Buffer.from("b"))])), [Buffer.from("a"), Buffer.from("b")]);
  });

  test("a flagged frame is inflated as zlib whatever the non-zero flag", () => {
    const body = Buffer.from("compressed?".repeat(10));
    assert.deepEqual(new FrameDecoder().push(rawFrame(deflateSync(body), 7)), [body]);
  });

  test("a 4 GiB length is refused as soon as the header is complete", () => {
    const d = new FrameDecoder();
    assert.deepEqual(d.push(hex("ffffff")), []);
    assert.throws(() => d.push(hex("ff 00")), isProtocolError(/frame of 4294967295 bytes exceeds the limit of 67108864/));
    assert.equal(d.buffered, 0);
    assert.throws(() => d.push(encodeFrame(Buffer.from("x"))), isProtocolError(/4294967295/), "the decoder stays failed");
  });

  test("maxFrameBytes: a frame of exactly the limit passes, one byte more is refused", () => {
    assert.equal(DEFAULT_MAX_FRAME_BYTES, 64 * 1024 * 1024);
    assert.deepEqual(new FrameDecoder({ maxFrameBytes: 4 }).push(encodeFrame(Buffer.from("abcd"))), [Buffer.from("abcd")]);
    assert.throws(() => new FrameDecoder({ maxFrameBytes: 4 }).push(encodeFrame(Buffer.from("abcde")).subarray(0, 5)), isProtocolError(/frame of 5 bytes exceeds the limit of 4/));
  });

  test("a payload inflating beyond maxInflatedBytes is refused", () => {
    const bomb = deflateSync(Buffer.alloc(4 * 1024 * 1024));
    assert.ok(bomb.length < 10_000);
    assert.throws(() => new FrameDecoder({ maxInflatedBytes: 1024 * 1024 }).push(rawFrame(bomb, 1)), isProtocolError(/inflates beyond the limit of 1048576/));
    assert.equal(new FrameDecoder({ maxInflatedBytes: 4 * 1024 * 1024 }).push(rawFrame(bomb, 1))[0]!.length, 4 * 1024 * 1024);
  });

  test("a flagged payload that is not a zlib stream is refused (garbage, raw deflate, gzip, truncated, empty)", () => {
    const body = Buffer.from("hello hello hello");
    for (const bad of [Buffer.from("not zlib at all"), deflateRawSync(body), gzipSync(body), deflateSync(body).subarray(0, 6), Buffer.alloc(0)]) {
      assert.throws(() => new FrameDecoder().push(rawFrame(bad, 1)), isProtocolError(/not a zlib stream/), bad.toString("hex"));
    }
  });
});

describe("framing against Python's rpyc Channel", { skip: rpycPeerSkip() }, () => {
  test("frames sent by Python's Channel (compressed above 3000 bytes, zlib level 1) decode here", () => {
    const script = [
      "import json, zlib",
      "from rpyc.core.channel import Channel",
      "class Out:",
      "    MAX_IO_CHUNK = 64000",
      "    def __init__(self): self.data = b''",
      "    def write(self, d): self.data += d",
      "out = Out()",
      "ch = Channel(out)",
      "payloads = [b'small', b'x' * 3000, bytes(range(256)) * 12, b'y' * 200000]",
      "for p in payloads: ch.send(p)",
      "explicit = zlib.compress(b'explicit level 1', 1)",
      "out.data += len(explicit).to_bytes(4, 'big') + b'\\x01' + explicit + b'\\n'",
      "print(json.dumps({'stream': out.data.hex(), 'payloads': [p.hex() for p in payloads + [b'explicit level 1']]}))",
    ].join("\n");
    const r = runPython(script);
    assert.equal(r.code, 0, r.stderr);
    const { stream, payloads } = JSON.parse(r.stdout) as { stream: string; payloads: string[] };
    const bytes = Buffer.from(stream, "hex");
    // Python's sender flags exactly the payloads above 3000 bytes.
    const flags: number[] = [];
    for (let at = 0; at < bytes.length; at += 6 + bytes.readUInt32BE(at)) flags.push(bytes[at + 4]!);
    assert.deepEqual(flags, [0, 0, 1, 1, 1]);
    const d = new FrameDecoder();
    const got: Buffer[] = [];
    for (let i = 0; i < bytes.length; i += 4096) got.push(...d.push(bytes.subarray(i, i + 4096)));
    assert.deepEqual(got.map((b) => b.toString("hex")), payloads);
  });

  test("frames encoded here are read by Python's Channel.recv, newline included", () => {
    const payloads = [Buffer.from("one"), Buffer.alloc(0), Buffer.alloc(70_000, 0x41)];
    const stream = Buffer.concat([...payloads.map(encodeFrame), encodeMessageFrame(1, 0, [3, [1, []]])]);
    const script = [
      "import sys, json",
      "from rpyc.core.channel import Channel",
      "from rpyc.core import brine",
      "class In:",
      "    def __init__(self, d): self.d, self.at = d, 0",
      "    def read(self, n):",
      "        if self.at + n > len(self.d): raise EOFError('short read')",
      "        b = self.d[self.at:self.at + n]; self.at += n; return b",
      "src = In(bytes.fromhex(sys.stdin.read()))",
      "ch = Channel(src)",
      "got = [ch.recv().hex() for _ in range(3)]",
      "msg = brine.load(ch.recv())",
      "print(json.dumps({'got': got, 'msg': repr(msg), 'left': len(src.d) - src.at}))",
    ].join("\n");
    const r = runPython(script, { input: stream.toString("hex") });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { got: string[]; msg: string; left: number };
    assert.deepEqual(out.got, payloads.map((p) => p.toString("hex")));
    assert.equal(out.msg, "(1, 0, (3, (1, ())))");
    assert.equal(out.left, 0);
  });
});
