// MSGPACKRPCProtocol message rules (msgpack-rpc spec.md, errors as tinyrpc 1.x): request,
// notification and response shapes, msgid rules, error objects, client-side ids and strict
// reply parsing.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ErrorCode, SwitchboardError } from "../../src/errors.js";
import { JSONRPCError, MSGPACKRPCProtocol, type RPCRequest } from "../../src/jsonrpc/index.js";
import { expectError, only, pack, unpack } from "./msgpack-helpers.js";

const UINT32_MAX = 0xffffffff;

function request(bytes: Uint8Array): RPCRequest {
  const entry = only(new MSGPACKRPCProtocol().parseRequest(bytes));
  assert.equal(entry.kind, "request", JSON.stringify(entry));
  return (entry as { request: RPCRequest }).request;
}

test("request [0, msgid, method, params] parses with its msgid, including 0 and 2^32-1", () => {
  assert.deepEqual(request(pack([0, 7, "echo", [1, "x"]])), { method: "echo", params: [1, "x"], id: 7 });
  assert.equal(request(pack([0, 0, "m", []])).id, 0);
  assert.equal(request(pack([0, UINT32_MAX, "m", []])).id, UINT32_MAX);
  // a msgid in a wider integer format is still an unsigned 32-bit value
  assert.equal(request(Uint8Array.of(0x94, 0x00, 0xcf, 0, 0, 0, 0, 0, 0, 0, 5, 0xa1, 0x6d, 0x90)).id, 5);
});

test("notification [2, method, params] parses as a request without id", () => {
  const r = request(pack([2, "bump", []]));
  assert.deepEqual(r, { method: "bump", params: [], id: undefined });
  assert.equal(Object.hasOwn(r, "id") ? r.id : undefined, undefined);
});

test("params as a map is accepted (extension) and arrives as named params", () => {
  assert.deepEqual(request(pack([0, 1, "add", { a: 1, b: 2 }])).params, { a: 1, b: 2 });
  assert.deepEqual(request(pack([2, "add", { a: 1 }])).params, { a: 1 });
});

test("msgid negative, float, over 2^32-1, nil or str -> -32600 with msgid nil", () => {
  const p = new MSGPACKRPCProtocol();
  for (const id of [-1, 1.5, UINT32_MAX + 1, null, "7", 2n ** 63n]) expectError(p, pack([0, id, "m", []]), -32600, null);
  // 1.0 as a float64 decodes to the number 1 but is not an integer on the wire
  expectError(p, Uint8Array.of(0x94, 0x00, 0xcb, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0, 0xa1, 0x6d, 0x90), -32600, null);
});

test("wrong member count -> -32600 (a request echoes its valid msgid)", () => {
  const p = new MSGPACKRPCProtocol();
  expectError(p, pack([0, 9, "m"]), -32600, 9);
  expectError(p, pack([0, 9, "m", [], "extra"]), -32600, 9);
  expectError(p, pack([2, "m"]), -32600, null);
  expectError(p, pack([2, "m", [], 1]), -32600, null);
  expectError(p, pack([0]), -32600, null);
});

test("type tag other than 0 or 2 (a response 1, 3, -1, float 0.0, str) -> -32600", () => {
  const p = new MSGPACKRPCProtocol();
  assert.match(String(expectError(p, pack([1, 5, null, "x"]), -32600, null).error.data), /a response is not a request/);
  for (const tag of [3, -1, "0", true]) expectError(p, pack([tag, 5, "m", []]), -32600, null);
  expectError(p, Uint8Array.of(0x94, 0xca, 0, 0, 0, 0, 0x05, 0xa1, 0x6d, 0x90), -32600, null);
});

test("method not a str (bin, int, nil, array) -> -32600 echoing the msgid", () => {
  const p = new MSGPACKRPCProtocol();
  for (const method of [new Uint8Array([0x6d]), 3, null, ["m"]]) expectError(p, pack([0, 4, method, []]), -32600, 4);
  expectError(p, pack([2, 3, []]), -32600, null);
});

test("params neither array nor map (nil, int, str, bin) -> -32600 echoing the msgid", () => {
  const p = new MSGPACKRPCProtocol();
  for (const params of [null, 1, "a", new Uint8Array(1)]) expectError(p, pack([0, 6, "m", params]), -32600, 6);
  expectError(p, pack([2, "m", null]), -32600, null);
});

test("a top-level array of requests (no batches in MessagePack-RPC) -> one -32600, batch false", () => {
  const p = new MSGPACKRPCProtocol();
  const response = expectError(p, pack([[0, 1, "a", []], [0, 2, "b", []]]), -32600, null);
  assert.match(String(response.error.data), /no batch/);
});

test("a message that is not an array (map, int, str) or an empty array -> -32600 msgid nil", () => {
  const p = new MSGPACKRPCProtocol();
  for (const message of [{ type: 0 }, 0, "req", []]) expectError(p, pack(message), -32600, null);
});

test("serializeReply: a result is [1, msgid, nil, result]; undefined and null are nil", () => {
  const p = new MSGPACKRPCProtocol();
  assert.deepEqual(unpack(p.serializeReply([{ ok: true, id: 3, result: { a: [1, "x"] } }], false)), [1, 3, null, { a: [1, "x"] }]);
  assert.deepEqual(unpack(p.serializeReply([{ ok: true, id: 0, result: undefined }], false)), [1, 0, null, null]);
  assert.deepEqual(unpack(p.serializeReply([{ ok: true, id: 0, result: null }], false)), [1, 0, null, null]);
});

test("serializeReply: an error is [1, msgid, [code, message, data], nil]; without data [code, message]", () => {
  const p = new MSGPACKRPCProtocol();
  const withData = { ok: false as const, id: 2, error: new JSONRPCError(-32602, "Invalid params", { arg: "a" }) };
  assert.deepEqual(unpack(p.serializeReply([withData], false)), [1, 2, [-32602, "Invalid params", { arg: "a" }], null]);
  assert.deepEqual(unpack(p.serializeReply([{ ok: false, id: null, error: new JSONRPCError(-32000, "boom") }], false)), [1, null, [-32000, "boom"], null]);
  // errorData "omit": exactly tinyrpc 1.x's [code, message]
  assert.deepEqual(unpack(new MSGPACKRPCProtocol({ errorData: "omit" }).serializeReply([withData], false)), [1, 2, [-32602, "Invalid params"], null]);
});

test("serializeReply: a result that cannot be encoded -> -32603 for that request, never a throw", () => {
  const p = new MSGPACKRPCProtocol();
  const cyclic: unknown[] = [];
  cyclic.push(cyclic);
  for (const result of [() => 1, Symbol("s"), 2n ** 64n, -(2n ** 63n) - 1n, cyclic]) {
    const reply = unpack(p.serializeReply([{ ok: true, id: 8, result }], false)) as unknown[];
    assert.equal(reply[0], 1);
    assert.equal(reply[1], 8);
    assert.equal((reply[2] as unknown[])[0], -32603, String(result));
    assert.match(String((reply[2] as unknown[])[2]), /cannot be encoded as MessagePack/);
    assert.equal(reply[3], null);
  }
});

test("serializeReply: error data that cannot be encoded is dropped, the error itself survives", () => {
  const p = new MSGPACKRPCProtocol();
  assert.deepEqual(unpack(p.serializeReply([{ ok: false, id: 1, error: new JSONRPCError(-32000, "x", () => 0) }], false)), [1, 1, [-32000, "x"], null]);
});

test("serializeReply: no responses (a notification) -> empty reply", () => {
  assert.equal(new MSGPACKRPCProtocol().serializeReply([], false).length, 0);
});

test("createRequest numbers msgids per instance from 1, wraps 2^32-1 -> 0; oneWay has no id", () => {
  const p = new MSGPACKRPCProtocol();
  assert.equal(p.createRequest("a").id, 1);
  assert.equal(p.createRequest("a").id, 2);
  assert.equal(p.createRequest("a", [], true).id, undefined);
  assert.equal(new MSGPACKRPCProtocol().createRequest("a").id, 1);
  const near = new MSGPACKRPCProtocol({ initialMsgid: UINT32_MAX - 1 });
  assert.deepEqual([near.createRequest("a").id, near.createRequest("a").id, near.createRequest("a").id], [UINT32_MAX - 1, UINT32_MAX, 0]);
});

test("serializeRequest: [0, msgid, method, params], [2, method, params], no params -> [], named -> map", () => {
  const p = new MSGPACKRPCProtocol();
  assert.deepEqual(unpack(p.serializeRequest(p.createRequest("echo", ["x"]))), [0, 1, "echo", ["x"]]);
  assert.deepEqual(unpack(p.serializeRequest(p.createRequest("bump", undefined, true))), [2, "bump", []]);
  assert.deepEqual(unpack(p.serializeRequest(p.createRequest("list"))), [0, 2, "list", []]);
  assert.deepEqual(unpack(p.serializeRequest(p.createRequest("add", { a: 1, b: 2 }))), [0, 3, "add", { a: 1, b: 2 }]);
});

test("serializeRequest: a batch -> BAD_OPTION; a msgid that is not uint32 -> BAD_OPTION; unencodable params -> BAD_MESSAGE", () => {
  const p = new MSGPACKRPCProtocol();
  assert.throws(() => p.serializeRequest([p.createRequest("a"), p.createRequest("b")]), { code: ErrorCode.BAD_OPTION });
  assert.throws(() => p.serializeRequest({ method: "a", params: [], id: "x" }), { code: ErrorCode.BAD_OPTION });
  assert.throws(() => p.serializeRequest({ method: "a", params: [], id: -1 }), { code: ErrorCode.BAD_OPTION });
  assert.throws(() => p.serializeRequest(p.createRequest("a", [() => 0])), { code: ErrorCode.BAD_MESSAGE });
});

test("parseReply: success, nil result, [code, message], [code, message, data], msgid nil with an error", () => {
  const p = new MSGPACKRPCProtocol();
  assert.deepEqual(p.parseReply(pack([1, 4, null, "ok"])), { batch: false, responses: [{ ok: true, id: 4, result: "ok" }] });
  assert.deepEqual(p.parseReply(pack([1, 4, null, null])).responses[0], { ok: true, id: 4, result: null });
  const [plain] = p.parseReply(pack([1, 5, [-32601, "Method not found"], null])).responses;
  assert.ok(plain && !plain.ok && plain.error instanceof JSONRPCError);
  assert.deepEqual([plain.id, plain.error.code, plain.error.message, plain.error.data], [5, -32601, "Method not found", undefined]);
  const [rich] = p.parseReply(pack([1, null, [-32700, "Parse error", "detail"], null])).responses;
  assert.ok(rich && !rich.ok);
  assert.deepEqual([rich.id, rich.error.code, rich.error.data], [null, -32700, "detail"]);
});

test("parseReply: an error object of another shape (the spec allows any) -> -32000 with the raw error in data", () => {
  const p = new MSGPACKRPCProtocol();
  const [text] = p.parseReply(pack([1, 1, "something failed", null])).responses;
  assert.ok(text && !text.ok);
  assert.deepEqual([text.error.code, text.error.message, text.error.data], [-32000, "something failed", "something failed"]);
  const [map] = p.parseReply(pack([1, 1, { error: "x", error_code: 3 }, null])).responses;
  assert.ok(map && !map.ok);
  assert.equal(map.error.code, -32000);
  assert.deepEqual(map.error.data, { error: "x", error_code: 3 });
});

test("parseReply: anything malformed -> BAD_REPLY", () => {
  const p = new MSGPACKRPCProtocol();
  const bad: [string, Uint8Array][] = [
    ["empty", new Uint8Array(0)],
    ["not msgpack", Uint8Array.of(0xc1)],
    ["cut short", pack([1, 1, null, "abcdef"]).subarray(0, 6)],
    ["trailing bytes", Uint8Array.of(...pack([1, 1, null, 1]), 0xc0)],
    ["not an array", pack({ result: 1 })],
    ["3 members", pack([1, 1, null])],
    ["5 members", pack([1, 1, null, 1, 1])],
    ["type 0", pack([0, 1, null, 1])],
    ["type 2", pack([2, 1, null, 1])],
    ["msgid str", pack([1, "1", null, 1])],
    ["msgid negative", pack([1, -1, null, 1])],
    ["msgid float", Uint8Array.of(0x94, 0x01, 0xcb, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0, 0xc0, 0x01)],
    ["msgid nil on success", pack([1, null, null, 1])],
    ["error and result", pack([1, 1, [-32000, "x"], 1])],
    ["a batch", pack([[1, 1, null, 1]])],
    ["invalid UTF-8", Uint8Array.of(0x94, 0x01, 0x01, 0xc0, 0xa1, 0xff)],
  ];
  for (const [name, bytes] of bad) {
    assert.throws(
      () => p.parseReply(bytes),
      (e: unknown) => e instanceof SwitchboardError && e.code === ErrorCode.BAD_REPLY,
      name,
    );
  }
});

test("options: out-of-range limits, maxDepth < 2, unknown errorData, bad initialMsgid -> BAD_OPTION", () => {
  const cases = [{ maxDepth: 1 }, { maxStrLength: 0 }, { maxArrayLength: 1.5 }, { maxMapLength: 2 ** 32 }, { initialMsgid: -1 }, { errorData: "yes" as "omit" }];
  for (const options of cases) assert.throws(() => new MSGPACKRPCProtocol(options), { code: ErrorCode.BAD_OPTION }, JSON.stringify(options));
});
