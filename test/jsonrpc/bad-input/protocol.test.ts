// Bad input at the protocol level (JSONRPCProtocol + RPCServer over the in-memory transport):
// deep nesting, wrong id types inside batches, huge batches, batches of notifications, names
// that collide with Object.prototype. Each case checks the exact answer and that the same
// server then answers a normal request. (The basic shapes are in protocol-conformance.test.ts.)
//
// Depth rule: JSONRPCProtocol refuses messages nesting deeper than maxDepth (default 1000)
// with -32600 before parsing: V8's JSON.parse copes with any depth, but the deepest message
// that fits in 4 MiB (2M nested arrays) costs it about 1.5 s of CPU. Within the limit, what is
// recursive after parsing (JSON.stringify of a result, structuredClone to a worker) may throw
// RangeError, which RPCServer turns into an error response for that request only.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { DEFAULT_MAX_BATCH_LENGTH } from "../../../src/jsonrpc/index.js";
import { exampleDispatcher, startServer, type Harness } from "../helpers.js";
import { assertError, call, PROBE, PROBE_REPLY } from "./helpers.js";

let h: Harness;
let counter: { bumps: number };
before(() => {
  const ex = exampleDispatcher();
  counter = ex.counter;
  h = startServer(ex.dispatcher);
});
after(() => h.stop());

async function stillServing(): Promise<void> {
  assert.equal(await h.send(PROBE), PROBE_REPLY);
}

const nestedArrays = (depth: number) => "[".repeat(depth) + "]".repeat(depth);

describe("deep nesting: refused before parsing past maxDepth, never a stack overflow", () => {
  const tooDeep = (r: { error: { code: number; data: string }; id: unknown }) => {
    assert.deepEqual([r.id, r.error.code], [null, -32600]);
    assert.equal(r.error.data, "message nests deeper than maxDepth 1000");
  };

  test("100k nested arrays as the whole message -> one -32600 (id null, data names maxDepth)", async () => {
    tooDeep(JSON.parse(await h.send(nestedArrays(100_000))));
    await stillServing();
  });

  test("the deepest message within the 4 MiB default (2M nested arrays) -> -32600 without parsing it", async () => {
    tooDeep(JSON.parse(await h.send(nestedArrays(2 * 1024 * 1024 - 1))));
    await stillServing();
  });

  test("100k nested objects as named params -> -32600; brackets inside strings do not count", async () => {
    const params = '{"a":'.repeat(100_000) + "1" + "}".repeat(100_000);
    tooDeep(JSON.parse(await h.send(`{"jsonrpc":"2.0","method":"notify_count","params":${params},"id":7}`)));
    const text = JSON.stringify("[".repeat(5000) + '\\"{'.repeat(500));
    const r = JSON.parse(await h.send(`{"jsonrpc":"2.0","method":"echo","params":[${text}],"id":8}`));
    assert.equal(r.result, JSON.parse(text));
    await stillServing();
  });

  test("exactly maxDepth deep is parsed and answered; one more is refused", async () => {
    // the request object is level 1, params level 2: 998 more arrays make 1000
    const at = (extra: number) => `{"jsonrpc":"2.0","method":"echo","params":[${nestedArrays(extra)}],"id":9}`;
    const r = JSON.parse(await h.send(at(998)));
    assert.equal(r.id, 9);
    assert.ok(Array.isArray(r.result));
    tooDeep(JSON.parse(await h.send(at(999))));
  });

  test("a notification nesting too deep gets the -32600 (its id could not be read)", async () => {
    tooDeep(JSON.parse(await h.send(`{"jsonrpc":"2.0","method":"echo","params":[${nestedArrays(100_000)}]}`)));
    await stillServing();
  });
});

describe("ids of the wrong type", () => {
  test("id 1e400 (overflows to Infinity, cannot be echoed) -> -32600 id null, not a result with id null", async () => {
    const error = assertError(await h.send('{"jsonrpc":"2.0","method":"echo","params":[1],"id":1e400}'), -32600);
    assert.match(String(error.data), /id must be/);
    await stillServing();
  });

  test("a batch mixing good and bad ids -> each bad entry -32600 id null in place, good ones answered, the notification omitted", async () => {
    const entries = [
      call("echo", ["a"], 1),
      '{"jsonrpc":"2.0","method":"echo","params":["b"],"id":{}}',
      '{"jsonrpc":"2.0","method":"echo","params":["c"],"id":true}',
      '{"jsonrpc":"2.0","method":"echo","params":["d"],"id":[2]}',
      '{"jsonrpc":"2.0","method":"bump"}',
      '{"jsonrpc":"2.0","method":"echo","params":["e"],"id":-1e999}',
      call("echo", ["f"], "last"),
    ];
    const before = counter.bumps;
    const r = JSON.parse(await h.send(`[${entries.join(",")}]`));
    assert.deepEqual(
      r.map((e: { id: unknown; result?: unknown; error?: { code: number } }) => [e.id, e.result ?? e.error?.code]),
      [
        [1, "a"],
        [null, -32600],
        [null, -32600],
        [null, -32600],
        [null, -32600],
        ["last", "f"],
      ],
    );
    assert.equal(counter.bumps, before + 1);
    await stillServing();
  });
});

describe("huge batches (maxBatchLength)", () => {
  test("1M entries -> one -32600 object for the whole batch, nothing run", async () => {
    const before = counter.bumps;
    const bump = '{"jsonrpc":"2.0","method":"bump"}';
    const error = assertError(await h.send(`[${Array(1_000_000).fill("1").join(",")}]`), -32600);
    assert.match(String(error.data), /batch of 1000000 requests exceeds maxBatchLength 1000/);
    // over the limit with notifications only: still refused (and answered), none run
    const error2 = assertError(await h.send(`[${Array(DEFAULT_MAX_BATCH_LENGTH + 1).fill(bump).join(",")}]`), -32600);
    assert.match(String(error2.data), /batch of 1001 requests exceeds maxBatchLength 1000/);
    assert.equal(counter.bumps, before);
    await stillServing();
  });

  test("a batch of 1000 notifications -> empty reply, and all 1000 ran", async () => {
    const before = counter.bumps;
    assert.equal(await h.send(`[${Array(DEFAULT_MAX_BATCH_LENGTH).fill('{"jsonrpc":"2.0","method":"bump"}').join(",")}]`), "");
    assert.equal(counter.bumps, before + DEFAULT_MAX_BATCH_LENGTH);
    await stillServing();
  });

  test("a batch of 1000 failing calls -> 1000 error entries in request order", async () => {
    const r = JSON.parse(await h.send(`[${Array.from({ length: 1000 }, (_, i) => call("nope", [], i)).join(",")}]`));
    assert.deepEqual(
      r.map((e: { id: number; error: { code: number } }) => [e.id, e.error.code]),
      Array.from({ length: 1000 }, (_, i) => [i, -32601]),
    );
    await stillServing();
  });
});

describe("names that collide with Object.prototype", () => {
  for (const method of ["__proto__", "constructor", "toString", "hasOwnProperty", "math.__proto__", "math.constructor"]) {
    test(`method ${JSON.stringify(method)} -> -32601 with the request id`, async () => {
      assertError(await h.send(call(method, [], 3)), -32601, 3);
      await stillServing();
    });
  }
  test('named params {"__proto__": 5} -> -32602 unknown argument, with the request id', async () => {
    const error = assertError(await h.send('{"jsonrpc":"2.0","method":"echo","params":{"__proto__":5},"id":4}'), -32602, 4);
    assert.match(String(error.data), /__proto__/);
    await stillServing();
  });
});
