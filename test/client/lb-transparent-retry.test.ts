// Transparent retry (gRPC A6): a stream the server refused before processing it (RST_STREAM
// REFUSED_STREAM with no response, or above a GOAWAY's last-stream-id) is sent once more on a
// new pick, invisibly to the caller; a stream the server answered is never re-sent.
import { afterEach, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as http2 from "node:http2";
import { Code, createClient } from "../../src/index.js";
import { Greeter, HelloRequestSchema } from "../../examples/gen/helloworld/helloworld_pb.js";
import { fromBinary } from "@bufbuild/protobuf";
import { expectRpcError, helloReplyBytes, idServer, readBody, respondGrpc, Scope, T, unframe } from "./helpers.js";

const scope = new Scope();
afterEach(() => scope.close());

const { NGHTTP2_REFUSED_STREAM, NGHTTP2_NO_ERROR } = http2.constants;

/** A backend that refuses every stream with RST_STREAM REFUSED_STREAM; counts them. */
async function refuser() {
  let streams = 0;
  const bare = await scope.bare((stream) => {
    streams++;
    stream.close(NGHTTP2_REFUSED_STREAM);
  });
  return { ...bare, streams: () => streams };
}

/** An HTTP/2 frame: 9-byte header (RFC 9113 4.1) and payload. */
function h2Frame(type: number, flags: number, streamId: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(streamId, 5);
  return Buffer.concat([head, payload]);
}

/**
 * A raw HTTP/2 peer that answers the first HEADERS of each connection with GOAWAY
 * (last-stream-id 0, NO_ERROR): the stream was not processed (RFC 9113 6.8). node:http2 cannot
 * send a last-stream-id below a stream it has already accepted, hence the hand-made frames.
 */
async function goawayPeer() {
  let goaways = 0;
  const raw = await scope.rawTcp((socket) => {
    let buf = Buffer.alloc(0);
    let prefaceSeen = false;
    socket.write(h2Frame(4, 0, 0));
    socket.on("data", (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (!prefaceSeen) {
        if (buf.length < 24) return;
        buf = buf.subarray(24);
        prefaceSeen = true;
      }
      while (buf.length >= 9) {
        const len = buf.readUIntBE(0, 3);
        if (buf.length < 9 + len) return;
        const type = buf[3]!;
        const flags = buf[4]!;
        buf = buf.subarray(9 + len);
        if (type === 4 && (flags & 1) === 0) socket.write(h2Frame(4, 1, 0));
        if (type === 1) {
          goaways++;
          const payload = Buffer.alloc(8);
          payload.writeUInt32BE(0, 0);
          payload.writeUInt32BE(NGHTTP2_NO_ERROR, 4);
          socket.write(h2Frame(7, 0, 0, payload));
        }
      }
    });
  });
  return { ...raw, goaways: () => goaways };
}

describe("transparent retry", () => {
  it("RST_STREAM REFUSED_STREAM -> the call is re-sent on another backend and succeeds (10 calls, all OK)", T, async () => {
    const bad = await refuser();
    const good = await idServer(scope, "good");
    const ch = scope.channel(`ipv4:127.0.0.1:${bad.port},127.0.0.1:${good.port}`, { loadBalancingPolicy: "round_robin" });
    const client = createClient(Greeter, ch);
    for (let i = 0; i < 10; i++) assert.equal((await client.sayHello({ name: `c${i}` }, { timeout: 5000, waitForReady: true })).message, "good");
    assert.ok(bad.streams() >= 4, `the refusing backend saw ${bad.streams()} streams`);
    assert.equal(good.calls(), 10);
  });

  it("the re-sent request carries the same message (the request body is replayed)", T, async () => {
    const bad = await refuser();
    const names: string[] = [];
    const good = await scope.bare(async (stream) => {
      const body = await readBody(stream);
      const name = fromBinary(HelloRequestSchema, unframe(body)[0]!.data).name;
      names.push(name);
      respondGrpc(stream, [helloReplyBytes(`hi ${name}`)]);
    });
    const ch = scope.channel(`ipv4:127.0.0.1:${bad.port},127.0.0.1:${good.port}`, { loadBalancingPolicy: "round_robin" });
    const client = createClient(Greeter, ch);
    const replies: string[] = [];
    for (let i = 0; i < 6; i++) replies.push((await client.sayHello({ name: `n${i}` }, { timeout: 5000, waitForReady: true })).message);
    assert.deepEqual(replies, ["hi n0", "hi n1", "hi n2", "hi n3", "hi n4", "hi n5"]);
    assert.deepEqual(names, ["n0", "n1", "n2", "n3", "n4", "n5"]);
    assert.ok(bad.streams() >= 2);
  });

  it("GOAWAY with a last-stream-id below the call's stream -> the call succeeds on another backend (OK)", T, async () => {
    const draining = await goawayPeer();
    const good = await idServer(scope, "good");
    const ch = scope.channel(`ipv4:127.0.0.1:${draining.port},127.0.0.1:${good.port}`, { loadBalancingPolicy: "round_robin" });
    const client = createClient(Greeter, ch);
    for (let i = 0; i < 6; i++) assert.equal((await client.sayHello({ name: "x" }, { timeout: 5000, waitForReady: true })).message, "good");
    assert.ok(draining.goaways() >= 1, "the draining backend got at least one call");
  });

  it("refused on both backends -> retried only once, then UNAVAILABLE (REFUSED_STREAM)", T, async () => {
    const r1 = await refuser();
    const r2 = await refuser();
    const ch = scope.channel(`ipv4:127.0.0.1:${r1.port},127.0.0.1:${r2.port}`, { loadBalancingPolicy: "round_robin" });
    const client = createClient(Greeter, ch);
    // Both connected first, so the retry's pick has a ready backend.
    await expectRpcError(client.sayHello({ name: "x" }, { timeout: 5000, waitForReady: true }), Code.UNAVAILABLE, /REFUSED_STREAM/);
    assert.equal(r1.streams() + r2.streams(), 2, "one attempt and one transparent retry");
  });

  it("RST_STREAM after the response headers arrived -> no retry: the call fails", T, async () => {
    let streams = 0;
    const answered = await scope.bare((stream) => {
      streams++;
      stream.respond({ ":status": 200, "content-type": "application/grpc" });
      setImmediate(() => stream.close(NGHTTP2_REFUSED_STREAM));
    });
    const ch = scope.channel(answered.target);
    await assert.rejects(createClient(Greeter, ch).sayHello({ name: "x" }, { timeout: 5000 }));
    assert.equal(streams, 1);
  });
});
