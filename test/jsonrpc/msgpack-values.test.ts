// MessagePack values <-> JavaScript in MSGPACKRPCProtocol: 64-bit integers and bigint, bin
// and Uint8Array, the timestamp extension, other extensions, floats, undefined.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ExtData, ExtensionCodec } from "@msgpack/msgpack";
import { MSGPACKRPCProtocol, type RPCRequest } from "../../src/jsonrpc/index.js";
import { expectError, only, pack, unpack } from "./msgpack-helpers.js";

function params(p: MSGPACKRPCProtocol, message: Uint8Array): unknown {
  const entry = only(p.parseRequest(message));
  assert.equal(entry.kind, "request", JSON.stringify(entry, (_k, v: unknown) => (typeof v === "bigint" ? String(v) : v)));
  return (entry as { request: RPCRequest }).request.params;
}

function resultBytes(p: MSGPACKRPCProtocol, result: unknown): Uint8Array {
  return p.serializeReply([{ ok: true, id: 1, result }], false);
}

test("integers beyond 2^53 decode as bigint; 64-bit-encoded ones within the safe range as numbers", () => {
  const p = new MSGPACKRPCProtocol();
  const got = params(p, pack([0, 1, "m", [2n ** 63n - 1n, -(2n ** 63n), 2n ** 64n - 1n, 2n ** 53n, 2n ** 40n, -(2n ** 40n), 5n]]));
  assert.deepEqual(got, [2n ** 63n - 1n, -(2n ** 63n), 2n ** 64n - 1n, 2n ** 53n, 2 ** 40, -(2 ** 40), 5]);
  assert.equal(Number.MAX_SAFE_INTEGER, 2 ** 53 - 1);
  assert.deepEqual(params(p, pack([0, 1, "m", [2n ** 53n - 1n]])), [Number.MAX_SAFE_INTEGER]);
});

test("bigint encodes as int64/uint64; numbers beyond 32 bits stay integers on the wire, also next to a bigint", () => {
  const p = new MSGPACKRPCProtocol();
  const alone = resultBytes(p, 2 ** 40);
  assert.equal(alone[alone.length - 9], 0xcf, "uint64, not float64");
  const mixed = resultBytes(p, [2n ** 63n, 2 ** 40, -(2 ** 40), 1.5, { n: -(2n ** 63n) }]);
  assert.deepEqual(unpack(mixed), [1, 1, null, [2n ** 63n, 2n ** 40n, -(2n ** 40n), 1.5, { n: -(2n ** 63n) }]]);
  // and back through parseReply: numbers where they are safe, bigint where they are not
  assert.deepEqual(p.parseReply(mixed).responses[0], { ok: true, id: 1, result: [2n ** 63n, 2 ** 40, -(2 ** 40), 1.5, { n: -(2n ** 63n) }] });
});

test("bin <-> Uint8Array; decoded bins are copies, not views of the message buffer", () => {
  const p = new MSGPACKRPCProtocol();
  const message = pack([0, 1, "m", [Uint8Array.of(1, 2, 3), { nested: Uint8Array.of(9) }]]);
  const got = params(p, message) as [Uint8Array, { nested: Uint8Array }];
  assert.ok(got[0] instanceof Uint8Array);
  assert.deepEqual([...got[0]], [1, 2, 3]);
  assert.notEqual(got[0].buffer, message.buffer);
  assert.notEqual(got[1].nested.buffer, message.buffer);
  message.fill(0);
  assert.deepEqual([...got[0]], [1, 2, 3]);
  // also when the message is a Buffer (what the TCP and WebSocket transports hand over)
  const fromBuffer = params(p, Buffer.from(pack([0, 1, "m", [Uint8Array.of(4)]]))) as [Uint8Array];
  assert.equal(Object.getPrototypeOf(fromBuffer[0]), Uint8Array.prototype, "a plain Uint8Array, not a Buffer view");
  const reply = unpack(resultBytes(p, Buffer.from("bytes"))) as unknown[];
  assert.ok(reply[3] instanceof Uint8Array);
  assert.equal(Buffer.from(reply[3] as Uint8Array).toString(), "bytes");
});

test("timestamp extension <-> Date; other ext types pass as ExtData both ways", () => {
  const p = new MSGPACKRPCProtocol();
  const when = new Date("2026-01-02T03:04:05.678Z");
  const ext = new ExtData(7, Uint8Array.of(1, 2));
  const got = params(p, pack([0, 1, "m", [when, ext]])) as [Date, ExtData];
  assert.ok(got[0] instanceof Date);
  assert.equal(got[0].toISOString(), when.toISOString());
  assert.ok(got[1] instanceof ExtData);
  assert.equal(got[1].type, 7);
  assert.deepEqual([...(got[1].data as Uint8Array)], [1, 2]);
  const reply = unpack(resultBytes(p, [when, ext])) as [number, number, null, [Date, ExtData]];
  assert.equal(reply[3][0].toISOString(), when.toISOString());
  assert.equal(reply[3][1].type, 7);
});

test("a custom extensionCodec is used for decoding and encoding", () => {
  class Point {
    constructor(
      readonly x: number,
      readonly y: number,
    ) {}
  }
  const codec = new ExtensionCodec();
  codec.register({
    type: 1,
    encode: (v: unknown) => (v instanceof Point ? Uint8Array.of(v.x, v.y) : null),
    decode: (data: Uint8Array) => new Point(data[0]!, data[1]!),
  });
  const p = new MSGPACKRPCProtocol({ extensionCodec: codec });
  const got = params(p, Uint8Array.of(0x94, 0x00, 0x01, 0xa1, 0x6d, 0x91, 0xd5, 0x01, 3, 4)) as [Point];
  assert.ok(got[0] instanceof Point);
  assert.deepEqual([got[0].x, got[0].y], [3, 4]);
  const reply = resultBytes(p, new Point(5, 6));
  assert.deepEqual([...reply.subarray(reply.length - 4)], [0xd5, 0x01, 5, 6]);
});

test("a malformed timestamp payload -> -32700", () => {
  // fixext 1 of type -1: a timestamp must be 4, 8 or 12 bytes
  expectError(new MSGPACKRPCProtocol(), Uint8Array.of(0x94, 0x00, 0x02, 0xa1, 0x6d, 0x91, 0xd4, 0xff, 0x00), -32700, null);
});

test("floats (float32, float64, NaN, Infinity) and unicode strings round-trip; -0 is the integer 0, as in JSON", () => {
  const p = new MSGPACKRPCProtocol();
  const f32 = params(p, Uint8Array.of(0x94, 0x00, 0x01, 0xa1, 0x6d, 0x91, 0xca, 0x3f, 0xc0, 0, 0)) as number[];
  assert.deepEqual(f32, [1.5]);
  const values = [0.1, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, "héllo € 😀", ""];
  const reply = p.parseReply(resultBytes(p, values)).responses[0];
  assert.ok(reply?.ok);
  assert.deepEqual(reply.result, values);
  const zero = resultBytes(p, -0);
  assert.equal(zero[zero.length - 1], 0x00, "positive fixint 0");
});

test("undefined object members are left out; undefined in an array is nil", () => {
  const p = new MSGPACKRPCProtocol();
  assert.deepEqual(unpack(resultBytes(p, { a: 1, b: undefined, c: [undefined, 2] })), [1, 1, null, { a: 1, c: [null, 2] }]);
});
