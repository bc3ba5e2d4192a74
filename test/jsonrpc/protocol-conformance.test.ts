// JSON-RPC 2.0 conformance of JSONRPCProtocol + RPCServer, byte-exact where it matters
// (TINYRPC.md sections 6 and 7, and the examples of the JSON-RPC 2.0 specification).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { exampleDispatcher, startServer, type Harness } from "./helpers.js";

let h: Harness;
let counter: { bumps: number };
before(() => {
  const ex = exampleDispatcher();
  counter = ex.counter;
  ex.dispatcher.addMethod((minuend: number, subtrahend: number) => minuend - subtrahend, "subtract");
  ex.dispatcher.addMethod(function sum(...xs: number[]) {
    return xs.reduce((a, b) => a + b, 0);
  });
  ex.dispatcher.addMethod(function get_data() {
    return ["hello", 5];
  });
  ex.dispatcher.addMethod(function update(..._xs: unknown[]) {});
  ex.dispatcher.addMethod(function notify_hello(..._xs: unknown[]) {});
  ex.dispatcher.addMethod(() => undefined, "void");
  ex.dispatcher.addMethod(() => 10n, "bigint");
  ex.dispatcher.addMethod(() => () => 1, "fn");
  ex.dispatcher.addMethod(function circular() {
    const o: Record<string, unknown> = {};
    o.self = o;
    return o;
  });
  h = startServer(ex.dispatcher);
});
after(() => h.stop());

const INVALID = '{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Invalid Request"';

describe("JSON-RPC 2.0 specification examples", () => {
  test("positional params: subtract [42, 23] -> result 19", async () => {
    assert.equal(await h.send('{"jsonrpc": "2.0", "method": "subtract", "params": [42, 23], "id": 1}'), '{"jsonrpc":"2.0","id":1,"result":19}');
    assert.equal(await h.send('{"jsonrpc": "2.0", "method": "subtract", "params": [23, 42], "id": 2}'), '{"jsonrpc":"2.0","id":2,"result":-19}');
  });
  test("named params bind by name, not by key order -> result 19", async () => {
    assert.equal(await h.send('{"jsonrpc": "2.0", "method": "subtract", "params": {"subtrahend": 23, "minuend": 42}, "id": 3}'), '{"jsonrpc":"2.0","id":3,"result":19}');
  });
  test("notification gets an empty transport reply", async () => {
    assert.equal(await h.send('{"jsonrpc": "2.0", "method": "update", "params": [1,2,3,4,5]}'), "");
    assert.equal(await h.send('{"jsonrpc": "2.0", "method": "foobar"}'), "");
  });
  test("non-existent method -> -32601", async () => {
    const r = JSON.parse(await h.send('{"jsonrpc": "2.0", "method": "foobar", "id": "1"}'));
    assert.deepEqual([r.id, r.error.code, r.error.message], ["1", -32601, "Method not found"]);
  });
  test("invalid JSON -> -32700 with id null", async () => {
    const r = await h.send('{"jsonrpc": "2.0", "method": "foobar, "params": "bar", "baz]');
    assert.ok(r.startsWith('{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"'), r);
  });
  test("invalid request object (method 1, params \"bar\") -> -32600 id null", async () => {
    assert.ok((await h.send('{"jsonrpc": "2.0", "method": 1, "params": "bar"}')).startsWith(INVALID));
  });
  test("batch with invalid JSON -> a single -32700 object", async () => {
    const r = JSON.parse(await h.send('[{"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"},{"jsonrpc": "2.0", "method"]'));
    assert.equal(Array.isArray(r), false);
    assert.equal(r.error.code, -32700);
    assert.equal(r.id, null);
  });
  test("empty batch [] -> one -32600 object, not an array", async () => {
    const r = JSON.parse(await h.send("[]"));
    assert.equal(Array.isArray(r), false);
    assert.deepEqual([r.id, r.error.code], [null, -32600]);
  });
  test("batch [1] -> array with one -32600", async () => {
    const r = JSON.parse(await h.send("[1]"));
    assert.equal(r.length, 1);
    assert.deepEqual([r[0].id, r[0].error.code], [null, -32600]);
  });
  test("batch [1,2,3] -> three -32600 entries", async () => {
    const r = JSON.parse(await h.send("[1,2,3]"));
    assert.deepEqual(
      r.map((e: { id: unknown; error: { code: number } }) => [e.id, e.error.code]),
      [
        [null, -32600],
        [null, -32600],
        [null, -32600],
      ],
    );
  });
  test("the spec's mixed batch: results in order, -32600 and -32601 entries, notifications omitted", async () => {
    const r = JSON.parse(
      await h.send(`[
        {"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"},
        {"jsonrpc": "2.0", "method": "notify_hello", "params": [7]},
        {"jsonrpc": "2.0", "method": "subtract", "params": [42,23], "id": "2"},
        {"foo": "boo"},
        {"jsonrpc": "2.0", "method": "foo.get", "params": {"name": "myself"}, "id": "5"},
        {"jsonrpc": "2.0", "method": "get_data", "id": "9"}
      ]`),
    );
    assert.deepEqual(r, [
      { jsonrpc: "2.0", id: "1", result: 7 },
      { jsonrpc: "2.0", id: "2", result: 19 },
      { jsonrpc: "2.0", id: null, error: { code: -32600, message: "Invalid Request", data: r[2].error.data } },
      { jsonrpc: "2.0", id: "5", error: { code: -32601, message: "Method not found", data: r[3].error.data } },
      { jsonrpc: "2.0", id: "9", result: ["hello", 5] },
    ]);
  });
  test("batch of only notifications -> empty transport reply, and they ran", async () => {
    const before = counter.bumps;
    assert.equal(await h.send('[{"jsonrpc":"2.0","method":"bump"},{"jsonrpc":"2.0","method":"bump"}]'), "");
    assert.equal(counter.bumps, before + 2);
  });
  test("one-element batch -> one-element array", async () => {
    assert.equal(await h.send('[{"jsonrpc":"2.0","method":"echo","params":[1],"id":7}]'), '[{"jsonrpc":"2.0","id":7,"result":1}]');
  });
});

describe("ids (TINYRPC.md 7.4)", () => {
  for (const [label, id] of [
    ["0", "0"],
    ['""', '""'],
    ["null (a request, not a notification)", "null"],
    ["a string", '"abc"'],
    ["a negative fraction", "-1.5"],
  ] as const) {
    test(`id ${label} is echoed with the same value and type`, async () => {
      assert.equal(await h.send(`{"jsonrpc":"2.0","method":"echo","params":["x"],"id":${id}}`), `{"jsonrpc":"2.0","id":${id},"result":"x"}`);
    });
  }
  for (const id of ["{}", "[1]", "true", "false"]) {
    test(`id ${id} -> -32600 with id null`, async () => {
      assert.ok((await h.send(`{"jsonrpc":"2.0","method":"echo","params":["x"],"id":${id}}`)).startsWith(INVALID));
    });
  }
});

describe("invalid requests -> -32600 id null, always answered", () => {
  const cases: [string, string][] = [
    ["body 1", "1"],
    ['body "x"', '"x"'],
    ["body null", "null"],
    ["body true", "true"],
    ["missing method", '{"jsonrpc":"2.0","id":1}'],
    ["method not a string", '{"jsonrpc":"2.0","method":5,"id":1}'],
    ["jsonrpc missing", '{"method":"echo","id":1}'],
    ['jsonrpc "1.0"', '{"jsonrpc":"1.0","method":"echo","id":1}'],
    ["jsonrpc number 2.0", '{"jsonrpc":2.0,"method":"echo","id":1}'],
    ["an unknown member", '{"jsonrpc":"2.0","method":"echo","id":1,"x":1}'],
    ["params a string", '{"jsonrpc":"2.0","method":"echo","params":"a","id":1}'],
    ["params a number", '{"jsonrpc":"2.0","method":"echo","params":3,"id":1}'],
    ["__proto__ member", '{"jsonrpc":"2.0","method":"echo","id":1,"__proto__":{}}'],
  ];
  for (const [label, body] of cases) {
    test(`${label} -> -32600`, async () => {
      const r = await h.send(body);
      assert.ok(r.startsWith(INVALID), r);
    });
  }
  test("params null is read as no params", async () => {
    assert.equal(await h.send('{"jsonrpc":"2.0","method":"notify_count","params":null,"id":1}'), `{"jsonrpc":"2.0","id":1,"result":${counter.bumps}}`);
  });
});

describe("parse errors -> -32700 id null", () => {
  test("invalid UTF-8 -> -32700", async () => {
    const bytes = new Uint8Array([...new TextEncoder().encode('{"jsonrpc":"2.0","method":"echo","params":["'), 0xff, 0xfe, ...new TextEncoder().encode('"],"id":1}')]);
    const r = JSON.parse(await h.send(bytes));
    assert.deepEqual([r.id, r.error.code, r.error.message], [null, -32700, "Parse error"]);
  });
  test("empty message -> -32700", async () => {
    assert.equal(JSON.parse(await h.send("")).error.code, -32700);
  });
  test("unterminated nesting within maxDepth -> -32700", async () => {
    assert.equal(JSON.parse(await h.send("[".repeat(999))).error.code, -32700);
  });
});

describe("responses", () => {
  test("void method -> result null (the member is present)", async () => {
    assert.equal(await h.send('{"jsonrpc":"2.0","method":"void","id":1}'), '{"jsonrpc":"2.0","id":1,"result":null}');
  });
  test("thrown Error -> -32000 with message exactly error.message", async () => {
    assert.equal(await h.send('{"jsonrpc":"2.0","method":"fail","params":["boom \\u00e9"],"id":1}'), '{"jsonrpc":"2.0","id":1,"error":{"code":-32000,"message":"boom é"}}');
  });
  for (const m of ["bigint", "fn", "circular"]) {
    test(`result not serializable (${m}) -> -32603 with the request id`, async () => {
      const r = JSON.parse(await h.send(`{"jsonrpc":"2.0","method":"${m}","id":"k"}`));
      assert.deepEqual([r.id, r.error.code, r.error.message], ["k", -32603, "Internal error"]);
    });
  }
  test("deeply nested params echoed (maxDepth raised): -32603 rather than a crash", async () => {
    const depth = 200_000;
    const deep = startServer(exampleDispatcher().dispatcher, { protocol: { maxDepth: 1_000_000 } });
    try {
      const r = JSON.parse(await deep.send(`{"jsonrpc":"2.0","method":"echo","params":[${"[".repeat(depth)}${"]".repeat(depth)}],"id":1}`));
      assert.deepEqual([r.id, r.error.code], [1, -32603]);
    } finally {
      await deep.stop();
    }
  });
  test("lone surrogates and non-ASCII survive the round trip", async () => {
    const r = JSON.parse(await h.send('{"jsonrpc":"2.0","method":"echo","params":["\\ud800 x \\udfff é 😀"],"id":1}'));
    assert.equal(r.result, "\ud800 x \udfff é 😀");
  });
  test("an error in a batch does not sink the others; an unserializable result is -32603 for its entry only", async () => {
    const r = JSON.parse(await h.send('[{"jsonrpc":"2.0","method":"bigint","id":1},{"jsonrpc":"2.0","method":"echo","params":[2],"id":2}]'));
    assert.deepEqual(r, [
      { jsonrpc: "2.0", id: 1, error: r[0].error },
      { jsonrpc: "2.0", id: 2, result: 2 },
    ]);
    assert.equal(r[0].error.code, -32603);
  });
});
