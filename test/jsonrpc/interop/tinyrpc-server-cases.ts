// What our RPCClient checks against a stock tinyrpc 0.6 server (tinyrpc_methods.py served
// over ZeroMQ or HTTP): results, params both ways, the typed proxy, a sub-dispatcher, error
// codes and texts, concurrency and a batch. No notifications: tinyrpc 0.6 never answers them.
import assert from "node:assert/strict";
import type { TestContext } from "node:test";
import { JSONRPCError, type RPCClient } from "../../../src/jsonrpc/index.js";

export async function tinyrpcServerCases(t: TestContext, c: RPCClient): Promise<void> {
  await t.test("echo round-trips unicode and structures", async () => {
    assert.equal(await c.call("echo", ["héllo € 😀"]), "héllo € 😀");
    assert.deepEqual(await c.call("echo", [{ a: [1, 2.5, null, true], b: {} }]), { a: [1, 2.5, null, true], b: {} });
  });
  await t.test("add with positional and named params, and through the typed proxy", async () => {
    assert.equal(await c.call("add", [2, 3]), 5);
    assert.equal(await c.call("add", { b: "cd", a: "ab" }), "abcd");
    const proxy = c.getProxy<{ add(a: number, b: number): number }>();
    assert.equal(await proxy.add(20, 22), 42);
  });
  await t.test("register_instance prefix math. reaches mul", async () => {
    assert.equal(await c.call("math.mul", [6, 7]), 42);
  });
  await t.test("a raised exception arrives as JSONRPCError -32000 with its message", async () => {
    await assert.rejects(c.call("fail", ["boom"]), (e: unknown) => {
      assert.ok(e instanceof JSONRPCError);
      assert.equal(e.code, -32000);
      assert.equal(e.message, "boom");
      return true;
    });
  });
  await t.test("unknown method is -32601, wrong arity is -32602", async () => {
    await assert.rejects(c.call("no_such_method", []), { code: -32601 });
    await assert.rejects(c.call("add", [1]), { code: -32602 });
  });
  await t.test("20 concurrent calls each get their own result", async () => {
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => c.call("add", [i, 1])));
    assert.deepEqual(results, Array.from({ length: 20 }, (_, i) => i + 1));
  });
  await t.test("a batch of calls is answered in order", async () => {
    const results = await c.batchCall([
      { method: "echo", params: ["x"] },
      { method: "math.mul", params: [3, 4] },
    ]);
    assert.deepEqual(results, [
      { ok: true, result: "x" },
      { ok: true, result: 12 },
    ]);
  });
}
