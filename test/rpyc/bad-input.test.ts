// Bad input to an RPyC server, from a raw TCP client that controls every byte. Bytes that are
// not RPyC (framing, brine, message shape) end that one connection; a well-formed request that
// makes no sense gets MSG_EXCEPTION and the connection goes on. Peers that vanish mid-call, do
// not read, or come in crowds leave nothing behind. Every test ends by proving the server
// still serves a fresh client.
import assert from "node:assert/strict";
import { once } from "node:events";
import net from "node:net";
import { after, before, describe, test } from "node:test";
import { deflateSync } from "node:zlib";
import { dump } from "../../src/rpyc/brine.js";
import { encodeFrame, encodeMessageFrame } from "../../src/rpyc/frame.js";
import type { PyValue } from "../../src/rpyc/values.js";
import { PyError, Service, ThreadedServer, type Connection } from "switchboard/rpyc";
import { findServerConn, H, LOCAL, MSG_EXCEPTION, MSG_REQUEST, RawClient, REMOTE, serverConnOf, TUPLE, VALUE } from "./raw-client.js";

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ""), "hex");

function deferred<T>(): { promise: Promise<T>; resolve(v: T): void; reject(e: unknown): void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

class Counter {
  value = 0;
  exposed_increment(by = 1): number {
    this.value += by;
    return this.value;
  }
}

/** Controls exposed_slow: the test decides when (and with what) it finishes. */
let slowStarted = deferred<void>();
let slowGate = deferred<unknown>();
let callbackOutcome = deferred<unknown>();

class ProbeService extends Service {
  exposed_add(a: number, b: number): number {
    return a + b;
  }
  exposed_counter(): Counter {
    return new Counter();
  }
  exposed_slow(): Promise<unknown> {
    slowStarted.resolve();
    return slowGate.promise;
  }
  async exposed_callback(fn: (x: unknown) => Promise<unknown>, x: unknown): Promise<unknown> {
    try {
      const r = await fn(x);
      callbackOutcome.resolve(r);
      return r;
    } catch (err) {
      callbackOutcome.resolve(err);
      throw err;
    }
  }
  exposed_fail(): never {
    throw new PyError("ValueError", ["fail"]);
  }
}

/** Polls a condition that must become true (bounded: a timeout fails the test). */
async function eventually(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("bad input to a ThreadedServer", () => {
  let server: ThreadedServer;
  const logged: Array<{ level: string; message: string; err: unknown }> = [];
  const logger = {
    warn: (message: string, err?: unknown) => logged.push({ level: "warn", message, err }),
    error: (message: string, err?: unknown) => logged.push({ level: "error", message, err }),
  };

  const serverConn = (client: RawClient): Connection => serverConnOf(server, client.socket.localPort);

  /** A fresh client is served: the server survived whatever came before. */
  async function serverStillServes(): Promise<void> {
    const fresh = await RawClient.open(server.port);
    try {
      await fresh.usable();
      const [, root] = await fresh.ok(H.GETROOT, [VALUE, []]);
      assert.deepEqual(await fresh.ok(H.CALLATTR, [TUPLE, [[LOCAL, root], [VALUE, "add"], [VALUE, [2, 3]]]]), [VALUE, 5]);
    } finally {
      fresh.destroy();
    }
  }

  /** Sends `bytes` on a fresh connection (after a GETROOT, so it is a live rpyc connection) and expects the server to close it. */
  async function killedBy(bytes: Buffer, what: string): Promise<void> {
    const c = await RawClient.open(server.port);
    await c.root();
    const conn = serverConn(c);
    c.write(bytes);
    await c.closedByServer(what);
    await conn.closed;
    assert.equal(conn.exportedCount, 0, `objects released after ${what}`);
    assert.ok(!server.connections.has(conn));
  }

  before(async () => {
    server = new ThreadedServer(ProbeService, { hostname: "127.0.0.1", port: 0, logger });
    await server.start();
  });

  after(async () => {
    await server?.close();
  });

  test("garbage bytes (an HTTP request; a small frame of 0xFF) close that connection", async () => {
    await killedBy(Buffer.from("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), "an HTTP request");
    await killedBy(Buffer.concat([hex("00000005 00"), Buffer.alloc(5, 0xff), hex("0a")]), "a frame of 0xFF bytes");
    // garbage as the very first bytes, before any request
    const c = await RawClient.open(server.port);
    c.write(Buffer.alloc(64, 0xee));
    await c.closedByServer("64 bytes of 0xEE");
    await serverStillServes();
  });

  test("a 4 GiB length prefix is refused at once without allocating: the connection is closed, memory does not jump", async () => {
    const before = process.memoryUsage().rss;
    const c = await RawClient.open(server.port);
    // the header alone, then stall: the server must not wait for (or reserve) 4 GiB
    c.write(hex("ffffffff 00"));
    await c.closedByServer("a 4 GiB length prefix");
    const c2 = await RawClient.open(server.port);
    c2.write(hex("ffffffff 01 78 9c"));
    await c2.closedByServer("a 4 GiB compressed length prefix");
    const grown = process.memoryUsage().rss - before;
    assert.ok(grown < 100 * 1024 * 1024, `rss grew by ${grown} bytes`);
    await serverStillServes();
  });

  test("truncated frames then EOF: the connection is cleaned up", async () => {
    const cases: Array<[string, Buffer]> = [
      ["3 header bytes", hex("000000")],
      ["a header and no payload", hex("00000064 00")],
      ["half a payload", Buffer.concat([hex("00000064 00"), Buffer.alloc(50, 0x51)])],
      ["a payload without its newline", Buffer.concat([hex("00000008 00"), hex("12 51 50 11 51 11 51 02")])],
    ];
    for (const [what, bytes] of cases) {
      const c = await RawClient.open(server.port);
      await c.root();
      const conn = serverConn(c);
      c.write(bytes);
      c.socket.end();
      await conn.closed;
      assert.equal(conn.exportedCount, 0, what);
      assert.ok(!server.connections.has(conn), what);
      c.destroy();
    }
    await serverStillServes();
  });

  test("invalid brine tags 07, 09, 1C..1F, F0..FF (alone and inside a request) close the connection", async () => {
    const tags = [0x07, 0x09, 0x1c, 0x1d, 0x1e, 0x1f, 0xf0, 0xf7, 0xff];
    for (const tag of tags) {
      const t = tag.toString(16).padStart(2, "0");
      await killedBy(encodeFrame(hex(t)), `tag ${t} alone`);
      // (1, 0, (3, <bad>)): a request whose args box is the bad tag
      await killedBy(encodeFrame(hex(`12 51 50 11 53 ${t}`)), `tag ${t} inside a request`);
    }
    await serverStillServes();
  });

  test("truncated brine values and trailing bytes close the connection", async () => {
    const cases = [
      "0e 05 61 62", // bytes of 5, 2 given
      "18 00 00", // float, 2 of 8 bytes
      "16 05 31 32", // int of 5 digits, 2 given
      "14 03 51", // tuple of 3, 1 given
      "08", // str without its bytes
      "12 51 50", // 3-tuple, 2 items
      "1b 00 00 00 00 00 00 f0 3f", // complex without its imaginary part
      "12 51 50 11 53 11 51 02 00", // a whole message, then a trailing byte
      "16 03 31 78 32", // int text that is not decimal
    ];
    for (const h of cases) await killedBy(encodeFrame(hex(h)), `brine ${h}`);
    await serverStillServes();
  });

  test("huge counts and lengths inside brine (4-byte tuple count, bytes and int lengths, 5000-digit ints) close the connection without allocating", async () => {
    const before = process.memoryUsage().rss;
    const cases = [
      hex("15 ffffffff 51 51"),
      hex("0f ffffffff 61"),
      hex("17 ffffffff 31"),
      hex("14 ff 51"),
      Buffer.concat([hex("17 00001388"), Buffer.alloc(5000, 0x31)]), // 5000 digits: above CPython's 4300
    ];
    for (const bytes of cases) await killedBy(encodeFrame(bytes), `brine ${bytes.subarray(0, 6).toString("hex")}`);
    const grown = process.memoryUsage().rss - before;
    assert.ok(grown < 100 * 1024 * 1024, `rss grew by ${grown} bytes`);
    await serverStillServes();
  });

  test("a message that is not a (msg_type, seq, payload) 3-tuple closes the connection", async () => {
    const cases: PyValue[] = [
      [MSG_REQUEST, 0], // 2-tuple
      [MSG_REQUEST, 0, [H.PING, [VALUE, ["x"]]], null], // 4-tuple
      5,
      "hello",
      ["1", 0, null], // msg_type a str
      [MSG_REQUEST, null, [H.PING, [VALUE, ["x"]]]], // seq None
      [MSG_REQUEST, "0", [H.PING, [VALUE, ["x"]]]], // seq a str
    ];
    for (const msg of cases) await killedBy(encodeFrame(dump(msg)), `message ${JSON.stringify(msg)}`);
    await serverStillServes();
  });

  test("an unknown message type (0, 4, 99) closes the connection", async () => {
    for (const type of [0, 4, 99]) await killedBy(encodeMessageFrame(type, 0, null), `message type ${type}`);
    await serverStillServes();
  });

  test("an unknown handler id gets MSG_EXCEPTION KeyError and the connection stays usable", async () => {
    const c = await RawClient.open(server.port);
    for (const handler of [0, 21, 99, 100_000, "GETROOT", null]) assert.equal(await c.failsWith(handler, [VALUE, []]), "builtins.KeyError", `handler ${String(handler)}`);
    await c.usable();
    c.destroy();
    await serverStillServes();
  });

  test("unknown or malformed object ids in LABEL_LOCAL_REF get MSG_EXCEPTION and the connection stays usable", async () => {
    const c = await RawClient.open(server.port);
    const [, root] = await c.ok(H.GETROOT, [VALUE, []]);
    const ids: PyValue[] = [
      ["switchboard.ProbeService", 1, 987_654_321],
      ["x", 0, 0],
      ["x", 1, 2n ** 80n],
      5,
      ["only", 2],
      null,
    ];
    for (const id of ids) {
      const type = await c.failsWith(H.GETATTR, [TUPLE, [[LOCAL, id], [VALUE, "add"]]]);
      assert.ok(type === "builtins.KeyError" || type === "builtins.ValueError" || type === "builtins.TypeError", `${String(id)}: ${type}`);
    }
    // DEL of an object we never got
    assert.equal(await c.failsWith(15, [TUPLE, [[LOCAL, ["x", 1, 987_654_321]], [VALUE, 1]]]), "builtins.KeyError");
    // a DEL count that is not an int is refused, and the object stays held
    for (const count of ["x", null, 1.5]) assert.equal(await c.failsWith(15, [TUPLE, [[LOCAL, root], [VALUE, count]]]), "builtins.TypeError");
    // the real root still works
    assert.deepEqual(await c.ok(H.CALLATTR, [TUPLE, [[LOCAL, root], [VALUE, "add"], [VALUE, [1, 1]]]]), [VALUE, 2]);
    await c.usable();
    c.destroy();
    await serverStillServes();
  });

  test("bad labels and malformed boxes get MSG_EXCEPTION (ValueError/TypeError) and the connection stays usable", async () => {
    const c = await RawClient.open(server.port);
    const boxes: PyValue[] = [
      [0, []], // label 0
      [7, []], // label 7
      [-1, []],
      ["1", []], // label a str
      [VALUE], // not a pair
      [VALUE, [], null], // a triple
      5, // not a box at all
      null,
      [VALUE, 5], // the arguments are not a tuple
      [TUPLE, 5], // LABEL_TUPLE without a tuple
      [TUPLE, [[9, 1]]], // a bad label inside a tuple of boxes
      [REMOTE, "not an id_pack"],
    ];
    for (const box of boxes) {
      const type = await c.failsWith(H.PING, box);
      assert.ok(type === "builtins.ValueError" || type === "builtins.TypeError", `${JSON.stringify(box)}: ${type}`);
    }
    // the request payload itself is not (handler, args)
    for (const payload of [null, 5, [H.PING], [H.PING, [VALUE, ["x"]], 1]]) {
      c.send(MSG_REQUEST, c.seq, payload);
      const seq = c.seq++;
      const m = await c.take((msg) => msg[1] === seq, `the answer to a request payload ${JSON.stringify(payload)}`);
      assert.equal(m[0], MSG_EXCEPTION);
    }
    await c.usable();
    c.destroy();
    await serverStillServes();
  });

  test("GETATTR with a name that is not a str (int, None, tuple, invalid UTF-8 bytes) is TypeError or ValueError; the connection stays usable", async () => {
    const c = await RawClient.open(server.port);
    const [, root] = await c.ok(H.GETROOT, [VALUE, []]);
    for (const name of [5, null, ["add"]]) assert.equal(await c.failsWith(H.GETATTR, [TUPLE, [[LOCAL, root], [VALUE, name]]]), "builtins.TypeError");
    const bad = await c.failsWith(H.GETATTR, [TUPLE, [[LOCAL, root], [VALUE, new Uint8Array([0xff, 0xfe])]]]);
    assert.ok(bad === "builtins.TypeError" || bad === "builtins.ValueError" || bad === "builtins.UnicodeDecodeError", bad);
    assert.equal(await c.failsWith(H.CALLATTR, [TUPLE, [[LOCAL, root], [VALUE, 5], [VALUE, []]]]), "builtins.TypeError");
    await c.usable();
    c.destroy();
    await serverStillServes();
  });

  test("abrupt disconnect mid-call: the late result is not written, nothing crashes, the connection's objects are released", async () => {
    slowStarted = deferred();
    slowGate = deferred();
    const errorsBefore = logged.filter((l) => l.level === "error").length;
    const c = await RawClient.open(server.port);
    const [, root] = await c.ok(H.GETROOT, [VALUE, []]);
    await c.ok(H.CALLATTR, [TUPLE, [[LOCAL, root], [VALUE, "counter"], [VALUE, []]]]);
    const conn = serverConn(c);
    assert.equal(conn.exportedCount, 2);
    c.request(H.CALLATTR, [TUPLE, [[LOCAL, root], [VALUE, "slow"], [VALUE, []]]]);
    await slowStarted.promise;
    c.destroy();
    await conn.closed;
    assert.equal(conn.exportedCount, 0);
    assert.ok(!server.connections.has(conn));
    // the call finishes after the peer is gone, with an object that would go by reference;
    // the server's reply handler was attached before this await, so it has run when we resume
    slowGate.resolve(new Counter());
    await slowGate.promise;
    await new Promise((r) => setImmediate(r));
    assert.equal(conn.exportedCount, 0, "nothing exported for a dead connection");
    assert.equal(logged.filter((l) => l.level === "error").length, errorsBefore, "no error logged");
    await serverStillServes();
  });

  test("abrupt disconnect while the server awaits our callback: the handler sees the connection closed, nothing crashes", async () => {
    callbackOutcome = deferred();
    const c = await RawClient.open(server.port);
    const [, root] = await c.ok(H.GETROOT, [VALUE, []]);
    const conn = serverConn(c);
    c.request(H.CALLATTR, [TUPLE, [[LOCAL, root], [VALUE, "callback"], [TUPLE, [[REMOTE, ["builtins.function", 1, 2]], [VALUE, 1]]]]]);
    await c.take((m) => m[0] === MSG_REQUEST, "the callback request");
    c.destroy();
    const outcome = await callbackOutcome.promise;
    assert.ok(outcome instanceof Error, "the pending callback was rejected");
    assert.equal((outcome as { code?: string }).code, "ERR_SB_RPYC_CLOSED");
    await conn.closed;
    assert.equal(conn.exportedCount, 0);
    assert.equal(conn.proxyCount, 0);
    await serverStillServes();
  });

  test("a client that sends requests but never reads: the server stops reading (bounded buffer) and keeps serving others", async () => {
    const hog = net.connect(server.port, "127.0.0.1");
    hog.on("error", () => {});
    await once(hog, "connect");
    hog.pause(); // never read a reply
    const big = "p".repeat(60_000);
    let seq = 0;
    let sent = 0;
    let conn: Connection | undefined;
    let maxServerBuffer = 0;
    let stalled = false;
    const deadline = Date.now() + 15_000;
    // write until our own writes back up for good: the server no longer reads
    while (sent < 400 * 1024 * 1024 && Date.now() < deadline) {
      const frame = encodeMessageFrame(MSG_REQUEST, seq++, [H.PING, [VALUE, [big]]]);
      sent += frame.length;
      if (!hog.write(frame)) {
        const drained = await Promise.race([once(hog, "drain").then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 1500))]);
        conn ??= findServerConn(server, hog.localPort);
        if (conn) maxServerBuffer = Math.max(maxServerBuffer, conn.stream.writableLength);
        if (!drained) {
          stalled = true;
          break;
        }
      }
    }
    assert.ok(stalled, `the server kept reading: ${sent} bytes sent`);
    assert.ok(conn, "the hog's server connection");
    maxServerBuffer = Math.max(maxServerBuffer, conn.stream.writableLength);
    assert.ok(maxServerBuffer < 16 * 1024 * 1024, `the server buffered ${maxServerBuffer} bytes of replies`);
    // everyone else is served meanwhile
    await serverStillServes();
    hog.destroy();
    await conn.closed;
    assert.ok(!server.connections.has(conn));
    await serverStillServes();
  });

  test("compressed requests that inflate ~1000x, to a client that never reads: replies stop at the high-water mark, not one read's worth of inflation", async () => {
    const hog = net.connect(server.port, "127.0.0.1");
    hog.on("error", () => {});
    await once(hog, "connect");
    hog.pause();
    // 60 PINGs of 1 MB each, ~1 KB each on the wire: 60 KB that would make 60 MB of replies
    const plain = encodeMessageFrame(MSG_REQUEST, 0, [H.PING, [VALUE, ["p".repeat(1_000_000)]]]);
    const frame = encodeFrame(deflateSync(plain.subarray(5, plain.length - 1)));
    frame[4] = 1;
    hog.write(Buffer.concat(Array.from({ length: 60 }, () => frame)));
    let conn: Connection | undefined;
    await eventually(() => {
      conn ??= findServerConn(server, hog.localPort);
      return conn !== undefined && conn.stream.writableLength > 4 * 1024 * 1024;
    }, "the server's replies reach the high-water mark");
    const s = conn!.stream as net.Socket;
    const produced = s.bytesWritten + s.writableLength;
    assert.ok(produced < 24 * 1024 * 1024, `the server produced ${produced} bytes of replies for a client that reads nothing`);
    await serverStillServes();
    hog.destroy();
    await conn!.closed;
    await serverStillServes();
  });

  test("200 concurrent connections each make calls, then close (CLOSE, EOF or reset): all served, none leaked", async () => {
    const N = 200;
    const conns: Connection[] = [];
    const results = await Promise.all(
      Array.from({ length: N }, async (_, i) => {
        const c = await RawClient.open(server.port);
        const [, root] = await c.ok(H.GETROOT, [VALUE, []]);
        const [, sum] = await c.ok(H.CALLATTR, [TUPLE, [[LOCAL, root], [VALUE, "add"], [VALUE, [i, 1]]]]);
        const [, counter] = await c.ok(H.CALLATTR, [TUPLE, [[LOCAL, root], [VALUE, "counter"], [VALUE, []]]]);
        const [, n] = await c.ok(H.CALLATTR, [TUPLE, [[LOCAL, counter], [VALUE, "increment"], [VALUE, [i]]]]);
        conns.push(serverConn(c));
        if (i % 3 === 0) c.request(2, [VALUE, []]); // HANDLE_CLOSE
        else if (i % 3 === 1) c.socket.end();
        else c.socket.resetAndDestroy();
        await c.closed;
        return [sum, n];
      }),
    );
    results.forEach(([sum, n], i) => assert.deepEqual([sum, n], [i + 1, i]));
    await eventually(() => server.connections.size === 0, `${server.connections.size} connections left`);
    assert.equal(conns.length, N);
    for (const k of conns) {
      assert.ok(k.isClosed);
      assert.equal(k.exportedCount, 0);
      assert.equal(k.proxyCount, 0);
    }
    await serverStillServes();
  });
});
