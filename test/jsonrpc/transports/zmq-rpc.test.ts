// End to end over ZeroMQ with the JSON-RPC core: RPCServer on ZmqServerTransport, RPCClient on
// ZmqClientTransport, including notifications (empty frames), batches and bad input.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import * as zmq from "zeromq";
import { JSONRPCError, JSONRPCProtocol, RPCClient, RPCServer } from "../../../src/jsonrpc/index.js";
import { ZmqClientTransport, ZmqServerTransport } from "../../../src/jsonrpc/transports/zmq.js";
import { exampleDispatcher } from "../helpers.js";

let transport: ZmqServerTransport;
let serving: Promise<void>;
let client: RPCClient;
let counter: { bumps: number };

before(async () => {
  const example = exampleDispatcher();
  counter = example.counter;
  transport = await ZmqServerTransport.bind("tcp://127.0.0.1:0", { maxMessageBytes: 64 * 1024 });
  serving = new RPCServer(transport, new JSONRPCProtocol(), example.dispatcher).serveForever();
  client = new RPCClient(new JSONRPCProtocol(), await ZmqClientTransport.connect(transport.endpoint, { timeoutMs: 20_000 }));
});

after(async () => {
  await client.close();
  await transport.close();
  await serving; // serveForever resolves once the transport is closed
});

test("calls with positional and named params, sub-dispatcher, application error -32000", async () => {
  assert.equal(await client.call("add", [2, 3]), 5);
  assert.equal(await client.call("add", { b: "cd", a: "ab" }), "abcd");
  assert.equal(await client.call("math.mul", [6, 7]), 42);
  await assert.rejects(client.call("fail", ["boom"]), (e: unknown) => e instanceof JSONRPCError && e.code === -32000 && e.message === "boom");
});

test("notifications get an empty frame, so the next call on the REQ socket is not blocked", async () => {
  const before = counter.bumps;
  await client.notify("bump");
  await client.getProxy<{ bump(): void }>("", { oneWay: true }).bump();
  assert.equal(await client.call("notify_count"), before + 2);
});

test("batch with calls and a notification: results in order", async () => {
  const results = await client.batchCall([{ method: "echo", params: [1] }, { method: "bump", notify: true }, { method: "nope" }]);
  assert.deepEqual(results[0], { ok: true, result: 1 });
  assert.equal(results[2]!.ok, false);
});

test("malformed JSON from a raw DEALER gets -32700 in its envelope and the server keeps serving", async () => {
  const dealer = new zmq.Dealer({ linger: 0 });
  dealer.connect(transport.endpoint);
  try {
    await dealer.send(["", "{not json"]);
    const [delimiter, body] = await dealer.receive();
    assert.equal(delimiter!.length, 0);
    assert.equal(JSON.parse(body!.toString()).error.code, -32700);
    await dealer.send(["", Buffer.alloc(64 * 1024 + 1, 0x20)]);
    const [, tooLarge] = await dealer.receive();
    assert.equal(JSON.parse(tooLarge!.toString()).error.code, -32600);
  } finally {
    dealer.close();
  }
  assert.equal(await client.call("echo", ["alive"]), "alive");
});
