// Line and length-prefix framing: split frames, many frames per chunk, limits checked before
// buffering, CRLF, empty messages.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ErrorCode } from "../../../src/errors.js";
import { encodeFrame, FrameDecoder, framingOption, type Frame } from "../../../src/jsonrpc/transports/framing.js";

const b = (s: string) => Buffer.from(s);
const texts = (frames: Frame[]) => frames.map((f) => (f.kind === "message" ? Buffer.from(f.message).toString() : `oversized:${f.size}`));

test("line framing: several messages in one chunk and a message split across chunks", () => {
  const d = new FrameDecoder("line", 100);
  assert.deepEqual(texts(d.push(b('{"a":1}\n{"b":2}\n{"c"'))), ['{"a":1}', '{"b":2}']);
  assert.deepEqual(texts(d.push(b(":3"))), []);
  assert.deepEqual(texts(d.push(b("}\n"))), ['{"c":3}']);
  assert.equal(d.pendingBytes, 0);
});

test("line framing: byte-by-byte delivery of multi-byte UTF-8 reassembles the exact bytes", () => {
  const d = new FrameDecoder("line", 100);
  const msg = b('"h\u00e9llo \u{1f600}"\n');
  const out: Frame[] = [];
  for (const byte of msg) out.push(...d.push(Uint8Array.of(byte)));
  assert.deepEqual(texts(out), ['"h\u00e9llo \u{1f600}"']);
});

test("line framing: CRLF endings are stripped, an empty line is an empty message", () => {
  const d = new FrameDecoder("line", 100);
  assert.deepEqual(texts(d.push(b("x\r\n\n"))), ["x", ""]);
});

test("line framing: a line over the limit is reported oversized before its end arrives", () => {
  const d = new FrameDecoder("line", 8);
  assert.deepEqual(texts(d.push(b("12345678"))), []);
  assert.deepEqual(texts(d.push(b("9"))), ["oversized:9"]);
  assert.ok(d.failed);
  assert.deepEqual(d.push(b("\n")), []);
  const e = new FrameDecoder("line", 8);
  assert.deepEqual(texts(e.push(b("ok\n123456789\n"))), ["ok", "oversized:9"]);
});

test("length framing: header and body split anywhere, several frames per chunk", () => {
  const wire = Buffer.concat([encodeFrame("length", b("first")), encodeFrame("length", b("")), encodeFrame("length", b("third\nwith newline"))]);
  for (let cut = 1; cut < wire.length; cut++) {
    const d = new FrameDecoder("length", 100);
    const out = [...d.push(wire.subarray(0, cut)), ...d.push(wire.subarray(cut))];
    assert.deepEqual(texts(out), ["first", "", "third\nwith newline"], `cut at ${cut}`);
  }
});

test("length framing: an announced size over the limit fails at the header, nothing buffered", () => {
  const d = new FrameDecoder("length", 10);
  const header = Buffer.alloc(4);
  header.writeUInt32BE(0xffffffff);
  assert.deepEqual(texts(d.push(header)), [`oversized:${0xffffffff}`]);
  assert.equal(d.pendingBytes, 0);
});

test("framing option: unknown framing is BAD_OPTION", () => {
  assert.equal(framingOption(undefined), "line");
  assert.throws(() => framingOption("xml"), { code: ErrorCode.BAD_OPTION });
});
