// The worker-pool execution model through a real Server and our client on 127.0.0.1:
// results and streams, the context a worker sees, how messages cross the thread boundary,
// errors and their statuses, deadlines and cancellation of busy threads, crashes, the
// bounded queue, and closing. Fixture functions: fixtures/pool-module.ts (run on threads).
import { after, afterEach, before, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import { threadId } from "node:worker_threads";
import { Code, createClient, ErrorCode, SwitchboardError, WorkerPool, type Client, type ServiceImpl, type WorkerPoolOptions } from "../../src/index.js";
import { Greeter, HelloReplySchema } from "../../examples/gen/helloworld/helloworld_pb.js";
import { Types } from "./fixtures/schemas.js";
import { expectRpcError, Scope, until, within } from "../client/helpers.js";

type Mod = typeof import("./fixtures/pool-module.js");

const MODULE = new URL("./fixtures/pool-module.ts", import.meta.url);
/** Worker threads start in ~0.5-1 s under tsx on two shared cores; tests allow for a few restarts. */
const T = { timeout: 30_000 };

const scope = new Scope();
afterEach(() => scope.close());

/** A one-thread pool (unless told otherwise), closed after the test's servers have stopped. */
function newPool(options: Partial<WorkerPoolOptions> = {}): WorkerPool<Mod> {
  const pool = new WorkerPool<Mod>({ module: MODULE, size: 1, ...options });
  scope.defer(() => pool.close());
  return pool;
}

/** A started server with `impl` on Greeter, and a client for it. */
async function greeter(impl: ServiceImpl<typeof Greeter>) {
  const { server, target } = await scope.server((s) => s.addService(Greeter, impl));
  return { server, client: createClient(Greeter, scope.channel(target)) };
}

/** The thread that serves the next call (sayHelloStream must be mapped to `whereStream`). */
async function threadOf(client: Client<typeof Greeter>): Promise<string> {
  const out: string[] = [];
  for await (const r of client.sayHelloStream({})) out.push(r.message);
  assert.equal(out.length, 1);
  return out[0]!;
}

describe("WorkerPool: results (OK)", () => {
  let pool: WorkerPool<Mod>;
  before(async () => {
    pool = new WorkerPool<Mod>({ module: MODULE, size: 1 });
    await pool.ready();
  });
  after(() => pool.close());

  it("unary: the function runs on a worker thread and its response reaches the client (OK)", T, async () => {
    const { client } = await greeter({ sayHello: pool.unary("hello") });
    const reply = await client.sayHello({ name: "Ada" });
    const m = /^Hello, Ada from thread (\d+)$/.exec(reply.message);
    assert.ok(m, reply.message);
    assert.notEqual(Number(m[1]), threadId, "not the event loop's thread");
  });

  it("server streaming: an async generator's 200 messages arrive in order, past the 16-message credit window (OK)", T, async () => {
    const { client } = await greeter({ sayHelloStream: pool.serverStreaming("count") });
    const got: string[] = [];
    for await (const r of client.sayHelloStream({ name: "200" })) got.push(r.message);
    assert.deepEqual(got, Array.from({ length: 200 }, (_, i) => `#${i}`));
  });

  it("server streaming: a returned array is streamed (OK)", T, async () => {
    const { client } = await greeter({ sayHelloStream: pool.serverStreaming("list") });
    const got: string[] = [];
    for await (const r of client.sayHelloStream({ name: "x" })) got.push(r.message);
    assert.deepEqual(got, ["a:x", "b:x", "c:x"]);
  });

  it("server streaming: messages yielded before a throw arrive, then its status (ABORTED)", T, async () => {
    const { client } = await greeter({ sayHelloStream: pool.serverStreaming("failMidway") });
    const got: string[] = [];
    const err = await expectRpcError(
      (async () => {
        for await (const r of client.sayHelloStream({})) got.push(r.message);
      })(),
      Code.ABORTED,
      /^stopped after two$/,
    );
    assert.ok(err);
    assert.deepEqual(got, ["one", "two"]);
  });

  it("the worker's context: method, metadata (text, repeated, -bin), peer, user agent, deadline and signal (OK)", T, async () => {
    const { client } = await greeter({ sayHello: pool.unary("context") });
    // A long deadline: the call may take seconds to reach the thread on a busy machine.
    const reply = await client.sayHello({}, { timeout: 60_000, metadata: { "x-id": "7", "x-many": ["a", "b"], "x-raw-bin": new Uint8Array([0xca, 0xfe]) } });
    const seen = JSON.parse(reply.message);
    assert.deepEqual(seen.method, { path: "/helloworld.Greeter/SayHello", service: "helloworld.Greeter", name: "SayHello", kind: "unary" });
    assert.equal(seen.id, "7");
    assert.deepEqual(seen.ids, ["a", "b"]);
    assert.equal(seen.bin, "cafe");
    assert.match(seen.peer, /^ipv4:127\.0\.0\.1:\d+$/);
    assert.equal(typeof seen.userAgent, "string");
    assert.ok(seen.deadlineIn > 30_000 && seen.deadlineIn <= 60_000, `deadline ${seen.deadlineIn} ms away`);
    assert.ok(seen.timeRemaining > 30_000 && seen.timeRemaining <= 60_000, `timeRemaining ${seen.timeRemaining}`);
    assert.equal(seen.aborted, false);
    const noDeadline = JSON.parse((await client.sayHello({})).message);
    assert.equal(noDeadline.deadlineIn, null);
    assert.equal(noDeadline.timeRemaining, null, "Infinity, as JSON");
  });

  it("messages (proto3): int64 arrives as bigint and bytes as Uint8Array, by structured clone (OK)", T, async () => {
    const { target } = await scope.server((s) => s.addService(Types, { stamp: pool.unary("stamp"), bytes: pool.unary("bytes") }));
    const client = createClient(Types, scope.channel(target));
    const ts = await client.stamp({ seconds: 9_007_199_254_740_993n, nanos: 5 }); // above 2^53: only exact as bigint
    assert.equal(ts.seconds, 18_014_398_509_481_986n);
    assert.equal(ts.nanos, 6);
    const b = await client.bytes({ value: new Uint8Array([1, 2, 3, 255]) });
    assert.deepEqual([...b.value], [255, 3, 2, 1]);
  });

  it("messages (proto2): defaults and field presence survive the trip both ways, as bytes with the schema (OK)", T, async () => {
    const { target } = await scope.server((s) => s.addService(Types, { options: pool.unary("options") }));
    const client = createClient(Types, scope.channel(target));
    const reply = await client.options({ goPackage: "example.com/x" });
    // A structured clone would drop the prototype holding proto2 defaults: optimizeFor would read undefined.
    assert.deepEqual(JSON.parse(reply.javaPackage!), { optimizeFor: 1, ccEnableArenas: true, optimizeForSet: false, goPackage: "example.com/x", goPackageSet: true });
    assert.equal(reply.optimizeFor, 2, "CODE_SIZE, set in the worker");
  });

  it("50 concurrent calls on one thread are queued and all succeed (OK)", T, async () => {
    const { client } = await greeter({ sayHello: pool.unary("hello") });
    const replies = await Promise.all(Array.from({ length: 50 }, (_, i) => client.sayHello({ name: `n${i}` })));
    replies.forEach((r, i) => assert.match(r.message, new RegExp(`^Hello, n${i} from`)));
  });

  it("options are checked: size 0 or a negative queue throw ERR_SB_BAD_OPTION", () => {
    assert.throws(() => new WorkerPool({ module: MODULE, size: 0 }), { code: ErrorCode.BAD_OPTION });
    assert.throws(() => new WorkerPool({ module: MODULE, maxQueue: -1 }), { code: ErrorCode.BAD_OPTION });
  });
});

describe("WorkerPool: errors keep their status", () => {
  let pool: WorkerPool<Mod>;
  before(async () => {
    pool = new WorkerPool<Mod>({ module: MODULE, size: 1 });
    await pool.ready();
  });
  after(() => pool.close());

  it("an RpcError thrown in the worker keeps its code, message, details and trailers (FAILED_PRECONDITION)", T, async () => {
    const { client } = await greeter({ sayHello: pool.unary("rpcError") });
    const err = await expectRpcError(client.sayHello({}), Code.FAILED_PRECONDITION, /^not ready yet$/);
    assert.deepEqual(
      err.findDetails(HelloReplySchema).map((d) => d.message),
      ["a detail"],
    );
    assert.equal(err.metadata?.get("x-why"), "because");
    assert.deepEqual([...(err.metadata?.get("x-blob-bin") as Uint8Array)], [1, 2, 3]);
  });

  it("a thrown Error becomes UNKNOWN with its message, as on the event loop (UNKNOWN)", T, async () => {
    const { client } = await greeter({ sayHello: pool.unary("plainThrow") });
    await expectRpcError(client.sayHello({}), Code.UNKNOWN, /^boom in the worker$/);
  });

  it("an async rejection becomes UNKNOWN with its message (UNKNOWN)", T, async () => {
    const { client } = await greeter({ sayHello: pool.unary("reject") });
    await expectRpcError(client.sayHello({}), Code.UNKNOWN, /^async boom in the worker$/);
  });

  it("a thrown string becomes UNKNOWN with the string (UNKNOWN)", T, async () => {
    const { client } = await greeter({ sayHello: pool.unary("throwString") });
    await expectRpcError(client.sayHello({}), Code.UNKNOWN, /^a bare string$/);
  });

  it("a response structured clone cannot copy fails that call (UNKNOWN); the thread serves the next one", T, async () => {
    const { client } = await greeter({ sayHello: pool.unary("uncloneable"), sayHelloStream: pool.serverStreaming("whereStream") });
    await expectRpcError(client.sayHello({}), Code.UNKNOWN, /could not be passed to the main thread/);
    const before = pool.stats.threadsStarted;
    await threadOf(client);
    assert.equal(pool.stats.threadsStarted, before, "no thread was replaced");
  });

  it("a function the module does not export: ready() rejects with ERR_SB_BAD_HANDLER, later unary() throws it, a call gets UNIMPLEMENTED", T, async () => {
    const fresh = new WorkerPool({ module: MODULE, size: 1 }); // untyped: any name compiles
    scope.defer(() => fresh.close());
    const handler = fresh.unary("nope");
    await assert.rejects(fresh.ready(), (err: SwitchboardError) => err.code === ErrorCode.BAD_HANDLER && /"nope"/.test(err.message));
    assert.throws(() => fresh.unary("notAFunction"), { code: ErrorCode.BAD_HANDLER });
    const typed = fresh as unknown as WorkerPool<Mod>;
    // @ts-expect-error -- a typed pool only offers the module's exported functions
    assert.throws(() => typed.unary("nope"), { code: ErrorCode.BAD_HANDLER });
    const { client } = await greeter({ sayHello: handler });
    await expectRpcError(client.sayHello({}), Code.UNIMPLEMENTED, /exports no function "nope"/);
  });

  it("a module that fails to load: ready() rejects with ERR_SB_WORKER_START; calls fail at once (INTERNAL)", T, async () => {
    const broken = newPool({ module: new URL("./fixtures/does-not-exist.ts", import.meta.url) });
    await assert.rejects(broken.ready(), (err: SwitchboardError) => err.code === ErrorCode.WORKER_START && /failed to load/.test(err.message));
    const { client } = await greeter({ sayHello: broken.unary("hello") });
    await expectRpcError(client.sayHello({}), Code.INTERNAL, /worker pool has no threads: the worker module failed to load/);
    assert.equal(broken.stats.threadsStarted, 1, "a module that never loaded is not retried");
  });
});

describe("WorkerPool: deadlines and cancellation", () => {
  it("a busy loop past its deadline: DEADLINE_EXCEEDED at the deadline; the thread is replaced and serves the next call", T, async () => {
    const pool = newPool();
    const { client } = await greeter({ sayHello: pool.unary("busy"), sayHelloStream: pool.serverStreaming("whereStream") });
    await pool.ready();
    const first = await threadOf(client);
    await expectRpcError(client.sayHello({ name: "5000" }, { timeout: 300 }), Code.DEADLINE_EXCEEDED);
    // A thread is only replaced when it was terminated: after its loop it would simply go on.
    await until(() => pool.stats.threadsStarted === 2 && pool.stats.ready === 1, 10_000, "the replacement thread");
    const next = await threadOf(client);
    assert.notEqual(next, first, "a new thread serves the next call");
    assert.equal((await client.sayHello({ name: "1" })).message, next);
  });

  it("client cancel: the busy thread is terminated and replaced (CANCELLED)", T, async () => {
    const pool = newPool();
    const { client } = await greeter({ sayHello: pool.unary("busy"), sayHelloStream: pool.serverStreaming("whereStream") });
    await pool.ready();
    const first = await threadOf(client);
    const abort = new AbortController();
    const call = client.sayHello({ name: "8000" }, { signal: abort.signal });
    await until(() => pool.stats.busy === 1, 5000, "the task running");
    abort.abort();
    await expectRpcError(call, Code.CANCELLED);
    // A thread is only replaced when it was terminated: after its loop it would simply go on.
    await until(() => pool.stats.threadsStarted === 2, 10_000, "the busy thread's replacement");
    await until(() => pool.stats.ready === 1, 10_000, "the replacement ready");
    assert.notEqual(await threadOf(client), first);
  });

  it("a task that honours ctx.signal stops within the grace and keeps its thread (DEADLINE_EXCEEDED)", T, async () => {
    // A grace longer than the wait below: only the task itself can free the thread in time.
    const pool = newPool({ cancelGraceMs: 60_000 });
    const { client } = await greeter({ sayHello: pool.unary("cooperative"), sayHelloStream: pool.serverStreaming("whereStream") });
    await pool.ready();
    const first = await threadOf(client);
    await expectRpcError(client.sayHello({}, { timeout: 200 }), Code.DEADLINE_EXCEEDED);
    await until(() => pool.stats.busy === 0, 10_000, "the task to stop by itself");
    assert.equal(await threadOf(client), first);
    assert.equal(pool.stats.threadsStarted, 1);
  });

  it("terminateOnCancel: false lets the task run to its end; the same thread then serves the next call (CANCELLED)", T, async () => {
    const pool = newPool({ terminateOnCancel: false });
    const { client } = await greeter({ sayHello: pool.unary("busy"), sayHelloStream: pool.serverStreaming("whereStream") });
    await pool.ready();
    const first = await threadOf(client);
    // Cancelled once it surely runs (a deadline could pass while the call is still on its way,
    // and a call that never started proves nothing).
    const abort = new AbortController();
    const call = client.sayHello({ name: "800" }, { signal: abort.signal });
    await until(() => pool.stats.busy === 1, 5000, "the task running");
    abort.abort();
    await expectRpcError(call, Code.CANCELLED);
    // One thread, never replaced: the next call could only run once the loop had ended.
    assert.equal(await threadOf(client), first);
    assert.equal(pool.stats.threadsStarted, 1);
    assert.equal(pool.stats.tasksStarted, 3);
  });

  it("a queued call whose deadline passes is dropped and never runs (DEADLINE_EXCEEDED)", T, async () => {
    const pool = newPool();
    const { client } = await greeter({ sayHello: pool.unary("busy") });
    await pool.ready();
    // The running task outlasts the queued call's deadline by seconds, and that deadline leaves
    // a busy machine time to queue the call first.
    const running = client.sayHello({ name: "6000" });
    await until(() => pool.stats.busy === 1, 5000, "the first task running");
    const queued = client.sayHello({ name: "0" }, { timeout: 1500 });
    await until(() => pool.stats.queued === 1, 5000, "the second call queued");
    await expectRpcError(queued, Code.DEADLINE_EXCEEDED);
    await until(() => pool.stats.queued === 0, 3000, "the queue entry dropped at its deadline, not when the thread frees");
    await running;
    assert.equal(pool.stats.tasksStarted, 1, "the expired call never reached a thread");
  });

  it("a streaming call cancelled by the client stops the worker's generator (CANCELLED)", T, async () => {
    const pool = newPool();
    const { client } = await greeter({ sayHelloStream: pool.serverStreaming("count") });
    await pool.ready();
    const abort = new AbortController();
    let got = 0;
    await expectRpcError(
      (async () => {
        for await (const _ of client.sayHelloStream({ name: "1000000" }, { signal: abort.signal })) if (++got === 5) abort.abort();
      })(),
      Code.CANCELLED,
    );
    await until(() => pool.stats.busy === 0, 5000, "the thread free again");
    assert.equal(pool.stats.threadsStarted, 1, "an async generator sees the abort: no termination needed");
  });
});

describe("WorkerPool: crashes", () => {
  it("process.exit in the worker fails only that call (INTERNAL); a call queued behind it is served by the replacement", T, async () => {
    const pool = newPool();
    const { client } = await greeter({ sayHello: pool.unary("exit"), sayHelloStream: pool.serverStreaming("whereStream") });
    await pool.ready();
    const crashing = client.sayHello({ name: "7" });
    await until(() => pool.stats.busy === 1, 5000, "the crashing task running");
    const queued = threadOf(client);
    await expectRpcError(crashing, Code.INTERNAL, /^the worker thread exited with code 7$/);
    assert.match(await queued, /^\d+$/);
    assert.equal(pool.stats.threadsStarted, 2);
  });

  it("an uncaught exception in the worker fails its call (INTERNAL) and the pool recovers", T, async () => {
    const pool = newPool();
    const { client } = await greeter({ sayHello: pool.unary("uncaught"), sayHelloStream: pool.serverStreaming("whereStream") });
    await pool.ready();
    await expectRpcError(client.sayHello({}), Code.INTERNAL, /^the worker thread crashed: uncaught in the worker$/);
    assert.match(await threadOf(client), /^\d+$/);
    assert.equal(pool.stats.threadsStarted, 2);
  });
});

describe("WorkerPool: bounded queue", () => {
  it("all threads busy and the queue full: RESOURCE_EXHAUSTED at once; the others succeed", T, async () => {
    const pool = newPool({ maxQueue: 1 });
    const { client } = await greeter({ sayHello: pool.unary("busy") });
    await pool.ready();
    const running = client.sayHello({ name: "5000" });
    await until(() => pool.stats.busy === 1, 5000, "the first task running");
    const queued = client.sayHello({ name: "0" });
    await until(() => pool.stats.queued === 1, 5000, "the second call queued");
    await expectRpcError(client.sayHello({ name: "0" }), Code.RESOURCE_EXHAUSTED, /1 worker threads are busy and 1 calls are queued/);
    // Refused while the first task still held the thread, not once it was free.
    assert.deepEqual({ busy: pool.stats.busy, queued: pool.stats.queued, tasksStarted: pool.stats.tasksStarted }, { busy: 1, queued: 1, tasksStarted: 1 });
    await Promise.all([running, queued]);
  });
});

describe("WorkerPool: closing", () => {
  it("close() fails the running and the queued call (UNAVAILABLE) and ends the threads", T, async () => {
    const pool = newPool();
    const { client } = await greeter({ sayHello: pool.unary("busy") });
    await pool.ready();
    // The loop runs 10 s (the fixture's cap): close() returning sooner shows it ended the thread.
    const running = client.sayHello({ name: "10000" });
    await until(() => pool.stats.busy === 1, 5000, "the first task running");
    const queued = client.sayHello({ name: "0" });
    await until(() => pool.stats.queued === 1, 5000, "the second call queued");
    const outcomes = [expectRpcError(running, Code.UNAVAILABLE, /worker pool is closed/), expectRpcError(queued, Code.UNAVAILABLE, /worker pool is closed/)];
    await within(pool.close(), 8000, "pool.close() with a thread in a 10 s busy loop");
    await Promise.all(outcomes);
    assert.deepEqual({ ready: pool.stats.ready, busy: pool.stats.busy, queued: pool.stats.queued }, { ready: 0, busy: 0, queued: 0 });
    await expectRpcError(client.sayHello({ name: "0" }), Code.UNAVAILABLE, /worker pool is closed/);
  });

  it("attach(server): stop(grace) lets the running call finish (OK), then the pool closes", T, async () => {
    const pool = newPool();
    const { server, client } = await greeter({ sayHello: pool.unary("busy") });
    pool.attach(server);
    await pool.ready();
    const running = client.sayHello({ name: "600" });
    await until(() => pool.stats.busy === 1, 5000, "the task running");
    await within(server.stop(5000), 8000, "server.stop(5000)");
    assert.match((await running).message, /^\d+$/);
    await until(() => pool.stats.ready === 0, 5000, "the pool closed after the stop");
    await within(pool.close(), 3000, "pool.close() (already closing)");
  });
});
