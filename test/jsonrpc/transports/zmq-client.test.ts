// ZeroMQ REQ client transport: lock-step queueing, replies read for one-way messages, timeout
// and recovery on the same socket, close semantics, and the lazy optional `zeromq` import.
import assert from "node:assert/strict";
import { test } from "node:test";
import * as zmq from "zeromq";
import { ErrorCode } from "../../../src/errors.js";
import { ZmqClientTransport, ZmqServerTransport } from "../../../src/jsonrpc/transports/zmq.js";
import { importZeromq } from "../../../src/jsonrpc/transports/zmq-load.js";

const text = (b: Uint8Array | undefined) => Buffer.from(b ?? []).toString();
const bytes = (s: string) => Buffer.from(s);

/** A server answering "re:"+body, an empty frame for "note", and never answering "drop". */
async function startServer() {
  const server = await ZmqServerTransport.bind("tcp://127.0.0.1:0");
  const seen: string[] = [];
  const loop = (async () => {
    for (let m = await server.receiveMessage(); m; m = await server.receiveMessage()) {
      const body = text(m.message);
      seen.push(body);
      if (body === "drop") continue;
      await server.sendReply(m.context, body === "note" ? new Uint8Array(0) : bytes(`re:${body}`));
    }
  })();
  return { server, seen, stop: async () => (await server.close(), await loop) };
}

test("concurrent calls are queued on the lock-step REQ socket and each gets its own reply", async () => {
  const s = await startServer();
  const client = await ZmqClientTransport.connect(s.server.endpoint);
  try {
    const replies = await Promise.all(Array.from({ length: 30 }, (_, i) => client.sendMessage(bytes(`m${i}`), true)));
    assert.deepEqual(replies.map(text), Array.from({ length: 30 }, (_, i) => `re:m${i}`));
  } finally {
    await client.close();
    await s.stop();
  }
});

test("expectReply=false still consumes the (empty) reply so the next call works", async () => {
  const s = await startServer();
  const client = await ZmqClientTransport.connect(s.server.endpoint);
  try {
    assert.equal(await client.sendMessage(bytes("note"), false), undefined);
    assert.equal(text(await client.sendMessage(bytes("next"), true)), "re:next");
    assert.deepEqual(s.seen, ["note", "next"]);
    assert.equal((await client.sendMessage(bytes("note"), true))!.length, 0);
  } finally {
    await client.close();
    await s.stop();
  }
});

test("timeout fails the call with TRANSPORT, and the same client recovers (no EFSM)", async () => {
  const s = await startServer();
  // The timeout also bounds the recovering call, which must succeed on a busy machine.
  const client = await ZmqClientTransport.connect(s.server.endpoint, { timeoutMs: 1500 });
  try {
    await assert.rejects(client.sendMessage(bytes("drop"), true), (e: Error & { code?: string }) => {
      assert.equal(e.code, ErrorCode.TRANSPORT);
      assert.match(e.message, /no reply from tcp:\/\/127\.0\.0\.1:\d+ within 1500 ms/);
      return true;
    });
    assert.equal(text(await client.sendMessage(bytes("again"), true)), "re:again");
  } finally {
    await client.close();
    await s.stop();
  }
});

test("a late reply to a timed-out request is discarded, not returned for the next call, and the next call still waits for its own reply", async () => {
  // A hand-driven ROUTER that answers the first request only after the client gave up. The
  // timeout also bounds the second call, which must succeed on a busy machine: not too short.
  const router = new zmq.Router({ linger: 0 });
  await router.bind("tcp://127.0.0.1:0");
  const client = await ZmqClientTransport.connect(router.lastEndpoint!, { timeoutMs: 1500 });
  try {
    const first = client.sendMessage(bytes("one"), true);
    const f1 = await router.receive();
    await assert.rejects(first, { code: ErrorCode.TRANSPORT });
    const second = client.sendMessage(bytes("two"), true);
    const f2 = await router.receive();
    await router.send([...f1.slice(0, -1), "late reply to one"]);
    // The late reply alone first: the client drops it inside its receive (ZeroMQ's correlate),
    // which reports EAGAIN at once; the call must keep waiting for its own reply.
    await new Promise((r) => setTimeout(r, 200));
    await router.send([...f2.slice(0, -1), "reply to two"]);
    assert.equal(text(await second), "reply to two");
  } finally {
    await client.close();
    router.close();
  }
});

test("close(): queued calls fail with TRANSPORT_CLOSED and later calls too", async () => {
  const router = new zmq.Router({ linger: 0 });
  await router.bind("tcp://127.0.0.1:0");
  const client = await ZmqClientTransport.connect(router.lastEndpoint!);
  try {
    const inFlight = client.sendMessage(bytes("never answered"), true);
    const queued = client.sendMessage(bytes("queued"), true);
    await router.receive();
    await client.close();
    await assert.rejects(inFlight, { code: ErrorCode.TRANSPORT_CLOSED });
    await assert.rejects(queued, { code: ErrorCode.TRANSPORT_CLOSED });
    await assert.rejects(client.sendMessage(bytes("after"), true), { code: ErrorCode.TRANSPORT_CLOSED });
  } finally {
    router.close();
  }
});

test("bad options and endpoints are refused with BAD_OPTION / BAD_ADDRESS", async () => {
  await assert.rejects(ZmqClientTransport.connect("tcp://127.0.0.1:1", { timeoutMs: 0 }), { code: ErrorCode.BAD_OPTION });
  await assert.rejects(ZmqClientTransport.connect("nonsense"), { code: ErrorCode.BAD_ADDRESS });
  await assert.rejects(ZmqServerTransport.bind("tcp://127.0.0.1:0", { maxMessageBytes: -1 }), { code: ErrorCode.BAD_OPTION });
});

test("without the optional zeromq package the transport says to install it (TRANSPORT)", async () => {
  await assert.rejects(importZeromq("zeromq-not-installed-here"), (e: Error & { code?: string }) => {
    assert.equal(e.code, ErrorCode.TRANSPORT);
    assert.match(e.message, /install zeromq to use the ZeroMQ transport/);
    return true;
  });
});
