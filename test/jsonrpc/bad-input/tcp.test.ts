// Bad input over TCP (TcpServerTransport + RPCServer), line and length framing: hostile
// messages answered in order on a connection that keeps serving, the size limit at and just
// over a small limit and the 4 MiB default, a length prefix claiming 2 GiB, a line without
// newline growing past the limit, truncated frames, a client that never reads its replies
// (reading must pause, not buffer without bound) and clients that vanish mid-call.
import assert from "node:assert/strict";
import net from "node:net";
import { after, before, describe, test } from "node:test";
import { DEFAULT_MAX_MESSAGE_BYTES, TcpServerTransport } from "../../../src/jsonrpc/index.js";
import { encodeFrame, FrameDecoder, type Framing } from "../../../src/jsonrpc/transports/framing.js";
import type { StreamContext } from "../../../src/jsonrpc/transports/stream-server.js";
import { assertBadReply, assertError, BAD_MESSAGES, call, echoReply, PROBE, PROBE_REPLY, serveRpc, type RunningServer } from "./helpers.js";

/** A raw client: frames out, decoded replies in, and how the server ended the connection. */
class RawClient {
  readonly socket: net.Socket;
  readonly #decoder: FrameDecoder;
  readonly #frames: string[] = [];
  readonly #waiters: ((f: string | undefined) => void)[] = [];
  #closed = false;
  readonly closed: Promise<void>;

  constructor(
    port: number,
    readonly framing: Framing,
  ) {
    this.socket = net.connect({ host: "127.0.0.1", port });
    this.socket.on("error", () => {});
    this.#decoder = new FrameDecoder(framing, 64 * 1024 * 1024);
    this.socket.on("data", (chunk: Buffer) => {
      for (const f of this.#decoder.push(chunk)) {
        assert.equal(f.kind, "message");
        if (f.kind === "message") this.#deliver(Buffer.from(f.message).toString());
      }
    });
    this.closed = new Promise((r) =>
      this.socket.once("close", () => {
        this.#closed = true;
        for (const w of this.#waiters.splice(0)) w(undefined);
        r();
      }),
    );
  }

  #deliver(f: string): void {
    const w = this.#waiters.shift();
    if (w) w(f);
    else this.#frames.push(f);
  }

  send(message: string | Buffer): boolean {
    return this.socket.write(encodeFrame(this.framing, typeof message === "string" ? Buffer.from(message) : message));
  }

  /** The next reply; undefined once the server closed the connection. */
  next(): Promise<string | undefined> {
    if (this.#frames.length > 0) return Promise.resolve(this.#frames.shift());
    if (this.#closed) return Promise.resolve(undefined);
    return new Promise((r) => this.#waiters.push(r));
  }
}

/** An echo request of exactly `size` bytes. */
function sized(size: number): string {
  const bare = call("echo", [""], "s");
  return call("echo", ["x".repeat(size - bare.length)], "s");
}

const sockets: RawClient[] = [];
function connect(port: number, framing: Framing): RawClient {
  const c = new RawClient(port, framing);
  sockets.push(c);
  return c;
}
after(() => {
  for (const c of sockets) c.socket.destroy();
});

for (const framing of ["line", "length"] as const) {
  describe(`${framing} framing`, () => {
    let t: TcpServerTransport;
    let rpc: RunningServer<StreamContext>;
    let port: number;
    before(async () => {
      t = await TcpServerTransport.listen({ host: "127.0.0.1", port: 0 }, { framing });
      rpc = serveRpc(t, { maxBatchLength: 10 });
      port = (t.address as { port: number }).port;
    });
    after(() => rpc.stop());

    async function probe(c: RawClient = connect(port, framing)): Promise<void> {
      c.send(PROBE);
      assert.equal(await c.next(), PROBE_REPLY);
    }

    test("hostile messages pipelined on one connection: each gets its exact JSON-RPC error in order, then a normal call is answered", async () => {
      const c = connect(port, framing);
      for (const bad of BAD_MESSAGES) c.send(bad.body);
      for (const bad of BAD_MESSAGES) assertBadReply((await c.next())!, bad);
      await probe(c);
      c.socket.end();
    });

    test("an empty frame -> -32700; a batch of 10 notifications -> an empty frame, and all ran", async () => {
      const c = connect(port, framing);
      const before = rpc.bumps();
      c.send("");
      c.send(`[${Array(10).fill('{"jsonrpc":"2.0","method":"bump"}').join(",")}]`);
      assertError((await c.next())!, -32700);
      assert.equal(await c.next(), "");
      assert.equal(rpc.bumps(), before + 10);
      await probe(c);
      c.socket.end();
    });

    test("the default limit is 4 MiB: a message of exactly 4 MiB is answered; 4 MiB + 1 gets -32600 and the connection ends; a new one is served", async () => {
      const c = connect(port, framing);
      c.send(sized(DEFAULT_MAX_MESSAGE_BYTES));
      const reply = JSON.parse((await c.next())!);
      assert.deepEqual([reply.id, reply.result.length], ["s", DEFAULT_MAX_MESSAGE_BYTES - call("echo", [""], "s").length]);
      c.send(sized(DEFAULT_MAX_MESSAGE_BYTES + 1));
      const error = assertError((await c.next())!, -32600);
      assert.equal(error.message, `Message too large: ${DEFAULT_MAX_MESSAGE_BYTES + 1} bytes, the limit is ${DEFAULT_MAX_MESSAGE_BYTES}`);
      assert.equal(await c.next(), undefined);
      await probe();
    });

    test("a truncated frame then an abrupt close: nothing is handled, the server keeps serving", async () => {
      const traced: string[] = [];
      rpc.server.trace = (dir, _ctx, m) => void (dir === "-->" && traced.push(Buffer.from(m).toString()));
      try {
        const c = connect(port, framing);
        const frame = encodeFrame(framing, Buffer.from(PROBE));
        // line: no newline yet; length: header and half the body
        c.socket.write(frame.subarray(0, framing === "line" ? frame.length - 1 : 4 + 10));
        c.socket.destroy();
        await c.closed;
        await probe();
        assert.deepEqual(traced, [PROBE]);
      } finally {
        rpc.server.trace = undefined;
      }
    });

    test("a connection destroyed while its method runs; another connection's call still completes, no onError", async () => {
      const errorsBefore = rpc.errors.length;
      const gone = connect(port, framing);
      const stays = connect(port, framing);
      gone.send(call("hold", [`${framing}-gone`], 1));
      stays.send(call("hold", [`${framing}-stays`], 2));
      await Promise.all([rpc.gate.entered(`${framing}-gone`), rpc.gate.entered(`${framing}-stays`)]);
      gone.socket.destroy();
      await gone.closed;
      rpc.gate.release(`${framing}-gone`);
      rpc.gate.release(`${framing}-stays`);
      assert.equal(await stays.next(), `{"jsonrpc":"2.0","id":2,"result":"${framing}-stays"}`);
      await probe(stays);
      assert.equal(rpc.errors.length, errorsBefore);
      stays.socket.end();
    });

    test("a client that never reads its replies: the server stops reading (bounded buffering); once it reads, every reply arrives in order", async () => {
      const maxPipelined = 4;
      const bt = await TcpServerTransport.listen({ host: "127.0.0.1", port: 0 }, { framing, maxPipelined });
      const b = serveRpc(bt);
      type Conn = { input: net.Socket; output: net.Socket };
      let serverConn: Conn | undefined;
      let received = 0;
      let maxBuffered = 0;
      b.server.trace = (dir, ctx) => {
        if (dir !== "-->") return;
        serverConn = ctx.connection as unknown as Conn;
        received++;
        maxBuffered = Math.max(maxBuffered, serverConn.output.writableLength);
      };
      try {
        const c = connect((bt.address as { port: number }).port, framing);
        c.socket.pause();
        const size = 128 * 1024;
        const total = 400; // 50 MiB each way if nothing pushed back
        for (let i = 0; i < total; i++) c.send(call("echo", ["x".repeat(size)], i));
        // Wait (bounded) for the stuck state: the server paused with replies it cannot flush and
        // our own requests backing up, or (the failure) the server took in every request.
        const deadline = Date.now() + 60_000;
        for (;;) {
          const stuck = serverConn !== undefined && serverConn.input.isPaused() && serverConn.output.writableLength > 0 && c.socket.writableLength > 0;
          if (stuck || received === total || Date.now() > deadline) break;
          await new Promise((r) => setTimeout(r, 10));
        }
        assert.ok(received < total, `the server read all ${total} requests (${maxBuffered} reply bytes buffered) while the client read nothing`);
        assert.ok(maxBuffered <= (maxPipelined + 2) * (size + 64), `at most about ${maxPipelined} replies buffered, saw ${maxBuffered} bytes`);
        c.socket.resume();
        for (let i = 0; i < total; i++) assert.equal(await c.next(), echoReply("x".repeat(size), i));
        c.send(PROBE);
        assert.equal(await c.next(), PROBE_REPLY);
        c.socket.end();
      } finally {
        await b.stop();
      }
    });
  });
}

describe("limits on a small configured maxMessageBytes (1024)", () => {
  let t: { line: TcpServerTransport; length: TcpServerTransport };
  let rpcs: RunningServer<StreamContext>[];
  before(async () => {
    t = {
      line: await TcpServerTransport.listen({ host: "127.0.0.1", port: 0 }, { framing: "line", maxMessageBytes: 1024 }),
      length: await TcpServerTransport.listen({ host: "127.0.0.1", port: 0 }, { framing: "length", maxMessageBytes: 1024 }),
    };
    rpcs = [serveRpc(t.line), serveRpc(t.length)];
  });
  after(() => Promise.all(rpcs.map((r) => r.stop())));
  const portOf = (f: Framing) => (t[f].address as { port: number }).port;

  for (const framing of ["line", "length"] as const) {
    test(`${framing}: exactly 1024 bytes is answered; 1025 gets -32600 "Message too large" and the connection ends; a new one is served`, async () => {
      const c = connect(portOf(framing), framing);
      c.send(sized(1024));
      assert.equal(JSON.parse((await c.next())!).id, "s");
      c.send(sized(1025));
      assert.equal(assertError((await c.next())!, -32600).message, "Message too large: 1025 bytes, the limit is 1024");
      assert.equal(await c.next(), undefined);
      const d = connect(portOf(framing), framing);
      d.send(PROBE);
      assert.equal(await d.next(), PROBE_REPLY);
      d.socket.end();
    });
  }

  for (const claimed of [2 ** 31, 2 ** 32 - 1]) {
    test(`length: a prefix claiming ${claimed} bytes is refused at the header with -32600, nothing more read, the connection ends`, async () => {
      const c = connect(portOf("length"), "length");
      const header = Buffer.alloc(4);
      header.writeUInt32BE(claimed);
      // the socket stays open on our side: the refusal must not wait for a body
      c.socket.write(header);
      assert.equal(assertError((await c.next())!, -32600).message, `Message too large: ${claimed} bytes, the limit is 1024`);
      assert.equal(await c.next(), undefined);
      const d = connect(portOf("length"), "length");
      d.send(PROBE);
      assert.equal(await d.next(), PROBE_REPLY);
      d.socket.end();
    });
  }

  test("line: a line without newline growing past the limit is refused before any newline arrives", async () => {
    const c = connect(portOf("line"), "line");
    c.send(PROBE);
    assert.equal(await c.next(), PROBE_REPLY);
    // dribbled in 100-byte pieces, never a newline; the socket stays open on our side
    for (let i = 0; i < 11; i++) c.socket.write(Buffer.alloc(100, 0x20));
    assert.match(assertError((await c.next())!, -32600).message, /^Message too large: \d+ bytes, the limit is 1024$/);
    assert.equal(await c.next(), undefined);
    const d = connect(portOf("line"), "line");
    d.send(PROBE);
    assert.equal(await d.next(), PROBE_REPLY);
    d.socket.end();
  });
});

describe("idleTimeoutMs (slow and silent clients)", () => {
  let t: TcpServerTransport;
  let rpc: RunningServer<StreamContext>;
  let port: number;
  before(async () => {
    t = await TcpServerTransport.listen({ host: "127.0.0.1", port: 0 }, { framing: "line", idleTimeoutMs: 100 });
    rpc = serveRpc(t);
    port = (t.address as { port: number }).port;
  });
  after(() => rpc.stop());

  test("a connection that sends nothing, or half a line and then nothing, is ended by the server once idle", async () => {
    const silent = connect(port, "line");
    const half = connect(port, "line");
    half.socket.write('{"jsonrpc":"2.0","id":1,"meth');
    await Promise.all([silent.closed, half.closed]);
    assert.equal(await half.next(), undefined);
    const d = connect(port, "line");
    d.send(PROBE);
    assert.equal(await d.next(), PROBE_REPLY);
    d.socket.end();
  });

  test("a call running longer than the idle timeout keeps its connection: the reply arrives, then idleness ends it", async () => {
    const c = connect(port, "line");
    // slow(0.3) keeps the connection silent for 3x the idle timeout: it must survive that
    c.send(call("slow", [0.3], 7));
    assert.deepEqual(JSON.parse((await c.next())!), { jsonrpc: "2.0", id: 7, result: 0.3 });
    await c.closed;
  });

  test("idleTimeoutMs must be a non-negative integer (BAD_OPTION)", async () => {
    await assert.rejects(TcpServerTransport.listen({ port: 0 }, { idleTimeoutMs: -1 }), { code: "ERR_SB_BAD_OPTION" });
  });
});
