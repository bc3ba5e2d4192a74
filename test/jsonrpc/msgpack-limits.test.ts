// MSGPACKRPCProtocol against hostile or broken bytes: -32700 for what is not MessagePack,
// -32600 for decoding limits and unrepresentable maps, refusals before any large allocation,
// and parseRequest never throwing.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ErrorCode } from "../../src/errors.js";
import { MSGPACKRPCProtocol } from "../../src/jsonrpc/index.js";
import { expectError, only, pack } from "./msgpack-helpers.js";

/** [0, msgid, "m", <params bytes>] with the params given raw. */
function requestWithRawParams(msgid: number, params: Uint8Array): Uint8Array {
  return Uint8Array.of(0x94, 0x00, msgid, 0xa1, 0x6d, ...params);
}

test("bytes that are not MessagePack (reserved 0xc1, empty, cut short) -> -32700 msgid nil", () => {
  const p = new MSGPACKRPCProtocol();
  expectError(p, Uint8Array.of(0xc1), -32700, null);
  expectError(p, new Uint8Array(0), -32700, null);
  const whole = pack([0, 3, "echo", ["a longer string argument"]]);
  for (let cut = 1; cut < whole.length; cut++) expectError(p, whole.subarray(0, cut), -32700, null);
});

test("trailing bytes after the message -> -32700", () => {
  const p = new MSGPACKRPCProtocol();
  assert.match(String(expectError(p, Uint8Array.of(...pack([0, 1, "m", []]), 0x00), -32700, null).error.data), /1 bytes after the end/);
  // two messages back to back are not one message
  expectError(p, Uint8Array.of(...pack([2, "m", []]), ...pack([2, "m", []])), -32700, null);
});

test("a str with invalid UTF-8 (as a value or a map key) -> -32700", () => {
  const p = new MSGPACKRPCProtocol();
  expectError(p, requestWithRawParams(1, Uint8Array.of(0x91, 0xa2, 0xc3, 0x28)), -32700, null);
  expectError(p, requestWithRawParams(1, Uint8Array.of(0x81, 0xa1, 0xff, 0x01)), -32700, null);
  // an unpaired surrogate encoded as UTF-8 (CESU) is not UTF-8 either
  expectError(p, requestWithRawParams(1, Uint8Array.of(0x91, 0xa3, 0xed, 0xa0, 0x80)), -32700, null);
});

test("nesting deeper than maxDepth -> -32600 naming the limit, msgid echoed; exactly maxDepth is accepted", () => {
  const p = new MSGPACKRPCProtocol({ maxDepth: 10 });
  // message array (1) + params (2) + 7 arrays + an empty one = 10 levels
  const ok = requestWithRawParams(5, Uint8Array.of(...new Array<number>(8).fill(0x91), 0x90));
  assert.equal(only(p.parseRequest(ok)).kind, "request");
  const deep = requestWithRawParams(5, Uint8Array.of(...new Array<number>(9).fill(0x91), 0x90));
  assert.match(String(expectError(p, deep, -32600, 5).error.data), /maxDepth 10/);
  // maps count as levels too
  expectError(p, requestWithRawParams(5, Uint8Array.of(0x91, ...new Array<number>(9).fill(0).flatMap(() => [0x81, 0xa1, 0x6b]), 0xc0)), -32600, 5);
});

test("a million nested arrays (default maxDepth 100) -> -32600 at once, no stack or memory blow-up", () => {
  const p = new MSGPACKRPCProtocol();
  const bytes = new Uint8Array(1_000_005).fill(0x91);
  bytes.set([0x94, 0x00, 0x07, 0xa1, 0x6d], 0);
  bytes[bytes.length - 1] = 0xc0;
  expectError(p, bytes, -32600, 7);
});

test("str, bin, ext, array and map over their max*Length -> -32600 naming the limit, msgid echoed", () => {
  const p = new MSGPACKRPCProtocol({ maxStrLength: 4, maxBinLength: 4, maxExtLength: 4, maxArrayLength: 4, maxMapLength: 2 });
  const cases: [Uint8Array, RegExp][] = [
    [Uint8Array.of(0x91, 0xa5, 0x61, 0x61, 0x61, 0x61, 0x61), /maxStrLength 4/],
    [Uint8Array.of(0x91, 0xc4, 0x05, 1, 2, 3, 4, 5), /maxBinLength 4/],
    [Uint8Array.of(0x91, 0xd8, 0x05, ...new Array<number>(16).fill(0)), /maxExtLength 4/],
    [Uint8Array.of(0x95, 1, 2, 3, 4, 5), /maxArrayLength 4/],
    [Uint8Array.of(0x83, 0xa1, 0x61, 1, 0xa1, 0x62, 2, 0xa1, 0x63, 3), /maxMapLength 2/],
  ];
  for (const [params, reason] of cases) assert.match(String(expectError(p, requestWithRawParams(2, params), -32600, 2).error.data), reason);
  // at the limit is fine
  assert.equal(only(p.parseRequest(requestWithRawParams(2, Uint8Array.of(0x94, 0xa4, 0x61, 0x61, 0x61, 0x61, 0xc4, 0x04, 1, 2, 3, 4, 3, 4)))).kind, "request");
});

test("an array or map announcing more members than bytes remain -> -32700 before anything is allocated", () => {
  const all = 0xffffffff;
  const p = new MSGPACKRPCProtocol({ maxArrayLength: all, maxMapLength: all, maxStrLength: all, maxBinLength: all });
  expectError(p, requestWithRawParams(1, Uint8Array.of(0xdd, 0xff, 0xff, 0xff, 0xff)), -32700, null);
  expectError(p, requestWithRawParams(1, Uint8Array.of(0xdf, 0xff, 0xff, 0xff, 0xff, 0xa1, 0x61)), -32700, null);
  expectError(p, requestWithRawParams(1, Uint8Array.of(0xdb, 0xff, 0xff, 0xff, 0xff, 0x61)), -32700, null);
  expectError(p, requestWithRawParams(1, Uint8Array.of(0xc6, 0xff, 0xff, 0xff, 0xff, 0x61)), -32700, null);
});

test("map keys that are not str (int, bin, array, nil) -> -32600; the key __proto__ -> -32600, prototypes untouched", () => {
  const p = new MSGPACKRPCProtocol();
  const keys = [Uint8Array.of(0x01), Uint8Array.of(0xc4, 0x01, 0x61), Uint8Array.of(0x90), Uint8Array.of(0xc0)];
  for (const key of keys) assert.match(String(expectError(p, requestWithRawParams(3, Uint8Array.of(0x81, ...key, 0x01)), -32600, 3).error.data), /map keys must be strings/);
  const proto = Uint8Array.of(0x81, 0xa9, ...Buffer.from("__proto__"), 0x81, 0xa8, ...Buffer.from("polluted"), 0xc3);
  assert.match(String(expectError(p, requestWithRawParams(3, proto), -32600, 3).error.data), /__proto__/);
  assert.equal((Object.prototype as Record<string, unknown>)["polluted"], undefined);
});

test("decoding limits apply to replies too: over a limit -> BAD_REPLY", () => {
  const p = new MSGPACKRPCProtocol({ maxStrLength: 3 });
  assert.throws(() => p.parseReply(pack([1, 1, null, "abcd"])), { code: ErrorCode.BAD_REPLY });
  assert.deepEqual(p.parseReply(pack([1, 1, null, "abc"])).responses[0], { ok: true, id: 1, result: "abc" });
});

test("parseRequest never throws: 5000 random messages and every truncation of a valid request", () => {
  const p = new MSGPACKRPCProtocol();
  let seed = 0x2545f491;
  const next = (): number => {
    // xorshift32: deterministic, so a failure reproduces
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return seed >>> 0;
  };
  const valid = pack([0, 77, "echo", [{ a: [1, 2.5, "x", null, true], b: new Uint8Array(3) }, 2n ** 60n]]);
  const samples: Uint8Array[] = [];
  for (let cut = 0; cut <= valid.length; cut++) samples.push(valid.subarray(0, cut));
  for (let i = 0; i < 5000; i++) {
    const bytes = Uint8Array.from(valid);
    // mutate a few bytes of a valid request: more interesting than pure noise
    for (let k = 0; k < 1 + (next() % 4); k++) bytes[next() % bytes.length] = next() & 0xff;
    samples.push(bytes);
  }
  for (const bytes of samples) {
    const parsed = p.parseRequest(bytes);
    const entry = only(parsed);
    if (entry.kind === "error") assert.ok([-32700, -32600].includes(entry.response.error.code), String(entry.response.error.code));
  }
});
