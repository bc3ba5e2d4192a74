// Calls: the four typed call shapes, the call object API (open / sendRequest / sendMessage /
// end / recvInitialMetadata / recvMessage / recvTrailingMetadata / peer / status), raw-bytes
// methods via bindMethod, and receive-side flow control.
import { afterEach, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import * as grpc from "@grpc/grpc-js";
import { create, fromBinary, toBinary, type MessageInitShape } from "@bufbuild/protobuf";
import {
  bindMethod,
  type BidiStreamingMethod,
  type ClientStreamingMethod,
  Code,
  createClient,
  Metadata,
  unaryStreamRpcMethodHandler,
  unaryUnaryRpcMethodHandler,
  type ServerCallContext,
  type ServerStreamingMethod,
  type UnaryMethod,
} from "../../src/index.js";
import { Greeter, HelloReplySchema, HelloRequestSchema, type HelloRequest } from "../../examples/gen/helloworld/helloworld_pb.js";
import { TestService } from "../../examples/gen/grpc/testing/test_pb.js";
import type { StreamingOutputCallRequestSchema } from "../../examples/gen/grpc/testing/messages_pb.js";
import { deferred, expectRpcError, Scope, T, until, within } from "./helpers.js";

const scope = new Scope();
afterEach(() => scope.close());

const text = (b: Uint8Array | undefined) => Buffer.from(b ?? new Uint8Array()).toString();
const bytes = (s: string) => new TextEncoder().encode(s);

/** A TestService echoing payloads in every call shape. */
async function testService() {
  return scope.server((s) =>
    s.addService(TestService, {
      unaryCall: (req) => ({ payload: { body: bytes(`echo:${text(req.payload?.body)}`) } }),
      async *streamingOutputCall(req) {
        for (const p of req.responseParameters) yield { payload: { body: new Uint8Array(p.size).fill(7) } };
      },
      async streamingInputCall(requests) {
        let total = 0;
        for await (const r of requests) total += r.payload?.body.length ?? 0;
        return { aggregatedPayloadSize: total };
      },
      async *fullDuplexCall(requests) {
        for await (const r of requests) yield { payload: { body: bytes(`re:${text(r.payload?.body)}`) } };
      },
    }),
  );
}

const dup = (s: string): MessageInitShape<typeof StreamingOutputCallRequestSchema> => ({ payload: { body: bytes(s) } });

describe("calls", () => {
  it("typed unary: await client.method(request) returns the response (OK)", T, async () => {
    const { target } = await testService();
    const client = createClient(TestService, scope.channel(target));
    const res = await client.unaryCall({ payload: { body: bytes("hi") } }, { timeout: 3000 });
    assert.equal(text(res.payload?.body), "echo:hi");
    assert.equal(res.$typeName, "grpc.testing.SimpleResponse");
  });

  it("typed server streaming: for await over the call yields every response in order (OK)", T, async () => {
    const { target } = await testService();
    const client = createClient(TestService, scope.channel(target));
    const sizes: number[] = [];
    const call = client.streamingOutputCall({ responseParameters: [1, 2, 3, 4, 5].map((size) => ({ size })) }, { timeout: 3000 });
    for await (const r of call) sizes.push(r.payload!.body.length);
    assert.deepEqual(sizes, [1, 2, 3, 4, 5]);
    assert.equal(call.status?.code, Code.OK);
  });

  it("typed client streaming: an array and an async generator of requests both give one response (OK)", T, async () => {
    const { target } = await testService();
    const client = createClient(TestService, scope.channel(target));
    const fromArray = await client.streamingInputCall([10, 20, 30].map((n) => ({ payload: { body: new Uint8Array(n) } })), { timeout: 3000 });
    assert.equal(fromArray.aggregatedPayloadSize, 60);
    async function* gen() {
      for (const n of [1, 2, 3, 4]) {
        await sleep(5);
        yield { payload: { body: new Uint8Array(n) } };
      }
    }
    const fromGen = await client.streamingInputCall(gen(), { timeout: 3000 });
    assert.equal(fromGen.aggregatedPayloadSize, 10);
    const empty = await client.streamingInputCall([], { timeout: 3000 });
    assert.equal(empty.aggregatedPayloadSize, 0);
  });

  it("typed bidi: requests from a generator and responses interleave (each answer before the next request, OK)", T, async () => {
    const { target } = await testService();
    const client = createClient(TestService, scope.channel(target));
    const got: string[] = [];
    let answered = deferred();
    async function* requests() {
      for (const w of ["a", "b", "c"]) {
        yield dup(w);
        await within(answered.promise, 3000, `answer to ${w}`);
        answered = deferred();
      }
    }
    for await (const r of client.fullDuplexCall(requests(), { timeout: 5000 })) {
      got.push(text(r.payload?.body));
      answered.resolve();
    }
    assert.deepEqual(got, ["re:a", "re:b", "re:c"]);
  });

  it("call object: open(), sendMessage, recvInitialMetadata, recvMessage (null at end), recvTrailingMetadata, peer and status (OK)", T, async () => {
    let serverSaw: ServerCallContext | undefined;
    const { target, port } = await scope.server((s) =>
      s.addService(TestService, {
        async *fullDuplexCall(requests, ctx) {
          serverSaw = ctx;
          await ctx.sendInitialMetadata({ "x-initial": "hello", "x-bin-bin": new Uint8Array([1, 2, 3]) });
          ctx.setTrailingMetadata({ "x-trailing": "bye" });
          for await (const r of requests) yield { payload: r.payload };
        },
      }),
    );
    const client = createClient(TestService, scope.channel(target));
    const call = client.fullDuplexCall.open({ timeout: 3000, metadata: { "x-request": "r1" } });
    const before = call.status;
    assert.equal(before, undefined);
    await call.sendRequest();
    const initial = await call.recvInitialMetadata();
    assert.equal(initial.get("x-initial"), "hello");
    assert.deepEqual([...(initial.get("x-bin-bin") as Uint8Array)], [1, 2, 3]);
    assert.equal(call.initialMetadata, initial);
    assert.equal(call.peer, `ipv4:127.0.0.1:${port}`);
    await call.sendMessage(dup("one"));
    assert.equal(text((await call.recvMessage())!.payload?.body), "one");
    await call.sendMessage(dup("two"), { end: true });
    assert.equal(text((await call.recvMessage())!.payload?.body), "two");
    assert.equal(await call.recvMessage(), null);
    assert.equal(await call.recvMessage(), null, "null again after the end");
    const trailing = await call.recvTrailingMetadata();
    assert.equal(trailing.get("x-trailing"), "bye");
    assert.equal(call.trailingMetadata, trailing);
    assert.equal(call.status?.code, Code.OK);
    assert.equal(serverSaw?.metadata.get("x-request"), "r1");
  });

  it("call object: sendRequest({end: true}) half-closes at once (client streaming with no messages, OK)", T, async () => {
    const { target } = await testService();
    const call = createClient(TestService, scope.channel(target)).streamingInputCall.open({ timeout: 3000 });
    await call.sendRequest({ end: true });
    const res = await call.recvMessage();
    assert.equal(res?.aggregatedPayloadSize, 0);
    assert.equal(await call.recvMessage(), null);
    await call.recvTrailingMetadata();
    assert.equal(call.status?.code, Code.OK);
  });

  it("call object: sendMessage() then end() half-closes; for await reads the responses (OK)", T, async () => {
    const { target } = await testService();
    const call = createClient(TestService, scope.channel(target)).fullDuplexCall.open({ timeout: 3000 });
    for (const w of ["x", "y", "z"]) await call.sendMessage(dup(w));
    await call.end();
    const got: string[] = [];
    for await (const r of call) got.push(text(r.payload?.body));
    assert.deepEqual(got, ["re:x", "re:y", "re:z"]);
    await assert.rejects(call.sendMessage(dup("late")), /ended/);
  });

  it("call object: a server streaming call opened by hand (sendMessage with end, then for await, OK)", T, async () => {
    const { target } = await scope.server((s) =>
      s.addService(Greeter, {
        async *sayHelloStream(req) {
          for (let i = 0; i < 3; i++) yield { message: `${req.name}${i}` };
        },
      }),
    );
    const call = createClient(Greeter, scope.channel(target)).sayHelloStream.open({ timeout: 3000 });
    await call.sendMessage({ name: "n" }, { end: true });
    const got: string[] = [];
    for await (const r of call) got.push(r.message);
    assert.deepEqual(got, ["n0", "n1", "n2"]);
  });

  // Regression: this once failed — breaking out of `for await` leaves the call running: ClientCall's async iterator has no
  // finally/return handling, so the HTTP/2 stream stays open (and keeps the process alive)
  // until the server finishes on its own; an endless stream never ends. gRPC clients (grpc-js
  // streams) cancel the call when the consumer stops iterating.
  // Fix: in ClientCall[Symbol.asyncIterator], wrap the loop in try/finally and
  // `if (!this.status) await this.cancel()` in the finally block.
  it("breaking out of for await cancels the call (server's ctx.signal aborts, call ends CANCELLED)", T, async () => {
    const aborted = deferred();
    const { target } = await scope.server((s) =>
      s.addService(Greeter, {
        async *sayHelloStream(_req, ctx) {
          ctx.signal.addEventListener("abort", () => aborted.resolve());
          for (let i = 0; !ctx.signal.aborted; i++) {
            yield { message: String(i) };
            await sleep(5);
          }
        },
      }),
    );
    const call = createClient(Greeter, scope.channel(target)).sayHelloStream({ name: "endless" }, { timeout: 8000 });
    let n = 0;
    for await (const _ of call) if (++n === 3) break;
    await within(aborted.promise, 2000, "server to see the cancellation");
    assert.equal(call.status?.code, Code.CANCELLED);
  });

  it("call.cancel() ends the call CANCELLED locally and the server's ctx.signal aborts", T, async () => {
    const aborted = deferred();
    const entered = deferred();
    const { target } = await scope.server((s) =>
      s.addService(Greeter, {
        async sayHello(_req, ctx) {
          entered.resolve();
          await new Promise<void>((r) => ctx.signal.addEventListener("abort", () => r()));
          aborted.resolve();
          return {};
        },
      }),
    );
    const call = createClient(Greeter, scope.channel(target)).sayHello.open({ timeout: 5000 });
    await call.sendMessage({ name: "c" }, { end: true });
    await within(entered.promise, 3000, "handler start");
    await call.cancel();
    await expectRpcError(call.recvMessage(), Code.CANCELLED);
    assert.equal(call.status?.code, Code.CANCELLED);
    await within(aborted.promise, 2000, "server to see the cancellation");
  });

  it("raw bytes: bindMethod with identity (de)serializers calls typed and raw server methods (unary and server streaming, OK)", T, async () => {
    const identity = (b: Uint8Array) => b;
    const { target } = await scope.server((s) => {
      s.addService(Greeter, {
        sayHello: (req) => ({ message: `typed ${req.name}` }),
        async *sayHelloStream(req) {
          yield { message: `${req.name}-1` };
          yield { message: `${req.name}-2` };
        },
      });
      s.addRegisteredMethodHandlers("raw.Echo", {
        Reverse: unaryUnaryRpcMethodHandler((b: Uint8Array) => Uint8Array.from(b).reverse()),
        Split: unaryStreamRpcMethodHandler(async function* (b: Uint8Array) {
          for (const x of b) yield Uint8Array.of(x);
        }),
      });
    });
    const ch = scope.channel(target);
    const sayHello = bindMethod(ch, { path: "/helloworld.Greeter/SayHello", kind: "unary", serialize: identity, deserialize: identity }) as UnaryMethod<Uint8Array, Uint8Array>;
    const reqBytes = toBinary(HelloRequestSchema, create(HelloRequestSchema, { name: "bytes" }));
    const resBytes = await sayHello(reqBytes, { timeout: 3000 });
    assert.ok(resBytes instanceof Uint8Array);
    assert.equal(fromBinary(HelloReplySchema, resBytes).message, "typed bytes");

    const stream = bindMethod(ch, { path: "/helloworld.Greeter/SayHelloStream", kind: "server_streaming", serialize: identity, deserialize: identity }) as ServerStreamingMethod<Uint8Array, Uint8Array>;
    const got: string[] = [];
    for await (const b of stream(reqBytes, { timeout: 3000 })) got.push(fromBinary(HelloReplySchema, b).message);
    assert.deepEqual(got, ["bytes-1", "bytes-2"]);

    const reverse = bindMethod(ch, { path: "/raw.Echo/Reverse", kind: "unary", serialize: identity, deserialize: identity }) as UnaryMethod<Uint8Array, Uint8Array>;
    assert.deepEqual([...(await reverse(Uint8Array.of(1, 2, 3), { timeout: 3000 }))], [3, 2, 1]);
    const split = bindMethod(ch, { path: "/raw.Echo/Split", kind: "server_streaming", serialize: identity, deserialize: identity }) as ServerStreamingMethod<Uint8Array, Uint8Array>;
    const parts: number[] = [];
    for await (const b of split(Uint8Array.of(9, 8, 7), { timeout: 3000 })) parts.push(...b);
    assert.deepEqual(parts, [9, 8, 7]);
    // An empty message is a valid (zero-length) request and response.
    assert.deepEqual([...(await reverse(new Uint8Array(0), { timeout: 3000 }))], []);
  });

  it("an unknown method path -> UNIMPLEMENTED", T, async () => {
    const { target } = await testService();
    const identity = (b: Uint8Array) => b;
    const nope = bindMethod(scope.channel(target), { path: "/no.Such/Method", kind: "unary", serialize: identity, deserialize: identity }) as UnaryMethod<Uint8Array, Uint8Array>;
    await expectRpcError(nope(new Uint8Array(0), { timeout: 3000 }), Code.UNIMPLEMENTED);
  });

  it("flow control: a consumer that does not read stalls the server's sends; reading resumes them and all 200 x 64 KiB arrive (OK)", { timeout: 60_000 }, async () => {
    const COUNT = 200;
    const SIZE = 64 * 1024;
    const sent = new Map<string, number>();
    const { target } = await scope.server((s) =>
      s.addStreamService(Greeter, {
        async sayHelloStream(stream) {
          const name = (await stream.recvMessage())!.name;
          sent.set(name, 0);
          for (let i = 0; i < COUNT; i++) {
            await stream.sendMessage({ message: String(i % 10).repeat(SIZE) });
            sent.set(name, sent.get(name)! + 1);
          }
        },
      }),
    );
    const call = createClient(Greeter, scope.channel(target)).sayHelloStream({ name: "unread" }, { timeout: 50_000 });
    await call.recvInitialMetadata();
    await until(() => (sent.get("unread") ?? 0) > 0, 10_000, "first sends");
    // The yardstick, not a timer: the same 200 messages on a call of its own (own connection,
    // own windows) that is read as fast as they arrive. By the time all of them are in, a sender
    // that ignored flow control would have finished the unread call as well.
    let read = 0;
    for await (const _ of createClient(Greeter, scope.channel(target)).sayHelloStream({ name: "read" }, { timeout: 50_000 })) read++;
    assert.equal(read, COUNT);
    const stalledAt = sent.get("unread")!;
    assert.ok(stalledAt < COUNT / 2, `${stalledAt} of ${COUNT} sends completed without a reader while a reader received all ${COUNT}`);
    let received = 0;
    for await (const r of call) {
      assert.equal(r.message.length, SIZE);
      assert.equal(r.message[0], String(received % 10));
      received++;
    }
    assert.equal(received, COUNT);
    assert.equal(sent.get("unread"), COUNT);
    assert.equal(call.status?.code, Code.OK);
  });

  it("per-call metadata (text and -bin) reaches the server; Metadata objects and records both work (OK)", T, async () => {
    const seen: Metadata[] = [];
    const { target } = await scope.server((s) =>
      s.addService(Greeter, {
        sayHello: (_req, ctx) => {
          seen.push(ctx.metadata);
          return { message: "ok" };
        },
      }),
    );
    const client = createClient(Greeter, scope.channel(target));
    await client.sayHello({}, { timeout: 3000, metadata: { "x-a": ["1", "2"], "x-b-bin": new Uint8Array([0, 255]) } });
    await client.sayHello({}, { timeout: 3000, metadata: new Metadata([["x-c", "3"]]) });
    assert.deepEqual(seen[0]!.getAll("x-a"), ["1", "2"]);
    assert.deepEqual([...(seen[0]!.get("x-b-bin") as Uint8Array)], [0, 255]);
    assert.equal(seen[1]!.get("x-c"), "3");
  });
});

describe("calls against a grpc-js server (cross-check)", () => {
  /** A grpc-js server with the Greeter (protobuf-es codecs) and a raw bytes service for the streaming shapes. */
  async function grpcJsServer() {
    const server = new grpc.Server();
    const hello = {
      requestSerialize: (m: HelloRequest) => Buffer.from(toBinary(HelloRequestSchema, m)),
      requestDeserialize: (b: Buffer) => fromBinary(HelloRequestSchema, b),
      responseSerialize: (m: MessageInitShape<typeof HelloReplySchema>) => Buffer.from(toBinary(HelloReplySchema, create(HelloReplySchema, m))),
      responseDeserialize: (b: Buffer) => fromBinary(HelloReplySchema, b),
    };
    const raw = { requestSerialize: (b: Buffer) => b, requestDeserialize: (b: Buffer) => b, responseSerialize: (b: Buffer) => b, responseDeserialize: (b: Buffer) => b };
    server.addService(
      {
        sayHello: { path: "/helloworld.Greeter/SayHello", requestStream: false, responseStream: false, ...hello },
        sayHelloStream: { path: "/helloworld.Greeter/SayHelloStream", requestStream: false, responseStream: true, ...hello },
        collect: { path: "/raw.Bytes/Collect", requestStream: true, responseStream: false, ...raw },
        echo: { path: "/raw.Bytes/Echo", requestStream: true, responseStream: true, ...raw },
      } as grpc.ServiceDefinition,
      {
        sayHello(call: grpc.ServerUnaryCall<HelloRequest, unknown>, callback: grpc.sendUnaryData<unknown>) {
          const name = call.request.name;
          if (name === "fail") {
            const md = new grpc.Metadata();
            md.set("x-why", "because");
            return callback({ code: grpc.status.OUT_OF_RANGE, details: "too far ✓", metadata: md });
          }
          const deadline = call.getDeadline();
          const left = (deadline instanceof Date ? deadline.getTime() : Number(deadline)) - Date.now();
          const initial = new grpc.Metadata();
          initial.set("x-initial", "gjs");
          call.sendMetadata(initial);
          callback(null, { message: `hello ${name} ${call.metadata.get("x-req")[0]} ${left > 30_000 && left <= 60_000 ? "deadline" : `deadline ${left}`}` });
        },
        sayHelloStream(call: grpc.ServerWritableStream<HelloRequest, unknown>) {
          for (let i = 0; i < 3; i++) call.write({ message: `${call.request.name}${i}` });
          call.end();
        },
        collect(call: grpc.ServerReadableStream<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) {
          const parts: Buffer[] = [];
          call.on("data", (b: Buffer) => parts.push(b));
          call.on("end", () => callback(null, Buffer.concat(parts)));
        },
        echo(call: grpc.ServerDuplexStream<Buffer, Buffer>) {
          call.on("data", (b: Buffer) => call.write(Buffer.concat([Buffer.from("re:"), b])));
          call.on("end", () => call.end());
        },
      } as grpc.UntypedServiceImplementation,
    );
    const port = await new Promise<number>((resolve, reject) => server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
    scope.defer(() => new Promise<void>((r) => server.tryShutdown(() => r())).then(() => server.forceShutdown()));
    return `127.0.0.1:${port}`;
  }

  it("unary, server streaming, client streaming and bidi calls work against grpc-js; its errors keep code, message and metadata (OK / OUT_OF_RANGE)", T, async () => {
    const target = await grpcJsServer();
    const ch = scope.channel(target);
    const client = createClient(Greeter, ch);
    // A long deadline: the server's view of it ("deadline") allows any delay up to 30 s on the way.
    const call = client.sayHello.open({ timeout: 60_000, metadata: { "x-req": "r" } });
    await call.sendMessage({ name: "gjs" }, { end: true });
    assert.equal((await call.recvInitialMetadata()).get("x-initial"), "gjs");
    assert.equal((await call.recvMessage())?.message, "hello gjs r deadline");
    await call.recvTrailingMetadata();
    const got: string[] = [];
    for await (const r of client.sayHelloStream({ name: "s" }, { timeout: 3000 })) got.push(r.message);
    assert.deepEqual(got, ["s0", "s1", "s2"]);
    const err = await expectRpcError(client.sayHello({ name: "fail" }, { timeout: 3000 }), Code.OUT_OF_RANGE);
    assert.equal(err.rawMessage, "too far ✓");
    assert.equal(err.metadata?.get("x-why"), "because");

    const identity = (b: Uint8Array) => b;
    const collect = bindMethod(ch, { path: "/raw.Bytes/Collect", kind: "client_streaming", serialize: identity, deserialize: identity }) as ClientStreamingMethod<Uint8Array, Uint8Array>;
    assert.equal(text(await collect([bytes("ab"), bytes("cd"), bytes("e")], { timeout: 3000 })), "abcde");
    const echo = bindMethod(ch, { path: "/raw.Bytes/Echo", kind: "bidi_streaming", serialize: identity, deserialize: identity }) as BidiStreamingMethod<Uint8Array, Uint8Array>;
    const echoed: string[] = [];
    for await (const b of echo([bytes("1"), bytes("2")], { timeout: 3000 })) echoed.push(text(b));
    assert.deepEqual(echoed, ["re:1", "re:2"]);
  });
});
