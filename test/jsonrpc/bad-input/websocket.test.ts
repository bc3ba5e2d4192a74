// Bad input over WebSocket (WebSocketServerTransport + RPCServer): hostile messages answered
// with the exact JSON-RPC error on a connection that stays open, the 4 MiB default at and just
// over the limit (close 1009), a client that never reads its replies (reading must pause, not
// buffer without bound), and clients that vanish while their method runs or mid-reply.
// (A configured limit's 1009 and text-frame UTF-8 close 1007 are in transports/websocket-server.test.ts.)
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { WebSocket } from "ws";
import { DEFAULT_MAX_MESSAGE_BYTES, WebSocketServerTransport, type WebSocketMessageContext } from "../../../src/jsonrpc/index.js";
import { assertBadReply, BAD_MESSAGES, call, echoReply, PROBE, PROBE_REPLY, serveRpc, type RunningServer } from "./helpers.js";

interface Client {
  readonly ws: WebSocket;
  /** The next frame received, as text. */
  next(): Promise<string>;
  readonly closed: Promise<number>;
}

const clients: WebSocket[] = [];
async function connect(url: string): Promise<Client> {
  const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 64 * 1024 * 1024 });
  clients.push(ws);
  const frames: string[] = [];
  const waiters: ((f: string) => void)[] = [];
  ws.on("message", (data) => {
    const f = (data as Buffer).toString();
    const w = waiters.shift();
    if (w) w(f);
    else frames.push(f);
  });
  ws.on("error", () => {});
  const closed = new Promise<number>((r) => ws.on("close", (code) => r(code)));
  await new Promise<void>((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("error", reject);
  });
  return { ws, closed, next: () => (frames.length > 0 ? Promise.resolve(frames.shift()!) : new Promise((r) => waiters.push(r))) };
}

let t: WebSocketServerTransport;
let rpc: RunningServer<WebSocketMessageContext>;
const connectionErrors: Error[] = [];
before(async () => {
  t = await WebSocketServerTransport.listen({ port: 0, onConnectionError: (e) => connectionErrors.push(e) });
  rpc = serveRpc(t, { maxBatchLength: 10 });
});
after(async () => {
  for (const ws of clients) ws.terminate();
  await rpc.stop();
});

async function probe(c: Client): Promise<void> {
  c.ws.send(PROBE);
  assert.equal(await c.next(), PROBE_REPLY);
}

/** An echo request of exactly `size` bytes. */
function sized(size: number): string {
  const bare = call("echo", [""], "s");
  return call("echo", ["x".repeat(size - bare.length)], "s");
}

describe("hostile messages: the exact JSON-RPC error as a text frame, the connection stays open and serves the next request", () => {
  for (const bad of BAD_MESSAGES) {
    it(`${bad.label} (binary frame) -> ${bad.code} id null`, async () => {
      const c = await connect(t.url);
      c.ws.send(bad.body, { binary: true });
      assertBadReply(await c.next(), bad);
      await probe(c);
      c.ws.close();
    });
  }

  it("all of them pipelined on one connection (text frames where valid UTF-8) -> answered in order", async () => {
    const c = await connect(t.url);
    for (const bad of BAD_MESSAGES) c.ws.send(bad.body, { binary: bad.label === "invalid UTF-8" });
    for (const bad of BAD_MESSAGES) assertBadReply(await c.next(), bad);
    await probe(c);
    c.ws.close();
  });

  it("a batch of 10 notifications -> one empty frame, and all ran", async () => {
    const c = await connect(t.url);
    const before = rpc.bumps();
    c.ws.send(`[${Array(10).fill('{"jsonrpc":"2.0","method":"bump"}').join(",")}]`);
    assert.equal(await c.next(), "");
    assert.equal(rpc.bumps(), before + 10);
    await probe(c);
    c.ws.close();
  });
});

describe("the default limit is 4 MiB", () => {
  it("a message of exactly 4 MiB is answered; 4 MiB + 1 closes with 1009; a new connection is served", async () => {
    assert.equal(DEFAULT_MAX_MESSAGE_BYTES, 4 * 1024 * 1024);
    const c = await connect(t.url);
    const atLimit = sized(DEFAULT_MAX_MESSAGE_BYTES);
    c.ws.send(atLimit);
    assert.equal(await c.next(), atLimit.replace('"method":"echo","params":[', '"id":"s","result":').replace('],"id":"s"}', "}"));
    const errorsBefore = connectionErrors.length;
    c.ws.send(sized(DEFAULT_MAX_MESSAGE_BYTES + 1));
    assert.equal(await c.closed, 1009);
    assert.equal(connectionErrors.length, errorsBefore + 1, "onConnectionError is told");
    await probe(await connect(t.url));
  });
});

describe("a client that never reads its replies", () => {
  it("the server stops reading from it (bounded buffering); once it reads, every reply arrives in order", async () => {
    const maxPending = 4;
    const bt = await WebSocketServerTransport.listen({ port: 0, maxPendingPerConnection: maxPending });
    const b = serveRpc(bt);
    // Unflushed reply bytes on the server side each time it takes in a message.
    type Peer = { bufferedAmount: number; isPaused: boolean };
    let serverPeer: Peer | undefined;
    let received = 0;
    let maxBuffered = 0;
    b.server.trace = (dir, ctx) => {
      if (dir !== "-->") return;
      serverPeer = ctx.socket as unknown as Peer;
      received++;
      maxBuffered = Math.max(maxBuffered, serverPeer.bufferedAmount);
    };
    try {
      const c = await connect(bt.url);
      c.ws.pause();
      const size = 128 * 1024;
      const total = 400; // 50 MiB each way if nothing pushed back
      const requests = Array.from({ length: total }, (_, i) => call("echo", ["x".repeat(size)], i));
      for (const r of requests) c.ws.send(r);
      // Wait (bounded) for the stuck state: the server paused with replies it cannot flush and
      // our own requests backing up, or (the failure) the server took in every request.
      const deadline = Date.now() + 60_000;
      for (;;) {
        const stuck = serverPeer !== undefined && serverPeer.isPaused && serverPeer.bufferedAmount > 0 && c.ws.bufferedAmount > 0;
        if (stuck || received === total || Date.now() > deadline) break;
        await new Promise((r) => setTimeout(r, 10));
      }
      assert.ok(received < total, `the server read all ${total} requests (${maxBuffered} reply bytes buffered) while the client read nothing`);
      assert.ok(maxBuffered <= (maxPending + 2) * (size + 64), `at most about ${maxPending} replies buffered, saw ${maxBuffered} bytes`);
      c.ws.resume();
      for (let i = 0; i < total; i++) assert.equal(await c.next(), echoReply("x".repeat(size), i));
      await probe(c);
      c.ws.close();
    } finally {
      await b.stop();
    }
  });
});

describe("clients that vanish: no crash, no onError, other connections unaffected", () => {
  it("a connection terminated while its method runs; another connection's call still completes", async () => {
    const errorsBefore = rpc.errors.length;
    const gone = await connect(t.url);
    const stays = await connect(t.url);
    gone.ws.send(call("hold", ["ws-gone"], 1));
    stays.ws.send(call("hold", ["ws-stays"], 2));
    await Promise.all([rpc.gate.entered("ws-gone"), rpc.gate.entered("ws-stays")]);
    gone.ws.terminate();
    await gone.closed;
    rpc.gate.release("ws-gone");
    rpc.gate.release("ws-stays");
    assert.equal(await stays.next(), '{"jsonrpc":"2.0","id":2,"result":"ws-stays"}');
    await probe(stays);
    assert.equal(rpc.errors.length, errorsBefore);
    stays.ws.close();
  });

  it("a connection terminated in the middle of a fragmented message -> nothing is handled, a new connection is served", async () => {
    const traced: string[] = [];
    rpc.server.trace = (dir, _ctx, m) => void (dir === "-->" && traced.push(Buffer.from(m).toString()));
    try {
      const c = await connect(t.url);
      const sent = new Promise<void>((r) => c.ws.send(PROBE.slice(0, 10), { fin: false }, () => r()));
      await sent;
      c.ws.terminate();
      await c.closed;
      await probe(await connect(t.url));
      assert.deepEqual(traced, [PROBE]);
    } finally {
      rpc.server.trace = undefined;
    }
  });

  it("a connection terminated mid-reply (8 MiB result) -> a new connection is served", async () => {
    const errorsBefore = rpc.errors.length;
    const c = await connect(t.url);
    c.ws.send(call("big", [8 * 1024 * 1024], 3));
    // the reply starts flowing: the raw socket sees bytes before the frame is complete
    const socket = (c.ws as unknown as { _socket: import("node:net").Socket })._socket;
    await new Promise<void>((r) => socket.prependOnceListener("data", () => r()));
    c.ws.terminate();
    await c.closed;
    await probe(await connect(t.url));
    assert.equal(rpc.errors.length, errorsBefore);
  });
});
