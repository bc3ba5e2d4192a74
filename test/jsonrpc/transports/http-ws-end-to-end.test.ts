// RPCServer + JSONRPCProtocol + RPCDispatcher over the HTTP and WebSocket transports, called
// by RPCClient over the matching client transports and by raw HTTP/WebSocket peers.
import { after, before, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import { WebSocket } from "ws";
import { JSONRPCError, JSONRPCProtocol, RPCClient, RPCServer, type ClientTransport } from "../../../src/jsonrpc/index.js";
import { HttpClientTransport, HttpServerTransport, type HttpRequestContext } from "../../../src/jsonrpc/transports/http.js";
import { WebSocketClientTransport, WebSocketServerTransport } from "../../../src/jsonrpc/transports/websocket.js";
import { exampleDispatcher, request } from "./http-ws-helpers.js";

const { dispatcher, counter } = exampleDispatcher();
let http: HttpServerTransport;
let ws: WebSocketServerTransport;
let serving: Promise<void>[] = [];
const traced: { direction: string; text: string }[] = [];

before(async () => {
  http = await HttpServerTransport.listen({ port: 0, maxMessageBytes: 64 * 1024 });
  ws = await WebSocketServerTransport.listen({ port: 0, maxMessageBytes: 64 * 1024 });
  const httpServer = new RPCServer<HttpRequestContext>(http, new JSONRPCProtocol(), dispatcher, {
    trace: (direction, _context, message) => traced.push({ direction, text: Buffer.from(message).toString() }),
  });
  serving = [httpServer.serveForever(), new RPCServer(ws, new JSONRPCProtocol(), dispatcher).serveForever()];
});

after(async () => {
  await Promise.all([http.close(), ws.close()]);
  // serveForever resolves once its transport is closed
  await Promise.all(serving);
});

const clients: [string, () => Promise<ClientTransport>][] = [
  ["HTTP", async () => new HttpClientTransport(http.url)],
  ["WebSocket", () => WebSocketClientTransport.connect(ws.url)],
];

for (const [name, open] of clients) {
  describe(`RPCClient over ${name}`, () => {
    it("positional, named, sub-dispatcher and proxy calls return their results", async () => {
      const client = new RPCClient(new JSONRPCProtocol(), await open());
      try {
        assert.equal(await client.call("echo", ["héllo € 😀"]), "héllo € 😀");
        assert.equal(await client.call("add", [2, 3]), 5);
        assert.equal(await client.call("add", { b: "cd", a: "ab" }), "abcd");
        assert.equal(await client.call("math.mul", [6, 7]), 42);
        const proxy = client.getProxy<{ add(a: number, b: number): number }>();
        assert.equal(await proxy.add(40, 2), 42);
      } finally {
        await client.close();
      }
    });

    it("an application error arrives as JSONRPCError -32000 with the thrown message", async () => {
      const client = new RPCClient(new JSONRPCProtocol(), await open());
      try {
        await assert.rejects(client.call("fail", ["boom"]), (e: unknown) => e instanceof JSONRPCError && e.code === -32000 && e.message === "boom");
        await assert.rejects(client.call("nope"), (e: unknown) => e instanceof JSONRPCError && e.code === -32601);
      } finally {
        await client.close();
      }
    });

    it("a notification gets the empty transport reply and the next call is answered", async () => {
      const client = new RPCClient(new JSONRPCProtocol(), await open());
      try {
        const before = counter.bumps;
        await client.notify("bump");
        await client.getProxy<{ bump(): void }>("", { oneWay: true }).bump();
        assert.equal(await client.call("notify_count"), before + 2);
      } finally {
        await client.close();
      }
    });

    it("a batch of calls comes back in order, errors per entry", async () => {
      const client = new RPCClient(new JSONRPCProtocol(), await open());
      try {
        const results = await client.batchCall([{ method: "echo", params: [1] }, { method: "fail", params: ["x"] }, { method: "math.mul", params: [2, 4] }]);
        assert.deepEqual(results[0], { ok: true, result: 1 });
        assert.equal(results[1]!.ok, false);
        assert.deepEqual(results[2], { ok: true, result: 8 });
      } finally {
        await client.close();
      }
    });
  });
}

describe("raw peers against the JSON-RPC server", () => {
  it("HTTP: a JSON-RPC error is status 200 application/json; a notification 204; invalid UTF-8 is -32700", async () => {
    const err = await request(http.url, { body: '{"jsonrpc":"2.0","id":7,"method":"nope"}' });
    assert.equal(err.status, 200);
    assert.equal(err.headers["content-type"], "application/json");
    const body = JSON.parse(err.body.toString());
    assert.equal(body.id, 7);
    assert.equal(body.error.code, -32601);
    assert.equal(body.error.message, "Method not found");
    const note = await request(http.url, { body: '{"jsonrpc":"2.0","method":"bump"}' });
    assert.equal(note.status, 204);
    assert.equal(note.body.length, 0);
    const bad = await request(http.url, { body: Buffer.from([0x7b, 0xc3, 0x28, 0x7d]) });
    assert.equal(bad.status, 200);
    assert.equal(JSON.parse(bad.body.toString()).error.code, -32700);
  });

  it("HTTP: a body over the limit is 413 and the server keeps serving", async () => {
    const big = await request(http.url, { body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "echo", params: ["x".repeat(70 * 1024)] }) });
    assert.equal(big.status, 413);
    const ok = await request(http.url, { body: '{"jsonrpc":"2.0","id":2,"method":"echo","params":["ok"]}' });
    assert.deepEqual(JSON.parse(ok.body.toString()), { jsonrpc: "2.0", id: 2, result: "ok" });
  });

  it("trace sees '-->' with the request bytes and '<--' with the reply, none for a notification's empty reply", async () => {
    traced.length = 0;
    await request(http.url, { body: '{"jsonrpc":"2.0","id":"t","method":"echo","params":[1]}' });
    await request(http.url, { body: '{"jsonrpc":"2.0","method":"bump"}' });
    assert.deepEqual(traced, [
      { direction: "-->", text: '{"jsonrpc":"2.0","id":"t","method":"echo","params":[1]}' },
      { direction: "<--", text: '{"jsonrpc":"2.0","id":"t","result":1}' },
      { direction: "-->", text: '{"jsonrpc":"2.0","method":"bump"}' },
    ]);
  });

  it("WebSocket: pipelined requests on one connection are answered in order, notifications with an empty frame", async () => {
    const sock = new WebSocket(ws.url);
    await new Promise((r, j) => sock.once("open", r).once("error", j));
    const frames: string[] = [];
    const all = new Promise<void>((resolve) =>
      sock.on("message", (d) => {
        frames.push(d.toString());
        if (frames.length === 4) resolve();
      }),
    );
    sock.send('{"jsonrpc":"2.0","id":1,"method":"slow","params":[0.05]}');
    sock.send('{"jsonrpc":"2.0","id":2,"method":"echo","params":["fast"]}');
    sock.send('{"jsonrpc":"2.0","method":"bump"}');
    sock.send("[]");
    await all;
    sock.close();
    assert.deepEqual(frames.slice(0, 3).map((f) => (f ? JSON.parse(f) : "")), [{ jsonrpc: "2.0", id: 1, result: 0.05 }, { jsonrpc: "2.0", id: 2, result: "fast" }, ""]);
    assert.equal(JSON.parse(frames[3]!).error.code, -32600);
  });

  it("WebSocket: a message over the limit closes with 1009; a new connection is served", async () => {
    const sock = new WebSocket(ws.url);
    sock.on("error", () => {});
    await new Promise((r) => sock.once("open", r));
    const closed = new Promise<number>((r) => sock.once("close", r));
    sock.send(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "echo", params: ["x".repeat(70 * 1024)] }));
    assert.equal(await closed, 1009);
    const client = new RPCClient(new JSONRPCProtocol(), await WebSocketClientTransport.connect(ws.url));
    assert.equal(await client.call("echo", ["still"]), "still");
    await client.close();
  });
});
