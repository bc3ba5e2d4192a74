// The gRPC bridge, both fronts of one Server: a protobuf service registered for gRPC answers
// JSON-RPC `package.Service.Method` calls with the same implementation, in the protobuf JSON
// mapping, including the three streaming call types.
import assert from "node:assert/strict";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { toJson } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import {
  ErrorCode,
  exposeGrpcServer,
  grpcDispatcher,
  JSONRPCError,
  methodMap,
  RPCDispatcher,
  Server,
  SwitchboardError,
} from "../../src/index.js";
import { TestService } from "../../examples/gen/grpc/testing/test_pb.js";
import { testService } from "../../examples/interop/test-service.js";
import { Greeter } from "../../examples/gen/helloworld/helloworld_pb.js";
import { EchoReplySchema } from "../cli/gen/clitest/echo_pb.js";
import { REPO_ROOT } from "../server/helpers.js";
import { startServer } from "./helpers.js";
import { echo, Echo, rejection, startBoth, type BothFronts } from "./grpc-bridge-helpers.js";

const FIXTURES = path.join(REPO_ROOT, "test", "cli", "fixtures");

describe("gRPC bridge: one implementation on gRPC and JSON-RPC over HTTP", () => {
  let both: BothFronts;
  before(async () => {
    both = await startBoth();
  });
  after(async () => {
    await both?.close();
  });

  it("registers every method as package.Service.Method", () => {
    assert.deepEqual(both.names.sort(), ["clitest.Echo.Bidi", "clitest.Echo.ClientStream", "clitest.Echo.ServerStream", "clitest.Echo.Unary"]);
  });

  it("unary: our gRPC client and a JSON-RPC client get identical results", async () => {
    const request = { text: "hi", at: "2024-01-02T03:04:05.500Z", mood: "GRUMPY", labels: { a: "1", b: "2" }, big: "9007199254740993" };
    const viaRpc = await both.rpc.call("clitest.Echo.Unary", request);
    const viaGrpc = await both.grpc.unary({
      text: "hi",
      at: { seconds: 1704164645n, nanos: 500_000_000 },
      mood: 2,
      labels: { a: "1", b: "2" },
      extra: { case: "big", value: 9007199254740993n },
    });
    assert.deepEqual(viaRpc, toJson(EchoReplySchema, viaGrpc));
    // the protobuf JSON mapping: int64 as a string, Timestamp in RFC 3339, enum by name, map as an object
    assert.deepEqual(viaRpc, { text: "hi", count: 1, metadata: { a: "1", b: "2" }, at: "2024-01-02T03:04:05.500Z", mood: "GRUMPY", big: "9007199254740993" });
  });

  it("unary: @grpc/grpc-js (a real peer) reads the same values as the JSON-RPC client", async () => {
    const definition = protoLoader.loadSync(path.join(FIXTURES, "clitest", "echo.proto"), { includeDirs: [FIXTURES], longs: String, enums: String, oneofs: true });
    const loaded = grpc.loadPackageDefinition(definition) as unknown as { clitest: { Echo: grpc.ServiceClientConstructor } };
    const client = new loaded.clitest.Echo(both.grpcTarget, grpc.credentials.createInsecure());
    try {
      const viaGrpcJs = await new Promise<any>((resolve, reject) =>
        client["Unary"]!({ text: "peer", mood: "HAPPY", big: "-42", labels: { k: "v" } }, (err: Error | null, res: unknown) => (err ? reject(err) : resolve(res))),
      );
      const viaRpc = await both.rpc.call<any>("clitest.Echo.Unary", { text: "peer", mood: "HAPPY", big: "-42", labels: { k: "v" } });
      assert.deepEqual(
        { text: viaGrpcJs.text, count: viaGrpcJs.count, mood: viaGrpcJs.mood, big: viaGrpcJs.big, metadata: viaGrpcJs.metadata },
        { text: viaRpc.text, count: viaRpc.count, mood: viaRpc.mood, big: viaRpc.big, metadata: viaRpc.metadata },
      );
      assert.equal(viaRpc.big, "-42");
    } finally {
      client.close();
    }
  });

  it("bytes arrive from base64; int64 is accepted as a JSON number too; proto field names are accepted", async () => {
    assert.equal((await both.rpc.call<any>("clitest.Echo.Unary", { blob: "AAEC/w==" })).text, "000102ff");
    assert.equal((await both.rpc.call<any>("clitest.Echo.Unary", { big: 7 })).big, "7");
    assert.equal((await both.rpc.call<any>("clitest.Echo.Unary", { text: "x", fail_code: 0, delay_ms: 0 })).text, "x");
  });

  it("params: named message, [message], absent and [] all work; two positional params -> -32602", async () => {
    assert.equal((await both.rpc.call<any>("clitest.Echo.Unary", { text: "named" })).text, "named");
    assert.equal((await both.rpc.call<any>("clitest.Echo.Unary", [{ text: "positional" }])).text, "positional");
    assert.deepEqual(await both.rpc.call("clitest.Echo.Unary"), { count: 1 });
    assert.deepEqual(await both.rpc.call("clitest.Echo.Unary", []), { count: 1 });
    const err = await rejection(both.rpc.call("clitest.Echo.Unary", [{ text: "a" }, { text: "b" }]));
    assert.ok(err instanceof JSONRPCError);
    assert.equal(err.code, -32602);
    assert.match(String(err.data), /clitest\.EchoRequest is one request message/);
  });

  it("an unknown field -> -32602 naming it", async () => {
    const err = await rejection(both.rpc.call("clitest.Echo.Unary", { text: "x", colour: "red" }));
    assert.equal(err.code, -32602);
    assert.equal(err.message, "Invalid params");
    assert.match(String(err.data), /clitest\.EchoRequest.*"colour" is unknown/);
  });

  it("a value of the wrong type -> -32602: a string for int32, an unknown enum name, a bad Timestamp, bad base64", async () => {
    for (const params of [{ repeat: "many" }, { mood: "SLEEPY" }, { at: "yesterday" }, { blob: "!!not base64!!" }, { labels: ["a"] }]) {
      const err = await rejection(both.rpc.call("clitest.Echo.Unary", params));
      assert.equal(err.code, -32602, JSON.stringify(params));
      assert.match(String(err.data), /cannot decode/, JSON.stringify(params));
    }
  });

  it("server streaming: the result is the array of the stream, equal to what a gRPC client reads", async () => {
    const viaRpc = await both.rpc.call<unknown[]>("clitest.Echo.ServerStream", { text: "s", repeat: 3 });
    const viaGrpc = [];
    for await (const m of both.grpc.serverStream({ text: "s", repeat: 3 })) viaGrpc.push(toJson(EchoReplySchema, m));
    assert.deepEqual(viaRpc, viaGrpc);
    assert.deepEqual(viaRpc, [
      { text: "s #1", count: 1, big: "100000000000000000" },
      { text: "s #2", count: 2, big: "200000000000000000" },
      { text: "s #3", count: 3, big: "300000000000000000" },
    ]);
    assert.deepEqual(await both.rpc.call("clitest.Echo.ServerStream", { repeat: 0 }), []);
  });

  it("client streaming: positional params are the messages, named params {messages}; absent params are none", async () => {
    const viaGrpc = toJson(EchoReplySchema, await both.grpc.clientStream([{ text: "a" }, { text: "b" }, { text: "c" }]));
    assert.deepEqual(await both.rpc.call("clitest.Echo.ClientStream", [{ text: "a" }, { text: "b" }, { text: "c" }]), viaGrpc);
    assert.deepEqual(await both.rpc.call("clitest.Echo.ClientStream", { messages: [{ text: "a" }, { text: "b" }, { text: "c" }] }), viaGrpc);
    assert.deepEqual(viaGrpc, { text: "a b c", count: 3 });
    assert.deepEqual(await both.rpc.call("clitest.Echo.ClientStream"), {});
  });

  it("bidi: every request in, the array of responses out, equal to gRPC", async () => {
    const requests = [{ text: "x", mood: 1 }, { text: "y" }];
    const viaGrpc = [];
    for await (const m of both.grpc.bidi(requests)) viaGrpc.push(toJson(EchoReplySchema, m));
    const viaRpc = await both.rpc.call("clitest.Echo.Bidi", { messages: [{ text: "x", mood: "HAPPY" }, { text: "y" }] });
    assert.deepEqual(viaRpc, viaGrpc);
    assert.deepEqual(viaRpc, [{ text: "X", count: 1, mood: "HAPPY" }, { text: "Y", count: 2 }]);
  });

  it("streaming params of the wrong shape -> -32602: other named keys, messages not an array, a bad element (named by index)", async () => {
    const cases: [unknown, RegExp][] = [
      [{ messages: [], extra: 1 }, /unknown key "extra"/],
      [{ text: "a" }, /unknown key "text"/],
      [{ messages: { text: "a" } }, /"messages" must be an array/],
      [[{ text: "a" }, { text: "b", nope: true }], /^messages\[1\]: .*"nope" is unknown/],
      [[{ text: "a" }, 5], /^messages\[1\]: cannot decode/],
    ];
    for (const [params, pattern] of cases) {
      const err = await rejection(both.rpc.call("clitest.Echo.ClientStream", params as never));
      assert.equal(err.code, -32602, JSON.stringify(params));
      assert.match(String(err.data), pattern);
    }
  });
});

describe("gRPC bridge: options and registration", () => {
  function echoServer(): Server {
    return new Server().addService(Echo, echo).addService(Greeter, { sayHello: (r) => ({ message: `Hello, ${r.name}!` }) });
  }

  it("read.ignoreUnknownFields: true accepts unknown fields", async () => {
    const h = startServer(grpcDispatcher(echoServer(), { read: { ignoreUnknownFields: true } }));
    try {
      assert.equal((await h.client.call<any>("clitest.Echo.Unary", { text: "ok", colour: "red" })).text, "ok");
    } finally {
      await h.stop();
    }
  });

  it("write options shape the result: alwaysEmitImplicit, useProtoFieldName, enumAsInteger", async () => {
    const h = startServer(grpcDispatcher(echoServer(), { write: { alwaysEmitImplicit: true, useProtoFieldName: true, enumAsInteger: true } }));
    try {
      assert.deepEqual(await h.client.call("clitest.Echo.Unary", { text: "t", mood: "GRUMPY" }), { text: "t", count: 1, metadata: {}, mood: 2, big: "0" });
      assert.deepEqual(await h.client.call("helloworld.Greeter.SayHello", { name: "p" }), { message: "Hello, p!" });
    } finally {
      await h.stop();
    }
  });

  it("services: only the named services are exposed; an unknown name throws BAD_OPTION", () => {
    const server = echoServer();
    const d = new RPCDispatcher();
    assert.deepEqual(exposeGrpcServer(d, server, { services: ["helloworld.Greeter"] }), ["helloworld.Greeter.SayHello"]);
    assert.deepEqual(d.methodNames(), ["helloworld.Greeter.SayHello"]);
    assert.throws(
      () => exposeGrpcServer(new RPCDispatcher(), server, { services: ["nope.Missing"] }),
      (e: unknown) => e instanceof SwitchboardError && e.code === ErrorCode.BAD_OPTION && /"nope\.Missing".*clitest\.Echo/.test(e.message),
    );
  });

  it("methods without protobuf schemas are not exposed; a name taken twice throws DUPLICATE_METHOD", () => {
    const server = new Server().addService(Greeter, { sayHello: () => ({}) });
    server.addMethods(methodMap({ "/raw.Bytes/Echo": { kind: "unary", handler: async () => {} } }));
    const d = new RPCDispatcher();
    assert.deepEqual(exposeGrpcServer(d, server), ["helloworld.Greeter.SayHello"]);
    assert.throws(() => exposeGrpcServer(d, server), (e: unknown) => e instanceof SwitchboardError && e.code === ErrorCode.DUPLICATE_METHOD);
  });

  it("bad limits throw BAD_OPTION", () => {
    for (const bridge of [{ maxStreamMessages: 0 }, { maxResponseBytes: -1 }, { deadlineMs: 1.5 }, { deadlineMs: 2 ** 31 }]) {
      assert.throws(() => grpcDispatcher(echoServer(), bridge), (e: unknown) => e instanceof SwitchboardError && e.code === ErrorCode.BAD_OPTION, JSON.stringify(bridge));
    }
  });

  it("grpcDispatcher mounts under a prefix with addSubdispatch", async () => {
    const root = new RPCDispatcher().addSubdispatch(grpcDispatcher(echoServer(), { services: ["helloworld.Greeter"] }), "grpc.");
    const h = startServer(root);
    try {
      assert.deepEqual(await h.client.call("grpc.helloworld.Greeter.SayHello", { name: "m" }), { message: "Hello, m!" });
    } finally {
      await h.stop();
    }
  });

  it("maxStreamMessages: more request messages -> -32602; a longer response stream -> RESOURCE_EXHAUSTED -32008", async () => {
    const h = startServer(grpcDispatcher(echoServer(), { maxStreamMessages: 2 }));
    try {
      const tooMany = await rejection(h.client.call("clitest.Echo.ClientStream", [{}, {}, {}]));
      assert.equal(tooMany.code, -32602);
      assert.match(String(tooMany.data), /3 request messages exceed the limit of 2/);
      assert.equal((await h.client.call<unknown[]>("clitest.Echo.ServerStream", { repeat: 2 })).length, 2);
      const long = await rejection(h.client.call("clitest.Echo.ServerStream", { repeat: 3 }));
      assert.equal(long.code, -32008);
      assert.equal(long.data.grpcStatus, "RESOURCE_EXHAUSTED");
      assert.match(long.message, /limit of 2 messages/);
    } finally {
      await h.stop();
    }
  });

  it("maxResponseBytes bounds the encoded responses of one call -> RESOURCE_EXHAUSTED -32008", async () => {
    const h = startServer(grpcDispatcher(echoServer(), { maxResponseBytes: 64 }));
    try {
      assert.equal((await h.client.call<any>("clitest.Echo.Unary", { text: "short" })).text, "short");
      const err = await rejection(h.client.call("clitest.Echo.Unary", { text: "x".repeat(100) }));
      assert.equal(err.code, -32008);
      assert.match(err.message, /limit of 64 bytes/);
    } finally {
      await h.stop();
    }
  });
});

describe("gRPC bridge: the interop TestService handlers (grpc.testing)", () => {
  let h: ReturnType<typeof startServer>;
  before(() => {
    h = startServer(grpcDispatcher(new Server().addService(TestService, testService)));
  });
  after(async () => {
    await h?.stop();
  });

  it("EmptyCall answers {}; UnaryCall's bytes payload comes back in base64", async () => {
    assert.deepEqual(await h.client.call("grpc.testing.TestService.EmptyCall"), {});
    assert.deepEqual(await h.client.call("grpc.testing.TestService.UnaryCall", { responseSize: 3 }), { payload: { body: "AAAA" } });
  });

  it("a handler's RpcError comes back as its status: expectCompressed {value: false} passes, {value: true} -> INVALID_ARGUMENT -32003", async () => {
    assert.deepEqual(await h.client.call("grpc.testing.TestService.UnaryCall", { responseSize: 1, expectCompressed: { value: false } }), { payload: { body: "AA==" } });
    const err = await rejection(h.client.call("grpc.testing.TestService.UnaryCall", { expectCompressed: { value: true } }));
    assert.equal(err.code, -32003);
    assert.equal(err.data.grpcStatus, "INVALID_ARGUMENT");
  });

  it("StreamingOutputCall (compression and metadata calls inside) answers the array of payloads", async () => {
    const result = await h.client.call("grpc.testing.TestService.StreamingOutputCall", { responseParameters: [{ size: 1, compressed: { value: true } }, { size: 2 }] });
    assert.deepEqual(result, [{ payload: { body: "AA==" } }, { payload: { body: "AAA=" } }]);
  });

  it("StreamingInputCall sums the request payloads; FullDuplexCall and HalfDuplexCall answer every request", async () => {
    assert.deepEqual(await h.client.call("grpc.testing.TestService.StreamingInputCall", [{ payload: { body: "AAAA" } }, { payload: { body: "AA==" } }]), { aggregatedPayloadSize: 4 });
    const requests = { messages: [{ responseParameters: [{ size: 1 }] }, { responseParameters: [{ size: 2 }, { size: 3 }] }] };
    const expected = [{ payload: { body: "AA==" } }, { payload: { body: "AAA=" } }, { payload: { body: "AAAA" } }];
    assert.deepEqual(await h.client.call("grpc.testing.TestService.FullDuplexCall", requests), expected);
    assert.deepEqual(await h.client.call("grpc.testing.TestService.HalfDuplexCall", requests), expected);
  });

  it("a method the implementation leaves out (UnimplementedCall) is not exposed: -32601", async () => {
    const err = await rejection(h.client.call("grpc.testing.TestService.UnimplementedCall"));
    assert.equal(err.code, -32601);
  });
});

describe("RPCDispatcher rawParams (what the bridge registers with)", () => {
  it("passes the params unbound: an object, an array, or undefined when absent", async () => {
    const d = new RPCDispatcher().addMethod((params: unknown) => params, { name: "raw", rawParams: true });
    const h = startServer(d);
    try {
      assert.deepEqual(await h.client.call("raw", { a: 1, b: [2] }), { a: 1, b: [2] });
      assert.deepEqual(await h.client.call("raw", [1, 2, 3]), [1, 2, 3]);
      assert.equal(await h.client.call("raw"), null);
    } finally {
      await h.stop();
    }
  });

  it("rawParams with params declared throws BAD_HANDLER", () => {
    assert.throws(
      () => new RPCDispatcher().addMethod((p: unknown) => p, { name: "x", rawParams: true, params: ["a"] }),
      (e: unknown) => e instanceof SwitchboardError && e.code === ErrorCode.BAD_HANDLER,
    );
  });
});
