// Codecs chosen by content subtype (grpclib CodecBase / `__content_subtype__`): protobuf by
// default, JSON with the protobuf JSON mapping for typed services, custom codecs from
// ServerOptions.codecs and ChannelOptions.codec, and grpclib's JSON Ping service defined
// by a method map with no .proto.
import { afterEach, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as http2 from "node:http2";
import {
  bindMethod,
  Code,
  createClient,
  jsonCodec,
  methodMap,
  rawMethod,
  RpcError,
  type Codec,
  type UnaryMethod,
} from "../../src/index.js";
import { Greeter } from "../../examples/gen/helloworld/helloworld_pb.js";
import { TestService } from "../../examples/gen/grpc/testing/test_pb.js";
import { expectRpcError, Scope, T } from "../client/helpers.js";
import { frame, rawRequest, unframe } from "./helpers.js";

const scope = new Scope();
afterEach(() => scope.close());

async function greeterServer(options = {}) {
  return scope.server(
    (s) =>
      s.addService(Greeter, {
        sayHello: (req) => ({ message: `hello ${req.name}` }),
        async *sayHelloStream(req) {
          for (let i = 0; i < 3; i++) yield { message: `${req.name}${i}` };
        },
      }),
    options,
  );
}

/** One raw HTTP/2 request with the given content type and body messages. */
async function raw(port: number, path: string, contentType: string, messages: string[]) {
  const session = http2.connect(`http://127.0.0.1:${port}`);
  session.on("error", () => {});
  try {
    const body = Buffer.concat(messages.map((m) => frame(Buffer.from(m))));
    return await rawRequest(session, path, body, { "content-type": contentType });
  } finally {
    session.close();
  }
}

describe("JSON codec (application/grpc+json)", () => {
  it("a typed service answers JSON requests in JSON with the same content type (OK)", T, async () => {
    const { port } = await greeterServer();
    const res = await raw(port, "/helloworld.Greeter/SayHello", "application/grpc+json", ['{"name":"json"}']);
    assert.equal(res.headers["content-type"], "application/grpc+json");
    assert.equal(res.trailers?.["grpc-status"], "0");
    assert.deepEqual(unframe(res.body).map((m) => JSON.parse(m.data.toString())), [{ message: "hello json" }]);
  });

  it("uses the protobuf JSON mapping: lowerCamelCase names, proto names accepted, int64 as strings, bytes as base64, enums by name (OK)", T, async () => {
    const { port } = await scope.server((s) =>
      s.addService(TestService, {
        unaryCall: (req) => ({
          payload: { type: req.responseType, body: new Uint8Array(req.responseSize).fill(1) },
          username: `fill:${req.fillUsername}`,
        }),
      }),
    );
    const res = await raw(port, "/grpc.testing.TestService/UnaryCall", "application/grpc+json", ['{"response_size":3,"fillUsername":true,"responseType":"COMPRESSABLE"}']);
    assert.equal(res.trailers?.["grpc-status"], "0", String(res.trailers?.["grpc-message"]));
    const reply = JSON.parse(unframe(res.body)[0]!.data.toString());
    assert.deepEqual(reply, { payload: { body: "AQEB" }, username: "fill:true" });
  });

  it("a typed client on a JSON channel makes all four call types (OK)", T, async () => {
    const { target } = await greeterServer();
    const client = createClient(Greeter, scope.channel(target, { codec: jsonCodec() }));
    assert.equal((await client.sayHello({ name: "a" }, { timeout: 3000 })).message, "hello a");
    const got: string[] = [];
    for await (const r of client.sayHelloStream({ name: "s" }, { timeout: 3000 })) got.push(r.message);
    assert.deepEqual(got, ["s0", "s1", "s2"]);
  });

  it("malformed JSON is INTERNAL and never reaches the handler (INTERNAL)", T, async () => {
    let calls = 0;
    const { port } = await scope.server((s) =>
      s.addService(Greeter, {
        sayHello: (req) => {
          calls++;
          return { message: req.name };
        },
      }),
    );
    for (const body of ["{not json", '{"name": 5}', '{"noSuchField": 1}', "\xff"]) {
      const res = await raw(port, "/helloworld.Greeter/SayHello", "application/grpc+json", [body]);
      assert.equal(res.trailers?.["grpc-status"] ?? res.headers["grpc-status"], String(Code.INTERNAL), body);
      assert.match(String(res.trailers?.["grpc-message"] ?? res.headers["grpc-message"]), /could not parse request message/);
    }
    assert.equal(calls, 0);
  });

  it("an unknown content subtype is refused with INTERNAL before the handler runs (INTERNAL)", T, async () => {
    const { port } = await greeterServer();
    const res = await raw(port, "/helloworld.Greeter/SayHello", "application/grpc+msgpack", ["x"]);
    assert.equal(res.headers["grpc-status"], String(Code.INTERNAL));
    assert.match(String(res.headers["grpc-message"]), /no codec registered for content-subtype "msgpack"/);
  });

  it("protobuf stays the default for application/grpc and application/grpc+proto (OK)", T, async () => {
    const { target, port } = await greeterServer();
    assert.equal((await createClient(Greeter, scope.channel(target)).sayHello({ name: "p" }, { timeout: 3000 })).message, "hello p");
    const res = await raw(port, "/helloworld.Greeter/SayHello", "application/grpc+proto", ["\n\x01p"]);
    assert.equal(res.trailers?.["grpc-status"], "0");
  });
});

/** A custom codec: messages as `key=value` lines, for methods without a schema. */
const lineCodec: Codec = {
  contentSubtype: "kv",
  encode(message) {
    return Buffer.from(Object.entries(message as Record<string, string>).map(([k, v]) => `${k}=${v}`).join("\n"));
  },
  decode(data) {
    return Object.fromEntries(Buffer.from(data).toString().split("\n").filter(Boolean).map((l) => l.split("=", 2)));
  },
};

describe("custom codecs", () => {
  it("a codec registered on the server is chosen by its subtype; a channel with the same codec talks to it (OK)", T, async () => {
    const { target, port } = await scope.server(
      (s) =>
        s.addMethods(
          methodMap({
            "/kv.Store/Echo": {
              kind: "unary",
              handler: async (stream) => {
                const req = (await stream.recvMessage()) as Record<string, string>;
                await stream.sendMessage({ ...req, seen: "yes" });
              },
            },
          }),
        ),
      { codecs: [lineCodec] },
    );
    const echo = bindMethod(scope.channel(target, { codec: lineCodec }), rawMethod("/kv.Store/Echo", "unary")) as UnaryMethod<unknown, unknown>;
    assert.deepEqual(await echo({ a: "1" }, { timeout: 3000 }), { a: "1", seen: "yes" });
    const res = await raw(port, "/kv.Store/Echo", "application/grpc+kv", ["b=2"]);
    assert.equal(res.headers["content-type"], "application/grpc+kv");
    assert.equal(unframe(res.body)[0]!.data.toString(), "b=2\nseen=yes");
  });

  it("a server without that codec refuses its subtype (INTERNAL)", T, async () => {
    const { target } = await greeterServer();
    const echo = bindMethod(scope.channel(target, { codec: lineCodec }), rawMethod("/helloworld.Greeter/SayHello", "unary")) as UnaryMethod<unknown, unknown>;
    await expectRpcError(echo({ a: "1" }, { timeout: 3000 }), Code.INTERNAL, /no codec registered for content-subtype "kv"/);
  });

  it("a codec that throws while decoding is INTERNAL; while encoding the response is INTERNAL too (INTERNAL)", T, async () => {
    const fragile: Codec = {
      contentSubtype: "fragile",
      encode(message) {
        if ((message as { bad?: boolean }).bad) throw new Error("cannot encode");
        return Buffer.from(JSON.stringify(message));
      },
      decode(data) {
        const v = JSON.parse(Buffer.from(data).toString());
        if (v.bad) throw new Error("cannot decode");
        return v;
      },
    };
    const { target } = await scope.server(
      (s) =>
        s.addMethods(
          methodMap({
            "/f.F/Echo": {
              kind: "unary",
              handler: async (stream) => {
                const req = (await stream.recvMessage()) as { reply: unknown };
                await stream.sendMessage(req.reply);
              },
            },
          }),
        ),
      { codecs: [fragile] },
    );
    const echo = bindMethod(scope.channel(target, { codec: jsonCodec() }), rawMethod("/f.F/Echo", "unary")) as UnaryMethod<unknown, unknown>;
    // The JSON channel sends application/grpc+json: the server's JSON codec answers.
    assert.deepEqual(await echo({ reply: { ok: 1 } }, { timeout: 3000 }), { ok: 1 });
    const viaFragile = bindMethod(scope.channel(target, { codec: fragile }), rawMethod("/f.F/Echo", "unary")) as UnaryMethod<unknown, unknown>;
    await expectRpcError(viaFragile({ bad: true, reply: {} }, { timeout: 3000 }), Code.INTERNAL, /cannot encode|serialize/);
    await expectRpcError(viaFragile({ reply: { bad: true } }, { timeout: 3000 }), Code.INTERNAL, /could not serialize response message: cannot encode/);
  });
});

describe("grpclib's JSON Ping service (a method map, no .proto)", () => {
  it("a JSON client calls /ping.PingService/Ping and gets {value: pong} (OK)", T, async () => {
    const { target } = await scope.server((s) =>
      s.addMethods(
        methodMap({
          "/ping.PingService/Ping": {
            kind: "unary",
            handler: async (stream) => {
              const request = (await stream.recvMessage()) as { value: string };
              if (request.value !== "ping") throw new RpcError(Code.INVALID_ARGUMENT, "say ping");
              await stream.sendMessage({ value: "pong" });
            },
          },
        }),
      ),
    );
    const channel = scope.channel(target, { codec: jsonCodec() });
    const ping = bindMethod(channel, rawMethod("/ping.PingService/Ping", "unary")) as UnaryMethod<unknown, unknown>;
    assert.deepEqual(await ping({ value: "ping" }, { timeout: 3000 }), { value: "pong" });
    await expectRpcError(ping({ value: "pong" }, { timeout: 3000 }), Code.INVALID_ARGUMENT, /say ping/);
  });
});
