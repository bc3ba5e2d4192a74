// HttpClientTransport against real servers on 127.0.0.1: keep-alive, statuses, limits, close.
import { after, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as http from "node:http";
import { ErrorCode, SwitchboardError } from "../../../src/errors.js";
import { HttpClientTransport, HttpServerTransport, HttpStatusError } from "../../../src/jsonrpc/transports/http.js";
import { echo, serve, type Handler } from "./http-ws-helpers.js";

const cleanup: (() => Promise<unknown>)[] = [];
after(() => Promise.all(cleanup.map((f) => f())));

async function start(handler: Handler = echo, maxMessageBytes?: number): Promise<{ t: HttpServerTransport; url: string; connections: () => number }> {
  const t = await HttpServerTransport.listen({ port: 0, ...(maxMessageBytes ? { maxMessageBytes } : {}) });
  let n = 0;
  t.server.on("connection", () => n++);
  void serve(t, handler);
  cleanup.push(() => t.close());
  return { t, url: `http://127.0.0.1:${t.port}/`, connections: () => n };
}

/** A plain server answering every request with one status and body. */
async function fixed(status: number, body: string): Promise<string> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => res.writeHead(status, { "content-type": "text/plain" }).end(body));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  cleanup.push(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  return `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
}

function isCode(code: string) {
  return (e: unknown) => e instanceof SwitchboardError && e.code === code;
}

describe("HttpClientTransport: POST and return the body", () => {
  it("returns the reply bytes and reuses one keep-alive connection across calls", async () => {
    const { url, connections } = await start();
    const c = new HttpClientTransport(url);
    try {
      for (const text of ["one", "two", '{"s":"€"}']) {
        const reply = await c.sendMessage(Buffer.from(text), true);
        assert.equal(Buffer.from(reply!).toString(), text);
      }
      assert.equal(connections(), 1);
    } finally {
      await c.close();
    }
  });

  it("sends Content-Type application/json by default, and the given headers", async () => {
    const { t, url } = await start((m) => m);
    const seen: http.IncomingHttpHeaders[] = [];
    t.server.prependListener("request", (req: http.IncomingMessage) => seen.push(req.headers));
    const c = new HttpClientTransport(url, { headers: { "X-Trace": "abc" } });
    await c.sendMessage(Buffer.from("{}"), true);
    await c.close();
    assert.equal(seen[0]!["content-type"], "application/json");
    assert.equal(seen[0]!["x-trace"], "abc");
  });

  it("expectReply false: reads the 204, resolves undefined, and the connection serves the next call", async () => {
    const { url, connections } = await start();
    const c = new HttpClientTransport(url);
    try {
      assert.equal(await c.sendMessage(Buffer.from("notify"), false), undefined);
      assert.equal(await c.sendMessage(Buffer.from("x"), false), undefined);
      assert.equal(Buffer.from((await c.sendMessage(Buffer.from("notify"), true))!).length, 0);
      assert.equal(Buffer.from((await c.sendMessage(Buffer.from("after"), true))!).toString(), "after");
      assert.equal(connections(), 1);
    } finally {
      await c.close();
    }
  });

  it("many parallel calls each get their own reply", async () => {
    const { url } = await start(async (m) => {
      await new Promise((r) => setTimeout(r, (m[0]! % 5) * 3));
      return m;
    });
    const c = new HttpClientTransport(url);
    try {
      const replies = await Promise.all(Array.from({ length: 40 }, (_, i) => c.sendMessage(Buffer.from(`call-${i}`), true)));
      assert.deepEqual(
        replies.map((r) => Buffer.from(r!).toString()),
        Array.from({ length: 40 }, (_, i) => `call-${i}`),
      );
    } finally {
      await c.close();
    }
  });
});

describe("HttpClientTransport: non-200 statuses fail with TRANSPORT and the status", () => {
  it("413 from our server: HttpStatusError status 413, and the next call works", async () => {
    const { url } = await start(echo, 100);
    const c = new HttpClientTransport(url);
    try {
      await assert.rejects(c.sendMessage(Buffer.alloc(101, 0x20), true), (e: unknown) => e instanceof HttpStatusError && e.status === 413 && e.code === ErrorCode.TRANSPORT);
      assert.equal(Buffer.from((await c.sendMessage(Buffer.from("ok"), true))!).toString(), "ok");
    } finally {
      await c.close();
    }
  });

  for (const status of [405, 500, 503]) {
    it(`${status}: HttpStatusError with status ${status} and the body text`, async () => {
      const c = new HttpClientTransport(await fixed(status, "nope"));
      try {
        await assert.rejects(c.sendMessage(Buffer.from("{}"), true), (e: unknown) => e instanceof HttpStatusError && e.status === status && e.body === "nope" && e.code === ErrorCode.TRANSPORT);
        await assert.rejects(c.sendMessage(Buffer.from("{}"), false), (e: unknown) => e instanceof HttpStatusError && e.status === status);
      } finally {
        await c.close();
      }
    });
  }
});

describe("HttpClientTransport: limits and lifecycle", () => {
  it("a reply over maxReplyBytes: MESSAGE_TOO_LARGE", async () => {
    const { url } = await start(() => Buffer.alloc(4096, 0x20));
    const c = new HttpClientTransport(url, { maxReplyBytes: 1024 });
    try {
      await assert.rejects(c.sendMessage(Buffer.from("x"), true), isCode(ErrorCode.MESSAGE_TOO_LARGE));
    } finally {
      await c.close();
    }
  });

  it("a chunked reply (no Content-Length) growing over maxReplyBytes: MESSAGE_TOO_LARGE, and the next call works", async () => {
    const server = http.createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        res.writeHead(200, { "content-type": "application/json" });
        if (req.headers["x-small"]) return res.end("small");
        for (let i = 0; i < 8; i++) res.write(Buffer.alloc(512, 0x20));
        res.end();
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    cleanup.push(async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    });
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
    const c = new HttpClientTransport(url, { maxReplyBytes: 1024 });
    const small = new HttpClientTransport(url, { maxReplyBytes: 1024, headers: { "x-small": "1" } });
    try {
      await assert.rejects(c.sendMessage(Buffer.from("x"), true), isCode(ErrorCode.MESSAGE_TOO_LARGE));
      assert.equal(Buffer.from((await small.sendMessage(Buffer.from("x"), true))!).toString(), "small");
    } finally {
      await c.close();
      await small.close();
    }
  });

  it("close() leaves a caller-provided agent alone", async () => {
    const { url } = await start();
    const agent = new http.Agent({ keepAlive: true });
    const c = new HttpClientTransport(url, { agent });
    await c.sendMessage(Buffer.from("x"), true);
    await c.close();
    const d = new HttpClientTransport(url, { agent });
    assert.equal(Buffer.from((await d.sendMessage(Buffer.from("again"), true))!).toString(), "again");
    await d.close();
    agent.destroy();
  });

  it("timeoutMs: a server that never answers fails the call with TRANSPORT", async () => {
    const t = await HttpServerTransport.listen({ port: 0, closeGraceMs: 0 });
    cleanup.push(() => t.close());
    const c = new HttpClientTransport(`http://127.0.0.1:${t.port}/`, { timeoutMs: 50 });
    try {
      await assert.rejects(c.sendMessage(Buffer.from("x"), true), (e: unknown) => isCode(ErrorCode.TRANSPORT)(e) && /timed out/.test((e as Error).message));
    } finally {
      await c.close();
    }
  });

  it("close() fails the call in flight and later calls with TRANSPORT_CLOSED", async () => {
    const t = await HttpServerTransport.listen({ port: 0, closeGraceMs: 0 });
    cleanup.push(() => t.close());
    const c = new HttpClientTransport(`http://127.0.0.1:${t.port}/`);
    const inFlight = c.sendMessage(Buffer.from("x"), true);
    assert.ok(await t.receiveMessage());
    await c.close();
    await assert.rejects(inFlight, isCode(ErrorCode.TRANSPORT_CLOSED));
    await assert.rejects(c.sendMessage(Buffer.from("y"), true), isCode(ErrorCode.TRANSPORT_CLOSED));
  });

  it("a non-HTTP URL is refused with TRANSPORT", () => {
    assert.throws(() => new HttpClientTransport("ftp://127.0.0.1/"), isCode(ErrorCode.TRANSPORT));
  });
});
