// Errors: how the client turns what a server sends into an RpcError — gRPC statuses with
// messages, trailing metadata and rich details; trailers-only responses; HTTP statuses and
// content types of non-gRPC responses; RST_STREAM codes; message size limits; and
// protocol violations (cardinality, truncation, missing or invalid status). Rich details
// decoded to typed messages, and the docs/errors.md example.
import { afterEach, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { constants } from "node:http2";
import { promisify } from "node:util";
import { create, fromBinary, isMessage, toBinary } from "@bufbuild/protobuf";
import { AnySchema, anyUnpack, StringValueSchema } from "@bufbuild/protobuf/wkt";
import {
  BadRequestSchema,
  bindMethod,
  Code,
  createClient,
  detail,
  ErrorInfoSchema,
  Metadata,
  RpcError,
  type ServerStreamingMethod,
  type UnaryMethod,
} from "../../src/index.js";
import { ROOT } from "../interop/peers.js";
import { Greeter, HelloReplySchema } from "../../examples/gen/helloworld/helloworld_pb.js";
import { TestService } from "../../examples/gen/grpc/testing/test_pb.js";
import { deferred, expectRpcError, frame, helloReplyBytes, readBody, respondGrpc, Scope, T, until, within } from "./helpers.js";

const scope = new Scope();
afterEach(() => scope.close());

const MESSAGE = "héllo wörld ✓ 日本 100% done\ttab";

describe("errors", () => {
  it("a non-OK status -> RpcError with its code, percent-decoded non-ASCII rawMessage, trailing metadata and rich details (FAILED_PRECONDITION)", T, async () => {
    const detail = { typeUrl: "type.googleapis.com/google.protobuf.StringValue", value: toBinary(StringValueSchema, create(StringValueSchema, { value: "why" })) };
    const { target } = await scope.server((s) =>
      s.addService(Greeter, {
        sayHello(_req, ctx) {
          ctx.setTrailingMetadata({ "x-set": "early" });
          throw new RpcError(Code.FAILED_PRECONDITION, MESSAGE, {
            metadata: new Metadata({ "x-err": "v1", "x-err-bin": new Uint8Array([0, 1, 254]) }),
            details: [detail, { typeUrl: "type.example.com/raw", value: new Uint8Array([9, 9]) }],
          });
        },
      }),
    );
    const client = createClient(Greeter, scope.channel(target));
    const err = await expectRpcError(client.sayHello({ name: "x" }, { timeout: 3000 }), Code.FAILED_PRECONDITION);
    assert.equal(err.rawMessage, MESSAGE);
    assert.equal(err.message, `FAILED_PRECONDITION: ${MESSAGE}`);
    assert.equal(err.metadata?.get("x-err"), "v1");
    assert.deepEqual([...(err.metadata?.get("x-err-bin") as Uint8Array)], [0, 1, 254]);
    assert.equal(err.metadata?.get("x-set"), "early");
    assert.equal(err.metadata?.has("grpc-status"), false, "protocol trailers are not metadata");
    assert.equal(err.details.length, 2);
    assert.equal(err.details[0]!.typeUrl, detail.typeUrl);
    assert.deepEqual([...err.details[0]!.value], [...detail.value]);
    assert.deepEqual([...err.details[1]!.value], [9, 9]);

    // The call object reports the same status.
    const call = client.sayHello.open({ timeout: 3000 });
    await call.sendMessage({ name: "y" }, { end: true });
    await expectRpcError(call.recvTrailingMetadata(), Code.FAILED_PRECONDITION);
    assert.equal(call.status?.code, Code.FAILED_PRECONDITION);
    assert.equal(call.status?.message, MESSAGE);
    assert.equal(call.status?.details?.length, 2);
    assert.equal(call.trailingMetadata?.get("x-err"), "v1");
  });

  it("rich details as messages: new RpcError(INVALID_ARGUMENT, msg, [BadRequest, ErrorInfo, StringValue]) -> err.decodedDetails has typed google.rpc messages and an Any stand-in, in trailers-only and in trailers after messages", T, async () => {
    const badRequest = create(BadRequestSchema, { fieldViolations: [{ field: "name", description: "must not be empty" }] });
    const errorInfo = create(ErrorInfoSchema, { reason: "NAME_EMPTY", domain: "greeter.example" });
    const hint = detail(StringValueSchema, create(StringValueSchema, { value: "try Ada" }));
    const fail = () => new RpcError(Code.INVALID_ARGUMENT, "invalid greeting", [badRequest, errorInfo, hint]);
    const { target } = await scope.server((s) =>
      s.addService(Greeter, {
        sayHello() {
          throw fail();
        },
        async *sayHelloStream() {
          yield { message: "first" };
          throw fail();
        },
      }),
    );
    const client = createClient(Greeter, scope.channel(target));
    const unary = await expectRpcError(client.sayHello({ name: "" }, { timeout: 3000 }), Code.INVALID_ARGUMENT, /^invalid greeting$/);
    const streamed = await expectRpcError(
      (async () => {
        for await (const _ of client.sayHelloStream({ name: "" }, { timeout: 3000 }));
      })(),
      Code.INVALID_ARGUMENT,
    );
    for (const err of [unary, streamed]) {
      const [bad, info, any] = err.decodedDetails;
      assert.ok(isMessage(bad, BadRequestSchema));
      assert.equal(bad.fieldViolations[0]!.description, "must not be empty");
      assert.ok(isMessage(info, ErrorInfoSchema));
      assert.equal(info.reason, "NAME_EMPTY");
      assert.ok(isMessage(any, AnySchema), "StringValue is not a registered detail type");
      assert.equal(anyUnpack(any, StringValueSchema)?.value, "try Ada");
      assert.deepEqual(err.details.map((d) => d.typeUrl), ["type.googleapis.com/google.rpc.BadRequest", "type.googleapis.com/google.rpc.ErrorInfo", hint.typeUrl]);
      assert.equal(err.findDetails(ErrorInfoSchema)[0]!.domain, "greeter.example");
    }
  });

  it("a grpc-status-details-bin that is not a google.rpc.Status is ignored: code and message come from grpc-status / grpc-message, no details (NOT_FOUND)", T, async () => {
    const bare = await scope.bare((stream) => {
      stream.on("data", () => {});
      respondGrpc(stream, [], { "grpc-status": "5", "grpc-message": "gone", "grpc-status-details-bin": Buffer.from([0xff, 0xff]).toString("base64") });
    });
    const err = await expectRpcError(createClient(Greeter, scope.channel(bare.target)).sayHello({ name: "x" }, { timeout: 3000 }), Code.NOT_FOUND, /^gone$/);
    assert.deepEqual(err.details, []);
    assert.deepEqual(err.decodedDetails, []);
  });

  it("the docs/errors.md example is examples/errors/rich-details.ts and runs: INVALID_ARGUMENT with its BadRequest, ErrorInfo and an Any read back", { timeout: 30_000 }, async () => {
    const source = readFileSync(new URL("../../examples/errors/rich-details.ts", import.meta.url), "utf8");
    const doc = readFileSync(new URL("../../docs/errors.md", import.meta.url), "utf8");
    const block = /## A runnable example[\s\S]*?```ts\n([\s\S]*?)```/.exec(doc);
    assert.equal(block?.[1], source, "the docs example and examples/errors/rich-details.ts differ");
    const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", "examples/errors/rich-details.ts"], { cwd: ROOT, timeout: 20_000 });
    assert.equal(
      stdout,
      [
        "INVALID_ARGUMENT: invalid greeting",
        "  name: must not be empty",
        "  reason NAME_EMPTY (greeter.example)",
        "  type.googleapis.com/google.protobuf.StringValue: try Ada",
        "",
      ].join("\n"),
    );
  });

  it("a status after response messages: messages are delivered, then the error (ABORTED)", T, async () => {
    const { target } = await scope.server((s) =>
      s.addService(Greeter, {
        async *sayHelloStream() {
          yield { message: "one" };
          yield { message: "two" };
          throw new RpcError(Code.ABORTED, "stop here");
        },
      }),
    );
    const call = createClient(Greeter, scope.channel(target)).sayHelloStream({ name: "x" }, { timeout: 3000 });
    const got: string[] = [];
    const err = await expectRpcError(
      (async () => {
        for await (const r of call) got.push(r.message);
      })(),
      Code.ABORTED,
      /stop here/,
    );
    assert.deepEqual(got, ["one", "two"]);
    assert.equal(err.code, Code.ABORTED);
  });

  it("trailers-only response from our server (handler fails before any message) -> RpcError with trailing metadata (NOT_FOUND)", T, async () => {
    const { target } = await scope.server((s) =>
      s.addService(Greeter, {
        sayHello(_req, ctx) {
          return ctx.abort(Code.NOT_FOUND, "no such greeting", { metadata: { "x-why": "missing" } });
        },
      }),
    );
    const err = await expectRpcError(createClient(Greeter, scope.channel(target)).sayHello({ name: "x" }, { timeout: 3000 }), Code.NOT_FOUND, /^no such greeting$/);
    assert.equal(err.metadata?.get("x-why"), "missing");
  });

  it("trailers-only from a bare server: status and metadata in the HEADERS frame -> RpcError (PERMISSION_DENIED); OK with no messages ends a stream cleanly (OK)", T, async () => {
    const bare = await scope.bare((stream, headers) => {
      const ok = headers[":path"] === "/helloworld.Greeter/SayHelloStream";
      stream.respond(
        ok
          ? { ":status": 200, "content-type": "application/grpc", "grpc-status": "0" }
          : { ":status": 200, "content-type": "application/grpc", "grpc-status": "7", "grpc-message": "go%20away", "x-only": "t" },
        { endStream: true },
      );
    });
    const client = createClient(Greeter, scope.channel(bare.target));
    const err = await expectRpcError(client.sayHello({ name: "x" }, { timeout: 3000 }), Code.PERMISSION_DENIED, /^go away$/);
    assert.equal(err.metadata?.get("x-only"), "t");
    const call = client.sayHelloStream({ name: "x" }, { timeout: 3000 });
    const got: unknown[] = [];
    for await (const r of call) got.push(r);
    assert.deepEqual(got, []);
    assert.equal(call.status?.code, Code.OK);
  });

  // Regression: this once failed — recvInitialMetadata() resolves with an empty Metadata for a trailers-only failure
  // although its documentation (and grpclib's recv_initial_metadata) says it throws the call's
  // RpcError: ClientCall.onResponse sets `initialMetadata = new Metadata()` for trailers-only
  // responses before settling the status. Fix: for trailers-only responses leave
  // initialMetadata undefined when grpc-status is non-OK (recvInitialMetadata then throws
  // this.error), or throw this.error from recvInitialMetadata when the call failed without
  // response headers.
  it("recvInitialMetadata() on a trailers-only failure throws the call's RpcError (UNAUTHENTICATED)", T, async () => {
    const { target } = await scope.server((s) =>
      s.addService(Greeter, {
        sayHello() {
          throw new RpcError(Code.UNAUTHENTICATED, "who are you");
        },
      }),
    );
    const call = createClient(Greeter, scope.channel(target)).sayHello.open({ timeout: 3000 });
    await call.sendMessage({ name: "x" }, { end: true });
    await expectRpcError(call.recvInitialMetadata(), Code.UNAUTHENTICATED, /who are you/);
  });

  const HTTP_CASES: [number, Code][] = [
    [400, Code.INTERNAL],
    [401, Code.UNAUTHENTICATED],
    [403, Code.PERMISSION_DENIED],
    [404, Code.UNIMPLEMENTED],
    [429, Code.UNAVAILABLE],
    [500, Code.UNKNOWN],
    [502, Code.UNAVAILABLE],
    [503, Code.UNAVAILABLE],
    [504, Code.UNAVAILABLE],
  ];

  it(`HTTP status without gRPC status maps per the gRPC spec (${HTTP_CASES.map(([h, c]) => `${h} -> ${Code[c]}`).join(", ")})`, T, async () => {
    const bare = await scope.bare((stream, headers) => {
      const status = Number(String(headers[":path"]).split("/").pop());
      stream.respond({ ":status": status, "content-type": "text/plain" });
      stream.end(`HTTP ${status}`);
    });
    const ch = scope.channel(bare.target);
    for (const [status, code] of HTTP_CASES) {
      const method = bindMethod(ch, { path: `/http.Status/${status}`, kind: "unary", serialize: (b: Uint8Array) => b, deserialize: (b) => b }) as UnaryMethod<Uint8Array, Uint8Array>;
      const err = await expectRpcError(method(new Uint8Array(0), { timeout: 3000 }), code);
      assert.match(err.rawMessage, new RegExp(String(status)));
    }
  });

  it("HTTP 200 with content-type text/html -> UNKNOWN", T, async () => {
    const bare = await scope.bare((stream) => {
      stream.respond({ ":status": 200, "content-type": "text/html" });
      stream.end("<html>hello</html>");
    });
    const err = await expectRpcError(createClient(Greeter, scope.channel(bare.target)).sayHello({ name: "x" }, { timeout: 3000 }), Code.UNKNOWN);
    assert.match(err.rawMessage, /content-type/);
  });

  it("RST_STREAM from a stream-style handler calling stream.cancel() -> CANCELLED", T, async () => {
    const { target } = await scope.server((s) =>
      s.addStreamService(Greeter, {
        async sayHello(stream) {
          await stream.recvMessage();
          await stream.cancel();
        },
        async sayHelloStream(stream) {
          await stream.recvMessage();
          await stream.sendMessage({ message: "first" });
          await stream.cancel();
        },
      }),
    );
    const client = createClient(Greeter, scope.channel(target));
    await expectRpcError(client.sayHello({ name: "x" }, { timeout: 3000 }), Code.CANCELLED);
    const got: string[] = [];
    await expectRpcError(
      (async () => {
        for await (const r of client.sayHelloStream({ name: "x" }, { timeout: 3000 })) got.push(r.message);
      })(),
      Code.CANCELLED,
    );
    assert.ok(got.length <= 1);
  });

  const RST_CASES: [string, number, Code][] = [
    ["REFUSED_STREAM", constants.NGHTTP2_REFUSED_STREAM, Code.UNAVAILABLE],
    ["ENHANCE_YOUR_CALM", constants.NGHTTP2_ENHANCE_YOUR_CALM, Code.RESOURCE_EXHAUSTED],
    ["CANCEL", constants.NGHTTP2_CANCEL, Code.CANCELLED],
    ["INTERNAL_ERROR", constants.NGHTTP2_INTERNAL_ERROR, Code.INTERNAL],
    ["INADEQUATE_SECURITY", constants.NGHTTP2_INADEQUATE_SECURITY, Code.PERMISSION_DENIED],
  ];

  it(`RST_STREAM from a bare server maps to a status (${RST_CASES.map(([n, , c]) => `${n} -> ${Code[c]}`).join(", ")}), before or after response headers`, T, async () => {
    const bare = await scope.bare((stream, headers) => {
      const [, , name, when] = String(headers[":path"]).split("/");
      const rst = RST_CASES.find(([n]) => n === name)![1];
      if (when === "after") {
        // Headers and a message, then RST_STREAM instead of trailers (waitForTrailers keeps
        // node:http2 from ending the stream with END_STREAM first).
        stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
        stream.on("wantTrailers", () => stream.close(rst));
        stream.end(frame(helloReplyBytes("partial")));
      } else {
        stream.close(rst);
      }
    });
    const ch = scope.channel(bare.target);
    for (const [name, , code] of RST_CASES) {
      for (const when of ["before", "after"]) {
        const method = bindMethod(ch, { path: `/rst/${name}/${when}`, kind: "server_streaming", serialize: (b: Uint8Array) => b, deserialize: (b) => b }) as ServerStreamingMethod<Uint8Array, Uint8Array>;
        const call = method.open({ timeout: 3000 });
        await call.sendMessage(new Uint8Array(0), { end: true });
        const err = await expectRpcError(
          (async () => {
            for await (const _ of call);
          })(),
          code,
        );
        assert.match(err.rawMessage, new RegExp(name), `${name} ${when}`);
      }
    }
  });

  it("receive limit: a 5 MiB response with the default 4 MiB limit -> RESOURCE_EXHAUSTED (and the server sees the call cancelled)", T, async () => {
    const aborted = deferred();
    const { target } = await scope.server((s) =>
      s.addService(Greeter, {
        sayHello: (_req, ctx) => {
          ctx.signal.addEventListener("abort", () => aborted.resolve());
          return { message: "x".repeat(5 * 1024 * 1024) };
        },
      }),
    );
    const err = await expectRpcError(createClient(Greeter, scope.channel(target)).sayHello({ name: "x" }, { timeout: 5000 }), Code.RESOURCE_EXHAUSTED);
    assert.match(err.rawMessage, /larger than max/);
    await within(aborted.promise, 3000, "server to see the cancellation");
  });

  it("receive limit: maxReceiveMessageLength is honoured exactly (limit passes, limit + 1 -> RESOURCE_EXHAUSTED)", T, async () => {
    const { target } = await scope.server((s) => s.addService(Greeter, { sayHello: (req) => ({ message: "y".repeat(Number(req.name)) }) }));
    const client = createClient(Greeter, scope.channel(target, { maxReceiveMessageLength: 1000 }));
    // HelloReply{message} encodes as 1 tag byte + 2 length bytes + the text.
    await client.sayHello({ name: String(997) }, { timeout: 3000 });
    await expectRpcError(client.sayHello({ name: String(998) }, { timeout: 3000 }), Code.RESOURCE_EXHAUSTED);
  });

  it("send limit: a request over maxSendMessageLength -> RESOURCE_EXHAUSTED and no message bytes reach the server", T, async () => {
    const bodies: number[] = [];
    const bare = await scope.bare((stream) => {
      void readBody(stream).then((b) => bodies.push(b.length));
      // The refused call is reset by the client: its stream may be gone when 'end' comes.
      stream.on("end", () => {
        if (!stream.destroyed) respondGrpc(stream, [helloReplyBytes("hi")]);
      });
    });
    const client = createClient(Greeter, scope.channel(bare.target, { maxSendMessageLength: 100 }));
    const err = await expectRpcError(client.sayHello({ name: "n".repeat(200) }, { timeout: 3000 }), Code.RESOURCE_EXHAUSTED);
    assert.match(err.rawMessage, /larger than max/);
    await until(() => bodies.length === 1, 2000, "server stream to close");
    assert.equal(bodies[0], 0, "the oversized message must not be sent");
    // A message within the limit still goes through on the same channel.
    assert.equal((await client.sayHello({ name: "short" }, { timeout: 3000 })).message, "hi");
  });

  it("a response with two messages on a unary method -> UNIMPLEMENTED (response cardinality violation)", T, async () => {
    const { target } = await scope.server((s) =>
      s.addStreamService(Greeter, {
        async sayHello(stream) {
          await stream.recvMessage();
          await stream.sendMessage({ message: "one" });
          await stream.sendMessage({ message: "two" });
        },
      }),
    );
    await expectRpcError(createClient(Greeter, scope.channel(target)).sayHello({ name: "x" }, { timeout: 3000 }), Code.UNIMPLEMENTED, /more than one/);
  });

  it("OK with no response message on a unary method -> UNIMPLEMENTED (response cardinality violation)", T, async () => {
    const { target } = await scope.server((s) =>
      s.addStreamService(Greeter, {
        async sayHello(stream) {
          await stream.recvMessage();
        },
      }),
    );
    await expectRpcError(createClient(Greeter, scope.channel(target)).sayHello({ name: "x" }, { timeout: 3000 }), Code.UNIMPLEMENTED);
  });

  // Regression: this once failed — a response whose last message is cut short, followed by OK trailers, is not INTERNAL:
  // 'trailers' arrives before 'end', ClientCall.onTrailers settles the OK status, and the
  // truncation check in onDataEnd (reader.partial) then comes too late (fail() ignores it once a
  // status is set). Here (one whole message, then a cut one) the unary call even succeeds with
  // the first message, and the server streaming call drops the cut message and ends OK; with
  // only a cut message a unary call reports UNIMPLEMENTED ("no response message").
  // Fix: in onTrailers, `if (this.reader?.partial)` fail with INTERNAL ("response ended in the
  // middle of a message") instead of settling the server's status.
  it("a response message cut short before OK trailers -> INTERNAL (unary and server streaming)", T, async () => {
    const bare = await scope.bare((stream) => {
      stream.on("data", () => {});
      stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
      // A client that fails the call early resets the stream before the trailers can go.
      stream.on("wantTrailers", () => {
        if (!stream.destroyed) stream.sendTrailers({ "grpc-status": "0" });
      });
      stream.write(frame(helloReplyBytes("whole")));
      stream.end(frame(helloReplyBytes("cut short")).subarray(0, 8));
    });
    const ch = scope.channel(bare.target);
    const unary = bindMethod(ch, { path: "/helloworld.Greeter/SayHello", kind: "unary", serialize: (b: Uint8Array) => b, deserialize: (b) => b }) as UnaryMethod<Uint8Array, Uint8Array>;
    await expectRpcError(unary(new Uint8Array(0), { timeout: 3000 }), Code.INTERNAL, /middle of a message/);
    const got: string[] = [];
    await expectRpcError(
      (async () => {
        for await (const r of createClient(Greeter, ch).sayHelloStream({}, { timeout: 3000 })) got.push(r.message);
      })(),
      Code.INTERNAL,
    );
    assert.deepEqual(got, ["whole"]);
  });

  it("protocol violations from a bare server: truncated stream without trailers -> INTERNAL, no trailers -> INTERNAL, trailers without grpc-status -> UNKNOWN, invalid grpc-status -> UNKNOWN, unparsable message -> INTERNAL, unknown flags -> INTERNAL", T, async () => {
    const bare = await scope.bare((stream, headers) => {
      const kind = String(headers[":path"]).split("/")[1];
      stream.on("data", () => {});
      const grpc = { ":status": 200, "content-type": "application/grpc" };
      switch (kind) {
        case "truncated":
          stream.respond(grpc);
          stream.end(frame(helloReplyBytes("cut short")).subarray(0, 8));
          break;
        case "no-trailers":
          stream.respond(grpc);
          stream.end(frame(helloReplyBytes("hi")));
          break;
        case "no-status":
          respondGrpc(stream, [helloReplyBytes("hi")], { "x-other": "1" });
          break;
        case "bad-status":
          respondGrpc(stream, [helloReplyBytes("hi")], { "grpc-status": "abc" });
          break;
        case "garbage":
          respondGrpc(stream, [Uint8Array.of(0xff, 0xff, 0xff, 0xff)]);
          break;
        case "flags": {
          const f = frame(helloReplyBytes("hi"));
          f[0] = 0x80;
          stream.respond(grpc, { waitForTrailers: true });
          // A client that fails the call early resets the stream before the trailers can go.
      stream.on("wantTrailers", () => {
        if (!stream.destroyed) stream.sendTrailers({ "grpc-status": "0" });
      });
          stream.end(f);
          break;
        }
      }
    });
    const ch = scope.channel(bare.target);
    const cases: [string, Code][] = [
      ["truncated", Code.INTERNAL],
      ["no-trailers", Code.INTERNAL],
      ["no-status", Code.UNKNOWN],
      ["bad-status", Code.UNKNOWN],
      ["garbage", Code.INTERNAL],
      ["flags", Code.INTERNAL],
    ];
    for (const [kind, code] of cases) {
      const method = bindMethod(ch, { path: `/${kind}/Call`, kind: "unary", serialize: (b: Uint8Array) => b, deserialize: (b) => fromBinary(HelloReplySchema, b) }) as UnaryMethod<Uint8Array, unknown>;
      await expectRpcError(method(new Uint8Array(0), { timeout: 3000 }), code).catch((e: Error) => {
        throw new Error(`${kind}: ${e.message}`);
      });
    }
  });

  it("a server status with a code outside 0-16 -> UNKNOWN; a status of OK on a failed RpcError is impossible (UNKNOWN)", T, async () => {
    const bare = await scope.bare((stream) => {
      stream.on("data", () => {});
      respondGrpc(stream, [], { "grpc-status": "42", "grpc-message": "odd" });
    });
    await expectRpcError(createClient(TestService, scope.channel(bare.target)).emptyCall({}, { timeout: 3000 }), Code.UNKNOWN);
    assert.equal(new RpcError(Code.OK, "x").code, Code.UNKNOWN);
  });
});
