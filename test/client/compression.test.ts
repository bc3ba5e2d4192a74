// Compression: per-call and channel-default request compression (gzip, deflate), per-message
// opt-out, decoding compressed responses, the headers the client sends, and the failures a
// client must raise for bad compressed responses (zip bombs, bad flags, unknown encodings).
import { afterEach, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as zlib from "node:zlib";
import { fromBinary } from "@bufbuild/protobuf";
import { Code, createClient, ErrorCode, SwitchboardError, type Encoding } from "../../src/index.js";
import { Greeter, HelloRequestSchema } from "../../examples/gen/helloworld/helloworld_pb.js";
import { TestService } from "../../examples/gen/grpc/testing/test_pb.js";
import { expectRpcError, frame, helloReplyBytes, readBody, Scope, T, unframe } from "./helpers.js";

const scope = new Scope();
afterEach(() => scope.close());

const text = (b: Uint8Array | undefined) => Buffer.from(b ?? new Uint8Array()).toString();
/** A compressible payload big enough that compression is visible. */
const BIG = "abc".repeat(2000);

/** A server whose replies say how each request arrived: `<requestEncoding>:<lastMessageCompressed>`. */
async function reportingServer(responseCompression?: Encoding) {
  return scope.server((s) =>
    s.addService(TestService, {
      unaryCall(req, ctx) {
        if (responseCompression) ctx.setCompression(responseCompression);
        return { payload: { body: Buffer.from(`${ctx.requestEncoding}:${ctx.lastMessageCompressed}:${text(req.payload?.body).length}`) } };
      },
      async *fullDuplexCall(requests, ctx) {
        for await (const r of requests) yield { payload: { body: Buffer.from(`${ctx.requestEncoding}:${ctx.lastMessageCompressed}:${text(r.payload?.body).length}`) } };
      },
    }),
  );
}

describe("compression", () => {
  for (const encoding of ["gzip", "deflate"] as const) {
    it(`per-call compression ${encoding}: the server sees requestEncoding ${encoding} and a compressed message (OK)`, T, async () => {
      const { target } = await reportingServer();
      const client = createClient(TestService, scope.channel(target));
      const res = await client.unaryCall({ payload: { body: Buffer.from(BIG) } }, { timeout: 3000, compression: encoding });
      assert.equal(text(res.payload?.body), `${encoding}:true:${BIG.length}`);
      const plain = await client.unaryCall({ payload: { body: Buffer.from(BIG) } }, { timeout: 3000 });
      assert.equal(text(plain.payload?.body), `identity:false:${BIG.length}`);
    });
  }

  it("channel default compression applies to every call; a call can override it with identity (OK)", T, async () => {
    const { target } = await reportingServer();
    const client = createClient(TestService, scope.channel(target, { compression: "gzip" }));
    const res = await client.unaryCall({ payload: { body: Buffer.from(BIG) } }, { timeout: 3000 });
    assert.equal(text(res.payload?.body), `gzip:true:${BIG.length}`);
    const got: string[] = [];
    for await (const r of client.fullDuplexCall([{ payload: { body: Buffer.from("a") } }, { payload: { body: Buffer.from("bb") } }], { timeout: 3000 })) got.push(text(r.payload?.body));
    assert.deepEqual(got, ["gzip:true:1", "gzip:true:2"]);
    const off = await client.unaryCall({ payload: { body: Buffer.from(BIG) } }, { timeout: 3000, compression: "identity" });
    assert.equal(text(off.payload?.body), `identity:false:${BIG.length}`);
  });

  it("sendMessage(msg, {compress: false}) sends that one message uncompressed in a compressed call (OK)", T, async () => {
    const { target } = await reportingServer();
    const call = createClient(TestService, scope.channel(target)).fullDuplexCall.open({ timeout: 3000, compression: "deflate" });
    await call.sendMessage({ payload: { body: Buffer.from("x") } });
    await call.sendMessage({ payload: { body: Buffer.from("yy") } }, { compress: false });
    await call.sendMessage({ payload: { body: Buffer.from("zzz") } }, { end: true });
    const got: string[] = [];
    for await (const r of call) got.push(text(r.payload?.body));
    assert.deepEqual(got, ["deflate:true:1", "deflate:false:2", "deflate:true:3"]);
  });

  for (const encoding of ["gzip", "deflate"] as const) {
    it(`compressed responses (server setCompression("${encoding}")) are decoded; call.lastMessageCompressed is true (OK)`, T, async () => {
      const { target } = await reportingServer(encoding);
      const call = createClient(TestService, scope.channel(target)).unaryCall.open({ timeout: 3000 });
      await call.sendMessage({ payload: { body: Buffer.from(BIG) } }, { end: true });
      const res = await call.recvMessage();
      assert.equal(text(res?.payload?.body), `identity:false:${BIG.length}`);
      assert.equal(call.lastMessageCompressed, true);
      await call.recvTrailingMetadata();
    });
  }

  it("a server-wide compression default (ServerOptions.compression gzip) is decoded for streamed responses (OK)", T, async () => {
    const { target } = await scope.server(
      (s) =>
        s.addService(Greeter, {
          async *sayHelloStream(req) {
            for (let i = 0; i < 3; i++) yield { message: `${req.name}-${i}-${BIG}` };
          },
        }),
      { compression: "gzip" },
    );
    const call = createClient(Greeter, scope.channel(target)).sayHelloStream({ name: "z" }, { timeout: 3000 });
    const got: string[] = [];
    for await (const r of call) {
      assert.equal(call.lastMessageCompressed, true);
      got.push(r.message.slice(0, 3));
    }
    assert.deepEqual(got, ["z-0", "z-1", "z-2"]);
  });

  it("request headers: grpc-accept-encoding lists identity, gzip and deflate; grpc-encoding names the call's compression; the flag byte is set and the body is real gzip", T, async () => {
    const seen: { headers: Record<string, unknown>; body: Buffer }[] = [];
    const bare = await scope.bare((stream, headers) => {
      void readBody(stream).then((body) => {
        seen.push({ headers: { ...headers }, body });
        stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
        stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
        stream.end(frame(helloReplyBytes("ok")));
      });
    });
    const client = createClient(Greeter, scope.channel(bare.target));
    await client.sayHello({ name: "plain" }, { timeout: 3000 });
    await client.sayHello({ name: "squeezed" }, { timeout: 3000, compression: "gzip" });
    const accept = String(seen[0]!.headers["grpc-accept-encoding"]).split(",").map((s) => s.trim());
    for (const e of ["identity", "gzip", "deflate"]) assert.ok(accept.includes(e), `grpc-accept-encoding ${accept}`);
    assert.equal(seen[0]!.headers["grpc-encoding"], undefined, "identity calls send no grpc-encoding");
    assert.equal(unframe(seen[0]!.body)[0]!.flag, 0);
    assert.equal(seen[1]!.headers["grpc-encoding"], "gzip");
    const [msg] = unframe(seen[1]!.body);
    assert.equal(msg!.flag, 1);
    assert.equal(fromBinary(HelloRequestSchema, zlib.gunzipSync(msg!.data)).name, "squeezed");
  });

  it("a gzip bomb (64 MiB of zeros, ~64 KiB compressed) -> RESOURCE_EXHAUSTED under the 4 MiB receive limit", T, async () => {
    const bomb = zlib.gzipSync(Buffer.alloc(64 * 1024 * 1024), { level: 9 });
    assert.ok(bomb.length < 4 * 1024 * 1024);
    const bare = await scope.bare((stream) => {
      stream.on("data", () => {});
      stream.respond({ ":status": 200, "content-type": "application/grpc", "grpc-encoding": "gzip" }, { waitForTrailers: true });
      stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
      stream.end(frame(bomb, true));
    });
    const err = await expectRpcError(createClient(Greeter, scope.channel(bare.target)).sayHello({}, { timeout: 10_000 }), Code.RESOURCE_EXHAUSTED);
    assert.match(err.rawMessage, /larger than max/);
  });

  it("bad compressed responses from a bare server: flag set with identity -> INTERNAL, unknown grpc-encoding -> INTERNAL, corrupt gzip -> INTERNAL", T, async () => {
    const bare = await scope.bare((stream, headers) => {
      const kind = headers["x-kind"];
      stream.on("data", () => {});
      const h: Record<string, string | number> = { ":status": 200, "content-type": "application/grpc" };
      let body: Buffer;
      if (kind === "flag-identity") {
        body = frame(zlib.gzipSync(helloReplyBytes("x")), true);
      } else if (kind === "unknown-encoding") {
        h["grpc-encoding"] = "br";
        body = frame(helloReplyBytes("x"), true);
      } else {
        h["grpc-encoding"] = "gzip";
        body = frame(Buffer.from("definitely not gzip"), true);
      }
      stream.respond(h, { waitForTrailers: true });
      stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
      stream.end(body);
    });
    const client = createClient(Greeter, scope.channel(bare.target));
    const cases: [string, RegExp][] = [
      ["flag-identity", /identity/],
      ["unknown-encoding", /unsupported grpc-encoding/],
      ["corrupt", /decompress/],
    ];
    for (const [kind, message] of cases) {
      await expectRpcError(client.sayHello({}, { timeout: 3000, metadata: { "x-kind": kind } }), Code.INTERNAL, message).catch((e: Error) => {
        throw new Error(`${kind}: ${e.message}`);
      });
    }
  });

  it("an unsupported compression option is refused when the call is created (ERR_SB_BAD_COMPRESSION)", T, async () => {
    const { target } = await reportingServer();
    const client = createClient(TestService, scope.channel(target));
    assert.throws(
      () => client.unaryCall.open({ compression: "br" as Encoding }),
      (err: unknown) => err instanceof SwitchboardError && err.code === ErrorCode.BAD_COMPRESSION,
    );
  });
});
