// Limits and robustness of JSONRPCProtocol: maxBatchLength, large batches, never throwing.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ErrorCode, SwitchboardError } from "../../src/errors.js";
import { JSONRPCProtocol } from "../../src/jsonrpc/index.js";
import { exampleDispatcher, startServer } from "./helpers.js";

const call = (id: number) => `{"jsonrpc":"2.0","method":"echo","params":[${id}],"id":${id}}`;

test("a batch longer than maxBatchLength -> one -32600 object for the whole batch, with the reason in data", async () => {
  const h = startServer(exampleDispatcher().dispatcher, { protocol: { maxBatchLength: 3 } });
  try {
    const r = JSON.parse(await h.send(`[${[1, 2, 3, 4].map(call).join(",")}]`));
    assert.equal(Array.isArray(r), false);
    assert.deepEqual([r.id, r.error.code, r.error.message], [null, -32600, "Invalid Request"]);
    assert.match(r.error.data, /batch of 4 requests exceeds maxBatchLength 3/);
    const ok = JSON.parse(await h.send(`[${[1, 2, 3].map(call).join(",")}]`));
    assert.deepEqual(
      ok.map((e: { result: number }) => e.result),
      [1, 2, 3],
    );
  } finally {
    await h.stop();
  }
});

test("a batch of exactly the default maxBatchLength (1000) is answered in request order", async () => {
  const h = startServer(exampleDispatcher().dispatcher);
  try {
    const ids = Array.from({ length: 1000 }, (_, i) => i);
    const r = JSON.parse(await h.send(`[${ids.map(call).join(",")}]`));
    assert.deepEqual(
      r.map((e: { id: number }) => e.id),
      ids,
    );
  } finally {
    await h.stop();
  }
});

test("maxBatchLength must be a positive integer (BAD_OPTION)", () => {
  for (const bad of [0, -1, 1.5, Number.NaN]) {
    assert.throws(
      () => new JSONRPCProtocol({ maxBatchLength: bad }),
      (e: unknown) => e instanceof SwitchboardError && e.code === ErrorCode.BAD_OPTION,
    );
  }
});

test("parseRequest never throws, whatever the bytes", () => {
  const p = new JSONRPCProtocol();
  const samples = ["", "\u0000", "{", "[[[[", "nul", '{"a":1}', '{"jsonrpc":"2.0"}', "[null]", '[{"jsonrpc":"2.0","method":"x","id":{}}]', "\ufeff{}"];
  for (const s of samples) {
    const parsed = p.parseRequest(new TextEncoder().encode(s));
    assert.ok(parsed.entries.length >= 1, s);
  }
  for (let seed = 1; seed <= 200; seed++) {
    const bytes = new Uint8Array(seed % 64);
    let x = seed;
    for (let i = 0; i < bytes.length; i++) bytes[i] = x = (x * 1103515245 + 12345) & 0xff;
    assert.ok(p.parseRequest(bytes).entries.length >= 1);
  }
});

test("createRequest numbers ids per protocol instance from 1; oneWay omits the id", () => {
  const p = new JSONRPCProtocol();
  assert.equal(p.createRequest("a").id, 1);
  assert.equal(p.createRequest("a", [1]).id, 2);
  assert.equal("id" in p.createRequest("a", [], true), false);
  assert.equal(new JSONRPCProtocol().createRequest("a").id, 1);
  const text = new TextDecoder().decode(p.serializeRequest(p.createRequest("m", { x: 1 })));
  assert.equal(text, '{"jsonrpc":"2.0","method":"m","params":{"x":1},"id":3}');
  assert.equal(new TextDecoder().decode(p.serializeRequest(p.createRequest("n", undefined, true))), '{"jsonrpc":"2.0","method":"n"}');
});
