// Bad input over HTTP (HttpServerTransport + RPCServer): hostile bodies answered 200 with the
// exact JSON-RPC error on a connection that keeps serving, the size limit at and just over a
// small configured limit, slowloris clients dribbling headers or body, and clients that vanish
// mid-reply or while their method runs. (The 4 MiB default, declared/chunked 413 and a stalled
// body are in transports/http-server.test.ts.)
import assert from "node:assert/strict";
import * as http from "node:http";
import * as net from "node:net";
import { after, before, describe, it } from "node:test";
import { HttpServerTransport } from "../../../src/jsonrpc/index.js";
import { deferred, request } from "../transports/http-ws-helpers.js";
import { assertBadReply, BAD_MESSAGES, call, echoReply, PROBE, PROBE_REPLY, serveRpc, type RunningServer } from "./helpers.js";
import type { HttpRequestContext } from "../../../src/jsonrpc/index.js";

let t: HttpServerTransport;
let rpc: RunningServer<HttpRequestContext>;
let url: string;
before(async () => {
  t = await HttpServerTransport.listen({ port: 0, requestTimeoutMs: 1000 });
  rpc = serveRpc(t, { maxBatchLength: 10 });
  url = t.url;
});
after(() => rpc.stop());

async function probe(agent?: http.Agent): Promise<boolean> {
  const r = await request(url, { body: PROBE, ...(agent ? { agent } : {}) });
  assert.equal(r.status, 200);
  assert.equal(r.body.toString(), PROBE_REPLY);
  return r.reusedSocket;
}

/** An echo request of exactly `size` bytes. */
function sized(size: number): string {
  const bare = call("echo", [""], "s");
  return call("echo", ["x".repeat(size - bare.length)], "s");
}

describe("hostile bodies: 200 with the exact JSON-RPC error, and the same keep-alive connection serves the next request", () => {
  for (const bad of BAD_MESSAGES) {
    it(`${bad.label} -> 200 application/json, ${bad.code} id null`, async () => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      try {
        const r = await request(url, { body: bad.body, agent });
        assert.equal(r.status, 200);
        assert.equal(r.headers["content-type"], "application/json");
        assertBadReply(r.body, bad);
        assert.equal(await probe(agent), true, "the probe reused the connection");
      } finally {
        agent.destroy();
      }
    });
  }

  it("an empty body -> 200 with -32700", async () => {
    const r = await request(url, { body: "" });
    assert.equal(r.status, 200);
    assert.equal(JSON.parse(r.body.toString()).error.code, -32700);
    await probe();
  });

  it("a batch of 10 notifications -> 204 with no body, and all ran", async () => {
    const before = rpc.bumps();
    const r = await request(url, { body: `[${Array(10).fill('{"jsonrpc":"2.0","method":"bump"}').join(",")}]` });
    assert.equal(r.status, 204);
    assert.equal(r.body.length, 0);
    assert.equal(rpc.bumps(), before + 10);
    await probe();
  });
});

describe("size limit at and just over a configured 1024 bytes", () => {
  it("exactly 1024 bytes -> 200 with the result; 1025 bytes -> 413; then 200 again", async () => {
    const small = await HttpServerTransport.listen({ port: 0, maxMessageBytes: 1024 });
    const s = serveRpc(small);
    try {
      const atLimit = sized(1024);
      assert.equal(Buffer.byteLength(atLimit), 1024);
      const ok = await request(small.url, { body: atLimit });
      assert.equal(ok.status, 200);
      assert.equal(JSON.parse(ok.body.toString()).result.length, 1024 - call("echo", [""], "s").length);
      const over = sized(1025);
      assert.equal((await request(small.url, { body: over })).status, 413);
      // the same over-limit body sent chunked (no Content-Length) is refused the same way
      assert.equal((await request(small.url, { body: [Buffer.from(over.slice(0, 600)), Buffer.from(over.slice(600))] })).status, 413);
      const again = await request(small.url, { body: PROBE });
      assert.deepEqual([again.status, again.body.toString()], [200, PROBE_REPLY]);
    } finally {
      await s.stop();
    }
  });
});

/** Writes `text` to a raw connection one byte per tick of `everyMs`; resolves with what came back once the server closes. */
function dribble(text: string, everyMs: number): Promise<string> {
  return new Promise((resolve) => {
    const sock = net.connect(t.port, "127.0.0.1");
    sock.on("error", () => {});
    let answer = "";
    let i = 0;
    sock.on("data", (d: Buffer) => (answer += d.toString("latin1")));
    // bounded: stops at the end of the text even if the server never reacted
    const timer = setInterval(() => {
      if (i < text.length && sock.writable) sock.write(text[i++]!);
    }, everyMs);
    sock.once("close", () => {
      clearInterval(timer);
      resolve(answer);
    });
  });
}

describe("slowloris: a request still arriving after requestTimeoutMs is answered 408 and closed, other clients are served meanwhile", () => {
  it("headers dribbled one byte at a time -> 408", async () => {
    const headers = `POST / HTTP/1.1\r\nHost: x\r\nX-Pad: ${"p".repeat(2000)}\r\nContent-Length: 2\r\n\r\n{}`;
    const answer = dribble(headers, 5);
    assert.equal(await probe(), false);
    assert.match(await answer, /^HTTP\/1\.1 408 /);
    await probe();
  });

  it("a body dribbled one byte at a time (never idle, never complete in time) -> 408", async () => {
    const body = PROBE.padEnd(2000, " ");
    const answer = dribble(`POST / HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n${body}`, 5);
    assert.equal(await probe(), false);
    assert.match(await answer, /^HTTP\/1\.1 408 /);
    await probe();
  });
});

describe("a client that pipelines requests and never reads the replies", () => {
  it("the server stops reading from it (bounded buffering); once it reads, every reply arrives (200 each)", async () => {
    const size = 128 * 1024;
    const total = 400; // 50 MiB each way if nothing pushed back
    // its own server: the shared one's short requestTimeoutMs could cut a request parked by backpressure
    const pt = await HttpServerTransport.listen({ port: 0 });
    const p = serveRpc(pt);
    let serverSocket: net.Socket | undefined;
    let received = 0;
    let maxBuffered = 0;
    p.server.trace = (dir, ctx) => {
      if (dir !== "-->") return;
      serverSocket = ctx.request.socket;
      received++;
      maxBuffered = Math.max(maxBuffered, serverSocket.writableLength);
    };
    const sock = net.connect(pt.port, "127.0.0.1");
    sock.on("error", () => {});
    try {
      sock.pause();
      const body = call("echo", ["x".repeat(size)], 1);
      for (let i = 0; i < total; i++) sock.write(`POST / HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
      // Wait (bounded) for the stuck state, or (the failure) every request taken in.
      const deadline = Date.now() + 60_000;
      for (;;) {
        const stuck = serverSocket !== undefined && serverSocket.isPaused() && serverSocket.writableLength > 0 && sock.writableLength > 0;
        if (stuck || received === total || Date.now() > deadline) break;
        await new Promise((r) => setTimeout(r, 10));
      }
      assert.ok(received < total, `the server read all ${total} requests (${maxBuffered} reply bytes buffered) while the client read nothing`);
      assert.ok(maxBuffered <= 4 * (size + 1024), `about one reply buffered, saw ${maxBuffered} bytes`);
      // Read everything: 400 responses, each 200 with the echo
      const expected = Buffer.byteLength(echoReply("x".repeat(size), 1));
      let all = "";
      let count = 0;
      const done = deferred();
      sock.setEncoding("latin1");
      sock.on("data", (d: string) => {
        all += d;
        for (let end = all.indexOf("\r\n\r\n"); end >= 0; end = all.indexOf("\r\n\r\n")) {
          const head = all.slice(0, end);
          const length = Number(/content-length: (\d+)/i.exec(head)?.[1]);
          if (all.length < end + 4 + length) break;
          assert.match(head, /^HTTP\/1\.1 200 /);
          assert.equal(length, expected);
          all = all.slice(end + 4 + length);
          if (++count === total) done.resolve();
        }
      });
      sock.resume();
      await done.promise;
      const again = await request(pt.url, { body: PROBE });
      assert.deepEqual([again.status, again.body.toString()], [200, PROBE_REPLY]);
    } finally {
      sock.destroy();
      await p.stop();
    }
  });
});

describe("clients that vanish: no crash, no onError (a gone client is not a failure), others unaffected", () => {
  it("socket destroyed while its method runs; a concurrent client still gets its result", async () => {
    const errorsBefore = rpc.errors.length;
    const sock = net.connect(t.port, "127.0.0.1");
    sock.on("error", () => {});
    const body = call("hold", ["gone"], 1);
    sock.write(`POST / HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    const other = request(url, { body: call("hold", ["stays"], 2) });
    await Promise.all([rpc.gate.entered("gone"), rpc.gate.entered("stays")]);
    const closed = new Promise<void>((r) => sock.once("close", () => r()));
    sock.destroy();
    await closed;
    rpc.gate.release("gone");
    rpc.gate.release("stays");
    const r = await other;
    assert.deepEqual([r.status, r.body.toString()], [200, '{"jsonrpc":"2.0","id":2,"result":"stays"}']);
    await probe();
    assert.equal(rpc.errors.length, errorsBefore);
  });

  it("socket destroyed mid-reply (first chunk of an 8 MiB result read) -> the next request is served", async () => {
    const errorsBefore = rpc.errors.length;
    const gotSome = deferred();
    const closed = deferred();
    const req = http.request(url, { method: "POST", agent: false }, (res) => {
      assert.equal(res.statusCode, 200);
      res.once("data", () => gotSome.resolve());
    });
    req.on("error", () => {});
    req.on("close", () => closed.resolve());
    req.end(call("big", [8 * 1024 * 1024], 3));
    await gotSome.promise;
    req.destroy();
    await closed.promise;
    await probe();
    assert.equal(rpc.errors.length, errorsBefore);
  });

  it("socket destroyed mid-body (Content-Length 100, 7 bytes sent) -> no message handled, the next request is served", async () => {
    const traced: string[] = [];
    rpc.server.trace = (dir, _ctx, m) => void (dir === "-->" && traced.push(Buffer.from(m).toString()));
    try {
      const seen = deferred();
      t.server.once("request", () => seen.resolve());
      const sock = net.connect(t.port, "127.0.0.1");
      sock.on("error", () => {});
      sock.write("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\npartial");
      await seen.promise;
      const closed = new Promise<void>((r) => sock.once("close", () => r()));
      sock.destroy();
      await closed;
      await probe();
      assert.deepEqual(traced, [PROBE]);
    } finally {
      rpc.server.trace = undefined;
    }
  });
});
