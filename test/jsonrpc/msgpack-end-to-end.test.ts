// MessagePack-RPC through the unchanged core: RPCServer + RPCDispatcher + MSGPACKRPCProtocol
// over TCP with length framing and over WebSocket binary frames, called by RPCClient (call,
// notify, getProxy), over ZeroMQ ROUTER/REQ, plus raw bytes on the wire, size limits, and the
// in-memory transport.
import assert from "node:assert/strict";
import { test } from "node:test";
import { WebSocket } from "ws";
import { ErrorCode, SwitchboardError } from "../../src/errors.js";
import {
  JSONRPCError,
  memoryTransportPair,
  MSGPACKRPCProtocol,
  msgpackTooLargeReply,
  RPCClient,
  RPCServer,
  TcpClientTransport,
  TcpServerTransport,
  WebSocketClientTransport,
  WebSocketServerTransport,
  ZmqClientTransport,
  ZmqServerTransport,
} from "../../src/jsonrpc/index.js";
import { exampleDispatcher } from "./helpers.js";
import { pack, unpack } from "./msgpack-helpers.js";

interface Methods {
  add(a: number, b: number): number;
  echo<T>(x: T): T;
  bump(): void;
}

async function exercise(client: RPCClient, counter: { readonly bumps: number }): Promise<void> {
  assert.equal(await client.call("echo", ["h\u00e9llo \u{1f600}"]), "h\u00e9llo \u{1f600}");
  const value = { big: 2n ** 63n + 5n, negative: -(2n ** 63n), wide: 2 ** 40, bytes: Uint8Array.of(0, 1, 255), list: [1, null, true, 1.5, "x"], nested: { a: {} } };
  assert.deepEqual(await client.call("echo", [value]), value);
  assert.equal(await client.call("add", { b: 3, a: 2 }), 5, "named params travel as a map");
  assert.equal(await client.call("add", ["ab", "cd"]), "abcd");
  assert.equal(await client.call("math.mul", [6, 7]), 42, "sub-dispatcher prefix");
  const proxy = client.getProxy<Methods>();
  assert.equal(await proxy.add(20, 22), 42);
  assert.equal(await client.getProxy<{ mul(a: number, b: number): number }>("math.").mul(3, 4), 12);
  await assert.rejects(client.call("fail", ["boom"]), (e: unknown) => e instanceof JSONRPCError && e.code === -32000 && e.message === "boom");
  await assert.rejects(client.call("no_such_method", []), (e: unknown) => e instanceof JSONRPCError && e.code === -32601 && /no_such_method/.test(String(e.data)));
  await assert.rejects(client.call("add", [1]), (e: unknown) => e instanceof JSONRPCError && e.code === -32602);
  const before = counter.bumps;
  await client.notify("bump");
  await client.getProxy<Methods>("", { oneWay: true }).bump();
  // many calls in flight at once, each answered with its own result
  const sums = await Promise.all(Array.from({ length: 50 }, (_, i) => client.call("add", [i, i])));
  assert.deepEqual(sums, Array.from({ length: 50 }, (_, i) => 2 * i));
  assert.equal(await client.call("notify_count"), before + 2);
  await assert.rejects(client.batchCall([{ method: "echo", params: [1] }]), (e: unknown) => e instanceof SwitchboardError && e.code === ErrorCode.BAD_OPTION);
  assert.equal(await client.call("echo", ["still in step after the refused batch"]), "still in step after the refused batch");
}

test("TCP length framing: RPCClient <-> RPCServer with MessagePack-RPC: call, named params, notify, getProxy, errors, bigint, bytes", async () => {
  const { dispatcher, counter } = exampleDispatcher();
  const transport = await TcpServerTransport.listen({ host: "127.0.0.1", port: 0 }, { framing: "length", tooLargeReply: msgpackTooLargeReply });
  const serving = new RPCServer(transport, new MSGPACKRPCProtocol(), dispatcher).serveForever();
  const client = new RPCClient(new MSGPACKRPCProtocol(), await TcpClientTransport.connect(transport.address, { framing: "length" }));
  try {
    await exercise(client, counter);
  } finally {
    await client.close();
    await transport.close();
    await serving;
  }
});

test("TCP raw bytes: not msgpack -> -32700 nil, bad msgid -> -32600 nil, bad method -> -32600 with msgid, notification -> empty frame; the server keeps serving", async () => {
  const { dispatcher } = exampleDispatcher();
  const transport = await TcpServerTransport.listen({ host: "127.0.0.1", port: 0 }, { framing: "length", tooLargeReply: msgpackTooLargeReply });
  const serving = new RPCServer(transport, new MSGPACKRPCProtocol(), dispatcher).serveForever();
  const raw = await TcpClientTransport.connect(transport.address, { framing: "length" });
  const send = async (bytes: Uint8Array): Promise<Uint8Array> => (await raw.sendMessage(bytes, true))!;
  try {
    const parse = unpack(await send(Uint8Array.of(0xc1, 0x00))) as unknown[];
    assert.deepEqual(parse.slice(0, 2), [1, null]);
    assert.deepEqual((parse[2] as unknown[]).slice(0, 2), [-32700, "Parse error"]);
    assert.deepEqual((unpack(await send(pack([0, -4, "echo", []]))) as unknown[][])[2]!.slice(0, 2), [-32600, "Invalid Request"]);
    assert.deepEqual(unpack(await send(pack([0, 11, 5, []]))), [1, 11, [-32600, "Invalid Request", "method must be a str"], null]);
    assert.equal((await send(pack([2, "bump", []]))).length, 0);
    assert.deepEqual(unpack(await send(pack([0, 12, "echo", ["ok"]]))), [1, 12, null, "ok"]);
  } finally {
    await raw.close();
    await transport.close();
    await serving;
  }
});

test("TCP: a message over maxMessageBytes gets msgpackTooLargeReply (-32600, msgid nil), then the connection ends", async () => {
  const { dispatcher } = exampleDispatcher();
  const transport = await TcpServerTransport.listen({ host: "127.0.0.1", port: 0 }, { framing: "length", maxMessageBytes: 1024, tooLargeReply: msgpackTooLargeReply });
  const serving = new RPCServer(transport, new MSGPACKRPCProtocol(), dispatcher).serveForever();
  const client = new RPCClient(new MSGPACKRPCProtocol(), await TcpClientTransport.connect(transport.address, { framing: "length" }));
  const next = new RPCClient(new MSGPACKRPCProtocol(), await TcpClientTransport.connect(transport.address, { framing: "length" }));
  try {
    await assert.rejects(client.call("echo", ["x".repeat(2000)]), (e: unknown) => {
      assert.ok(e instanceof JSONRPCError, String(e));
      assert.equal(e.code, -32600);
      assert.match(e.message, /Message too large: \d+ bytes, the limit is 1024/);
      return true;
    });
    await assert.rejects(client.call("echo", ["after"]), { code: ErrorCode.TRANSPORT_CLOSED });
    assert.equal(await next.call("echo", ["other connections are served"]), "other connections are served");
  } finally {
    await client.close();
    await next.close();
    await transport.close();
    await serving;
  }
});

test("WebSocket binary frames: RPCClient <-> RPCServer with MessagePack-RPC: the same calls, notifications and errors", async () => {
  const { dispatcher, counter } = exampleDispatcher();
  const transport = await WebSocketServerTransport.listen({ replyFrame: "binary" });
  const serving = new RPCServer(transport, new MSGPACKRPCProtocol(), dispatcher).serveForever();
  const client = new RPCClient(new MSGPACKRPCProtocol(), await WebSocketClientTransport.connect(transport.url, { frame: "binary" }));
  try {
    await exercise(client, counter);
  } finally {
    await client.close();
    await transport.close();
    await serving;
  }
});

test("WebSocket: replies are binary frames; a message over the limit closes with 1009 and the server keeps serving", async () => {
  const { dispatcher } = exampleDispatcher();
  const transport = await WebSocketServerTransport.listen({ replyFrame: "binary", maxMessageBytes: 1024 });
  const serving = new RPCServer(transport, new MSGPACKRPCProtocol(), dispatcher).serveForever();
  const ws = new WebSocket(transport.url);
  try {
    await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
    const reply = new Promise<{ data: Buffer; binary: boolean }>((resolve) => ws.once("message", (data, binary) => resolve({ data: data as Buffer, binary })));
    ws.send(pack([0, 3, "echo", [Uint8Array.of(7)]]), { binary: true });
    const { data, binary } = await reply;
    assert.equal(binary, true);
    const [type, msgid, error, result] = unpack(data) as [number, number, null, Uint8Array];
    assert.deepEqual([type, msgid, error, [...result]], [1, 3, null, [7]]);
    const closed = new Promise<number>((resolve) => ws.once("close", (code) => resolve(code)));
    ws.send(pack([0, 4, "echo", ["x".repeat(2000)]]), { binary: true });
    assert.equal(await closed, 1009);
    const client = new RPCClient(new MSGPACKRPCProtocol(), await WebSocketClientTransport.connect(transport.url, { frame: "binary" }));
    assert.equal(await client.call("echo", ["next"]), "next");
    await client.close();
  } finally {
    ws.terminate();
    await transport.close();
    await serving;
  }
});

test("ZeroMQ ROUTER/REQ: the same calls; an oversized message gets msgpackTooLargeReply and the socket stays usable", async () => {
  const { dispatcher, counter } = exampleDispatcher();
  const transport = await ZmqServerTransport.bind("tcp://127.0.0.1:0", { maxMessageBytes: 64 * 1024, tooLargeReply: msgpackTooLargeReply });
  const serving = new RPCServer(transport, new MSGPACKRPCProtocol(), dispatcher).serveForever();
  const client = new RPCClient(new MSGPACKRPCProtocol(), await ZmqClientTransport.connect(transport.endpoint, { timeoutMs: 20_000 }));
  try {
    await exercise(client, counter);
    await assert.rejects(client.call("echo", ["x".repeat(70 * 1024)]), (e: unknown) => e instanceof JSONRPCError && e.code === -32600 && /Message too large/.test(e.message));
    assert.equal(await client.call("echo", ["after"]), "after");
  } finally {
    await client.close();
    await transport.close();
    await serving;
  }
});

test("in-memory transport: trace sees the MessagePack bytes both ways; a notification gets the empty reply", async () => {
  const { dispatcher } = exampleDispatcher();
  const pair = memoryTransportPair();
  const seen: [string, unknown][] = [];
  const server = new RPCServer(pair.server, new MSGPACKRPCProtocol(), dispatcher, { trace: (direction, _context, message) => seen.push([direction, unpack(message)]) });
  const serving = server.serveForever();
  const client = new RPCClient(new MSGPACKRPCProtocol(), pair.client);
  try {
    assert.equal(await client.call("echo", [1]), 1);
    await client.notify("bump");
    assert.deepEqual(seen, [
      ["-->", [0, 1, "echo", [1]]],
      ["<--", [1, 1, null, 1]],
      ["-->", [2, "bump", []]],
    ]);
  } finally {
    await pair.server.close();
    await serving;
  }
});
