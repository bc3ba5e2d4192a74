// HttpServerTransport against real sockets on 127.0.0.1: every rule of the HTTP front, with
// the status code each one answers.
import { after, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as http from "node:http";
import * as net from "node:net";
import { ErrorCode, SwitchboardError } from "../../../src/errors.js";
import { DEFAULT_MAX_MESSAGE_BYTES } from "../../../src/jsonrpc/transport.js";
import { HttpServerTransport, type HttpListenOptions } from "../../../src/jsonrpc/transports/http.js";
import { deferred, echo, request, serve, type Handler } from "./http-ws-helpers.js";

const open: HttpServerTransport[] = [];
after(() => Promise.all(open.map((t) => t.close())));

async function start(options: HttpListenOptions = {}, handler: Handler = echo): Promise<{ t: HttpServerTransport; url: string; loop: Promise<Uint8Array[]> }> {
  const t = await HttpServerTransport.listen({ host: "127.0.0.1", port: 0, ...options });
  open.push(t);
  return { t, url: `http://127.0.0.1:${t.port}`, loop: serve(t, handler) };
}

describe("POST carries one message and gets its reply (200 application/json)", () => {
  it("any path, no Content-Type: 200 with the reply and application/json", async () => {
    const { url } = await start();
    for (const path of ["/", "/rpc", "/a/b?x=1"]) {
      const r = await request(url + path, { body: '{"jsonrpc":"2.0","id":1}' });
      assert.equal(r.status, 200);
      assert.equal(r.headers["content-type"], "application/json");
      assert.equal(r.body.toString(), '{"jsonrpc":"2.0","id":1}');
    }
  });

  it("any request Content-Type is accepted (form-urlencoded as curl sends it): 200", async () => {
    const { url } = await start();
    const r = await request(url, { body: "[1]", headers: { "content-type": "application/x-www-form-urlencoded" } });
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), "[1]");
  });

  it("the message is the raw body bytes, byte for byte", async () => {
    const { url } = await start();
    const body = Buffer.from([0x00, 0xff, 0xc3, 0x28, 0x7b]);
    const r = await request(url, { body });
    assert.deepEqual(r.body, body);
  });

  it("keep-alive: a second request reuses the connection: 200 both", async () => {
    const { url } = await start();
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const a = await request(url, { body: "a", agent });
      const b = await request(url, { body: "b", agent });
      assert.equal(a.status, 200);
      assert.equal(b.status, 200);
      assert.equal(b.body.toString(), "b");
      assert.equal(b.reusedSocket, true);
    } finally {
      agent.destroy();
    }
  });

  it("chunked body with a multi-byte UTF-8 character split across chunks arrives whole: 200", async () => {
    const { url } = await start();
    const text = `{"s":"€😀ü"}`;
    const bytes = Buffer.from(text);
    const euro = bytes.indexOf(0xe2);
    const chunks = [bytes.subarray(0, euro + 1), bytes.subarray(euro + 1, euro + 5), bytes.subarray(euro + 5)];
    const r = await request(url, { body: chunks });
    assert.equal(r.status, 200);
    assert.equal(new TextDecoder("utf-8", { fatal: true }).decode(r.body), text);
  });
});

describe("empty reply (notification): 204 No Content", () => {
  it("an empty reply answers 204 with no body", async () => {
    const { url } = await start();
    const r = await request(url, { body: "notify me" });
    assert.equal(r.status, 204);
    assert.equal(r.body.length, 0);
  });
});

describe("size limit: 413, and the server keeps serving", () => {
  it("a declared Content-Length over the limit: 413 without reaching receiveMessage", async () => {
    const { t, url, loop } = await start({ maxMessageBytes: 1024 });
    const r = await request(url, { body: Buffer.alloc(1025, 0x20) });
    assert.equal(r.status, 413);
    assert.match(r.body.toString(), /exceeds the limit of 1024 bytes/);
    const ok = await request(url, { body: Buffer.alloc(1024, 0x31) });
    assert.equal(ok.status, 200);
    assert.equal(ok.body.length, 1024);
    await t.close();
    assert.deepEqual((await loop).map((m) => m.length), [1024]);
  });

  it("a chunked body growing over the limit: 413, and the same keep-alive connection serves the next request", async () => {
    const { t, url, loop } = await start({ maxMessageBytes: 1000 });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const r = await request(url, { body: [Buffer.alloc(600, 0x20), Buffer.alloc(600, 0x20), Buffer.alloc(600, 0x20)], agent });
      assert.equal(r.status, 413);
      const ok = await request(url, { body: "after", agent });
      assert.equal(ok.status, 200);
      assert.equal(ok.body.toString(), "after");
    } finally {
      agent.destroy();
    }
    await t.close();
    assert.deepEqual((await loop).map((m) => Buffer.from(m).toString()), ["after"]);
  });

  it("a body far over the limit (8x, declared): 413 arrives intact", async () => {
    const { url } = await start({ maxMessageBytes: 64 * 1024 });
    const r = await request(url, { body: Buffer.alloc(512 * 1024, 0x20) });
    assert.equal(r.status, 413);
    const ok = await request(url, { body: "still serving" });
    assert.equal(ok.status, 200);
  });

  it("the default limit is 4 MiB: a body of exactly 4 MiB passes (200), one byte more gets 413", async () => {
    const { url } = await start({}, () => Buffer.from("ok"));
    assert.equal(DEFAULT_MAX_MESSAGE_BYTES, 4 * 1024 * 1024);
    assert.equal((await request(url, { body: Buffer.alloc(DEFAULT_MAX_MESSAGE_BYTES, 0x20) })).status, 200);
    assert.equal((await request(url, { body: Buffer.alloc(DEFAULT_MAX_MESSAGE_BYTES + 1, 0x20) })).status, 413);
  });
});

describe("methods other than POST", () => {
  it("GET, PUT, DELETE: 405 with Allow: POST, OPTIONS", async () => {
    const { url } = await start();
    for (const method of ["GET", "PUT", "DELETE"]) {
      const r = await request(url, { method });
      assert.equal(r.status, 405, method);
      assert.equal(r.headers["allow"], "POST, OPTIONS");
    }
  });

  it("OPTIONS without CORS configured: 204 with Allow and no CORS headers", async () => {
    const { url } = await start();
    const r = await request(url, { method: "OPTIONS" });
    assert.equal(r.status, 204);
    assert.equal(r.headers["allow"], "POST, OPTIONS");
    assert.equal(r.headers["access-control-allow-origin"], undefined);
  });

  it("OPTIONS with CORS: 200 preflight as tinyrpc (methods, origin, headers); replies carry the origin", async () => {
    const { url } = await start({ cors: { origin: "https://app.example" } });
    const pre = await request(url, { method: "OPTIONS", headers: { origin: "https://app.example", "access-control-request-method": "POST" } });
    assert.equal(pre.status, 200);
    assert.equal(pre.body.length, 0);
    assert.equal(pre.headers["access-control-allow-methods"], "POST");
    assert.equal(pre.headers["access-control-allow-origin"], "https://app.example");
    assert.equal(pre.headers["access-control-allow-headers"], "Content-Type, X-Requested-With, Accept, Origin");
    const post = await request(url, { body: "{}" });
    assert.equal(post.status, 200);
    assert.equal(post.headers["access-control-allow-origin"], "https://app.example");
    const note = await request(url, { body: "notify" });
    assert.equal(note.status, 204);
    assert.equal(note.headers["access-control-allow-origin"], "https://app.example");
  });
});

describe("a configured path", () => {
  it("serves only that path: 200 there, 404 elsewhere", async () => {
    const { url } = await start({ path: "/rpc" });
    assert.equal((await request(url + "/rpc?v=1", { body: "x" })).status, 200);
    assert.equal((await request(url + "/other", { body: "x" })).status, 404);
    assert.equal((await request(url + "/", { body: "x" })).status, 404);
  });
});

describe("a client that leaves before its reply", () => {
  it("sendReply resolves without throwing, and the server keeps serving (200)", async () => {
    const t = await HttpServerTransport.listen({ port: 0 });
    open.push(t);
    const sock = net.connect(t.port, "127.0.0.1");
    sock.on("error", () => {});
    sock.write("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
    const m = await t.receiveMessage();
    assert.ok(m);
    assert.equal(Buffer.from(m.message).toString(), "hello");
    const gone = deferred();
    m.context.response.once("close", () => gone.resolve());
    sock.destroy();
    await gone.promise;
    await t.sendReply(m.context, Buffer.from("late"));
    const loop = serve(t);
    const ok = await request(`http://127.0.0.1:${t.port}`, { body: "next" });
    assert.equal(ok.status, 200);
    await t.close();
    await loop;
  });

  it("a client that leaves mid-body never produces a message", async () => {
    const t = await HttpServerTransport.listen({ port: 0 });
    open.push(t);
    const seenConnection = deferred();
    t.server.once("request", () => seenConnection.resolve());
    const sock = net.connect(t.port, "127.0.0.1");
    sock.on("error", () => {});
    sock.write("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\npartial");
    await seenConnection.promise;
    const closed = deferred();
    sock.once("close", () => closed.resolve());
    sock.destroy();
    await closed.promise;
    const loop = serve(t);
    assert.equal((await request(`http://127.0.0.1:${t.port}`, { body: "whole" })).status, 200);
    await t.close();
    assert.deepEqual((await loop).map((b) => Buffer.from(b).toString()), ["whole"]);
  });
});

describe("slow clients", () => {
  it("a body that does not arrive within requestTimeoutMs: 408, connection closed, the server keeps serving", async () => {
    const { t, url } = await start({ requestTimeoutMs: 200 });
    const sock = net.connect(t.port, "127.0.0.1");
    sock.on("error", () => {});
    let answer = "";
    sock.on("data", (d: Buffer) => (answer += d.toString("latin1")));
    const closed = new Promise<void>((r) => sock.once("close", () => r()));
    sock.write("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly part");
    await closed;
    assert.match(answer, /^HTTP\/1\.1 408 /);
    assert.equal((await request(url, { body: "next" })).status, 200);
  });
});

describe("the reply contract", () => {
  it("a second sendReply for one request throws TRANSPORT", async () => {
    const t = await HttpServerTransport.listen({ port: 0 });
    open.push(t);
    const pending = request(`http://127.0.0.1:${t.port}`, { body: "once" });
    const m = await t.receiveMessage();
    assert.ok(m);
    await t.sendReply(m.context, Buffer.from("one"));
    await assert.rejects(t.sendReply(m.context, Buffer.from("two")), (e: unknown) => e instanceof SwitchboardError && e.code === ErrorCode.TRANSPORT);
    assert.equal((await pending).body.toString(), "one");
  });

  it("maxMessageBytes must be a positive integer", async () => {
    await assert.rejects(HttpServerTransport.listen({ maxMessageBytes: 0 }), RangeError);
  });
});

describe("close()", () => {
  it("pending receiveMessage resolves undefined, the listener stops and idle keep-alive connections end", async () => {
    const t = await HttpServerTransport.listen({ port: 0 });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const loop = serve(t);
    const sockets: net.Socket[] = [];
    agent.on("free", (s: net.Socket) => sockets.push(s));
    assert.equal((await request(`http://127.0.0.1:${t.port}`, { body: "x", agent })).status, 200);
    const idle = sockets[0]!;
    const ended = deferred();
    idle.once("close", () => ended.resolve());
    const waiting = t.receiveMessage();
    await t.close();
    assert.equal(await waiting, undefined);
    await loop;
    await ended.promise;
    assert.equal(t.server.listening, false);
    agent.destroy();
  });

  it("a request in flight at close() still gets its reply (200), then receiveMessage resolves undefined", async () => {
    const t = await HttpServerTransport.listen({ port: 0 });
    const pending = request(`http://127.0.0.1:${t.port}`, { body: "in flight" });
    const m = await t.receiveMessage();
    assert.ok(m);
    const closing = t.close();
    await t.sendReply(m.context, m.message);
    const r = await pending;
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), "in flight");
    await closing;
    assert.equal(await t.receiveMessage(), undefined);
  });

  it("attach(): serves on an existing server, close() detaches without stopping it", async () => {
    const server = http.createServer();
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const t = HttpServerTransport.attach(server, { path: "/rpc" });
      const loop = serve(t);
      const url = `http://127.0.0.1:${t.port}/rpc`;
      assert.equal(t.url, url);
      assert.equal((await request(url, { body: "attached" })).body.toString(), "attached");
      await t.close();
      await loop;
      assert.equal(server.listening, true);
      assert.equal(server.listenerCount("request"), 0);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
