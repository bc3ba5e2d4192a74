// Connection at the protocol level: a raw TCP client built from our own frame and brine
// modules, so every byte is ours, against a ThreadedServer serving a small probe service. Every
// HANDLE_* request, both argument box forms, optional kwargs, stable id_packs, DEL counts,
// proxies going home, the exception record, CLOSE, zlib frames, stray replies, re-entrancy.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { deflateSync } from "node:zlib";
import { encodeFrame, encodeMessageFrame } from "../../src/rpyc/frame.js";
import { NotImplemented, type PyValue } from "../../src/rpyc/values.js";
import { PyError, Service, ThreadedServer, type Connection } from "switchboard/rpyc";
import { excOf, H, LOCAL, MSG_EXCEPTION, MSG_REPLY, MSG_REQUEST, RawClient, REMOTE, serverConnOf, TUPLE, VALUE, type IdPack } from "./raw-client.js";

class Counter {
  value = 0;
  exposed_increment(by = 1): number {
    this.value += by;
    return this.value;
  }
  exposed_same(): this {
    return this;
  }
}

class Ctx {
  readonly exits: unknown[][] = [];
  __enter__(): this {
    return this;
  }
  __exit__(...args: unknown[]): boolean {
    this.exits.push(args);
    return false;
  }
}

const ctx = new Ctx();

class ProbeService extends Service {
  conn: Connection | undefined;
  override onConnect(conn: Connection): void {
    this.conn = conn;
  }
  exposed_echo(x: unknown): unknown {
    return x;
  }
  exposed_add(a: number, b: number): number {
    return a + b;
  }
  exposed_counter(): Counter {
    return new Counter();
  }
  exposed_fail(msg: string): never {
    throw new PyError("ValueError", [msg]);
  }
  exposed_items(): Iterator<number> {
    return [1, 2][Symbol.iterator]();
  }
  exposed_ctx(): Ctx {
    return ctx;
  }
  async exposed_callback(fn: (x: unknown) => Promise<unknown>, x: unknown): Promise<unknown> {
    return await fn(x);
  }
}

describe("Connection, request by request, from a raw client", () => {
  let server: ThreadedServer;
  let c: RawClient;
  let root: IdPack;

  /** The server's Connection for a raw client (found by the client's port). */
  const serverConn = (client: RawClient): Connection => serverConnOf(server, client.socket.localPort);

  /** CALLATTR(root, name, args) with every argument by value: the (1, tuple) form. */
  function rootCall(name: string, ...args: PyValue[]): Promise<[number, PyValue]> {
    return c.ok(H.CALLATTR, [TUPLE, [[LOCAL, root], [VALUE, name], [VALUE, args], [VALUE, []]]]);
  }

  before(async () => {
    server = new ThreadedServer(ProbeService, { hostname: "127.0.0.1", port: 0 });
    await server.start();
    c = await RawClient.open(server.port);
    root = await c.root();
  });

  after(async () => {
    c?.destroy();
    await server?.close();
  });

  test("GETROOT: the service by reference (4, id_pack) with a str name and a non-zero instance id, the same id_pack every time", async () => {
    assert.equal(typeof root[0], "string");
    assert.notEqual(root[2], 0);
    assert.deepEqual(await c.root(), root);
  });

  test("PING echoes its data; args accepted as (1, (data,)) and as (2, ((1, data),))", async () => {
    const data = "x".repeat(520);
    assert.deepEqual(await c.ok(H.PING, [VALUE, [data]]), [VALUE, data]);
    assert.deepEqual(await c.ok(H.PING, [TUPLE, [[VALUE, "boxed"]]]), [VALUE, "boxed"]);
  });

  test("seq is echoed as sent: above 159 (text int) and beyond 2**64 (bigint)", async () => {
    for (const seq of [160, 70_000, 2n ** 70n]) {
      c.send(MSG_REQUEST, seq, [H.PING, [VALUE, ["s"]]]);
      const m = await c.answer(seq);
      assert.deepEqual(m, [MSG_REPLY, seq, [VALUE, "s"]]);
    }
  });

  test("GETATTR: an exposed method comes back by reference as builtins.method, the same id_pack on each read", async () => {
    const [label, m1] = await c.ok(H.GETATTR, [TUPLE, [[LOCAL, root], [VALUE, "echo"]]]);
    assert.equal(label, REMOTE);
    assert.equal((m1 as IdPack)[0], "builtins.method");
    const [, m2] = await c.ok(H.GETATTR, [TUPLE, [[LOCAL, root], [VALUE, "exposed_echo"]]]);
    assert.deepEqual(m2, m1);
    // bytes names are accepted like str
    const [, m3] = await c.ok(H.GETATTR, [TUPLE, [[LOCAL, root], [VALUE, new TextEncoder().encode("echo")]]]);
    assert.deepEqual(m3, m1);
    await c.ok(H.DEL, [TUPLE, [[LOCAL, m1], [VALUE, 3]]]);
  });

  test("GETATTR of a private or non-exposed name: AttributeError \"cannot access 'name'\"", async () => {
    for (const name of ["conn", "_rpyc_setattr", "onConnect"]) {
      const e = excOf(await c.fails(H.GETATTR, [TUPLE, [[LOCAL, root], [VALUE, name]]]));
      assert.equal(e.type, "builtins.AttributeError");
      assert.deepEqual(e.args, [`cannot access '${name}'`]);
    }
  });

  test("CALL: kwargs optional; args and kwargs in either box form", async () => {
    const [, m] = await c.ok(H.GETATTR, [TUPLE, [[LOCAL, root], [VALUE, "add"]]]);
    // (obj, args): no kwargs at all
    assert.deepEqual(await c.ok(H.CALL, [TUPLE, [[LOCAL, m], [VALUE, [2, 3]]]]), [VALUE, 5]);
    // (obj, args, kwargs) with kwargs as (name, value) pairs
    assert.deepEqual(await c.ok(H.CALL, [TUPLE, [[LOCAL, m], [VALUE, [2]], [VALUE, [["b", 40]]]]]), [VALUE, 42]);
    // args as a tuple of boxes
    assert.deepEqual(await c.ok(H.CALL, [TUPLE, [[LOCAL, m], [TUPLE, [[VALUE, 1], [VALUE, 1]]], [VALUE, []]]]), [VALUE, 2]);
    const e = excOf(await c.fails(H.CALL, [TUPLE, [[LOCAL, m], [VALUE, [1]], [VALUE, [["nope", 1]]]]]));
    assert.equal(e.type, "builtins.TypeError");
    assert.match(String(e.args[0]), /unexpected keyword argument 'nope'/);
    await c.ok(H.DEL, [TUPLE, [[LOCAL, m], [VALUE, 4]]]);
  });

  test("CALLATTR: args given as (1, tuple) and as (2, boxes), kwargs present or absent", async () => {
    assert.deepEqual(await c.ok(H.CALLATTR, [TUPLE, [[LOCAL, root], [VALUE, "add"], [VALUE, [20, 22]]]]), [VALUE, 42]);
    assert.deepEqual(await c.ok(H.CALLATTR, [TUPLE, [[LOCAL, root], [VALUE, "add"], [VALUE, [20]], [VALUE, [["b", 1]]]]]), [VALUE, 21]);
    assert.deepEqual(await c.ok(H.CALLATTR, [TUPLE, [[LOCAL, root], [VALUE, "add"], [TUPLE, [[VALUE, 3], [VALUE, 4]]], [TUPLE, []]]]), [VALUE, 7]);
    assert.deepEqual(await rootCall("echo", [1, ["nested", null]]), [VALUE, [1, ["nested", null]]]);
  });

  test("SETATTR and DELATTR on a Service: AttributeError 'access denied'", async () => {
    for (const [h, args] of [
      [H.SETATTR, [[LOCAL, root], [VALUE, "x"], [VALUE, 1]]],
      [H.DELATTR, [[LOCAL, root], [VALUE, "x"]]],
    ] as const) {
      const e = excOf(await c.fails(h, [TUPLE, args as unknown as PyValue[]]));
      assert.deepEqual(e, { type: "builtins.AttributeError", args: ["access denied"] });
    }
  });

  test("REPR, STR and HASH answer a str, a str and an int", async () => {
    const [, repr] = await c.ok(H.REPR, [TUPLE, [[LOCAL, root]]]);
    const [, str] = await c.ok(H.STR, [TUPLE, [[LOCAL, root]]]);
    const [, hash] = await c.ok(H.HASH, [TUPLE, [[LOCAL, root]]]);
    assert.equal(typeof repr, "string");
    assert.equal(typeof str, "string");
    assert.ok(typeof hash === "number" || typeof hash === "bigint");
  });

  test("CMP: __eq__ by identity; an ordering the object lacks is NotImplemented", async () => {
    assert.deepEqual(await c.ok(H.CMP, [TUPLE, [[LOCAL, root], [LOCAL, root], [VALUE, "__eq__"]]]), [VALUE, true]);
    assert.deepEqual(await c.ok(H.CMP, [TUPLE, [[LOCAL, root], [VALUE, 1], [VALUE, "__eq__"]]]), [VALUE, false]);
    assert.deepEqual(await c.ok(H.CMP, [TUPLE, [[LOCAL, root], [VALUE, 1], [VALUE, "__lt__"]]]), [VALUE, NotImplemented]);
  });

  test("DIR: a tuple of str with the exposed names, without private ones", async () => {
    const [label, names] = await c.ok(H.DIR, [TUPLE, [[LOCAL, root]]]);
    assert.equal(label, VALUE);
    assert.ok(Array.isArray(names) && names.every((n) => typeof n === "string"));
    assert.ok(names.includes("echo") && names.includes("exposed_echo"));
    assert.ok(!names.includes("conn"));
  });

  test("PICKLE: ValueError 'pickling is disabled' (rpyc's default)", async () => {
    assert.deepEqual(excOf(await c.fails(H.PICKLE, [TUPLE, [[LOCAL, root], [VALUE, 4]]])), {
      type: "builtins.ValueError",
      args: ["pickling is disabled"],
    });
  });

  test("INSPECT takes a plain id_pack and lists (name, None) for the methods, without the proxy's own names", async () => {
    const [, cref] = await rootCall("counter");
    const [, methods] = await c.ok(H.INSPECT, [VALUE, [cref]]);
    const names = (methods as [string, PyValue][]).map(([n, doc]) => {
      assert.equal(doc, null);
      return n;
    });
    assert.ok(names.includes("exposed_increment"));
    assert.ok(!names.includes("__repr__") && !names.includes("constructor"));
    await c.ok(H.DEL, [TUPLE, [[LOCAL, cref], [VALUE, 1]]]);
  });

  test("BUFFITER returns up to count items as a tuple; __next__ at the end answers StopIteration as the bare int 1", async () => {
    const [label, it] = await rootCall("items");
    assert.equal(label, REMOTE);
    assert.equal((it as IdPack)[0], "builtins.list_iterator");
    assert.deepEqual(await c.ok(H.BUFFITER, [TUPLE, [[LOCAL, it], [VALUE, 10]]]), [VALUE, [1, 2]]);
    const m = await c.call(H.CALLATTR, [TUPLE, [[LOCAL, it], [VALUE, "__next__"], [VALUE, []], [VALUE, []]]]);
    assert.equal(m[0], MSG_EXCEPTION);
    assert.equal(m[2], 1);
    await c.ok(H.DEL, [TUPLE, [[LOCAL, it], [VALUE, 1]]]);
  });

  test("CTXEXIT calls __exit__(None, None, None) and answers its result", async () => {
    const [, ref] = await rootCall("ctx");
    const before = ctx.exits.length;
    assert.deepEqual(await c.ok(H.CTXEXIT, [TUPLE, [[LOCAL, ref], [VALUE, null]]]), [VALUE, false]);
    assert.deepEqual(ctx.exits.slice(before), [[null, null, null]]);
    await c.ok(H.DEL, [TUPLE, [[LOCAL, ref], [VALUE, 1]]]);
  });

  test("INSTANCECHECK answers False; OLDSLICING (Python 2) is NotImplementedError", async () => {
    assert.deepEqual(await c.ok(H.INSTANCECHECK, [TUPLE, [[LOCAL, root], [VALUE, ["builtins.int", 1, 0]]]]), [VALUE, false]);
    const e = excOf(await c.fails(H.OLDSLICING, [TUPLE, [[LOCAL, root], [VALUE, "__getitem__"], [VALUE, "__getslice__"], [VALUE, 0], [VALUE, 1], [VALUE, []]]]));
    assert.equal(e.type, "builtins.NotImplementedError");
  });

  test("id_pack stability: an object returned again (c.same()) has the same id_pack, so the peer's proxy cache holds", async () => {
    const [, cref] = await rootCall("counter");
    const [label, again] = await c.ok(H.CALLATTR, [TUPLE, [[LOCAL, cref], [VALUE, "same"], [VALUE, []], [VALUE, []]]]);
    assert.equal(label, REMOTE);
    assert.deepEqual(again, cref);
    assert.deepEqual(await c.ok(H.CALLATTR, [TUPLE, [[LOCAL, cref], [VALUE, "increment"], [VALUE, [5]]]]), [VALUE, 5]);
    await c.ok(H.DEL, [TUPLE, [[LOCAL, cref], [VALUE, 2]]]);
  });

  test("DEL counts: three sends of one object are released by one DEL with count 3; DEL 2 of 3 keeps it alive", async () => {
    const conn = serverConn(c);
    const base = conn.exportedCount;
    const [, cref] = await rootCall("counter");
    const echo = (): Promise<[number, PyValue]> => c.ok(H.CALLATTR, [TUPLE, [[LOCAL, root], [VALUE, "echo"], [TUPLE, [[LOCAL, cref]]]]]);
    assert.deepEqual(await echo(), [REMOTE, cref]);
    assert.deepEqual(await echo(), [REMOTE, cref]);
    assert.equal(conn.exportedCount, base + 1);
    assert.deepEqual(await c.ok(H.DEL, [TUPLE, [[LOCAL, cref], [VALUE, 3]]]), [VALUE, null]);
    assert.equal(conn.exportedCount, base);
    // released: naming it again is a KeyError, and the connection goes on
    const e = excOf(await c.fails(H.CALLATTR, [TUPLE, [[LOCAL, cref], [VALUE, "increment"], [VALUE, []]]]));
    assert.equal(e.type, "builtins.KeyError");

    const [, d] = await rootCall("counter");
    await c.ok(H.CALLATTR, [TUPLE, [[LOCAL, root], [VALUE, "echo"], [TUPLE, [[LOCAL, d]]]]]);
    await c.ok(H.CALLATTR, [TUPLE, [[LOCAL, root], [VALUE, "echo"], [TUPLE, [[LOCAL, d]]]]]);
    await c.ok(H.DEL, [TUPLE, [[LOCAL, d], [VALUE, 2]]]);
    assert.deepEqual(await c.ok(H.CALLATTR, [TUPLE, [[LOCAL, d], [VALUE, "increment"], [VALUE, []]]]), [VALUE, 1]);
    await c.ok(H.DEL, [TUPLE, [[LOCAL, d]]]); // count absent: 1
    assert.equal(conn.exportedCount, base);
  });

  test("a client proxy goes home as LABEL_LOCAL_REF with its original id_pack, alone and inside a tuple", async () => {
    const mine: PyValue = ["builtins.list", 1234, 5678];
    assert.deepEqual(await c.ok(H.CALLATTR, [TUPLE, [[LOCAL, root], [VALUE, "echo"], [TUPLE, [[REMOTE, mine]]]]]), [LOCAL, mine]);
    const [label, boxes] = await c.ok(H.CALLATTR, [TUPLE, [[LOCAL, root], [VALUE, "echo"], [TUPLE, [[TUPLE, [[REMOTE, mine], [VALUE, 5]]]]]]]);
    assert.equal(label, TUPLE);
    assert.deepEqual(boxes, [
      [LOCAL, mine],
      [VALUE, 5],
    ]);
    // the server keeps one proxy of our list, counted twice
    assert.ok(serverConn(c).proxyCount >= 1);
  });

  test("exception record: ((module, name), args, attrs with ('_remote_version', '5.3.0'), traceback str)", async () => {
    const rec = await c.fails(H.CALLATTR, [TUPLE, [[LOCAL, root], [VALUE, "fail"], [VALUE, ["boom"]]]]);
    assert.ok(Array.isArray(rec) && rec.length === 4);
    const [typ, args, attrs, tb] = rec as [PyValue, PyValue, PyValue, PyValue];
    assert.deepEqual(typ, ["builtins", "ValueError"]);
    assert.deepEqual(args, ["boom"]);
    assert.deepEqual(attrs, [["_remote_version", "5.3.0"]]);
    assert.equal(typeof tb, "string");
    assert.match(tb as string, /ValueError: boom/);
  });

  test("zlib frames (flag 1) are inflated, small and above rpyc's 3000-byte threshold", async () => {
    for (const data of ["tiny", "z".repeat(10_000)]) {
      const seq = c.seq++;
      const plain = encodeMessageFrame(MSG_REQUEST, seq, [H.PING, [VALUE, [data]]]);
      const compressed = deflateSync(plain.subarray(5, plain.length - 1), { level: 1 });
      const frame = encodeFrame(compressed);
      frame[4] = 1;
      c.socket.write(frame);
      assert.deepEqual(await c.answer(seq), [MSG_REPLY, seq, [VALUE, data]]);
    }
  });

  test("replies and exceptions with a seq nobody waits for are dropped silently; the connection goes on", async () => {
    c.send(MSG_REPLY, 9999, [VALUE, null]);
    c.send(MSG_EXCEPTION, 12345, [["builtins", "ValueError"], ["stray"], [], ""]);
    c.send(MSG_EXCEPTION, 12346, 1);
    assert.deepEqual(await c.ok(H.PING, [VALUE, ["after"]]), [VALUE, "after"]);
    assert.equal(c.pending.length, 0);
  });

  test("a callback: the server sends CALL (7, (2, ((3, fn), (1, (x,)), (1, ())))) with its own seq, and serves our nested requests while it waits", async () => {
    const fn: PyValue = ["builtins.function", 42, 4242];
    const outer = c.request(H.CALLATTR, [TUPLE, [[LOCAL, root], [VALUE, "callback"], [TUPLE, [[REMOTE, fn], [VALUE, 21]]]]]);
    const [, sseq, body] = await c.take((m) => m[0] === MSG_REQUEST, "the server's callback request");
    assert.deepEqual(body, [
      H.CALL,
      [
        TUPLE,
        [
          [LOCAL, fn],
          [VALUE, [21]],
          [VALUE, []],
        ],
      ],
    ]);
    // re-entrancy: while the server waits for our answer, it answers us
    assert.deepEqual(await rootCall("add", 1, 2), [VALUE, 3]);
    assert.deepEqual(await c.ok(H.PING, [VALUE, ["nested"]]), [VALUE, "nested"]);
    c.send(MSG_REPLY, sseq, [VALUE, 42]);
    assert.deepEqual(await c.answer(outer), [MSG_REPLY, outer, [VALUE, 42]]);

    // our callback's exception reaches the original caller with the same module, name and args
    const outer2 = c.request(H.CALLATTR, [TUPLE, [[LOCAL, root], [VALUE, "callback"], [TUPLE, [[REMOTE, fn], [VALUE, 1]]]]]);
    const [, sseq2] = await c.take((m) => m[0] === MSG_REQUEST && (m[2] as PyValue[])[0] === H.CALL, "the second callback request");
    c.send(MSG_EXCEPTION, sseq2, [["myapp", "NotFound"], ["nope", 7], [], "Traceback: remote"]);
    const m = await c.answer(outer2);
    assert.equal(m[0], MSG_EXCEPTION);
    assert.deepEqual(excOf(m[2]), { type: "myapp.NotFound", args: ["nope", 7] });
  });

  test("HANDLE_CLOSE is never answered: the server ends the connection and forgets it", async () => {
    const d = await RawClient.open(server.port);
    await d.root();
    const conn = serverConn(d);
    d.request(H.CLOSE, [VALUE, []]);
    await d.closed;
    await conn.closed;
    assert.equal(d.pending.length, 0, "no reply to CLOSE");
    assert.equal(conn.exportedCount, 0);
    assert.ok(!server.connections.has(conn));
  });
});
