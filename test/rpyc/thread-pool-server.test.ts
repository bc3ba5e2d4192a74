// ThreadPoolServer with stock Python rpyc 5.3 clients: pooled methods run on worker threads
// (one service instance per thread), values keep their Python types across the thread hop,
// exceptions keep their type, non-brine arguments and results are refused with TypeError,
// mainThread methods take callbacks, two CPU-bound calls run at the same time, a crashed
// thread is replaced, and close() ends the threads.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { threadId } from "node:worker_threads";
import { after, before, describe, test } from "node:test";
import { ErrorCode, SwitchboardError } from "../../src/errors.js";
import { ThreadPoolServer } from "../../src/rpyc/thread-pool-server.js";
import { PooledService } from "./fixtures/pooled-service.js";
import { rpycPeerSkip, runPythonAsync } from "./python-peer.js";

const MODULE = new URL("./fixtures/pooled-service.ts", import.meta.url);
const skip = rpycPeerSkip();

/** Runs a Python client script (with `c` connected to `port`) and returns its stdout lines. */
async function python(port: number, body: string): Promise<string[]> {
  const r = await runPythonAsync(`import rpyc, json, sys\nc = rpyc.connect("127.0.0.1", ${port})\n${body}`);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim().split("\n");
}

describe("ThreadPoolServer with a stock Python client", { skip }, () => {
  let server: ThreadPoolServer;
  before(async () => {
    server = new ThreadPoolServer(PooledService, { hostname: "127.0.0.1", nbThreads: 2, serviceModule: MODULE, mainThread: ["callback", "main_thread_id"] });
    await server.start();
  });
  after(() => server.close());

  test("pooled methods run on worker threads of this process; mainThread methods on the main thread", async () => {
    const [where, main] = await python(server.port, "print(json.dumps(list(c.root.whoami())))\nprint(c.root.main_thread_id())");
    const [tid, pid] = JSON.parse(where!) as [number, number];
    assert.notEqual(tid, 0, "a pooled call ran on the main thread");
    assert.notEqual(tid, threadId);
    assert.equal(pid, process.pid);
    assert.equal(Number(main), 0);
  });

  test("values keep their Python types through the worker thread", async () => {
    const out = await python(
      server.port,
      `v = (1, 1.0, -0.0, 2**70, -2**65, 1.5, b"\\x00\\xff", "s\\u00e9", None, True, frozenset([1, 2]), 1+2j, (1, (2.0, b"")), slice(1, None, 2), Ellipsis)
r = c.root.echo(v)
print(r == v and [type(x) for x in r] == [type(x) for x in v] and type(r[12][1][0]) is float)`,
    );
    assert.deepEqual(out, ["True"]);
  });

  test("keyword arguments are bound by parameter name; defaults apply to left-out arguments", async () => {
    const out = await python(
      server.port,
      `print(c.root.add(1), c.root.add(1, b=2), c.root.add(b=5, a=1), type(c.root.add(1.5, b=1)).__name__)
try:
    c.root.add(1, c=2)
except TypeError as e:
    print("TypeError", e)`,
    );
    assert.equal(out[0], "11 3 6 float");
    assert.match(out[1]!, /^TypeError (exposed_)?add\(\) got an unexpected keyword argument 'c'/);
  });

  test("exceptions thrown on a worker thread keep their Python type and args", async () => {
    const out = await python(
      server.port,
      `try:
    c.root.fail("bad input")
except ValueError as e:
    print("ValueError", e.args)
try:
    c.root.js_error("out of range")
except ValueError as e:
    print("ValueError", e.args)`,
    );
    assert.deepEqual(out, ["ValueError ('bad input',)", "ValueError ('out of range',)"]);
  });

  test("non-brine arguments and results are refused with a TypeError naming the method", async () => {
    const out = await python(
      server.port,
      `for f in (lambda: c.root.echo([1, 2]), lambda: c.root.echo(lambda: 1), lambda: c.root.make_map()):
    try:
        f()
        print("no error")
    except TypeError as e:
        print(str(e).splitlines()[0])`,
    );
    assert.equal(out.length, 3);
    assert.match(out[0]!, /^echo\(\) runs on a ThreadPoolServer worker thread and argument 1 is a netref/);
    assert.match(out[1]!, /^echo\(\) runs on a ThreadPoolServer worker thread and argument 1 is a netref/);
    assert.match(out[2]!, /^make_map\(\) runs on a ThreadPoolServer worker thread and returned a Map/);
  });

  test("mainThread methods take callbacks into the client", async () => {
    const out = await python(server.port, "print(c.root.callback(lambda x: x * 2, 21))\nprint(c.root.callback(lambda x: c.root.add(x), 1))");
    assert.deepEqual(out, ["42", "11"]);
  });

  test("two CPU-bound calls on different connections run at the same time on two threads", async () => {
    // Each call blocks its thread until it sees the other's file: both seeing each other proves overlap.
    const dir = mkdtempSync(join(tmpdir(), "rpyc-pool-"));
    try {
      const out = await python(
        server.port,
        `import threading
d = rpyc.connect("127.0.0.1", ${server.port})
dir = sys.argv[1]
res = {}
def run(conn, me, other):
    res[me] = tuple(conn.root.rendezvous(dir, me, other))
ts = [threading.Thread(target=run, args=(c, "a", "b")), threading.Thread(target=run, args=(d, "b", "a"))]
for t in ts: t.start()
for t in ts: t.join()
print(json.dumps([res["a"], res["b"]]))`.replace("dir = sys.argv[1]", `dir = ${JSON.stringify(dir)}`),
      );
      const [[tidA, sawB], [tidB, sawA]] = JSON.parse(out[0]!) as [[number, boolean], [number, boolean]];
      assert.equal(sawB, true);
      assert.equal(sawA, true);
      assert.notEqual(tidA, tidB);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a crashed worker thread fails its call with RuntimeError and is replaced", async () => {
    const out = await python(
      server.port,
      `try:
    c.root.crash()
except RuntimeError as e:
    print("RuntimeError", str(e).splitlines()[0])
print(c.root.add(1, b=1))
d = rpyc.connect("127.0.0.1", ${server.port})
print(c.root.busy(1) != 0, d.root.add(2, b=2))`,
    );
    assert.match(out[0]!, /^RuntimeError crash\(\) failed: the worker thread running it crashed \(crashed on purpose\)/);
    assert.deepEqual(out.slice(1), ["2", "True 4"]);
  });
});

describe("ThreadPoolServer lifecycle", () => {
  test("start() rejects with ERR_SB_WORKER_START when the threads cannot load the service", async () => {
    const server = new ThreadPoolServer(PooledService, { hostname: "127.0.0.1", nbThreads: 1, serviceModule: MODULE, serviceExport: "NoSuchExport" });
    await assert.rejects(server.start(), (err: unknown) => err instanceof SwitchboardError && err.code === ErrorCode.WORKER_START && /NoSuchExport/.test(err.message));
    await server.close();
  });

  test("serviceModule is required and nbThreads must be a positive integer", () => {
    assert.throws(() => new ThreadPoolServer(PooledService, {} as never), (err: unknown) => err instanceof SwitchboardError && err.code === ErrorCode.BAD_OPTION);
    assert.throws(() => new ThreadPoolServer(PooledService, { serviceModule: MODULE, nbThreads: 0 }), (err: unknown) => err instanceof SwitchboardError && err.code === ErrorCode.BAD_OPTION);
  });

  test("close() terminates the threads and a closed server refuses to start", async () => {
    const server = new ThreadPoolServer(PooledService, { hostname: "127.0.0.1", nbThreads: 2, serviceModule: MODULE });
    await server.start();
    const threads = (server as unknown as { threads: Set<{ worker: { threadId: number } }> }).threads;
    assert.equal(threads.size, 2);
    await server.close();
    await server.close(); // idempotent
    assert.equal(threads.size, 0);
    await assert.rejects(server.start(), (err: unknown) => err instanceof SwitchboardError && err.code === ErrorCode.STOPPED);
  });
});
