// The four call types through the SR OS facade, with parsed messages (grpc.testing.TestService
// given by descriptor) and with raw bytes (methods added with `kind`), driven by our client.
import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { Code } from "../../src/index.js";
import { ResponseTypeError, StatusCode, type Context, type GrpcServerOptions } from "../../src/sros/index.js";
import { LoadBalancerStatsService, TestService } from "../../examples/gen/grpc/testing/test_pb.js";
import type { StreamingInputCallRequest, StreamingOutputCallRequest } from "../../examples/gen/grpc/testing/messages_pb.js";
import { Fixture, rejection, T, within } from "./helpers.js";

let fixture: Fixture | undefined;
afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
});

async function start(options: GrpcServerOptions): Promise<Fixture> {
  fixture = await Fixture.start(options);
  return fixture;
}

const PKG = { package: "grpc.testing" };

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

describe("parsed messages (services given by descriptor)", () => {
  it("server streaming: a generator's responses are sent in order (OK)", T, async () => {
    const f = await start({ services: [TestService] });
    f.grpc.addHandler("TestService", "StreamingOutputCall", function* (request: StreamingOutputCallRequest) {
      for (const p of request.responseParameters) yield { payload: { body: new Uint8Array(p.size) } };
    }, PKG);
    const stream = f.client(TestService).streamingOutputCall({ responseParameters: [{ size: 1 }, { size: 2 }, { size: 3 }] });
    const responses = collect(stream);
    await within(f.grpc.handleRpc(), 5000, "handleRpc()");
    assert.deepEqual((await responses).map((r) => r.payload?.body.length), [1, 2, 3]);
  });

  it("client streaming: the handler iterates the requests and returns one response (OK)", T, async () => {
    const f = await start({ services: [TestService] });
    f.grpc.addHandler("TestService", "StreamingInputCall", async (requests: AsyncIterable<StreamingInputCallRequest>) => {
      let total = 0;
      for await (const r of requests) total += r.payload?.body.length ?? 0;
      return { aggregatedPayloadSize: total };
    }, PKG);
    const reply = f.client(TestService).streamingInputCall([10, 20, 30].map((n) => ({ payload: { body: new Uint8Array(n) } })));
    await within(f.grpc.handleRpc(), 5000, "handleRpc()");
    assert.equal((await reply).aggregatedPayloadSize, 60);
  });

  it("bidi streaming: an async generator answers each request as it arrives (OK)", T, async () => {
    const f = await start({ services: [TestService] });
    f.grpc.addHandler("TestService", "FullDuplexCall", async function* (requests: AsyncIterable<StreamingOutputCallRequest>) {
      for await (const r of requests) yield { payload: { body: new Uint8Array(r.responseParameters[0]?.size ?? 0) } };
    }, PKG);
    const call = f.client(TestService).fullDuplexCall([4, 5, 6].map((size) => ({ responseParameters: [{ size }] })));
    const responses = collect(call);
    await within(f.grpc.handleRpc(), 5000, "handleRpc()");
    assert.deepEqual((await responses).map((r) => r.payload?.body.length), [4, 5, 6]);
  });

  it("abort(OK) in a stream ends it OK after the responses sent so far", T, async () => {
    const f = await start({ services: [TestService] });
    f.grpc.addHandler("TestService", "StreamingOutputCall", function* (_r: StreamingOutputCallRequest, ctx: Context) {
      yield { payload: { body: new Uint8Array(1) } };
      yield { payload: { body: new Uint8Array(2) } };
      ctx.abort(StatusCode.OK, "that is all");
    }, PKG);
    const responses = collect(f.client(TestService).streamingOutputCall({}));
    await within(f.grpc.handleRpc(), 5000, "handleRpc()");
    assert.deepEqual((await responses).map((r) => r.payload?.body.length), [1, 2]);
  });

  it("a stream handler that catches its AbortError sends nothing more; the client gets the abort status (ABORTED)", T, async () => {
    const f = await start({ services: [TestService] });
    f.grpc.addHandler("TestService", "StreamingOutputCall", function* (_r: StreamingOutputCallRequest, ctx: Context) {
      yield { payload: { body: new Uint8Array(1) } };
      try {
        ctx.abort(StatusCode.ABORTED, "stop");
      } catch {
        // swallowed on purpose
      }
      yield { payload: { body: new Uint8Array(99) } };
    }, PKG);
    const seen: number[] = [];
    const done = rejection((async () => {
      for await (const r of f.client(TestService).streamingOutputCall({})) seen.push(r.payload?.body.length ?? -1);
    })());
    await within(f.grpc.handleRpc(), 5000, "handleRpc()");
    const err = await done;
    assert.equal(err.code, Code.ABORTED);
    assert.equal(err.rawMessage, "stop");
    assert.deepEqual(seen, [1]);
  });

  it("nested messages, lists and maps are checked too: bytes given as text is a TypeError (INTERNAL)", T, async () => {
    const f = await start({ services: [TestService] });
    f.grpc.addHandler("TestService", "StreamingOutputCall", function* () {
      yield { payload: { body: new Uint8Array(1) } };
      yield { payload: { body: "text" } };
    }, PKG);
    const seen: number[] = [];
    const done = rejection((async () => {
      for await (const r of f.client(TestService).streamingOutputCall({})) seen.push(r.payload?.body.length ?? -1);
    })());
    const err = await rejection(f.grpc.handleRpc());
    assert.ok(err instanceof ResponseTypeError);
    assert.match(err.message, /payload\.body/);
    assert.equal((await done).code, Code.INTERNAL);
    assert.deepEqual(seen, [1]);
  });

  it("map fields: string -> int32 values pass, a string value is a TypeError (OK, then INTERNAL)", T, async () => {
    const f = await start({ services: [LoadBalancerStatsService] });
    let response: unknown = { rpcsByPeer: { a: 1, b: 2 }, rpcsByMethod: { m: { rpcsByPeer: { a: 3 } } } };
    f.grpc.addHandler("LoadBalancerStatsService", "GetClientStats", () => response, PKG);
    const client = f.client(LoadBalancerStatsService);
    const good = client.getClientStats({});
    await within(f.grpc.handleRpc(), 5000, "handleRpc()");
    const stats = await good;
    assert.deepEqual(stats.rpcsByPeer, { a: 1, b: 2 });
    assert.equal(stats.rpcsByMethod["m"]?.rpcsByPeer["a"], 3);

    response = { rpcsByMethod: { m: { rpcsByPeer: { a: "three" } } } };
    const bad = rejection(client.getClientStats({}));
    const err = await rejection(f.grpc.handleRpc());
    assert.ok(err instanceof ResponseTypeError);
    assert.match(err.message, /rpcsByPeer/);
    assert.equal((await bad).code, Code.INTERNAL);
  });

  it("a streaming handler that returns no iterable: client INTERNAL, ResponseTypeError for the script", T, async () => {
    const f = await start({ services: [TestService] });
    f.grpc.addHandler("TestService", "StreamingOutputCall", () => ({ payload: {} }), PKG);
    const done = rejection(collect(f.client(TestService).streamingOutputCall({})));
    assert.ok((await rejection(f.grpc.handleRpc())) instanceof ResponseTypeError);
    assert.equal((await done).code, Code.INTERNAL);
  });
});

describe("raw bytes (methods added with kind)", () => {
  const bytes = (...b: number[]) => new Uint8Array(b);

  it("unary is the default kind: bytes in, bytes out (OK)", T, async () => {
    const f = await start({});
    f.grpc.addHandler("Bytes", "Unary", (r: Uint8Array) => bytes(r.length), { package: "demo" });
    const reply = f.raw("/demo.Bytes/Unary", "unary")(bytes(1, 2, 3));
    await within(f.grpc.handleRpc(), 5000, "handleRpc()");
    assert.deepEqual([...(await reply)], [3]);
  });

  it("server_streaming (OK)", T, async () => {
    const f = await start({});
    f.grpc.addHandler("Bytes", "Server", function* (r: Uint8Array) {
      for (const b of r) yield bytes(b, b);
    }, { package: "demo", kind: "server_streaming" });
    const responses = collect<Uint8Array>(f.raw("/demo.Bytes/Server", "server_streaming")(bytes(1, 2)));
    await within(f.grpc.handleRpc(), 5000, "handleRpc()");
    assert.deepEqual((await responses).map((r) => [...r]), [[1, 1], [2, 2]]);
  });

  it("client_streaming (OK)", T, async () => {
    const f = await start({});
    f.grpc.addHandler("Bytes", "Client", async (requests: AsyncIterable<Uint8Array>) => {
      const all: number[] = [];
      for await (const r of requests) all.push(...r);
      return bytes(...all);
    }, { package: "demo", kind: "client_streaming" });
    const reply = f.raw("/demo.Bytes/Client", "client_streaming")([bytes(1), bytes(2, 3)]);
    await within(f.grpc.handleRpc(), 5000, "handleRpc()");
    assert.deepEqual([...(await reply)], [1, 2, 3]);
  });

  it("bidi_streaming (OK)", T, async () => {
    const f = await start({});
    f.grpc.addHandler("Bytes", "Bidi", async function* (requests: AsyncIterable<Uint8Array>) {
      for await (const r of requests) yield r.reverse();
    }, { package: "demo", kind: "bidi_streaming" });
    const responses = collect<Uint8Array>(f.raw("/demo.Bytes/Bidi", "bidi_streaming")([bytes(1, 2), bytes(3, 4)]));
    await within(f.grpc.handleRpc(), 5000, "handleRpc()");
    assert.deepEqual((await responses).map((r) => [...r]), [[2, 1], [4, 3]]);
  });
});
