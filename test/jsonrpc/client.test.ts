// RPCClient: call / notify / batchCall / getProxy over the in-memory transport, and strict
// reply parsing (BAD_REPLY).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { ErrorCode, SwitchboardError } from "../../src/errors.js";
import { JSONRPCError, JSONRPCProtocol, RPCClient, RPCDispatcher, type ClientTransport } from "../../src/jsonrpc/index.js";
import { exampleDispatcher, startServer, type Harness } from "./helpers.js";

let h: Harness;
let counter: { bumps: number };
before(() => {
  const ex = exampleDispatcher();
  counter = ex.counter;
  ex.dispatcher.addMethod(() => {
    throw new JSONRPCError(-32099, "custom", { why: "because" });
  }, "custom");
  h = startServer(ex.dispatcher);
});
after(() => h.stop());

const isBadReply = (e: unknown) => e instanceof SwitchboardError && e.code === ErrorCode.BAD_REPLY;

describe("call", () => {
  test("positional and named params", async () => {
    assert.equal(await h.client.call("add", [1, 2]), 3);
    assert.equal(await h.client.call("add", { b: "y", a: "x" }), "xy");
    assert.equal(await h.client.call("math.mul", [6, 7]), 42);
    assert.deepEqual(await h.client.call("echo", [{ nested: [1, null, "é"] }]), { nested: [1, null, "é"] });
  });
  test("an application error rejects with JSONRPCError -32000 and the exact message", async () => {
    await assert.rejects(h.client.call("fail", ["it broke"]), (e: unknown) => e instanceof JSONRPCError && e.code === -32000 && e.message === "it broke" && e.data === undefined);
  });
  test("a chosen code and data survive the round trip", async () => {
    await assert.rejects(h.client.call("custom"), (e: unknown) => e instanceof JSONRPCError && e.code === -32099 && e.message === "custom" && (e.data as { why: string }).why === "because");
  });
  test("-32601 and -32602 reach the caller as JSONRPCError", async () => {
    await assert.rejects(h.client.call("nope"), (e: unknown) => e instanceof JSONRPCError && e.code === -32601);
    await assert.rejects(h.client.call("add", [1]), (e: unknown) => e instanceof JSONRPCError && e.code === -32602);
  });
});

test("notify runs the method without a reply", async () => {
  const before = counter.bumps;
  await h.client.notify("bump");
  await h.client.notify("bump", []);
  // the memory transport delivers in order, so a later call observes both notifications
  assert.equal(await h.client.call("notify_count"), before + 2);
});

describe("batchCall", () => {
  test("per-entry results and errors in call order, notifications included", async () => {
    const before = counter.bumps;
    const results = await h.client.batchCall([
      { method: "add", params: [1, 2] },
      { method: "bump", notify: true },
      { method: "fail", params: ["bad"] },
      { method: "nope" },
      { method: "math.mul", params: { a: 2, b: 5 } },
    ]);
    assert.deepEqual(results[0], { ok: true, result: 3 });
    assert.deepEqual(results[1], { ok: true, result: undefined });
    assert.ok(!results[2]!.ok && results[2]!.error instanceof JSONRPCError && results[2]!.error.message === "bad");
    assert.ok(!results[3]!.ok && (results[3]!.error as JSONRPCError).code === -32601);
    assert.deepEqual(results[4], { ok: true, result: 10 });
    assert.equal(await h.client.call("notify_count"), before + 1);
  });
  test("a batch of only notifications resolves on the empty reply", async () => {
    const results = await h.client.batchCall([{ method: "bump", notify: true }]);
    assert.deepEqual(results, [{ ok: true, result: undefined }]);
  });
  test("a batch refused as a whole (maxBatchLength) gives every call that -32600", async () => {
    const small = startServer(exampleDispatcher().dispatcher, { protocol: { maxBatchLength: 1 } });
    try {
      const results = await small.client.batchCall([{ method: "add", params: [1, 2] }, { method: "add", params: [3, 4] }]);
      for (const r of results) assert.ok(!r.ok && (r.error as JSONRPCError).code === -32600);
    } finally {
      await small.stop();
    }
  });
  test("an empty batch is refused before sending (BAD_OPTION)", async () => {
    await assert.rejects(h.client.batchCall([]), (e: unknown) => e instanceof SwitchboardError && e.code === ErrorCode.BAD_OPTION);
  });
});

describe("getProxy", () => {
  interface Api {
    add(a: number, b: number): number;
    echo(x: string): string;
  }
  interface MathApi {
    mul(a: number, b: number): Promise<number>;
  }
  test("typed proxy calls positional methods, with a prefix", async () => {
    const api = h.client.getProxy<Api>();
    const sum: number = await api.add(2, 3);
    assert.equal(sum, 5);
    assert.equal(await api.echo("hi"), "hi");
    assert.equal(await h.client.getProxy<MathApi>("math.").mul(3, 4), 12);
  });
  test("the proxy is not a thenable; a one-way proxy sends notifications", async () => {
    const api = h.client.getProxy<{ bump(): void }>("", { oneWay: true });
    assert.equal((api as unknown as { then?: unknown }).then, undefined);
    const before = counter.bumps;
    await api.bump();
    assert.equal(await h.client.call("notify_count"), before + 1);
  });
});

describe("strict reply parsing -> BAD_REPLY", () => {
  function clientAnswering(reply: string): RPCClient {
    const transport: ClientTransport = {
      async sendMessage() {
        return new TextEncoder().encode(reply);
      },
      async close() {},
    };
    return new RPCClient(new JSONRPCProtocol(), transport);
  }
  const bad: [string, string][] = [
    ["empty reply", ""],
    ["not JSON", "nope"],
    ["a number", "1"],
    ["missing jsonrpc", '{"id":1,"result":1}'],
    ['jsonrpc "1.0"', '{"jsonrpc":"1.0","id":1,"result":1}'],
    ["missing id", '{"jsonrpc":"2.0","result":1}'],
    ["both result and error", '{"jsonrpc":"2.0","id":1,"result":1,"error":{"code":1,"message":"m"}}'],
    ["neither result nor error", '{"jsonrpc":"2.0","id":1}'],
    ["an extra member", '{"jsonrpc":"2.0","id":1,"result":1,"x":2}'],
    ["error without code", '{"jsonrpc":"2.0","id":1,"error":{"message":"m"}}'],
    ["error without message", '{"jsonrpc":"2.0","id":1,"error":{"code":1}}'],
    ["error code not an integer", '{"jsonrpc":"2.0","id":1,"error":{"code":"1","message":"m"}}'],
    ["a different id", '{"jsonrpc":"2.0","id":2,"result":1}'],
    ["a batch for a single call", '[{"jsonrpc":"2.0","id":1,"result":1}]'],
  ];
  for (const [label, reply] of bad) {
    test(`${label} -> BAD_REPLY`, async () => {
      await assert.rejects(clientAnswering(reply).call("m"), isBadReply);
    });
  }
  test("an error with id null (the request was unreadable) is that error, not BAD_REPLY", async () => {
    await assert.rejects(clientAnswering('{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}').call("m"), (e: unknown) => e instanceof JSONRPCError && e.code === -32700);
  });
  test("a batch reply with a duplicated or unknown id -> BAD_REPLY", async () => {
    const dup = clientAnswering('[{"jsonrpc":"2.0","id":1,"result":1},{"jsonrpc":"2.0","id":1,"result":2}]');
    await assert.rejects(dup.batchCall([{ method: "a" }, { method: "b" }]), isBadReply);
    const unknown = clientAnswering('[{"jsonrpc":"2.0","id":1,"result":1},{"jsonrpc":"2.0","id":7,"result":2}]');
    await assert.rejects(unknown.batchCall([{ method: "a" }, { method: "b" }]), isBadReply);
  });
  test("a batch reply missing one entry marks only that entry BAD_REPLY", async () => {
    const results = await clientAnswering('[{"jsonrpc":"2.0","id":1,"result":1}]').batchCall([{ method: "a" }, { method: "b" }]);
    assert.deepEqual(results[0], { ok: true, result: 1 });
    assert.ok(!results[1]!.ok && isBadReply(results[1]!.error));
  });
});

test("a message over the memory transport limit is refused with MESSAGE_TOO_LARGE", async () => {
  const small = startServer(new RPCDispatcher().addMethod((x: unknown) => x, "echo"), { maxMessageBytes: 64 });
  try {
    await assert.rejects(small.client.call("echo", ["x".repeat(100)]), (e: unknown) => e instanceof SwitchboardError && e.code === ErrorCode.MESSAGE_TOO_LARGE);
    await assert.rejects(small.client.notify("echo", ["x".repeat(100)]), (e: unknown) => e instanceof SwitchboardError && e.code === ErrorCode.MESSAGE_TOO_LARGE);
    assert.equal(await small.client.call("echo", ["ok"]), "ok");
  } finally {
    await small.stop();
  }
});
