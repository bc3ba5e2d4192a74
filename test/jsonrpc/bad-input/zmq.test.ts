// Bad input over ZeroMQ (ZmqServerTransport + RPCServer): hostile messages answered in the
// peer's envelope with the exact JSON-RPC error, the size limit at and just over a small limit
// and the 4 MiB default (an error reply, so a lock-step REQ peer is not left hanging), a message
// beyond libzmq's hard limit (that peer is disconnected, nobody else notices), and a peer that
// leaves while its method runs.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import * as zmq from "zeromq";
import { DEFAULT_MAX_MESSAGE_BYTES, ZmqServerTransport, type ZmqEnvelope } from "../../../src/jsonrpc/index.js";
import { assertBadReply, assertError, BAD_MESSAGES, call, PROBE, PROBE_REPLY, serveRpc, type RunningServer } from "./helpers.js";

const text = (b: Uint8Array | undefined) => Buffer.from(b ?? []).toString();

const sockets: { close(): void }[] = [];
after(() => {
  for (const s of sockets) s.close();
});

function req(endpoint: string): zmq.Request {
  const s = new zmq.Request({ linger: 0 });
  s.connect(endpoint);
  sockets.push(s);
  return s;
}

/** One lock-step exchange on a REQ socket: the reply text. */
async function exchange(s: zmq.Request, message: string | Buffer): Promise<string> {
  await s.send(message);
  const [reply] = await s.receive();
  return text(reply);
}

/** An echo request of exactly `size` bytes. */
function sized(size: number): string {
  const bare = call("echo", [""], "s");
  return call("echo", ["x".repeat(size - bare.length)], "s");
}

describe("default limits (4 MiB)", () => {
  let t: ZmqServerTransport;
  let rpc: RunningServer<ZmqEnvelope>;
  before(async () => {
    t = await ZmqServerTransport.bind("tcp://127.0.0.1:0");
    rpc = serveRpc(t, { maxBatchLength: 10 });
  });
  after(() => rpc.stop());

  test("hostile messages on one REQ socket: each gets its exact JSON-RPC error, then a normal call is answered", async () => {
    const s = req(t.endpoint);
    for (const bad of BAD_MESSAGES) assertBadReply(await exchange(s, bad.body), bad);
    assert.equal(await exchange(s, PROBE), PROBE_REPLY);
  });

  test("an empty frame -> -32700; a batch of 10 notifications -> an empty frame, and all ran", async () => {
    const s = req(t.endpoint);
    assertError(await exchange(s, Buffer.alloc(0)), -32700);
    const before = rpc.bumps();
    assert.equal(await exchange(s, `[${Array(10).fill('{"jsonrpc":"2.0","method":"bump"}').join(",")}]`), "");
    assert.equal(rpc.bumps(), before + 10);
    assert.equal(await exchange(s, PROBE), PROBE_REPLY);
  });

  test("a message of exactly 4 MiB is answered; 4 MiB + 1 gets the -32600 error reply; the same REQ socket then works", async () => {
    const s = req(t.endpoint);
    const reply = JSON.parse(await exchange(s, sized(DEFAULT_MAX_MESSAGE_BYTES)));
    assert.deepEqual([reply.id, reply.result.length], ["s", DEFAULT_MAX_MESSAGE_BYTES - call("echo", [""], "s").length]);
    const error = assertError(await exchange(s, sized(DEFAULT_MAX_MESSAGE_BYTES + 1)), -32600);
    assert.equal(error.message, `Message too large: ${DEFAULT_MAX_MESSAGE_BYTES + 1} bytes, the limit is ${DEFAULT_MAX_MESSAGE_BYTES}`);
    assert.equal(await exchange(s, PROBE), PROBE_REPLY);
  });

  test("a DEALER that disconnects while its method runs: its reply is dropped, no onError, another peer is answered", async () => {
    const errorsBefore = rpc.errors.length;
    const dealer = new zmq.Dealer({ linger: 0 });
    dealer.connect(t.endpoint);
    await dealer.send(["", call("hold", ["zmq-gone"], 1)]);
    const stays = req(t.endpoint);
    const staying = exchange(stays, call("hold", ["zmq-stays"], 2));
    await Promise.all([rpc.gate.entered("zmq-gone"), rpc.gate.entered("zmq-stays")]);
    dealer.close();
    rpc.gate.release("zmq-gone");
    rpc.gate.release("zmq-stays");
    assert.equal(await staying, '{"jsonrpc":"2.0","id":2,"result":"zmq-stays"}');
    assert.equal(await exchange(stays, PROBE), PROBE_REPLY);
    assert.equal(rpc.errors.length, errorsBefore);
  });
});

describe("a small configured limit (1024; libzmq's hard limit 4096)", () => {
  let t: ZmqServerTransport;
  let rpc: RunningServer<ZmqEnvelope>;
  before(async () => {
    t = await ZmqServerTransport.bind("tcp://127.0.0.1:0", { maxMessageBytes: 1024 });
    rpc = serveRpc(t);
  });
  after(() => rpc.stop());

  test('exactly 1024 bytes is answered; 1025 gets -32600 "Message too large" in a DEALER\'s envelope; the DEALER then works', async () => {
    const dealer = new zmq.Dealer({ linger: 0 });
    sockets.push(dealer);
    dealer.connect(t.endpoint);
    await dealer.send(["", sized(1024)]);
    let frames = await dealer.receive();
    assert.deepEqual([frames.length, frames[0]!.length, JSON.parse(text(frames[1])).id], [2, 0, "s"]);
    await dealer.send(["", sized(1025)]);
    frames = await dealer.receive();
    assert.equal(frames.length, 2);
    assert.equal(assertError(text(frames[1]), -32600).message, "Message too large: 1025 bytes, the limit is 1024");
    await dealer.send(["", PROBE]);
    assert.equal(text((await dealer.receive())[1]), PROBE_REPLY);
  });

  test("a message beyond hardMaxMessageBytes: libzmq drops that peer's connection (no buffering), the peer reconnects and is served, others unaffected", async () => {
    const dealer = new zmq.Dealer({ linger: 0 });
    sockets.push(dealer);
    const connected = new Promise<void>((r) => dealer.events.on("connect", () => r()));
    dealer.connect(t.endpoint);
    await connected;
    const dropped = new Promise<void>((r) => dealer.events.on("disconnect", () => r()));
    await dealer.send(["", Buffer.alloc(5000, 0x20)]);
    await dropped;
    const other = req(t.endpoint);
    assert.equal(await exchange(other, PROBE), PROBE_REPLY);
    // ZeroMQ reconnects by itself; the oversized message is gone, the next one is answered
    await dealer.send(["", PROBE]);
    assert.equal(text((await dealer.receive())[1]), PROBE_REPLY);
  });
});
