// TCP / unix-socket transports: real sockets on 127.0.0.1 port 0, both framings, pipelining,
// many connections, the size limit, half-close, timeouts and close semantics.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { ErrorCode } from "../../../src/errors.js";
import type { Framing } from "../../../src/jsonrpc/transports/framing.js";
import { TcpClientTransport, TcpServerTransport, type StreamAddress, type StreamServerOptions } from "../../../src/jsonrpc/transports/tcp.js";

const text = (b: Uint8Array | undefined) => Buffer.from(b ?? []).toString();
const bytes = (s: string) => Buffer.from(s);

/**
 * Echo loop over the ServerTransport: "re:"+body, an empty reply for "note", no reply for
 * "drop". "slowN" replies after the next N messages were received, so replies are produced
 * out of order and the transport must restore the order.
 */
async function startServer(address: StreamAddress = { host: "127.0.0.1", port: 0 }, options: StreamServerOptions = {}) {
  const server = await TcpServerTransport.listen(address, options);
  const held: (() => Promise<void>)[] = [];
  const loop = (async () => {
    for (let m = await server.receiveMessage(); m; m = await server.receiveMessage()) {
      const { context, message } = m;
      const body = text(message);
      if (body === "drop") continue;
      const reply = () => server.sendReply(context, body === "note" ? new Uint8Array(0) : bytes(`re:${body}`));
      if (body.startsWith("slow")) held.push(reply);
      else {
        await reply();
        while (held.length > 0) await held.shift()!();
      }
    }
  })();
  return { server, stop: async () => (await server.close(), await loop) };
}

/** Raw socket: writes `data`, ends, and collects everything until the server closes. */
function rawExchange(address: StreamAddress, data: Buffer, end = true): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const s = net.connect("path" in address ? { path: address.path } : { host: "127.0.0.1", port: address.port });
    s.on("data", (c) => chunks.push(c));
    s.on("error", reject);
    s.on("close", () => resolve(Buffer.concat(chunks)));
    s.write(data);
    if (end) s.end();
  });
}

for (const framing of ["line", "length"] as Framing[]) {
  test(`${framing} framing: pipelined calls are answered in request order even when produced out of order`, async () => {
    const s = await startServer(undefined, { framing });
    const client = await TcpClientTransport.connect(s.server.address, { framing });
    try {
      const replies = await Promise.all(["slow1", "a", "b", "slow2", "c"].map((m) => client.sendMessage(bytes(m), true)));
      assert.deepEqual(replies.map(text), ["re:slow1", "re:a", "re:b", "re:slow2", "re:c"]);
    } finally {
      await client.close();
      await s.stop();
    }
  });

  test(`${framing} framing: an empty reply is an empty frame; expectReply=false keeps the reply order`, async () => {
    const s = await startServer(undefined, { framing });
    const client = await TcpClientTransport.connect(s.server.address, { framing });
    try {
      assert.equal((await client.sendMessage(bytes("note"), true))!.length, 0);
      assert.equal(await client.sendMessage(bytes("note"), false), undefined);
      assert.equal(text(await client.sendMessage(bytes("x"), true)), "re:x");
    } finally {
      await client.close();
      await s.stop();
    }
  });
}

test("line framing on the wire: many messages in one write, one reply line each", async () => {
  const s = await startServer();
  try {
    const out = await rawExchange(s.server.address, bytes("one\ntwo\r\nnote\nthree\n"));
    assert.equal(out.toString(), "re:one\nre:two\n\nre:three\n");
  } finally {
    await s.stop();
  }
});

test("many connections at once are served independently", async () => {
  const s = await startServer();
  const clients = await Promise.all(Array.from({ length: 20 }, () => TcpClientTransport.connect(s.server.address)));
  try {
    const replies = await Promise.all(clients.map((c, i) => c.sendMessage(bytes(`c${i}`), true)));
    assert.deepEqual(replies.map(text), clients.map((_, i) => `re:c${i}`));
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await s.stop();
  }
});

test("oversized line: earlier replies, then a JSON-RPC -32600 error, then the connection ends; server keeps serving", async () => {
  const s = await startServer(undefined, { maxMessageBytes: 64 });
  try {
    const out = await rawExchange(s.server.address, Buffer.concat([bytes("ok\n"), Buffer.alloc(65, 0x7a), bytes("\nnever\n")]), false);
    const lines = out.toString().split("\n");
    assert.equal(lines[0], "re:ok");
    assert.deepEqual(JSON.parse(lines[1]!), { jsonrpc: "2.0", id: null, error: { code: -32600, message: "Message too large: 65 bytes, the limit is 64" } });
    assert.deepEqual(lines.slice(2), [""]);
    const client = await TcpClientTransport.connect(s.server.address);
    assert.equal(text(await client.sendMessage(bytes("still"), true)), "re:still");
    await client.close();
  } finally {
    await s.stop();
  }
});

test("oversized length prefix is refused at the header (no body needed)", async () => {
  const s = await startServer(undefined, { framing: "length", maxMessageBytes: 64 });
  try {
    const header = Buffer.alloc(4);
    header.writeUInt32BE(1 << 30);
    const out = await rawExchange(s.server.address, header, false);
    const size = out.readUInt32BE(0);
    assert.equal(JSON.parse(out.subarray(4, 4 + size).toString()).error.code, -32600);
  } finally {
    await s.stop();
  }
});

test("client: a reply over its maxMessageBytes fails with MESSAGE_TOO_LARGE", async () => {
  const s = await startServer();
  const client = await TcpClientTransport.connect(s.server.address, { maxMessageBytes: 8 });
  try {
    await assert.rejects(client.sendMessage(bytes("0123456789"), true), { code: ErrorCode.MESSAGE_TOO_LARGE });
  } finally {
    await client.close();
    await s.stop();
  }
});

test("client timeout: TRANSPORT error, the late slot is skipped and later replies still match", async () => {
  const s = await startServer();
  // The timeout also bounds the call after it, which must succeed on a busy machine.
  const client = await TcpClientTransport.connect(s.server.address, { timeoutMs: 1500 });
  try {
    await assert.rejects(client.sendMessage(bytes("slow1"), true), { code: ErrorCode.TRANSPORT });
    // "x" releases the held slow1 reply first; the client drops it and returns x's own reply.
    assert.equal(text(await client.sendMessage(bytes("x"), true)), "re:x");
  } finally {
    await client.close();
    await s.stop();
  }
});

test("a server closing the connection fails pending calls with TRANSPORT_CLOSED", async () => {
  const listener = net.createServer((sock) => sock.once("data", () => sock.destroy()));
  await new Promise<void>((r) => listener.listen(0, "127.0.0.1", r));
  const port = (listener.address() as net.AddressInfo).port;
  const client = await TcpClientTransport.connect({ host: "127.0.0.1", port });
  try {
    await assert.rejects(client.sendMessage(bytes("x"), true), { code: ErrorCode.TRANSPORT_CLOSED });
    await assert.rejects(client.sendMessage(bytes("y"), true), { code: ErrorCode.TRANSPORT_CLOSED });
  } finally {
    await client.close();
    listener.close();
  }
});

test("close(): pending receiveMessage resolves undefined; a delivered message still gets its reply", async () => {
  const server = await TcpServerTransport.listen({ port: 0 });
  const client = await TcpClientTransport.connect(server.address);
  const reply = client.sendMessage(bytes("in flight"), true);
  const m = await server.receiveMessage();
  const pending = server.receiveMessage();
  const closing = server.close();
  assert.equal(await pending, undefined);
  await server.sendReply(m!.context, bytes("late but delivered"));
  assert.equal(text(await reply), "late but delivered");
  await closing;
  await assert.rejects(client.sendMessage(bytes("after"), true), { code: ErrorCode.TRANSPORT_CLOSED });
  await client.close();
});

test("unix socket path works like TCP", { skip: process.platform === "win32" ? "no unix sockets" : undefined }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "sb-jsonrpc-"));
  const s = await startServer({ path: join(dir, "rpc.sock") });
  try {
    const client = await TcpClientTransport.connect(s.server.address);
    assert.equal(text(await client.sendMessage(bytes("u"), true)), "re:u");
    await client.close();
  } finally {
    await s.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("connect to a missing unix socket is TRANSPORT; bad options are BAD_OPTION", async () => {
  const dir = mkdtempSync(join(tmpdir(), "sb-jsonrpc-"));
  try {
    await assert.rejects(TcpClientTransport.connect({ path: join(dir, "nobody-listens.sock") }), { code: ErrorCode.TRANSPORT });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  await assert.rejects(TcpServerTransport.listen({ port: 0 }, { framing: "xml" as Framing }), { code: ErrorCode.BAD_OPTION });
  await assert.rejects(TcpServerTransport.listen({ port: 0 }, { maxPipelined: 0 }), { code: ErrorCode.BAD_OPTION });
  await assert.rejects(TcpClientTransport.connect({ path: "/unused" }, { timeoutMs: -5 }), { code: ErrorCode.BAD_OPTION });
});
