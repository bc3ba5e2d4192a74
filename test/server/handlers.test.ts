// Handler shapes and registration: context-style and stream-style typed handlers, grpcio
// raw method handler factories, generic handlers, precedence, and registration errors.
import { afterEach, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import { once } from "node:events";
import * as grpc from "@grpc/grpc-js";
import {
  Code,
  ErrorCode,
  RpcError,
  Server,
  SwitchboardError,
  methodHandlersGenericHandler,
  streamStreamRpcMethodHandler,
  streamUnaryRpcMethodHandler,
  unaryStreamRpcMethodHandler,
  unaryUnaryRpcMethodHandler,
  type HandlerCallDetails,
  type RpcMethodHandler,
} from "../../src/index.js";
import { Greeter } from "../../examples/gen/helloworld/helloworld_pb.js";
import { TestService } from "../../examples/gen/grpc/testing/test_pb.js";
import type { StreamingOutputCallResponse } from "../../examples/gen/grpc/testing/messages_pb.js";
import {
  bidi,
  bytesCodec,
  clientStream,
  deferred,
  expectCode,
  frame,
  GREETER_SAY_HELLO,
  GREETER_SAY_HELLO_STREAM,
  Harness,
  jsonCodec,
  rawRequest,
  serverStream,
  T,
  TS,
  unary,
  within,
} from "./helpers.js";

const h = new Harness();
afterEach(() => h.close());

const text = (b: Uint8Array | undefined) => Buffer.from(b ?? new Uint8Array()).toString("utf8");
const body = (s: string) => ({ body: Buffer.from(s) });

function isSbError(code: string) {
  return (err: unknown) => {
    assert.ok(err instanceof SwitchboardError, `expected a SwitchboardError, got ${String(err)}`);
    assert.equal(err.code, code);
    return true;
  };
}

describe("context-style handlers (addService)", () => {
  it("unary: (request, ctx) => response -> OK", T, async () => {
    const { target } = await h.start((s) =>
      s.addService(TestService, {
        unaryCall: (req) => ({ payload: body(`echo:${text(req.payload?.body)}`) }),
      }),
    );
    const res = await unary(h.client(target), TS.unaryCall, { payload: body("ping") }, TS.simpleRequest, TS.simpleResponse, { deadlineMs: 3000 });
    assert.equal(text(res.responses[0]!.payload?.body), "echo:ping");
    assert.equal(res.status.code, grpc.status.OK);
  });

  it("server streaming as an async generator: every yielded message arrives in order, then OK", T, async () => {
    const { target } = await h.start((s) =>
      s.addService(TestService, {
        async *streamingOutputCall(req) {
          for (const p of req.responseParameters) yield { payload: body("x".repeat(p.size)) };
        },
      }),
    );
    const res = await serverStream(h.client(target), TS.streamingOutputCall, { responseParameters: [{ size: 1 }, { size: 2 }, { size: 3 }] }, TS.outputRequest, TS.outputResponse, {
      deadlineMs: 3000,
    });
    assert.deepEqual(
      res.responses.map((r) => text(r.payload?.body)),
      ["x", "xx", "xxx"],
    );
    assert.equal(res.status.code, grpc.status.OK);
  });

  it("server streaming may return a plain (sync) iterable; an empty one -> OK with no messages", T, async () => {
    const { target } = await h.start((s) =>
      s.addService(TestService, {
        streamingOutputCall: (req) => req.responseParameters.map((p) => ({ payload: body(String(p.size)) })),
      }),
    );
    const client = h.client(target);
    const res = await serverStream(client, TS.streamingOutputCall, { responseParameters: [{ size: 7 }, { size: 8 }] }, TS.outputRequest, TS.outputResponse, { deadlineMs: 3000 });
    assert.deepEqual(
      res.responses.map((r) => text(r.payload?.body)),
      ["7", "8"],
    );
    const empty = await serverStream(client, TS.streamingOutputCall, {}, TS.outputRequest, TS.outputResponse, { deadlineMs: 3000 });
    assert.deepEqual(empty.responses, []);
    assert.equal(empty.status.code, grpc.status.OK);
  });

  it("client streaming consumes an AsyncIterable of requests and returns one response -> OK", T, async () => {
    const { target } = await h.start((s) =>
      s.addService(TestService, {
        async streamingInputCall(requests) {
          let total = 0;
          for await (const r of requests) total += r.payload?.body.length ?? 0;
          return { aggregatedPayloadSize: total };
        },
      }),
    );
    const requests = [1, 10, 100, 1000].map((n) => ({ payload: { body: new Uint8Array(n) } }));
    const res = await clientStream(h.client(target), TS.streamingInputCall, requests, TS.inputRequest, TS.inputResponse, { deadlineMs: 3000 });
    assert.equal(res.responses[0]!.aggregatedPayloadSize, 1111);
    const none = await clientStream(h.client(target), TS.streamingInputCall, [], TS.inputRequest, TS.inputResponse, { deadlineMs: 3000 });
    assert.equal(none.responses[0]!.aggregatedPayloadSize, 0);
  });

  it("bidi streaming answers each request before the client half-closes (ping-pong) -> OK", T, async () => {
    const { target } = await h.start((s) =>
      s.addService(TestService, {
        async *fullDuplexCall(requests) {
          for await (const r of requests) yield { payload: body(`pong:${text(r.payload?.body)}`) };
        },
      }),
    );
    const call = h
      .client(target)
      .makeBidiStreamRequest(TS.fullDuplexCall, TS.outputRequest.serialize, TS.outputResponse.deserialize, new grpc.Metadata(), { deadline: Date.now() + 5000 });
    const statusP = once(call, "status");
    const got: string[] = [];
    for (const word of ["a", "b", "c"]) {
      call.write({ payload: body(word) });
      const [msg] = (await within(once(call, "data"), 2000, `reply to ${word}`)) as [StreamingOutputCallResponse];
      got.push(text(msg.payload?.body));
    }
    call.end();
    const [st] = (await within(statusP, 2000, "status")) as [grpc.StatusObject];
    assert.deepEqual(got, ["pong:a", "pong:b", "pong:c"]);
    assert.equal(st.code, grpc.status.OK);
  });

  it("a method left out of the impl -> UNIMPLEMENTED", T, async () => {
    const { target } = await h.start((s) => s.addService(Greeter, { sayHello: () => ({ message: "hi" }) }));
    const g = h.greeter(target);
    assert.equal((await g.sayHello("x", { deadlineMs: 3000 })).responses[0]!.message, "hi");
    await expectCode(g.sayHelloStream("x", { deadlineMs: 3000 }), grpc.status.UNIMPLEMENTED);
  });
});

describe("stream-style handlers (addStreamService)", () => {
  it("recvMessage until null, sendInitialMetadata, sendMessage, sendTrailingMetadata({metadata}) -> OK with both metadata", T, async () => {
    const seen: (string | null)[] = [];
    const { target } = await h.start((s) =>
      s.addStreamService(TestService, {
        async unaryCall(stream) {
          const req = await stream.recvMessage();
          seen.push(req ? text(req.payload?.body) : null);
          seen.push((await stream.recvMessage()) === null ? null : "unexpected second message");
          await stream.sendInitialMetadata({ "x-initial": "i1" });
          await stream.sendMessage({ payload: body(`stream:${seen[0]}`) });
          await stream.sendTrailingMetadata({ metadata: { "x-trailer": "t1" } });
        },
      }),
    );
    const res = await unary(h.client(target), TS.unaryCall, { payload: body("hello") }, TS.simpleRequest, TS.simpleResponse, { deadlineMs: 3000 });
    assert.deepEqual(seen, ["hello", null]);
    assert.equal(text(res.responses[0]!.payload?.body), "stream:hello");
    assert.deepEqual(res.initial?.get("x-initial"), ["i1"]);
    assert.equal(res.status.code, grpc.status.OK);
    assert.deepEqual(res.status.metadata.get("x-trailer"), ["t1"]);
  });

  it("for await over the stream reads every request; returning without trailers -> OK", T, async () => {
    const { target } = await h.start((s) =>
      s.addStreamService(TestService, {
        async streamingInputCall(stream) {
          const parts: string[] = [];
          for await (const r of stream) parts.push(text(r.payload?.body));
          await stream.sendMessage({ aggregatedPayloadSize: parts.join("").length });
        },
      }),
    );
    const res = await clientStream(h.client(target), TS.streamingInputCall, [{ payload: body("ab") }, { payload: body("cde") }], TS.inputRequest, TS.inputResponse, {
      deadlineMs: 3000,
    });
    assert.equal(res.responses[0]!.aggregatedPayloadSize, 5);
    assert.equal(res.status.code, grpc.status.OK);
  });

  it("bidi: messages sent while reading, then sendTrailingMetadata({status, message}) -> that status after the messages", T, async () => {
    const { target } = await h.start((s) =>
      s.addStreamService(TestService, {
        async fullDuplexCall(stream) {
          let n = 0;
          for (let r = await stream.recvMessage(); r !== null; r = await stream.recvMessage()) {
            n++;
            await stream.sendMessage({ payload: body(text(r.payload?.body).toUpperCase()) });
          }
          await stream.sendTrailingMetadata({ status: Code.DATA_LOSS, message: `after ${n}`, metadata: { "x-count": String(n) } });
        },
      }),
    );
    const err = await expectCode(
      bidi(h.client(target), TS.fullDuplexCall, [{ payload: body("a") }, { payload: body("b") }], TS.outputRequest, TS.outputResponse, { deadlineMs: 3000 }),
      grpc.status.DATA_LOSS,
      "after 2",
    );
    assert.deepEqual(
      err.responses.map((r) => text(r.payload?.body)),
      ["A", "B"],
    );
    assert.deepEqual(err.metadata.get("x-count"), ["2"]);
  });

  it("sendTrailingMetadata({status, message, metadata}) before any message is a trailers-only error response", T, async () => {
    const { target, port } = await h.start((s) =>
      s.addStreamService(TestService, {
        async streamingOutputCall(stream) {
          await stream.recvMessage();
          await stream.sendTrailingMetadata({ status: Code.NOT_FOUND, message: "no such stream", metadata: { "x-why": "missing" } });
        },
        async unaryCall(stream) {
          await stream.sendTrailingMetadata({ status: Code.FAILED_PRECONDITION });
        },
      }),
    );
    const client = h.client(target);
    const err = await expectCode(serverStream(client, TS.streamingOutputCall, {}, TS.outputRequest, TS.outputResponse, { deadlineMs: 3000 }), grpc.status.NOT_FOUND, "no such stream");
    assert.deepEqual(err.responses, []);
    assert.deepEqual(err.metadata.get("x-why"), ["missing"]);

    // No status message at all: details are empty.
    await expectCode(unary(client, TS.unaryCall, {}, TS.simpleRequest, TS.simpleResponse, { deadlineMs: 3000 }), grpc.status.FAILED_PRECONDITION, "");

    // On the wire: one HEADERS frame with END_STREAM carrying the status.
    const raw = await rawRequest(h.h2(`http://127.0.0.1:${port}`), TS.streamingOutputCall, frame(new Uint8Array()));
    assert.equal(raw.headersEndedStream, true);
    assert.equal(raw.headers[":status"], 200);
    assert.equal(raw.headers["content-type"], "application/grpc");
    assert.equal(raw.headers["grpc-status"], String(Code.NOT_FOUND));
    assert.equal(raw.headers["grpc-message"], "no such stream");
    assert.equal(raw.headers["x-why"], "missing");
    assert.equal(raw.body.length, 0);
  });

  it("sendMessage after sendTrailingMetadata throws ERR_SB_CALL_STATE and the sent status stands", T, async () => {
    const thrown = deferred<unknown>();
    const { target } = await h.start((s) =>
      s.addStreamService(TestService, {
        async unaryCall(stream) {
          await stream.recvMessage();
          await stream.sendTrailingMetadata({ status: Code.ABORTED, message: "done early" });
          try {
            await stream.sendMessage({});
            thrown.resolve(undefined);
          } catch (err) {
            thrown.resolve(err);
          }
        },
      }),
    );
    await expectCode(unary(h.client(target), TS.unaryCall, {}, TS.simpleRequest, TS.simpleResponse, { deadlineMs: 3000 }), grpc.status.ABORTED, "done early");
    const err = await within(thrown.promise, 2000, "handler outcome");
    assert.ok(err instanceof SwitchboardError);
    assert.equal(err.code, ErrorCode.CALL_STATE);
  });

  // Several sendMessage() calls may wait for 'drain' at once; all of them settle.
  it("sendMessage calls not awaited one by one (Promise.all of 3 x 70 KB) all resolve -> 3 messages + OK", T, async () => {
    const settled = deferred();
    const { target } = await h.start((s) =>
      s.addStreamService(TestService, {
        async streamingOutputCall(stream) {
          while ((await stream.recvMessage()) !== null);
          const big = { payload: { body: Buffer.alloc(70_000, 0x62) } };
          await Promise.all([stream.sendMessage(big), stream.sendMessage(big), stream.sendMessage(big)]);
          settled.resolve();
        },
      }),
    );
    const res = await serverStream(h.client(target), TS.streamingOutputCall, {}, TS.outputRequest, TS.outputResponse, { deadlineMs: 3000 });
    assert.equal(res.responses.length, 3);
    assert.equal(res.status.code, grpc.status.OK);
    await within(settled.promise, 5000, "all sendMessage promises");
  });

  // Concurrent recvMessage() calls each settle.
  it("two concurrent recvMessage() calls on a unary request resolve to the message and null -> OK", T, async () => {
    const got = deferred<unknown[]>();
    const { target } = await h.start((s) =>
      s.addStreamService(TestService, {
        async unaryCall(stream) {
          const both = await Promise.all([stream.recvMessage(), stream.recvMessage()]);
          got.resolve(both.map((m) => (m === null ? null : text(m.payload?.body))));
          await stream.sendMessage({});
        },
      }),
    );
    const res = await unary(h.client(target), TS.unaryCall, { payload: body("one") }, TS.simpleRequest, TS.simpleResponse, { deadlineMs: 10_000 });
    assert.equal(res.status.code, grpc.status.OK);
    assert.deepEqual(await within(got.promise, 5000, "recvMessage results"), ["one", null]);
  });

  it("cancel() resets the stream -> client sees CANCELLED; the handler's own context is no longer active", T, async () => {
    const after = deferred<{ active: boolean; aborted: boolean }>();
    const { target } = await h.start((s) =>
      s.addStreamService(TestService, {
        async streamingOutputCall(stream) {
          await stream.recvMessage();
          await stream.sendMessage({ payload: body("first") });
          await stream.cancel();
          after.resolve({ active: stream.isActive(), aborted: stream.signal.aborted });
        },
      }),
    );
    const err = await expectCode(serverStream(h.client(target), TS.streamingOutputCall, {}, TS.outputRequest, TS.outputResponse, { deadlineMs: 3000 }), grpc.status.CANCELLED);
    assert.ok(err.responses.length <= 1);
    assert.deepEqual(await within(after.promise, 2000, "handler after cancel()"), { active: false, aborted: true });
  });
});

describe("handlers that finish before the client half-closes", () => {
  /** Opens a bidi call, writes one request, keeps the request side open and waits for the status. */
  async function oneWriteThenWait(target: string, path: string): Promise<{ status: grpc.StatusObject; responses: StreamingOutputCallResponse[] }> {
    const call = h
      .client(target)
      .makeBidiStreamRequest(path, TS.outputRequest.serialize, TS.outputResponse.deserialize, new grpc.Metadata(), { deadline: Date.now() + 4000 });
    const responses: StreamingOutputCallResponse[] = [];
    call.on("data", (m: StreamingOutputCallResponse) => responses.push(m));
    call.on("error", () => {});
    // Not events.once(): it would reject on the 'error' event a non-OK status also emits.
    const statusP = new Promise<[grpc.StatusObject]>((resolve) => call.on("status", (st: grpc.StatusObject) => resolve([st])));
    call.write({ payload: body("only") });
    const [status] = (await within(statusP, 5000, "status")) as [grpc.StatusObject];
    return { status, responses };
  }

  // A status sent before the client half-closes must reach it before the RST_STREAM(NO_ERROR) that stops the upload.
  it("context bidi handler returning after one request while the client still streams -> response + OK", T, async () => {
    const { target } = await h.start((s) =>
      s.addService(TestService, {
        async *fullDuplexCall(requests) {
          for await (const r of requests) {
            yield { payload: body(`first:${text(r.payload?.body)}`) };
            return;
          }
        },
      }),
    );
    const { status, responses } = await oneWriteThenWait(target, TS.fullDuplexCall);
    assert.deepEqual(responses.map((r) => text(r.payload?.body)), ["first:only"]);
    assert.equal(status.code, grpc.status.OK, `got ${grpc.status[status.code]}: ${status.details}`);
  });

  // The same ordering for a stream-style handler that ends the call while the client still sends.
  it("stream-style handler sending a message then sendTrailingMetadata({status}) mid-request -> that status (RESOURCE_EXHAUSTED)", T, async () => {
    const { target } = await h.start((s) =>
      s.addStreamService(TestService, {
        async fullDuplexCall(stream) {
          await stream.recvMessage();
          await stream.sendMessage({ payload: body("enough") });
          await stream.sendTrailingMetadata({ status: Code.RESOURCE_EXHAUSTED, message: "stop sending", metadata: { "x-limit": "1" } });
        },
      }),
    );
    const { status, responses } = await oneWriteThenWait(target, TS.fullDuplexCall);
    assert.deepEqual(responses.map((r) => text(r.payload?.body)), ["enough"]);
    assert.equal(status.code, grpc.status.RESOURCE_EXHAUSTED, `got ${grpc.status[status.code]}: ${status.details}`);
    assert.equal(status.details, "stop sending");
    assert.deepEqual(status.metadata.get("x-limit"), ["1"]);
  });

  it("a trailers-only error before reading the whole request -> that status (no early-RST problem without headers)", T, async () => {
    const { target } = await h.start((s) =>
      s.addService(TestService, {
        async *fullDuplexCall(requests) {
          for await (const _ of requests) throw new RpcError(Code.PERMISSION_DENIED, "no streaming for you");
        },
      }),
    );
    const { status, responses } = await oneWriteThenWait(target, TS.fullDuplexCall);
    assert.deepEqual(responses, []);
    assert.equal(status.code, grpc.status.PERMISSION_DENIED);
    assert.equal(status.details, "no streaming for you");
  });
});

// ---- grpcio raw method handlers ----------------------------------------------------------------

const RAW = "test.Raw";
const rawPath = (m: string) => `/${RAW}/${m}`;

function bytesHandlers(): Record<string, RpcMethodHandler> {
  return {
    Unary: unaryUnaryRpcMethodHandler((req: Uint8Array) => Buffer.concat([Buffer.from("u:"), req])),
    ServerStream: unaryStreamRpcMethodHandler(function* (req: Uint8Array) {
      for (const b of req) yield Buffer.from([b, b]);
    }),
    ClientStream: streamUnaryRpcMethodHandler(async (requests: AsyncIterable<Uint8Array>) => {
      const all: Uint8Array[] = [];
      for await (const r of requests) all.push(r);
      return Buffer.concat(all);
    }),
    Bidi: streamStreamRpcMethodHandler(async function* (requests: AsyncIterable<Uint8Array>) {
      for await (const r of requests) yield Buffer.from(Buffer.from(r).toString("utf8").split("").reverse().join(""));
    }),
  };
}

type Json = { n: number; words?: string[] };
const parse = (b: Uint8Array) => JSON.parse(Buffer.from(b).toString("utf8")) as Json;
const stringify = (v: Json) => Buffer.from(JSON.stringify(v));

function jsonHandlers(): Record<string, RpcMethodHandler> {
  return {
    Unary: unaryUnaryRpcMethodHandler<Json, Json>((req) => ({ n: req.n * 2 }), parse, stringify),
    ServerStream: unaryStreamRpcMethodHandler<Json, Json>(
      async function* (req) {
        for (let i = 0; i < req.n; i++) yield { n: i };
      },
      parse,
      stringify,
    ),
    ClientStream: streamUnaryRpcMethodHandler<Json, Json>(
      async (requests) => {
        let n = 0;
        for await (const r of requests) n += r.n;
        return { n };
      },
      parse,
      stringify,
    ),
    Bidi: streamStreamRpcMethodHandler<Json, Json>(
      async function* (requests) {
        for await (const r of requests) yield { n: r.n + 1 };
      },
      parse,
      stringify,
    ),
  };
}

describe("grpcio raw method handlers", () => {
  it("the four factories without (de)serializers take and return bytes", T, async () => {
    const { target } = await h.start((s) => s.addRegisteredMethodHandlers(RAW, bytesHandlers()));
    const c = h.client(target);
    const o = { deadlineMs: 3000 };
    const u = await unary(c, rawPath("Unary"), Buffer.from([1, 2, 3]), bytesCodec, bytesCodec, o);
    assert.deepEqual([...u.responses[0]!], [...Buffer.from("u:"), 1, 2, 3]);
    const ss = await serverStream(c, rawPath("ServerStream"), Buffer.from([7, 9]), bytesCodec, bytesCodec, o);
    assert.deepEqual(
      ss.responses.map((b) => [...b]),
      [
        [7, 7],
        [9, 9],
      ],
    );
    const cs = await clientStream(c, rawPath("ClientStream"), [Buffer.from("ab"), Buffer.alloc(0), Buffer.from("cd")], bytesCodec, bytesCodec, o);
    assert.equal(cs.responses[0]!.toString(), "abcd");
    const bd = await bidi(c, rawPath("Bidi"), [Buffer.from("abc"), Buffer.from("xy")], bytesCodec, bytesCodec, o);
    assert.deepEqual(
      bd.responses.map(String),
      ["cba", "yx"],
    );
  });

  it("the four factories with a deserializer and serializer work with decoded values (JSON here)", T, async () => {
    const { target } = await h.start((s) => s.addRegisteredMethodHandlers(RAW, jsonHandlers()));
    const c = h.client(target);
    const o = { deadlineMs: 3000 };
    assert.deepEqual((await unary(c, rawPath("Unary"), { n: 21 }, jsonCodec, jsonCodec, o)).responses, [{ n: 42 }]);
    assert.deepEqual((await serverStream(c, rawPath("ServerStream"), { n: 3 }, jsonCodec, jsonCodec, o)).responses, [{ n: 0 }, { n: 1 }, { n: 2 }]);
    assert.deepEqual((await clientStream(c, rawPath("ClientStream"), [{ n: 1 }, { n: 2 }, { n: 3 }], jsonCodec, jsonCodec, o)).responses, [{ n: 6 }]);
    assert.deepEqual((await bidi(c, rawPath("Bidi"), [{ n: 1 }, { n: 5 }], jsonCodec, jsonCodec, o)).responses, [{ n: 2 }, { n: 6 }]);
  });

  it("a deserializer that throws -> INTERNAL, and the handler does not run", T, async () => {
    let ran = false;
    const { target } = await h.start((s) =>
      s.addRegisteredMethodHandlers(RAW, {
        Unary: unaryUnaryRpcMethodHandler<Json, Json>(
          (req) => {
            ran = true;
            return req;
          },
          parse,
          stringify,
        ),
      }),
    );
    await expectCode(unary(h.client(target), rawPath("Unary"), Buffer.from("{not json"), bytesCodec, bytesCodec, { deadlineMs: 3000 }), grpc.status.INTERNAL);
    assert.equal(ran, false);
  });

  it("without a serializer, returning something other than bytes -> INTERNAL", T, async () => {
    const { target } = await h.start((s) => s.addRegisteredMethodHandlers(RAW, { Unary: unaryUnaryRpcMethodHandler(() => "not bytes" as unknown as Uint8Array) }));
    await expectCode(unary(h.client(target), rawPath("Unary"), Buffer.alloc(0), bytesCodec, bytesCodec, { deadlineMs: 3000 }), grpc.status.INTERNAL, /serializ/);
  });

  it("methodHandlersGenericHandler + addGenericRpcHandlers serves the methods of one service; others -> UNIMPLEMENTED", T, async () => {
    const generic = methodHandlersGenericHandler(RAW, bytesHandlers());
    assert.equal(generic.serviceName(), RAW);
    const { target } = await h.start((s) => s.addGenericRpcHandlers([generic]));
    const c = h.client(target);
    const u = await unary(c, rawPath("Unary"), Buffer.from("z"), bytesCodec, bytesCodec, { deadlineMs: 3000 });
    assert.equal(u.responses[0]!.toString(), "u:z");
    const bd = await bidi(c, rawPath("Bidi"), [Buffer.from("ok")], bytesCodec, bytesCodec, { deadlineMs: 3000 });
    assert.deepEqual(bd.responses.map(String), ["ko"]);
    await expectCode(unary(c, rawPath("Missing"), Buffer.alloc(0), bytesCodec, bytesCodec, { deadlineMs: 3000 }), grpc.status.UNIMPLEMENTED);
    await expectCode(unary(c, "/other.Service/Unary", Buffer.alloc(0), bytesCodec, bytesCodec, { deadlineMs: 3000 }), grpc.status.UNIMPLEMENTED);
  });

  it("generic handlers passed as the handlers option are used too", T, async () => {
    const { target } = await h.start(() => {}, { handlers: [methodHandlersGenericHandler(RAW, bytesHandlers())] });
    const u = await unary(h.client(target), rawPath("Unary"), Buffer.from("opt"), bytesCodec, bytesCodec, { deadlineMs: 3000 });
    assert.equal(u.responses[0]!.toString(), "u:opt");
  });

  it("a function-style generic handler sees call details (method + invocationMetadata); returning null -> UNIMPLEMENTED", T, async () => {
    const asked: { method: string; tenant: unknown }[] = [];
    const { target } = await h.start((s) =>
      s.addGenericRpcHandlers([
        (details: HandlerCallDetails) => {
          asked.push({ method: details.method, tenant: details.invocationMetadata.get("x-tenant") });
          if (!details.method.startsWith("/dyn.")) return null;
          return unaryUnaryRpcMethodHandler((req: Uint8Array) => Buffer.from(`${details.method}|${String(details.invocationMetadata.get("x-tenant"))}|${text(req)}`));
        },
      ]),
    );
    const md = new grpc.Metadata();
    md.set("x-tenant", "acme");
    const c = h.client(target);
    const u = await unary(c, "/dyn.Any/Thing", Buffer.from("q"), bytesCodec, bytesCodec, { deadlineMs: 3000, metadata: md });
    assert.equal(u.responses[0]!.toString(), "/dyn.Any/Thing|acme|q");
    await expectCode(unary(c, "/static.Svc/Nope", Buffer.alloc(0), bytesCodec, bytesCodec, { deadlineMs: 3000 }), grpc.status.UNIMPLEMENTED);
    assert.deepEqual(asked, [
      { method: "/dyn.Any/Thing", tenant: "acme" },
      { method: "/static.Svc/Nope", tenant: undefined },
    ]);
  });

  it("generic handlers are asked in order; the first non-null answer wins", T, async () => {
    const { target } = await h.start((s) =>
      s.addGenericRpcHandlers([
        () => null,
        { service: () => unaryUnaryRpcMethodHandler(() => Buffer.from("second")) },
        () => unaryUnaryRpcMethodHandler(() => Buffer.from("third")),
      ]),
    );
    const u = await unary(h.client(target), "/any.Svc/M", Buffer.alloc(0), bytesCodec, bytesCodec, { deadlineMs: 3000 });
    assert.equal(u.responses[0]!.toString(), "second");
  });

  it("addRegisteredMethodHandlers (and addService) win over a generic handler for the same path", T, async () => {
    let genericAsked = 0;
    const { target } = await h.start((s) => {
      s.addGenericRpcHandlers([
        () => {
          genericAsked++;
          return unaryUnaryRpcMethodHandler(() => Buffer.from("generic"));
        },
      ]);
      s.addRegisteredMethodHandlers(RAW, { Unary: unaryUnaryRpcMethodHandler(() => Buffer.from("registered")) });
      s.addService(Greeter, { sayHello: () => ({ message: "typed" }) });
    });
    const c = h.client(target);
    assert.equal((await unary(c, rawPath("Unary"), Buffer.alloc(0), bytesCodec, bytesCodec, { deadlineMs: 3000 })).responses[0]!.toString(), "registered");
    assert.equal((await h.greeter(target).sayHello("x", { deadlineMs: 3000 })).responses[0]!.message, "typed");
    assert.equal(genericAsked, 0);
    assert.equal((await unary(c, rawPath("Other"), Buffer.alloc(0), bytesCodec, bytesCodec, { deadlineMs: 3000 })).responses[0]!.toString(), "generic");
    assert.equal(genericAsked, 1);
  });
});

describe("routing and registration errors", () => {
  it("unknown service or method -> UNIMPLEMENTED naming the path; the server keeps serving", T, async () => {
    const { target } = await h.start((s) => s.addService(Greeter, { sayHello: () => ({ message: "still here" }) }));
    const c = h.client(target);
    await expectCode(unary(c, "/helloworld.Greeter/SayGoodbye", Buffer.alloc(0), bytesCodec, bytesCodec, { deadlineMs: 3000 }), grpc.status.UNIMPLEMENTED, /SayGoodbye/);
    await expectCode(unary(c, "/no.Such/Service", Buffer.alloc(0), bytesCodec, bytesCodec, { deadlineMs: 3000 }), grpc.status.UNIMPLEMENTED, /no\.Such\/Service/);
    await expectCode(serverStream(c, "/no.Such/Stream", Buffer.alloc(0), bytesCodec, bytesCodec, { deadlineMs: 3000 }), grpc.status.UNIMPLEMENTED);
    await expectCode(bidi(c, "/no.Such/Bidi", [Buffer.from("x")], bytesCodec, bytesCodec, { deadlineMs: 3000 }), grpc.status.UNIMPLEMENTED);
    assert.equal((await h.greeter(target).sayHello("x", { deadlineMs: 3000 })).responses[0]!.message, "still here");
  });

  it("a typo'd method name in an addService impl throws ERR_SB_BAD_HANDLER", T, () => {
    const server = new Server();
    const typo = { sayHelo: () => ({ message: "typo" }) } as never;
    assert.throws(() => server.addService(Greeter, typo), isSbError(ErrorCode.BAD_HANDLER));
    assert.throws(() => server.addStreamService(Greeter, typo), isSbError(ErrorCode.BAD_HANDLER));
    assert.throws(() => server.addService(Greeter, { sayHello: "not a function" } as never), isSbError(ErrorCode.BAD_HANDLER));
  });

  it("a raw method handler without a behavior for its call type throws ERR_SB_BAD_HANDLER", T, () => {
    const server = new Server();
    const incomplete: RpcMethodHandler = { requestStreaming: true, responseStreaming: false, unaryUnary: () => new Uint8Array() };
    assert.throws(() => server.addRegisteredMethodHandlers(RAW, { Broken: incomplete }), isSbError(ErrorCode.BAD_HANDLER));
  });

  it("registering the same method twice throws ERR_SB_DUPLICATE_METHOD", T, () => {
    const server = new Server();
    server.addService(Greeter, { sayHello: () => ({}) });
    assert.throws(() => server.addService(Greeter, { sayHello: () => ({}) }), isSbError(ErrorCode.DUPLICATE_METHOD));
    assert.throws(() => server.addStreamService(Greeter, { sayHello: async () => {} }), isSbError(ErrorCode.DUPLICATE_METHOD));
    assert.throws(() => server.addRegisteredMethodHandlers("helloworld.Greeter", { SayHello: unaryUnaryRpcMethodHandler((b: Uint8Array) => b) }), isSbError(ErrorCode.DUPLICATE_METHOD));
    server.addRegisteredMethodHandlers(RAW, { Unary: unaryUnaryRpcMethodHandler((b: Uint8Array) => b) });
    assert.throws(() => server.addRegisteredMethodHandlers(RAW, { Unary: unaryUnaryRpcMethodHandler((b: Uint8Array) => b) }), isSbError(ErrorCode.DUPLICATE_METHOD));
  });

  it("the same Greeter paths are reachable through proto-loader stubs", T, async () => {
    const { target } = await h.start((s) =>
      s.addService(Greeter, {
        sayHello: (r) => ({ message: `Hello, ${r.name}!` }),
        async *sayHelloStream(r) {
          yield { message: `1 ${r.name}` };
          yield { message: `2 ${r.name}` };
        },
      }),
    );
    assert.equal(GREETER_SAY_HELLO, "/helloworld.Greeter/SayHello");
    assert.equal(GREETER_SAY_HELLO_STREAM, "/helloworld.Greeter/SayHelloStream");
    const g = h.greeter(target);
    assert.equal((await g.sayHello("Ada", { deadlineMs: 3000 })).responses[0]!.message, "Hello, Ada!");
    assert.deepEqual(
      (await g.sayHelloStream("Bo", { deadlineMs: 3000 })).responses.map((r) => r.message),
      ["1 Bo", "2 Bo"],
    );
  });
});
