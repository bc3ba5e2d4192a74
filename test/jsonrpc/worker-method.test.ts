// workerMethod: JSON-RPC methods running on the WorkerPool's threads.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { threadId } from "node:worker_threads";
import { WorkerPool } from "../../src/index.js";
import { JSONRPCError, RPCDispatcher, workerMethod } from "../../src/jsonrpc/index.js";
import { startServer, type Harness } from "./helpers.js";

type Mod = typeof import("./fixtures/pool-module.js");
let pool: WorkerPool<Mod>;
let h: Harness;

before(async () => {
  pool = new WorkerPool<Mod>({ module: new URL("./fixtures/pool-module.ts", import.meta.url), size: 1 });
  await pool.ready();
  const d = new RPCDispatcher();
  d.addMethod(workerMethod(pool, "add"), { name: "add", params: ["a", "b"] });
  d.addMethod(workerMethod(pool, "fail"), { name: "fail", params: ["msg"] });
  h = startServer(d);
});
after(async () => {
  await h.stop();
  await pool.close();
});

test("a worker method runs on a pool thread, with positional and named params", async () => {
  const r = await h.client.call<{ sum: number; thread: number }>("add", [2, 3]);
  assert.equal(r.sum, 5);
  assert.notEqual(r.thread, threadId);
  assert.equal((await h.client.call<{ sum: number }>("add", { b: 10, a: 1 })).sum, 11);
});

test("declared params still check arity on the main thread -> -32602", async () => {
  await assert.rejects(h.client.call("add", [1]), (e: unknown) => e instanceof JSONRPCError && e.code === -32602);
});

test("an error thrown on the thread -> -32000 carrying its message", async () => {
  await assert.rejects(h.client.call("fail", ["thread says no"]), (e: unknown) => e instanceof JSONRPCError && e.code === -32000 && e.message === "thread says no");
});
