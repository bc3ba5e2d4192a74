// Object lifetime across an RPyC connection. The server's exported objects live exactly as long
// as the peer holds them: HANDLE_DEL with the accumulated count (one DEL may return several
// sends) or the end of the connection releases them, and then they can be collected. The
// server's proxies of the peer's objects give their references back the same way, explicitly
// (conn.release) or when collected. Checked with a raw client, our own client, and stock
// Python rpyc.
import assert from "node:assert/strict";
import net from "node:net";
import { after, before, describe, test } from "node:test";
import v8 from "node:v8";
import vm from "node:vm";
import type { PyValue } from "../../src/rpyc/values.js";
import { connect, isNetref, Service, ThreadedServer, type Connection, type Netref } from "switchboard/rpyc";
import { rpycPeerSkip, runPythonAsync } from "./python-peer.js";
import { H, LOCAL, RawClient, REMOTE, serverConnOf, TUPLE, VALUE } from "./raw-client.js";

// A full collection on demand, so "collectable" is checked, not guessed.
v8.setFlagsFromString("--expose-gc");
const gc = vm.runInNewContext("gc") as () => void;

class Counter {
  value = 0;
  exposed_increment(by = 1): number {
    this.value += by;
    return this.value;
  }
}

/** Weak references to the counters the service made, to see them collected. */
const made: Array<WeakRef<Counter>> = [];

class LifetimeService extends Service {
  conn: Connection | undefined;
  kept: Netref | undefined;
  override onConnect(conn: Connection): void {
    this.conn = conn;
  }
  exposed_counter(): Counter {
    const c = new Counter();
    made.push(new WeakRef(c));
    return c;
  }
  exposed_echo(x: unknown): unknown {
    return x;
  }
  /** How many of our objects this client holds. */
  exposed_exports(): number {
    return this.conn!.exportedCount;
  }
  /** Holds the client's object (a proxy) until drop(). */
  exposed_keep(x: Netref): void {
    assert.ok(isNetref(x));
    this.kept = x;
  }
  exposed_drop(): void {
    const k = this.kept;
    this.kept = undefined;
    if (k) this.conn!.release(k);
  }
  /** Takes the client's object and forgets it at once: only the garbage collector releases it. */
  exposed_ignore(_x: unknown): null {
    return null;
  }
  exposed_proxies(): number {
    return this.conn!.proxyCount;
  }
}

/** Collects garbage until `cond` holds (bounded: finalizers run in a later task than the collection). */
async function collectUntil(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    await new Promise((r) => setImmediate(r));
    gc();
    await new Promise((r) => setTimeout(r, 10));
    if (cond()) return;
  }
  throw new Error(`not collected: ${what}`);
}

describe("object lifetime", () => {
  let server: ThreadedServer;

  before(async () => {
    server = new ThreadedServer(LifetimeService, { hostname: "127.0.0.1", port: 0 });
    await server.start();
  });

  after(async () => {
    await server?.close();
  });

  test("an object sent 3 times lives until DELs add up to 3 (DEL 1, then DEL 2), then it is gone from the table and collectable", async () => {
    const c = await RawClient.open(server.port);
    const root = await c.root();
    const conn = serverConnOf(server, c.socket.localPort);
    const base = conn.exportedCount;
    const [, counter] = await c.ok(H.CALLATTR, [TUPLE, [[LOCAL, root], [VALUE, "counter"], [VALUE, []]]]);
    const weak = made[made.length - 1]!;
    for (let i = 0; i < 2; i++) assert.deepEqual(await c.ok(H.CALLATTR, [TUPLE, [[LOCAL, root], [VALUE, "echo"], [TUPLE, [[LOCAL, counter]]]]]), [REMOTE, counter]);
    assert.equal(conn.exportedCount, base + 1);
    await c.ok(H.DEL, [TUPLE, [[LOCAL, counter], [VALUE, 1]]]);
    assert.equal(conn.exportedCount, base + 1, "2 of 3 references still held");
    // still held: a collection leaves it alone
    await new Promise((r) => setImmediate(r));
    gc();
    assert.ok(weak.deref() !== undefined, "a held object is not collected");
    assert.deepEqual(await c.ok(H.CALLATTR, [TUPLE, [[LOCAL, counter], [VALUE, "increment"], [VALUE, [2]]]]), [VALUE, 2]);
    await c.ok(H.DEL, [TUPLE, [[LOCAL, counter], [VALUE, 2]]]);
    assert.equal(conn.exportedCount, base);
    await collectUntil(() => weak.deref() === undefined, "the released counter");
    c.destroy();
  });

  test("one DEL with a count above what was sent releases the object (no negative count keeps it)", async () => {
    const c = await RawClient.open(server.port);
    const root = await c.root();
    const conn = serverConnOf(server, c.socket.localPort);
    const base = conn.exportedCount;
    const [, counter] = await c.ok(H.CALLATTR, [TUPLE, [[LOCAL, root], [VALUE, "counter"], [VALUE, []]]]);
    await c.ok(H.DEL, [TUPLE, [[LOCAL, counter], [VALUE, 5]]]);
    assert.equal(conn.exportedCount, base);
    c.destroy();
  });

  test("disconnect releases every exported object: the table empties and the objects are collectable", async () => {
    const c = await RawClient.open(server.port);
    const root = await c.root();
    const conn = serverConnOf(server, c.socket.localPort);
    const weaks: Array<WeakRef<Counter>> = [];
    for (let i = 0; i < 5; i++) {
      await c.ok(H.CALLATTR, [TUPLE, [[LOCAL, root], [VALUE, "counter"], [VALUE, []]]]);
      weaks.push(made[made.length - 1]!);
    }
    assert.equal(conn.exportedCount, 6);
    c.destroy();
    await conn.closed;
    assert.equal(conn.exportedCount, 0);
    await collectUntil(() => weaks.every((w) => w.deref() === undefined), "the counters of a closed connection");
  });

  test("the server's proxy of a client object sent 3 times: conn.release() sends one HANDLE_DEL (3, id_pack) with count 3", async () => {
    const c = await RawClient.open(server.port);
    const root = await c.root();
    const mine: PyValue = ["builtins.function", 7, 70_001];
    for (let i = 0; i < 3; i++) await c.ok(H.CALLATTR, [TUPLE, [[LOCAL, root], [VALUE, "keep"], [TUPLE, [[REMOTE, mine]]]]]);
    assert.deepEqual(await c.ok(H.CALLATTR, [TUPLE, [[LOCAL, root], [VALUE, "proxies"], [VALUE, []]]]), [VALUE, 1]);
    await c.ok(H.CALLATTR, [TUPLE, [[LOCAL, root], [VALUE, "drop"], [VALUE, []]]]);
    // the DEL was written before drop()'s reply
    assert.deepEqual(c.dels(), [[LOCAL, mine, 3]]);
    assert.deepEqual(await c.ok(H.CALLATTR, [TUPLE, [[LOCAL, root], [VALUE, "proxies"], [VALUE, []]]]), [VALUE, 0]);
    // sent again later: a new proxy with a fresh count
    await c.ok(H.CALLATTR, [TUPLE, [[LOCAL, root], [VALUE, "keep"], [TUPLE, [[REMOTE, mine]]]]]);
    await c.ok(H.CALLATTR, [TUPLE, [[LOCAL, root], [VALUE, "drop"], [VALUE, []]]]);
    assert.deepEqual(c.dels(), [[LOCAL, mine, 1]]);
    c.destroy();
  });

  test("a server proxy nobody holds is collected and sends HANDLE_DEL with its accumulated count", async () => {
    const c = await RawClient.open(server.port);
    const root = await c.root();
    const conn = serverConnOf(server, c.socket.localPort);
    const mine: PyValue = ["builtins.list", 7, 70_002];
    for (let i = 0; i < 2; i++) await c.ok(H.CALLATTR, [TUPLE, [[LOCAL, root], [VALUE, "ignore"], [TUPLE, [[REMOTE, mine]]]]]);
    const got: Array<[number, PyValue, PyValue]> = [];
    await collectUntil(() => {
      got.push(...c.dels());
      return got.length > 0;
    }, "the server's unreferenced proxy");
    assert.deepEqual(got, [[LOCAL, mine, 2]]);
    assert.equal(conn.proxyCount, 0);
    c.destroy();
  });

  test("our own client: release(counter) gives the server its reference back; close() empties the server's table", async () => {
    const client = await connect("127.0.0.1", server.port);
    const conn = serverConnOf(server, (client.stream as net.Socket).localPort);
    const root = await client.root;
    const base = (await root.exports()) as number;
    const counter = await root.counter();
    assert.equal(await counter.increment(3), 3);
    assert.equal(await root.exports(), base + 1);
    assert.equal(client.proxyCount, 2);
    client.release(counter);
    assert.equal(client.proxyCount, 1);
    // DEL is asynchronous but ordered before the next request
    assert.equal(await root.exports(), base);
    await assert.rejects(async () => counter.increment(), (err: Error & { code?: string }) => err.code === "ERR_SB_RPYC_CLOSED");
    await client.close();
    await conn.closed;
    assert.equal(conn.exportedCount, 0);
    assert.equal(client.proxyCount, 0);
  });
});

const skip = rpycPeerSkip();

describe("object lifetime with a stock Python rpyc client", { skip }, () => {
  let server: ThreadedServer;

  before(async () => {
    server = new ThreadedServer(LifetimeService, { hostname: "127.0.0.1", port: 0 });
    await server.start();
  });

  after(async () => {
    await server?.close();
  });

  test("`del c; gc.collect()` in Python sends DEL: the server's export table shrinks back; closing empties the server", async () => {
    const r = await runPythonAsync(
      String.raw`
import gc, sys, rpyc
conn = rpyc.connect("127.0.0.1", int(sys.argv[1]))
root = conn.root
base = root.exports()
c = root.counter()
assert c.increment(2) == 2
assert c.increment() == 3
held = root.exports()
del c
gc.collect()
released = root.exports()
print(base, held, released)
conn.close()
`,
      { args: [String(server.port)], timeoutMs: 30_000 },
    );
    assert.equal(r.code, 0, r.stderr);
    const [base, held, released] = r.stdout.trim().split(" ").map(Number);
    assert.equal(held, base! + 1, "the counter is held");
    assert.equal(released, base, "the counter is released");
    await collectUntil(() => server.connections.size === 0, "the Python client's connection");
  });

  test("the server releases its proxies of a Python function (sent twice) with count 2: Python's own table shrinks", async () => {
    const r = await runPythonAsync(
      String.raw`
import gc, sys, rpyc
conn = rpyc.connect("127.0.0.1", int(sys.argv[1]))
root = conn.root
def f(x):
    return x
before = len(conn._local_objects._dict)
root.keep(f)
root.keep(f)
assert root.proxies() == 1
held = len(conn._local_objects._dict)
root.drop()
after = len(conn._local_objects._dict)
print(before, held, after, root.proxies())
conn.close()
`,
      { args: [String(server.port)], timeoutMs: 30_000 },
    );
    assert.equal(r.code, 0, r.stderr);
    const [before, held, afterDrop, proxies] = r.stdout.trim().split(" ").map(Number);
    assert.equal(held, before! + 1, "Python holds f for the server");
    // rpyc keeps "sends - 1" and deletes when a DEL's count exceeds it: a count of 1 would leak f
    assert.equal(afterDrop, before, "one DEL with count 2 released f");
    assert.equal(proxies, 0);
  });
});
