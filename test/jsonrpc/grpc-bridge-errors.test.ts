// The gRPC bridge's call semantics: statuses become JSON-RPC errors (-32000 - code, data with
// the status and its rich details), the server's error policy, interceptors and method lookup
// apply as for gRPC calls, and what a handler reads of its context works without HTTP/2.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  Code,
  ErrorInfoSchema,
  GRPC_STATUS_CODE_BASE,
  jsonrpcCodeOfStatus,
  RpcError,
  unaryUnaryRpcMethodHandler,
  type ServerCallContext,
  type ServerErrorContext,
  type ServerInterceptor,
  type ServiceInterceptor,
} from "../../src/index.js";
import { EchoReplySchema, EchoRequestSchema } from "../cli/gen/clitest/echo_pb.js";
import { deferred } from "../server/helpers.js";
import { echo, Echo, rejection, startBoth } from "./grpc-bridge-helpers.js";

describe("gRPC bridge: statuses as JSON-RPC errors", () => {
  it("status c -> code -32000 - c: CANCELLED -32001 ... UNAUTHENTICATED -32016", () => {
    assert.equal(GRPC_STATUS_CODE_BASE, -32000);
    assert.equal(jsonrpcCodeOfStatus(Code.NOT_FOUND), -32005);
    assert.equal(jsonrpcCodeOfStatus(Code.UNAUTHENTICATED), -32016);
  });

  it("RpcError NOT_FOUND with rich details -> -32005, the gRPC message, data {grpcCode, grpcStatus, details}; a gRPC client sees the same status", async () => {
    const both = await startBoth();
    try {
      const err = await rejection(both.rpc.call("clitest.Echo.Unary", { text: "t", failCode: 5, failMessage: "no such echo" }));
      assert.equal(err.code, -32005);
      assert.equal(err.message, "no such echo");
      assert.deepEqual(err.data, {
        grpcCode: 5,
        grpcStatus: "NOT_FOUND",
        details: [
          { "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason: "ECHO_FAILED", domain: "clitest", metadata: { text: "t" } },
          { "@type": "type.googleapis.com/clitest.EchoRequest", text: "t", failCode: 5, failMessage: "no such echo" },
        ],
      });
      const viaGrpc = await rejection(both.grpc.unary({ text: "t", failCode: 5, failMessage: "no such echo" }));
      assert.ok(viaGrpc instanceof RpcError);
      assert.equal(viaGrpc.code, Code.NOT_FOUND);
      assert.equal(viaGrpc.rawMessage, "no such echo");
      assert.equal(viaGrpc.findDetails(ErrorInfoSchema)[0]!.reason, "ECHO_FAILED");
    } finally {
      await both.close();
    }
  });

  it("every status code through both fronts: the JSON-RPC code is -32000 - the gRPC code; an empty message becomes the code name", async () => {
    const both = await startBoth();
    try {
      for (let code = 1; code <= 16; code++) {
        const err = await rejection(both.rpc.call("clitest.Echo.ClientStream", [{ failCode: code }]));
        assert.equal(err.code, -32000 - code);
        assert.equal(err.message, Code[code]);
        assert.equal(err.data.grpcStatus, Code[code]);
        const viaGrpc = await rejection(both.grpc.clientStream([{ failCode: code }]));
        assert.equal(viaGrpc.code, code);
      }
      // a status raised in the middle of a stream: the messages already sent are dropped with it
      const mid = await rejection(both.rpc.call("clitest.Echo.ServerStream", { repeat: 2, failCode: Code.ABORTED, failMessage: "stop" }));
      assert.equal(mid.code, -32010);
      assert.equal(mid.message, "stop");
    } finally {
      await both.close();
    }
  });

  it("a detail of a type nobody knows keeps its type URL and its bytes in base64", async () => {
    const both = await startBoth({
      register: (s) => s.addService(Echo, { unary: () => { throw new RpcError(Code.FAILED_PRECONDITION, "odd", [{ typeUrl: "type.googleapis.com/x.Unknown", value: new Uint8Array([1, 2]) }]); } }),
    });
    try {
      const err = await rejection(both.rpc.call("clitest.Echo.Unary", {}));
      assert.equal(err.code, -32009);
      assert.deepEqual(err.data.details, [{ "@type": "type.googleapis.com/x.Unknown", value: "AQI=" }]);
    } finally {
      await both.close();
    }
  });

  it("a plain Error -> UNKNOWN -32002 with its message, reported to onError with the method and peer \"jsonrpc\"", async () => {
    const reported: [unknown, ServerErrorContext][] = [];
    const both = await startBoth({
      server: { onError: (err, ctx) => void reported.push([err, ctx]) },
      register: (s) => s.addService(Echo, { unary: () => { throw new Error("boom"); } }),
    });
    try {
      const err = await rejection(both.rpc.call("clitest.Echo.Unary", {}));
      assert.equal(err.code, -32002);
      assert.equal(err.message, "boom");
      assert.deepEqual(err.data, { grpcCode: 2, grpcStatus: "UNKNOWN" });
      assert.equal(reported.length, 1);
      assert.equal((reported[0]![0] as Error).message, "boom");
      assert.deepEqual(reported[0]![1], { source: "handler", method: "/clitest.Echo/Unary", peer: "jsonrpc" });
      const viaGrpc = await rejection(both.grpc.unary({}));
      assert.equal(viaGrpc.code, Code.UNKNOWN);
      assert.equal(viaGrpc.rawMessage, "boom");
    } finally {
      await both.close();
    }
  });

  it("exposeErrors: false -> UNKNOWN \"Internal error\" (-32002) on JSON-RPC as on gRPC", async () => {
    const both = await startBoth({ server: { exposeErrors: false }, register: (s) => s.addService(Echo, { unary: () => { throw new Error("secret"); } }) });
    try {
      const err = await rejection(both.rpc.call("clitest.Echo.Unary", {}));
      assert.equal(err.code, -32002);
      assert.equal(err.message, "Internal error");
      assert.equal((await rejection(both.grpc.unary({}))).rawMessage, "Internal error");
    } finally {
      await both.close();
    }
  });

  it("setCode/setDetails without throwing -> that status (-32005); a stream-style handler's sendTrailingMetadata status -> -32006", async () => {
    const both = await startBoth({
      register: (s) => {
        s.addService(Echo, {
          unary: (_r, ctx) => {
            ctx.setCode(Code.NOT_FOUND);
            ctx.setDetails("nothing here");
            return {};
          },
        });
      },
    });
    try {
      const err = await rejection(both.rpc.call("clitest.Echo.Unary", {}));
      assert.equal(err.code, -32005);
      assert.equal(err.message, "nothing here");
      assert.equal((await rejection(both.grpc.unary({}))).rawMessage, "nothing here");
    } finally {
      await both.close();
    }
    const streams = await startBoth({
      register: (s) => {
        s.addStreamService(Echo, {
          async unary(stream) {
            const r = await stream.recvMessage();
            await stream.sendTrailingMetadata({ status: Code.ALREADY_EXISTS, message: `${r!.text} exists` });
          },
          async serverStream(stream) {
            const r = await stream.recvMessage();
            await stream.sendMessage({ text: `${r!.text}-1` });
            await stream.sendMessage({ text: `${r!.text}-2` });
          },
        });
      },
    });
    try {
      const err = await rejection(streams.rpc.call("clitest.Echo.Unary", { text: "k" }));
      assert.equal(err.code, -32006);
      assert.equal(err.message, "k exists");
      assert.deepEqual(await streams.rpc.call("clitest.Echo.ServerStream", { text: "g" }), [{ text: "g-1" }, { text: "g-2" }]);
    } finally {
      await streams.close();
    }
  });

  it("a unary handler that sends no message with OK -> INTERNAL -32013, never a crash", async () => {
    const both = await startBoth({ register: (s) => s.addStreamService(Echo, { unary: async () => {} }) });
    try {
      const err = await rejection(both.rpc.call("clitest.Echo.Unary", {}));
      assert.equal(err.code, -32013);
      assert.match(err.message, /without a response message/);
    } finally {
      await both.close();
    }
  });
});

describe("gRPC bridge: the server's call path", () => {
  it("server interceptors run around bridged calls as around gRPC calls; one refusing -> PERMISSION_DENIED -32007", async () => {
    const seen: string[] = [];
    const interceptor: ServerInterceptor = async (ctx, next) => {
      seen.push(`${ctx.method.path} ${ctx.peer.startsWith("ipv4:") ? "grpc" : ctx.peer}`);
      if (ctx.method.name === "ClientStream") throw new RpcError(Code.PERMISSION_DENIED, "not you");
      await next();
      ctx.setTrailingMetadata({ "x-seen": "1" });
    };
    const both = await startBoth({ server: { interceptors: [interceptor] } });
    try {
      assert.equal((await both.rpc.call<any>("clitest.Echo.Unary", { text: "a" })).text, "a");
      assert.equal((await both.grpc.unary({ text: "a" })).text, "a");
      assert.deepEqual(seen, ["/clitest.Echo/Unary jsonrpc", "/clitest.Echo/Unary grpc"]);
      const err = await rejection(both.rpc.call("clitest.Echo.ClientStream", []));
      assert.equal(err.code, -32007);
      assert.equal(err.message, "not you");
      assert.equal((await rejection(both.grpc.clientStream([]))).code, Code.PERMISSION_DENIED);
    } finally {
      await both.close();
    }
  });

  it("service interceptors decide the handler: one refusing the method -> -32601; one swapping in a raw bytes handler serves both fronts", async () => {
    const swapped = unaryUnaryRpcMethodHandler((bytes: Uint8Array) => {
      const r = fromBinary(EchoRequestSchema, bytes);
      return toBinary(EchoReplySchema, create(EchoReplySchema, { text: `raw ${r.text}`, count: 7 }));
    });
    const interceptor: ServiceInterceptor = {
      interceptService(continuation, details) {
        if (details.method === "/clitest.Echo/Bidi") return null;
        if (details.method === "/clitest.Echo/Unary") return swapped;
        return continuation(details);
      },
    };
    const both = await startBoth({ server: { interceptors: [interceptor] } });
    try {
      assert.deepEqual(await both.rpc.call("clitest.Echo.Unary", { text: "q" }), { text: "raw q", count: 7 });
      assert.equal((await both.grpc.unary({ text: "q" })).text, "raw q");
      const refused = await rejection(both.rpc.call("clitest.Echo.Bidi", []));
      assert.equal(refused.code, -32601);
      assert.match(String(refused.data), /\/clitest\.Echo\/Bidi/);
      assert.equal((await both.rpc.call<any>("clitest.Echo.ClientStream", [{ text: "ok" }])).text, "ok");
    } finally {
      await both.close();
    }
  });

  it("the handler's context: empty mutable metadata, peer \"jsonrpc\", no deadline, and every context call works", async () => {
    let seen: Record<string, unknown> = {};
    const callbacks = deferred<number>();
    const both = await startBoth({
      register: (s) =>
        s.addService(Echo, {
          async unary(r, ctx: ServerCallContext) {
            seen = {
              metadataSize: ctx.metadata.size,
              peer: ctx.peer,
              contentType: ctx.contentType,
              userAgent: ctx.userAgent,
              deadline: ctx.deadline,
              timeRemaining: ctx.timeRemaining(),
              active: ctx.isActive(),
              aborted: ctx.signal.aborted,
              method: { path: ctx.method.path, service: ctx.method.service, name: ctx.method.name, kind: ctx.method.kind },
              peerIdentities: ctx.peerIdentities(),
              peerIdentityKey: ctx.peerIdentityKey(),
              authContext: ctx.authContext(),
              lastMessageCompressed: ctx.lastMessageCompressed,
              requestEncoding: ctx.requestEncoding,
            };
            ctx.metadata.set("x-added", "1");
            ctx.setCompression("gzip");
            await ctx.sendInitialMetadata({ "x-initial": "1" });
            await assert.rejects(ctx.sendInitialMetadata(), /already sent/);
            ctx.setTrailingMetadata({ "x-trailing": "2" });
            ctx.trailingMetadata.set("x-more", "3");
            ctx.disableNextMessageCompression();
            ctx.onCancel(() => callbacks.reject(new Error("a call that ends normally is not cancelled")));
            ctx.addCallback(() => callbacks.resolve(1));
            return { text: r.text, metadata: { added: String(ctx.metadata.get("x-added")) } };
          },
        }),
    });
    try {
      assert.deepEqual(await both.rpc.call("clitest.Echo.Unary", { text: "c" }), { text: "c", metadata: { added: "1" } });
      assert.equal(await callbacks.promise, 1);
      assert.deepEqual(seen, {
        metadataSize: 0,
        peer: "jsonrpc",
        contentType: "application/json",
        userAgent: undefined,
        deadline: undefined,
        timeRemaining: Infinity,
        active: true,
        aborted: false,
        method: { path: "/clitest.Echo/Unary", service: "clitest.Echo", name: "Unary", kind: "unary" },
        peerIdentities: null,
        peerIdentityKey: null,
        authContext: {},
        lastMessageCompressed: false,
        requestEncoding: "identity",
      });
    } finally {
      await both.close();
    }
  });

  it("deadlineMs: a call still running at its deadline -> DEADLINE_EXCEEDED -32004, and the handler's signal aborts", async () => {
    const reason = deferred<unknown>();
    const both = await startBoth({
      bridge: { deadlineMs: 50 },
      register: (s) =>
        s.addService(Echo, {
          unary: (_r, ctx) =>
            new Promise((_resolve, reject) => {
              assert.ok(ctx.deadline !== undefined && ctx.timeRemaining() <= 50);
              ctx.signal.addEventListener("abort", () => {
                reason.resolve(ctx.signal.reason);
                reject(ctx.signal.reason);
              });
            }),
        }),
    });
    try {
      const err = await rejection(both.rpc.call("clitest.Echo.Unary", {}));
      assert.equal(err.code, -32004);
      assert.equal(err.message, "deadline exceeded");
      const r = await reason.promise;
      assert.ok(r instanceof RpcError && r.code === Code.DEADLINE_EXCEEDED);
    } finally {
      await both.close();
    }
  });

  it("server.stop(): a bridged call still running when the server has stopped is cancelled with UNAVAILABLE -32014; new calls get -32014", async () => {
    const entered = deferred();
    const both = await startBoth({
      register: (s) =>
        s.addService(Echo, {
          ...echo,
          unary: (_r, ctx) =>
            new Promise((_resolve, reject) => {
              entered.resolve();
              ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason));
            }),
        }),
    });
    try {
      const running = rejection(both.rpc.call("clitest.Echo.Unary", {}));
      await entered.promise;
      await both.server.stop(0);
      const err = await running;
      assert.equal(err.code, -32014);
      assert.equal(err.message, "server is shutting down");
      const late = await rejection(both.rpc.call("clitest.Echo.ClientStream", []));
      assert.equal(late.code, -32014);
      assert.equal(late.data.grpcStatus, "UNAVAILABLE");
    } finally {
      await both.close();
    }
  });

  it("a request deserializer that fails for a swapped-in handler -> INTERNAL -32013, and the server keeps serving", async () => {
    const picky = unaryUnaryRpcMethodHandler(
      (m: unknown) => m as never,
      () => {
        throw new Error("picky parser");
      },
    );
    const both = await startBoth({
      server: { interceptors: [{ interceptService: (c, d) => (d.method === "/clitest.Echo/Unary" ? picky : c(d)) }] },
    });
    try {
      const err = await rejection(both.rpc.call("clitest.Echo.Unary", {}));
      assert.equal(err.code, -32013);
      assert.match(err.message, /could not parse request message: picky parser/);
      assert.equal((await both.rpc.call<any>("clitest.Echo.ClientStream", [{ text: "still" }])).text, "still");
    } finally {
      await both.close();
    }
  });
});
