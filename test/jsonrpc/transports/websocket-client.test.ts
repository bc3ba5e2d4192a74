// WebSocketClientTransport against real servers on 127.0.0.1: one call in flight per
// connection so reply N belongs to request N, empty frames consumed, failures mapped to codes.
import { after, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import { WebSocketServer } from "ws";
import { ErrorCode, SwitchboardError } from "../../../src/errors.js";
import { WebSocketClientTransport, WebSocketServerTransport } from "../../../src/jsonrpc/transports/websocket.js";
import { echo, serve, type Handler } from "./http-ws-helpers.js";

const cleanup: (() => Promise<unknown>)[] = [];
after(() => Promise.all(cleanup.map((f) => f())));

async function start(handler: Handler = echo, maxMessageBytes?: number): Promise<WebSocketServerTransport> {
  const t = await WebSocketServerTransport.listen({ port: 0, ...(maxMessageBytes ? { maxMessageBytes } : {}) });
  cleanup.push(() => t.close());
  void serve(t, handler);
  return t;
}

async function connect(url: string, timeoutMs?: number): Promise<WebSocketClientTransport> {
  const c = await WebSocketClientTransport.connect(url, timeoutMs === undefined ? {} : { timeoutMs });
  cleanup.push(() => c.close());
  return c;
}

function isCode(code: string) {
  return (e: unknown) => e instanceof SwitchboardError && e.code === code;
}

const text = (b: Uint8Array | undefined) => Buffer.from(b!).toString();

describe("WebSocketClientTransport: replies matched to requests", () => {
  it("concurrent calls on one connection each get their own reply (queued one at a time)", async () => {
    const t = await start(async (m) => {
      // Later messages answer faster: only the client's queue keeps replies paired.
      await new Promise((r) => setTimeout(r, 10 - (m[m.length - 1]! % 10)));
      return m;
    });
    const c = await connect(t.url);
    const replies = await Promise.all(Array.from({ length: 20 }, (_, i) => c.sendMessage(Buffer.from(`call-${i}`), true)));
    assert.deepEqual(replies.map(text), Array.from({ length: 20 }, (_, i) => `call-${i}`));
  });

  it("expectReply false consumes the empty frame: undefined, and the next reply is the next call's", async () => {
    const t = await start();
    const c = await connect(t.url);
    assert.equal(await c.sendMessage(Buffer.from("notify"), false), undefined);
    assert.equal(text(await c.sendMessage(Buffer.from("notify"), true)), "");
    assert.equal(text(await c.sendMessage(Buffer.from("second"), true)), "second");
  });

  it("sends text frames by default and binary frames with frame: binary", async () => {
    const t = await WebSocketServerTransport.listen({ port: 0, replyFrame: "as-request" });
    cleanup.push(() => t.close());
    const kinds: boolean[] = [];
    void serve(t, (m) => m);
    const c = await connect(t.url);
    c.socket.on("message", (_d, binary) => kinds.push(binary));
    await c.sendMessage(Buffer.from("{}"), true);
    const b = await WebSocketClientTransport.connect(t.url, { frame: "binary" });
    cleanup.push(() => b.close());
    b.socket.on("message", (_d, binary) => kinds.push(binary));
    await b.sendMessage(Buffer.from([1, 2, 3]), true);
    assert.deepEqual(kinds, [false, true]);
  });
});

describe("WebSocketClientTransport: failures", () => {
  it("a message over the server's limit: the server closes 1009 and the call fails with MESSAGE_TOO_LARGE", async () => {
    const t = await start(echo, 100);
    const c = await connect(t.url);
    await assert.rejects(c.sendMessage(Buffer.alloc(101, 0x20), true), isCode(ErrorCode.MESSAGE_TOO_LARGE));
    await assert.rejects(c.sendMessage(Buffer.from("x"), true), isCode(ErrorCode.MESSAGE_TOO_LARGE));
  });

  it("timeoutMs: an unanswered call fails with TRANSPORT and closes the connection; later calls fail", async () => {
    const t = await WebSocketServerTransport.listen({ port: 0, closeGraceMs: 0 });
    cleanup.push(() => t.close());
    const c = await connect(t.url, 50);
    await assert.rejects(c.sendMessage(Buffer.from("x"), true), (e: unknown) => isCode(ErrorCode.TRANSPORT)(e) && /timed out/.test((e as Error).message));
    await assert.rejects(c.sendMessage(Buffer.from("y"), true), isCode(ErrorCode.TRANSPORT));
  });

  it("close(): the queued calls fail with TRANSPORT_CLOSED", async () => {
    const t = await WebSocketServerTransport.listen({ port: 0, closeGraceMs: 0 });
    cleanup.push(() => t.close());
    const c = await connect(t.url);
    const first = c.sendMessage(Buffer.from("a"), true);
    const second = c.sendMessage(Buffer.from("b"), true);
    assert.ok(await t.receiveMessage());
    await c.close();
    await assert.rejects(first, isCode(ErrorCode.TRANSPORT_CLOSED));
    await assert.rejects(second, isCode(ErrorCode.TRANSPORT_CLOSED));
  });

  it("the server going away (1001) fails the call in flight with TRANSPORT_CLOSED", async () => {
    const t = await WebSocketServerTransport.listen({ port: 0 });
    const c = await connect(t.url);
    const call = c.sendMessage(Buffer.from("a"), true);
    assert.ok(await t.receiveMessage());
    await t.close();
    await assert.rejects(call, (e: unknown) => isCode(ErrorCode.TRANSPORT_CLOSED)(e) && /1001/.test((e as Error).message));
  });

  it("a frame no call waits for: BAD_REPLY, connection closed", async () => {
    const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
    await new Promise((r) => wss.once("listening", r));
    cleanup.push(() => new Promise((r) => wss.close(r)));
    wss.on("connection", (ws) => {
      ws.on("error", () => {});
      ws.on("message", (m) => {
        ws.send(m);
        ws.send("unsolicited");
      });
    });
    const c = await connect(`ws://127.0.0.1:${(wss.address() as { port: number }).port}/`);
    let frames = 0;
    const both = new Promise<void>((resolve) => c.socket.on("message", () => ++frames === 2 && resolve()));
    assert.equal(text(await c.sendMessage(Buffer.from("a"), true)), "a");
    await both;
    await assert.rejects(c.sendMessage(Buffer.from("b"), true), isCode(ErrorCode.BAD_REPLY));
  });

  it("connect to a path that is not a WebSocket endpoint: TRANSPORT", async () => {
    const t = await start();
    await assert.rejects(WebSocketClientTransport.connect(`ws://127.0.0.1:${t.port}/nope`), isCode(ErrorCode.TRANSPORT));
  });
});
