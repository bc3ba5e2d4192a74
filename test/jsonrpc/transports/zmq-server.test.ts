// ZeroMQ ROUTER server transport: envelope echo for every peer shape, empty replies, the size
// limit, close semantics. Real sockets on 127.0.0.1, port 0 read back from lastEndpoint.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import * as zmq from "zeromq";
import { ErrorCode } from "../../../src/errors.js";
import { ZmqServerTransport } from "../../../src/jsonrpc/transports/zmq.js";

const text = (b: Uint8Array) => Buffer.from(b).toString();

/** Answers every message with "re:" + message, or an empty frame for a message "note". */
async function echoLoop(server: ZmqServerTransport): Promise<number> {
  let served = 0;
  for (let m = await server.receiveMessage(); m; m = await server.receiveMessage()) {
    const body = text(m.message);
    await server.sendReply(m.context, body === "note" ? new Uint8Array(0) : Buffer.from(`re:${body}`));
    served++;
  }
  return served;
}

let server: ZmqServerTransport;
let loop: Promise<number>;
before(async () => {
  server = await ZmqServerTransport.bind("tcp://127.0.0.1:0", { maxMessageBytes: 1024 });
  loop = echoLoop(server);
});
after(async () => {
  await server.close();
  await loop;
});

test("bind reports the real endpoint and port after binding port 0", () => {
  assert.match(server.endpoint, /^tcp:\/\/127\.0\.0\.1:\d+$/);
  assert.ok(server.port! > 0);
});

test("REQ peer: reply reaches it through [identity, empty] envelope", async () => {
  const req = new zmq.Request({ linger: 0 });
  req.connect(server.endpoint);
  try {
    for (const word of ["a", "b", "c"]) {
      await req.send(word);
      const [reply] = await req.receive();
      assert.equal(text(reply!), `re:${word}`);
    }
  } finally {
    req.close();
  }
});

test("DEALER with an empty delimiter gets the delimiter back, pipelined requests all answered", async () => {
  const dealer = new zmq.Dealer({ linger: 0 });
  dealer.connect(server.endpoint);
  try {
    for (let i = 0; i < 20; i++) await dealer.send(["", `p${i}`]);
    for (let i = 0; i < 20; i++) {
      const frames = await dealer.receive();
      assert.equal(frames.length, 2);
      assert.equal(frames[0]!.length, 0);
      assert.equal(text(frames[1]!), `re:p${i}`);
    }
  } finally {
    dealer.close();
  }
});

test("bare DEALER [body] and extra envelope frames are echoed unchanged", async () => {
  const dealer = new zmq.Dealer({ linger: 0 });
  dealer.connect(server.endpoint);
  try {
    await dealer.send("bare");
    assert.deepEqual((await dealer.receive()).map(text), ["re:bare"]);
    await dealer.send(["x1", "x2", "", "deep"]);
    assert.deepEqual((await dealer.receive()).map(text), ["x1", "x2", "", "re:deep"]);
  } finally {
    dealer.close();
  }
});

test("empty reply is an empty last frame in the same envelope (REQ unblocks; DEALER sees ['', ''])", async () => {
  const dealer = new zmq.Dealer({ linger: 0 });
  dealer.connect(server.endpoint);
  const req = new zmq.Request({ linger: 0 });
  req.connect(server.endpoint);
  try {
    await dealer.send(["", "note"]);
    const frames = await dealer.receive();
    assert.deepEqual(frames.map((f) => f.length), [0, 0]);
    await req.send("note");
    const [empty] = await req.receive();
    assert.equal(empty!.length, 0);
    await req.send("after");
    assert.equal(text((await req.receive())[0]!), "re:after");
  } finally {
    dealer.close();
    req.close();
  }
});

test("many REQ peers at once each get their own reply", async () => {
  const peers = Array.from({ length: 25 }, () => {
    const s = new zmq.Request({ linger: 0 });
    s.connect(server.endpoint);
    return s;
  });
  try {
    const replies = await Promise.all(
      peers.map(async (s, i) => {
        await s.send(`peer${i}`);
        return text((await s.receive())[0]!);
      }),
    );
    assert.deepEqual(replies, peers.map((_, i) => `re:peer${i}`));
  } finally {
    for (const s of peers) s.close();
  }
});

test("oversized message gets a JSON-RPC -32600 error in its envelope and the server keeps serving", async () => {
  const req = new zmq.Request({ linger: 0 });
  req.connect(server.endpoint);
  try {
    await req.send(Buffer.alloc(1025, 0x61));
    const reply = JSON.parse(text((await req.receive())[0]!));
    assert.deepEqual(reply, { jsonrpc: "2.0", id: null, error: { code: -32600, message: "Message too large: 1025 bytes, the limit is 1024" } });
    await req.send(Buffer.alloc(1024, 0x62)); // exactly the limit is fine
    assert.equal(text((await req.receive())[0]!), `re:${"b".repeat(1024)}`);
  } finally {
    req.close();
  }
});

test("close(): pending receiveMessage resolves undefined, sendReply after close is TRANSPORT_CLOSED", async () => {
  const own = await ZmqServerTransport.bind("tcp://127.0.0.1:0");
  const pending = own.receiveMessage();
  await own.close();
  assert.equal(await pending, undefined);
  assert.equal(await own.receiveMessage(), undefined);
  await assert.rejects(own.sendReply([Buffer.from("id")], new Uint8Array(0)), { code: ErrorCode.TRANSPORT_CLOSED });
});

test("bind to a bad endpoint fails with BIND_FAILED", async () => {
  await assert.rejects(ZmqServerTransport.bind("nonsense://x"), { code: ErrorCode.BIND_FAILED });
});
