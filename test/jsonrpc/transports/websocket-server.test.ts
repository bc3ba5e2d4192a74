// WebSocketServerTransport against real sockets on 127.0.0.1 (stock `ws` clients): frames,
// limits (close 1009), bad UTF-8 (close 1007), pipelining, paths and close().
import { after, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import { WebSocket } from "ws";
import { ErrorCode, SwitchboardError } from "../../../src/errors.js";
import { HttpServerTransport } from "../../../src/jsonrpc/transports/http.js";
import { WebSocketServerTransport, type WebSocketServerTransportOptions } from "../../../src/jsonrpc/transports/websocket.js";
import { deferred, echo, request, serve, type Handler } from "./http-ws-helpers.js";

const cleanup: (() => Promise<unknown>)[] = [];
after(() => Promise.all(cleanup.map((f) => f())));

async function start(options: WebSocketServerTransportOptions = {}, handler: Handler = echo): Promise<{ t: WebSocketServerTransport; loop: Promise<Uint8Array[]> }> {
  const t = await WebSocketServerTransport.listen({ host: "127.0.0.1", port: 0, ...options });
  cleanup.push(() => t.close());
  return { t, loop: serve(t, handler) };
}

/** A stock ws client that records every frame it receives. */
async function client(url: string): Promise<{ ws: WebSocket; next: () => Promise<{ data: Buffer; binary: boolean }>; closed: Promise<{ code: number; reason: string }> }> {
  const ws = new WebSocket(url);
  const frames: { data: Buffer; binary: boolean }[] = [];
  const waiters: ((f: { data: Buffer; binary: boolean }) => void)[] = [];
  ws.on("message", (data, binary) => {
    const f = { data: data as Buffer, binary };
    const w = waiters.shift();
    if (w) w(f);
    else frames.push(f);
  });
  ws.on("error", () => {});
  const closed = new Promise<{ code: number; reason: string }>((r) => ws.on("close", (code, reason) => r({ code, reason: reason.toString() })));
  await new Promise<void>((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("error", reject);
  });
  cleanup.push(async () => ws.terminate());
  const next = () => (frames.length ? Promise.resolve(frames.shift()!) : new Promise<{ data: Buffer; binary: boolean }>((r) => waiters.push(r)));
  return { ws, next, closed };
}

describe("messages and replies at /ws", () => {
  it("a text message gets its reply as a text frame", async () => {
    const { t } = await start();
    assert.equal(t.url, `ws://127.0.0.1:${t.port}/ws`);
    const c = await client(t.url);
    c.ws.send('{"jsonrpc":"2.0","id":1}');
    const f = await c.next();
    assert.equal(f.binary, false);
    assert.equal(f.data.toString(), '{"jsonrpc":"2.0","id":1}');
  });

  it("a binary message is accepted; the reply is text by default and binary with replyFrame as-request", async () => {
    const { t } = await start();
    const c = await client(t.url);
    c.ws.send(Buffer.from("[1,2]"), { binary: true });
    const f = await c.next();
    assert.equal(f.binary, false);
    assert.equal(f.data.toString(), "[1,2]");
    const { t: t2 } = await start({ replyFrame: "as-request" });
    const c2 = await client(t2.url);
    c2.ws.send(Buffer.from([0x93, 0x00, 0x01]), { binary: true });
    const g = await c2.next();
    assert.equal(g.binary, true);
    assert.deepEqual(g.data, Buffer.from([0x93, 0x00, 0x01]));
    c2.ws.send("text");
    assert.equal((await c2.next()).binary, false);
  });

  it("a fragmented message with a multi-byte character split across fragments arrives whole", async () => {
    const { t, loop } = await start();
    const c = await client(t.url);
    const bytes = Buffer.from('{"s":"€😀"}');
    const cut = bytes.indexOf(0xe2) + 1;
    c.ws.send(bytes.subarray(0, cut), { fin: false, binary: false });
    c.ws.send(bytes.subarray(cut, cut + 3), { fin: false, binary: false });
    c.ws.send(bytes.subarray(cut + 3), { fin: true, binary: false });
    const f = await c.next();
    assert.deepEqual(f.data, bytes);
    await t.close();
    assert.deepEqual((await loop).map((m) => Buffer.from(m).toString()), ['{"s":"€😀"}']);
  });

  it("an empty reply (notification) is an empty text frame", async () => {
    const { t } = await start();
    const c = await client(t.url);
    c.ws.send("notify");
    const f = await c.next();
    assert.equal(f.binary, false);
    assert.equal(f.data.length, 0);
  });

  it("pipelined requests are all answered, in request order, though handled concurrently", async () => {
    const release = deferred();
    const { t } = await start({}, async (m) => {
      const text = Buffer.from(m).toString();
      // "slow" is held until the last message was handed over: the others run meanwhile.
      if (text === "slow") await release.promise;
      if (text === "e") release.resolve();
      return echo(m);
    });
    const c = await client(t.url);
    for (const m of ["slow", "b", "c", "notify", "e"]) c.ws.send(m);
    const handled: string[] = [];
    for (let i = 0; i < 5; i++) handled.push((await c.next()).data.toString());
    assert.deepEqual(handled, ["slow", "b", "c", "", "e"]);
  });

  it("a connection pipelining past maxPendingPerConnection is paused, resumes once answered, and every message is answered in order", async () => {
    const t = await WebSocketServerTransport.listen({ port: 0, maxPendingPerConnection: 2 });
    cleanup.push(() => t.close());
    const c = await client(t.url);
    for (let i = 0; i < 50; i++) c.ws.send(`m${i}`);
    const first = await t.receiveMessage();
    const second = await t.receiveMessage();
    assert.ok(first && second);
    // Two unanswered messages: reading from this connection has stopped.
    assert.equal(first.context.socket.isPaused, true);
    await t.sendReply(first.context, first.message);
    await t.sendReply(second.context, second.message);
    void serve(t);
    const got: string[] = [];
    for (let i = 0; i < 50; i++) got.push((await c.next()).data.toString());
    assert.deepEqual(got, Array.from({ length: 50 }, (_, i) => `m${i}`));
    // Everything answered: reading resumed.
    assert.equal(first.context.socket.isPaused, false);
  });

  it("pings are answered with pongs", async () => {
    const { t } = await start();
    const c = await client(t.url);
    const pong = new Promise<Buffer>((r) => c.ws.once("pong", r));
    c.ws.ping(Buffer.from("hi"));
    assert.equal((await pong).toString(), "hi");
  });
});

describe("limits and bad frames close the connection; the server keeps serving", () => {
  it("a message over maxMessageBytes: close 1009, and a new connection is served", async () => {
    const { t, loop } = await start({ maxMessageBytes: 1024 });
    const c = await client(t.url);
    c.ws.send(Buffer.alloc(1025, 0x20));
    assert.equal((await c.closed).code, 1009);
    const d = await client(t.url);
    d.ws.send(Buffer.alloc(1024, 0x31));
    assert.equal((await d.next()).data.length, 1024);
    await t.close();
    assert.deepEqual((await loop).map((m) => m.length), [1024]);
  });

  it("a text frame with invalid UTF-8: close 1007 before the message is handed over", async () => {
    const errors: Error[] = [];
    const { t, loop } = await start({ onConnectionError: (e) => errors.push(e) });
    const c = await client(t.url);
    c.ws.send(Buffer.from([0x7b, 0xc3, 0x28, 0x7d]), { binary: false });
    assert.equal((await c.closed).code, 1007);
    const d = await client(t.url);
    d.ws.send("ok");
    assert.equal((await d.next()).data.toString(), "ok");
    await t.close();
    assert.deepEqual((await loop).map((m) => Buffer.from(m).toString()), ["ok"]);
    assert.equal(errors.length, 1);
  });
});

describe("HTTP paths around the endpoint", () => {
  it("a plain GET elsewhere: 404; a plain GET at /ws: 426", async () => {
    const { t } = await start();
    const base = `http://127.0.0.1:${t.port}`;
    assert.equal((await request(base + "/", { method: "GET" })).status, 404);
    assert.equal((await request(base + "/ws", { method: "GET" })).status, 426);
  });

  it("a WebSocket upgrade on another path: 404", async () => {
    const { t } = await start();
    const ws = new WebSocket(`ws://127.0.0.1:${t.port}/other`);
    const status = await new Promise<number>((resolve) => {
      ws.on("unexpected-response", (_req, res) => resolve(res.statusCode!));
      ws.on("error", () => resolve(-1));
    });
    assert.equal(status, 404);
  });

  it("attach(): HTTP POST and WebSocket on one port", async () => {
    const http = await HttpServerTransport.listen({ port: 0 });
    const ws = WebSocketServerTransport.attach(http.server, { path: "/ws" });
    cleanup.push(async () => {
      await ws.close();
      await http.close();
    });
    void serve(http);
    void serve(ws);
    assert.equal((await request(`http://127.0.0.1:${http.port}/`, { body: "over http" })).body.toString(), "over http");
    const c = await client(`ws://127.0.0.1:${http.port}/ws`);
    c.ws.send("over ws");
    assert.equal((await c.next()).data.toString(), "over ws");
  });
});

describe("attach() and the order of closing", () => {
  it("closing the HTTP transport first still finishes: attached WebSocket connections are cut (1006) after closeGraceMs", async () => {
    const http = await HttpServerTransport.listen({ port: 0, closeGraceMs: 20 });
    const ws = WebSocketServerTransport.attach(http.server);
    void serve(ws);
    const c = await client(`ws://127.0.0.1:${http.port}/ws`);
    c.ws.send("x");
    assert.equal((await c.next()).data.toString(), "x");
    await http.close();
    assert.equal((await c.closed).code, 1006);
    await ws.close();
  });
});

describe("replies to gone clients, double replies, close()", () => {
  it("sendReply after the client disconnected resolves without throwing", async () => {
    const t = await WebSocketServerTransport.listen({ port: 0 });
    cleanup.push(() => t.close());
    const c = await client(t.url);
    c.ws.send("hello");
    const m = await t.receiveMessage();
    assert.ok(m);
    const gone = new Promise((r) => m.context.socket.once("close", r));
    c.ws.terminate();
    await gone;
    await t.sendReply(m.context, Buffer.from("late"));
  });

  it("a second sendReply for one message throws TRANSPORT", async () => {
    const t = await WebSocketServerTransport.listen({ port: 0 });
    cleanup.push(() => t.close());
    const c = await client(t.url);
    c.ws.send("once");
    const m = await t.receiveMessage();
    assert.ok(m);
    await t.sendReply(m.context, Buffer.from("one"));
    await assert.rejects(t.sendReply(m.context, Buffer.from("two")), (e: unknown) => e instanceof SwitchboardError && e.code === ErrorCode.TRANSPORT);
    assert.equal((await c.next()).data.toString(), "one");
  });

  it("close(): clients get 1001, pending receiveMessage resolves undefined, the listener stops", async () => {
    const t = await WebSocketServerTransport.listen({ port: 0 });
    const c = await client(t.url);
    const waiting = t.receiveMessage();
    await t.close();
    assert.equal(await waiting, undefined);
    assert.equal((await c.closed).code, 1001);
    assert.equal(t.server.listening, false);
  });
});
