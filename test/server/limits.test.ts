// Server limits and transport options: maximumConcurrentRpcs, message size limits both
// ways, advertised maxConcurrentStreams, server-wide compression, and send backpressure.
import { afterEach, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import { once } from "node:events";
import { gunzipSync } from "node:zlib";
import * as grpc from "@grpc/grpc-js";
import { constants as http2constants } from "node:http2";
import { Code, RpcError, streamStreamRpcMethodHandler, unaryUnaryRpcMethodHandler, type Server } from "../../src/index.js";
import { Greeter } from "../../examples/gen/helloworld/helloworld_pb.js";
import { TestService } from "../../examples/gen/grpc/testing/test_pb.js";
import { bytesCodec, deferred, expectCode, frame, grpcHeaders, Harness, rawRequest, T, TS, unary, unframe, until, within } from "./helpers.js";

const h = new Harness();
afterEach(() => h.close());

/** Raw-bytes methods: "/test.Raw/Echo" echoes; "/test.Raw/Sized" answers with as many bytes as the request's uint32 asks. */
function echoServer(setup: (s: Server) => void = () => {}) {
  return (s: Server) => {
    s.addRegisteredMethodHandlers("test.Raw", {
      Echo: unaryUnaryRpcMethodHandler((req: Uint8Array) => Buffer.from(req)),
      Sized: unaryUnaryRpcMethodHandler((req: Uint8Array) => Buffer.alloc(Buffer.from(req).readUInt32BE(0), "z")),
    });
    setup(s);
  };
}
const sizeRequest = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};

describe("limits", () => {
  it("maximumConcurrentRpcs exceeded -> RESOURCE_EXHAUSTED; once held calls finish a new call succeeds (the count does not leak)", T, async () => {
    let entered = 0;
    let release = deferred();
    const { server, target } = await h.start(
      (s) =>
        s.addService(Greeter, {
          async sayHello(req) {
            if (req.name === "hold") {
              entered++;
              await release.promise;
            }
            return { message: `done ${req.name}` };
          },
        }),
      { maximumConcurrentRpcs: 2 },
    );
    const g = h.greeter(target);
    for (let round = 0; round < 2; round++) {
      entered = 0;
      const held = [g.sayHello("hold", { deadlineMs: 5000 }), g.sayHello("hold", { deadlineMs: 5000 })];
      await until(() => entered === 2, 3000, "two held calls running");
      for (let i = 0; i < 3; i++) {
        await expectCode(g.sayHello("third", { deadlineMs: 3000 }), grpc.status.RESOURCE_EXHAUSTED, /too many concurrent/);
      }
      release.resolve();
      for (const r of await Promise.all(held)) assert.equal(r.responses[0]!.message, "done hold");
      await until(() => server.activeCalls === 0, 2000, "held calls to end");
      const ok = await g.sayHello("after", { deadlineMs: 3000 });
      assert.equal(ok.responses[0]!.message, "done after");
      release = deferred();
    }
  });

  it("maxReceiveMessageLength 1 KiB: a 1 KiB request is OK, a 2 KiB request -> RESOURCE_EXHAUSTED without running the handler", T, async () => {
    let runs = 0;
    const { target } = await h.start(
      (s) =>
        s.addRegisteredMethodHandlers("test.Raw", {
          Echo: unaryUnaryRpcMethodHandler((req: Uint8Array) => {
            runs++;
            return Buffer.from(req.subarray(0, 4));
          }),
        }),
      { maxReceiveMessageLength: 1024 },
    );
    const c = h.client(target);
    const ok = await unary(c, "/test.Raw/Echo", Buffer.alloc(1024, 1), bytesCodec, bytesCodec, { deadlineMs: 3000 });
    assert.equal(ok.responses[0]!.length, 4);
    await expectCode(unary(c, "/test.Raw/Echo", Buffer.alloc(2048, 1), bytesCodec, bytesCodec, { deadlineMs: 3000 }), grpc.status.RESOURCE_EXHAUSTED, /larger than max/);
    assert.equal(runs, 1);
  });

  it("maxReceiveMessageLength also bounds the decompressed size: a 2 KiB gzip request (tiny on the wire) -> RESOURCE_EXHAUSTED", T, async () => {
    const { target } = await h.start(echoServer(), { maxReceiveMessageLength: 1024 });
    const gz = h.client(target, grpc.credentials.createInsecure(), { "grpc.default_compression_algorithm": grpc.compressionAlgorithms.gzip });
    await expectCode(unary(gz, "/test.Raw/Echo", Buffer.alloc(2048), bytesCodec, bytesCodec, { deadlineMs: 3000 }), grpc.status.RESOURCE_EXHAUSTED);
    const ok = await unary(gz, "/test.Raw/Echo", Buffer.alloc(1000, 7), bytesCodec, bytesCodec, { deadlineMs: 3000 });
    assert.deepEqual(ok.responses[0], Buffer.alloc(1000, 7));
  });

  // A receive-limit failure after the response started still reaches the client as RESOURCE_EXHAUSTED.
  it("maxReceiveMessageLength on a bidi call that already answered: an oversized later message -> RESOURCE_EXHAUSTED", T, async () => {
    const { target } = await h.start(
      (s) =>
        s.addRegisteredMethodHandlers("test.Raw", {
          Bidi: streamStreamRpcMethodHandler(async function* (requests: AsyncIterable<Uint8Array>) {
            for await (const r of requests) yield Buffer.from(String(r.length));
          }),
        }),
      { maxReceiveMessageLength: 1024 },
    );
    const call = h.client(target).makeBidiStreamRequest("/test.Raw/Bidi", bytesCodec.serialize, bytesCodec.deserialize, new grpc.Metadata(), { deadline: Date.now() + 4000 });
    const replies: string[] = [];
    call.on("error", () => {});
    const statusP = new Promise<grpc.StatusObject>((resolve) => call.on("status", resolve));
    const first = new Promise<void>((resolve) =>
      call.on("data", (b: Buffer) => {
        replies.push(b.toString());
        resolve();
      }),
    );
    call.write(Buffer.alloc(10));
    await within(first, 2000, "first reply");
    call.write(Buffer.alloc(2048));
    const st = await within(statusP, 3000, "status");
    assert.deepEqual(replies, ["10"]);
    assert.equal(st.code, grpc.status.RESOURCE_EXHAUSTED, `got ${grpc.status[st.code]}: ${st.details}`);
  });

  it("maxSendMessageLength 1 KiB: a 1 KiB response is OK, a 2 KiB response -> RESOURCE_EXHAUSTED", T, async () => {
    const { target } = await h.start(echoServer(), { maxSendMessageLength: 1024 });
    const c = h.client(target);
    const ok = await unary(c, "/test.Raw/Sized", sizeRequest(1024), bytesCodec, bytesCodec, { deadlineMs: 3000 });
    assert.equal(ok.responses[0]!.length, 1024);
    const err = await expectCode(unary(c, "/test.Raw/Sized", sizeRequest(2048), bytesCodec, bytesCodec, { deadlineMs: 3000 }), grpc.status.RESOURCE_EXHAUSTED, /larger than max/);
    assert.deepEqual(err.responses, []);
    // The server is fine afterwards.
    assert.equal((await unary(c, "/test.Raw/Sized", sizeRequest(10), bytesCodec, bytesCodec, { deadlineMs: 3000 })).responses[0]!.length, 10);
  });

  it("maxConcurrentStreams is advertised in SETTINGS (node http2 remoteSettings)", T, async () => {
    const { port } = await h.start(echoServer(), { maxConcurrentStreams: 7 });
    const session = h.h2(`http://127.0.0.1:${port}`);
    await within(once(session, "remoteSettings"), 3000, "server SETTINGS");
    assert.equal(session.remoteSettings.maxConcurrentStreams, 7);
  });

  it("the default maxConcurrentStreams advertised is 256", T, async () => {
    const { port } = await h.start(echoServer());
    const session = h.h2(`http://127.0.0.1:${port}`);
    await within(once(session, "remoteSettings"), 3000, "server SETTINGS");
    assert.equal(session.remoteSettings.maxConcurrentStreams, 256);
  });

  it('server option compression: "gzip" compresses responses (flag byte 1, grpc-encoding gzip) and the content is right', T, async () => {
    const { port, target } = await h.start(echoServer(), { compression: "gzip" });
    const session = h.h2(`http://127.0.0.1:${port}`);
    const payload = Buffer.alloc(10_000, "compress me ");
    const raw = await rawRequest(session, "/test.Raw/Echo", frame(payload), { "grpc-accept-encoding": "identity,deflate,gzip" });
    assert.equal(raw.headers["grpc-encoding"], "gzip");
    assert.equal((raw.trailers ?? raw.headers)["grpc-status"], "0");
    const [msg, ...rest] = unframe(raw.body);
    assert.equal(rest.length, 0);
    assert.equal(msg!.flag, 1, "the compressed flag must be set");
    assert.ok(msg!.data.length < payload.length / 10, `gzip of ${payload.length} repetitive bytes is ${msg!.data.length} bytes`);
    assert.deepEqual(gunzipSync(msg!.data), payload);

    // A client that does not accept gzip gets identity.
    const plain = await rawRequest(session, "/test.Raw/Echo", frame(payload));
    assert.equal(plain.headers["grpc-encoding"], undefined);
    const [p] = unframe(plain.body);
    assert.equal(p!.flag, 0);
    assert.deepEqual(p!.data, payload);

    // And grpc-js decodes it transparently.
    const viaGrpcJs = await unary(h.client(target), "/test.Raw/Echo", payload, bytesCodec, bytesCodec, { deadlineMs: 3000 });
    assert.deepEqual(viaGrpcJs.responses[0], payload);
  });

  it("backpressure: sendMessage waits while a client does not read (few 64 KiB messages sent while a reading client gets all), then all messages arrive", { timeout: 40_000 }, async () => {
    const TOTAL = 100;
    const SIZE = 64 * 1024;
    // Messages sent so far by each call, in the order the calls arrived.
    const sent: number[] = [];
    const finished = deferred();
    const { port } = await h.start((s) =>
      s.addStreamService(TestService, {
        async streamingOutputCall(stream) {
          const me = sent.push(0) - 1;
          await stream.recvMessage();
          const chunk = { payload: { body: Buffer.alloc(SIZE, 0x61) } };
          for (let i = 0; i < TOTAL; i++) {
            await stream.sendMessage(chunk);
            sent[me]!++;
          }
          if (me === 0) finished.resolve();
        },
      }),
    );
    const session = h.h2(`http://127.0.0.1:${port}`);
    const stream = session.request(grpcHeaders(TS.streamingOutputCall));
    stream.pause();
    stream.end(frame(TS.outputRequest.serialize({})));
    await within(once(stream, "response"), 10_000, "response headers");

    // The yardstick, not a timer: the same call on a connection of its own, read as fast as it
    // arrives. Once it has all TOTAL messages, a handler that did not wait for the paused
    // client would have sent it everything as well.
    const yardstick = h.h2(`http://127.0.0.1:${port}`).request(grpcHeaders(TS.streamingOutputCall));
    const read: Buffer[] = [];
    yardstick.on("data", (c: Buffer) => read.push(c));
    yardstick.end(frame(TS.outputRequest.serialize({})));
    await within(once(yardstick, "close"), 20_000, "the reading call");
    assert.equal(unframe(Buffer.concat(read)).length, TOTAL);
    const sentWhileBlocked = sent[0]!;
    assert.ok(sentWhileBlocked < 64, `the handler sent ${sentWhileBlocked} of ${TOTAL} messages of 64 KiB to a client that reads nothing`);

    const chunks: Buffer[] = [];
    let trailers: Record<string, unknown> = {};
    stream.on("trailers", (t) => (trailers = t));
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.resume();
    await within(once(stream, "close"), 10_000, "the whole stream");
    await within(finished.promise, 5000, "handler end");
    const messages = unframe(Buffer.concat(chunks));
    assert.equal(messages.length, TOTAL);
    for (const m of messages) {
      assert.equal(m.flag, 0);
      assert.equal(TS.outputResponse.deserialize(m.data).payload?.body.length, SIZE);
    }
    assert.equal(trailers["grpc-status"], "0");
    assert.equal(sent[0], TOTAL);
  });

  it("a client cancel while the handler waits in sendMessage (backpressure) rejects it with RpcError(CANCELLED) and frees the call", T, async () => {
    const blocked = deferred();
    const outcome = deferred<unknown>();
    const { server, port } = await h.start((s) =>
      s.addStreamService(TestService, {
        async streamingOutputCall(stream) {
          await stream.recvMessage();
          const chunk = { payload: { body: Buffer.alloc(64 * 1024) } };
          try {
            for (;;) {
              const sending = stream.sendMessage(chunk);
              const timer = setTimeout(() => blocked.resolve(), 100);
              await sending;
              clearTimeout(timer);
            }
          } catch (err) {
            outcome.resolve(err);
          }
        },
      }),
    );
    const session = h.h2(`http://127.0.0.1:${port}`);
    const stream = session.request(grpcHeaders(TS.streamingOutputCall));
    stream.pause();
    stream.end(frame(TS.outputRequest.serialize({})));
    await within(blocked.promise, 3000, "sendMessage blocking");
    stream.close(http2constants.NGHTTP2_CANCEL);
    const err = await within(outcome.promise, 2000, "sendMessage rejection");
    assert.ok(err instanceof RpcError, `got ${String(err)}`);
    assert.equal(err.code, Code.CANCELLED);
    await until(() => server.activeCalls === 0, 2000, "call cleanup");
  });
});
