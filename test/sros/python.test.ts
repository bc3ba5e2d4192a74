// The SR OS facade against a real peer: python3-grpcio (C-core) clients calling with raw bytes
// (no (de)serializers), our server parsing them by descriptor (helloworld.Greeter) or passing
// them through (methods added with `kind`). Each case: what the client saw, what handleRpc() did.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { ErrorCode } from "../../src/index.js";
import { NotImplementedError, ResponseTypeError, StatusCode, type Context } from "../../src/sros/index.js";
import { Greeter, HelloReplySchema, HelloRequestSchema, type HelloRequest } from "../../examples/gen/helloworld/helloworld_pb.js";
import { pythonPeerMissing, requirePeer } from "../interop/peers.js";
import { Fixture, hex, pythonCall, unhex, within, type PythonResult } from "./helpers.js";

const skip = requirePeer(pythonPeerMissing());
const T = { timeout: 30_000, skip };

const SAY_HELLO = "/helloworld.Greeter/SayHello";
const helloBytes = (name: string) => hex(toBinary(HelloRequestSchema, create(HelloRequestSchema, { name })));
const replyOf = (r: PythonResult) => r.responses.map((h) => fromBinary(HelloReplySchema, unhex(h)).message);

describe("python3-grpcio clients", { skip }, () => {
  let f: Fixture;
  before(async () => {
    f = await Fixture.start({ services: [Greeter] });
  });
  after(async () => {
    await f?.close();
  });

  /** One python call while one handleRpc() runs: both outcomes. */
  async function once(path: string, kind: Parameters<typeof pythonCall>[2], requests: string[]) {
    const client = pythonCall(f.port, path, kind, requests);
    const script = f.grpc.handleRpc({ timeoutMs: 20_000 }).then(
      () => ({ ok: true as const }),
      (err: unknown) => ({ err }),
    );
    return { client: await client, script: await within(script, 25_000, "handleRpc()") };
  }

  it("addHandler with package serves /helloworld.Greeter/SayHello; context.rpc names it; handleRpc() resolves (OK)", T, async () => {
    let rpc: string | undefined;
    f.grpc.addHandler("Greeter", "SayHello", (r: HelloRequest, ctx: Context) => ((rpc = ctx.rpc), { message: `Hello, ${r.name}!` }), { package: "helloworld" });
    const { client, script } = await once(SAY_HELLO, "unary", [helloBytes("Ada")]);
    assert.equal(client.code, "OK");
    assert.deepEqual(replyOf(client), ["Hello, Ada!"]);
    assert.deepEqual(script, { ok: true });
    assert.equal(rpc, SAY_HELLO);
  });

  it("abort(NOT_FOUND, details): the client sees NOT_FOUND and the details; handleRpc() resolves", T, async () => {
    f.grpc.addHandler("Greeter", "SayHello", (r: HelloRequest, ctx: Context) => ctx.abort(StatusCode.NOT_FOUND, `no ${r.name} here`), { package: "helloworld" });
    const { client, script } = await once(SAY_HELLO, "unary", [helloBytes("Bob")]);
    assert.deepEqual([client.code, client.details], ["NOT_FOUND", "no Bob here"]);
    assert.deepEqual(script, { ok: true });
  });

  it("abort(UNAUTHENTICATED) without details: the client sees the code's name as details", T, async () => {
    f.grpc.addHandler("Greeter", "SayHello", (_r: HelloRequest, ctx: Context) => ctx.abort(StatusCode.UNAUTHENTICATED), { package: "helloworld" });
    const { client, script } = await once(SAY_HELLO, "unary", [helloBytes("x")]);
    assert.deepEqual([client.code, client.details], ["UNAUTHENTICATED", "UNAUTHENTICATED"]);
    assert.deepEqual(script, { ok: true });
  });

  it("a handler exception: the client sees INTERNAL, handleRpc() rejects with the exception", T, async () => {
    const boom = new Error("handler bug");
    f.grpc.addHandler("Greeter", "SayHello", () => {
      throw boom;
    }, { package: "helloworld" });
    const { client, script } = await once(SAY_HELLO, "unary", [helloBytes("x")]);
    assert.equal(client.code, "INTERNAL");
    assert.match(client.details ?? "", /handler bug/);
    assert.ok("err" in script);
    assert.equal(script.err, boom);
  });

  it("a response that does not fit HelloReply: the client sees INTERNAL, handleRpc() rejects a TypeError", T, async () => {
    f.grpc.addHandler("Greeter", "SayHello", () => ({ message: 42 }), { package: "helloworld" });
    const { client, script } = await once(SAY_HELLO, "unary", [helloBytes("x")]);
    assert.equal(client.code, "INTERNAL");
    assert.ok("err" in script);
    assert.ok(script.err instanceof ResponseTypeError);
    assert.ok(script.err instanceof TypeError);
  });

  it("no handler for SayHelloStream: the client sees UNIMPLEMENTED, handleRpc() rejects NotImplementedError", T, async () => {
    const { client, script } = await once("/helloworld.Greeter/SayHelloStream", "server_streaming", [helloBytes("x")]);
    assert.equal(client.code, "UNIMPLEMENTED");
    assert.ok("err" in script);
    assert.ok(script.err instanceof NotImplementedError);
    assert.equal(script.err.code, ErrorCode.NO_HANDLER);
  });

  it("server streaming by descriptor: a generator's replies arrive in order (OK)", T, async () => {
    f.grpc.addHandler("Greeter", "SayHelloStream", function* (r: HelloRequest) {
      for (let i = 0; i < 3; i++) yield { message: `#${i} ${r.name}` };
    }, { package: "helloworld" });
    const { client, script } = await once("/helloworld.Greeter/SayHelloStream", "server_streaming", [helloBytes("Ada")]);
    assert.equal(client.code, "OK");
    assert.deepEqual(replyOf(client), ["#0 Ada", "#1 Ada", "#2 Ada"]);
    assert.deepEqual(script, { ok: true });
  });

  it("client and bidi streaming with raw bytes (OK)", T, async () => {
    f.grpc.addHandler("Bytes", "Concat", async (requests: AsyncIterable<Uint8Array>) => {
      const all: number[] = [];
      for await (const r of requests) all.push(...r);
      return new Uint8Array(all);
    }, { package: "demo", kind: "client_streaming" });
    f.grpc.addHandler("Bytes", "Echo", async function* (requests: AsyncIterable<Uint8Array>) {
      for await (const r of requests) yield r;
    }, { package: "demo", kind: "bidi_streaming" });
    const concat = await once("/demo.Bytes/Concat", "client_streaming", ["01", "0203", "04"]);
    assert.deepEqual([concat.client.code, concat.client.responses], ["OK", ["01020304"]]);
    assert.deepEqual(concat.script, { ok: true });
    const echo = await once("/demo.Bytes/Echo", "bidi_streaming", ["aa", "bbcc"]);
    assert.deepEqual([echo.client.code, echo.client.responses], ["OK", ["aa", "bbcc"]]);
    assert.deepEqual(echo.script, { ok: true });
  });
});
