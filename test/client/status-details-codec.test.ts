// A pluggable status-details codec (grpclib `status_details_codec`) on Server, Channel and
// channelFor: how rich error details are written into and read from grpc-status-details-bin.
// The default is google.rpc.Status; a custom codec replaces the encoding on both ends; null
// neither sends nor decodes details (code and message are never affected).
import { afterEach, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import { create, fromBinary, isMessage } from "@bufbuild/protobuf";
import {
  channelFor,
  Code,
  createClient,
  ErrorCode,
  ErrorInfoSchema,
  protoStatusDetailsCodec,
  RpcError,
  Server,
  SwitchboardError,
  type StatusDetail,
  type StatusDetailsCodec,
} from "../../src/index.js";
import { StatusSchema } from "../../src/gen/google/rpc/status_pb.js";
import { Greeter } from "../../examples/gen/helloworld/helloworld_pb.js";
import { expectRpcError, Scope, T } from "./helpers.js";

const scope = new Scope();
afterEach(() => scope.close());

/** A JSON status-details codec: `{"code":5,"message":"...","details":[{"type":...,"value":base64}]}`. */
function jsonDetailsCodec(): StatusDetailsCodec & { encoded: number; decoded: { code: Code; message: string }[] } {
  const codec = {
    encoded: 0,
    decoded: [] as { code: Code; message: string }[],
    encode(code: Code, message: string, details: readonly StatusDetail[]): Uint8Array {
      codec.encoded++;
      return Buffer.from(JSON.stringify({ code, message, details: details.map((d) => ({ type: d.typeUrl, value: Buffer.from(d.value).toString("base64") })) }));
    },
    decode(code: Code, message: string, bytes: Uint8Array): StatusDetail[] {
      codec.decoded.push({ code, message });
      const parsed = JSON.parse(Buffer.from(bytes).toString("utf8")) as { details: { type: string; value: string }[] };
      return parsed.details.map((d) => ({ typeUrl: d.type, value: Uint8Array.from(Buffer.from(d.value, "base64")) }));
    },
  };
  return codec;
}

const INFO = create(ErrorInfoSchema, { reason: "QUOTA", domain: "codec.example", metadata: { left: "0" } });
const failing = {
  sayHello(): never {
    throw new RpcError(Code.RESOURCE_EXHAUSTED, "out of quota", [INFO]);
  },
};

async function greeterServer(statusDetailsCodec?: StatusDetailsCodec | null) {
  return scope.server((s) => s.addService(Greeter, failing), statusDetailsCodec === undefined ? {} : { statusDetailsCodec });
}

function assertInfo(err: RpcError): void {
  assert.equal(err.details.length, 1);
  assert.equal(err.details[0]!.typeUrl, "type.googleapis.com/google.rpc.ErrorInfo");
  const [info] = err.decodedDetails;
  assert.ok(isMessage(info, ErrorInfoSchema));
  assert.equal(info.reason, "QUOTA");
  assert.deepEqual(info.metadata, { left: "0" });
}

describe("statusDetailsCodec", () => {
  it("a custom codec on Server and Channel: the server encodes with it, the channel decodes with it (RESOURCE_EXHAUSTED)", T, async () => {
    const serverCodec = jsonDetailsCodec();
    const clientCodec = jsonDetailsCodec();
    const { target } = await greeterServer(serverCodec);
    const client = createClient(Greeter, scope.channel(target, { statusDetailsCodec: clientCodec }));
    const err = await expectRpcError(client.sayHello({ name: "x" }, { timeout: 5000 }), Code.RESOURCE_EXHAUSTED, /^out of quota$/);
    assertInfo(err);
    assert.equal(serverCodec.encoded, 1);
    assert.deepEqual(clientCodec.decoded, [{ code: Code.RESOURCE_EXHAUSTED, message: "out of quota" }]);
    // What travelled is the custom encoding, kept raw in statusDetailsBin.
    const wire = JSON.parse(Buffer.from(err.statusDetailsBin!).toString("utf8")) as { code: number; message: string };
    assert.equal(wire.code, Code.RESOURCE_EXHAUSTED);
    assert.equal(wire.message, "out of quota");
  });

  it("a custom codec through channelFor([[Service, impl]], { statusDetailsCodec }) applies to its server and channel (RESOURCE_EXHAUSTED)", T, async () => {
    const codec = jsonDetailsCodec();
    await using ch = channelFor([[Greeter, failing]], { statusDetailsCodec: codec });
    const err = await expectRpcError(createClient(Greeter, ch).sayHello({ name: "x" }, { timeout: 5000 }), Code.RESOURCE_EXHAUSTED);
    assertInfo(err);
    assert.equal(codec.encoded, 1);
    assert.equal(codec.decoded.length, 1);
    assert.doesNotThrow(() => JSON.parse(Buffer.from(err.statusDetailsBin!).toString("utf8")));
  });

  it("the default codec is google.rpc.Status: grpc-js reads the trailer as one, and our channel decodes it (RESOURCE_EXHAUSTED)", T, async () => {
    const { target } = await greeterServer();
    const err = await expectRpcError(createClient(Greeter, scope.channel(target)).sayHello({ name: "x" }, { timeout: 5000 }), Code.RESOURCE_EXHAUSTED);
    assertInfo(err);
    const status = fromBinary(StatusSchema, err.statusDetailsBin!);
    assert.equal(status.code, Code.RESOURCE_EXHAUSTED);
    assert.equal(status.message, "out of quota");
    assert.equal(protoStatusDetailsCodec.decode(Code.RESOURCE_EXHAUSTED, "out of quota", err.statusDetailsBin!)?.length, 1);

    const g = new grpc.Client(target, grpc.credentials.createInsecure());
    try {
      const trailer = await new Promise<Buffer | undefined>((resolve) => {
        g.makeUnaryRequest("/helloworld.Greeter/SayHello", (b: Buffer) => b, (b: Buffer) => b, Buffer.alloc(0), (e) => resolve(e?.metadata.get("grpc-status-details-bin")[0] as Buffer | undefined));
      });
      assert.ok(trailer, "grpc-js sees grpc-status-details-bin");
      assert.equal(fromBinary(StatusSchema, trailer).details[0]!.typeUrl, "type.googleapis.com/google.rpc.ErrorInfo");
    } finally {
      g.close();
    }
  });

  it("statusDetailsCodec: null on the server sends no grpc-status-details-bin; code and message unchanged (RESOURCE_EXHAUSTED)", T, async () => {
    const { target } = await greeterServer(null);
    const err = await expectRpcError(createClient(Greeter, scope.channel(target)).sayHello({ name: "x" }, { timeout: 5000 }), Code.RESOURCE_EXHAUSTED, /^out of quota$/);
    assert.equal(err.statusDetailsBin, undefined, "no trailer was sent");
    assert.deepEqual(err.details, []);
  });

  it("statusDetailsCodec: null on the channel decodes no details; the raw bytes stay in statusDetailsBin (RESOURCE_EXHAUSTED)", T, async () => {
    const { target } = await greeterServer();
    const err = await expectRpcError(createClient(Greeter, scope.channel(target, { statusDetailsCodec: null })).sayHello({ name: "x" }, { timeout: 5000 }), Code.RESOURCE_EXHAUSTED);
    assert.deepEqual(err.details, []);
    assert.ok(err.statusDetailsBin && err.statusDetailsBin.byteLength > 0);
    assert.equal(fromBinary(StatusSchema, err.statusDetailsBin).details.length, 1);
  });

  it("mismatched codecs (custom server, default channel): no details, the call keeps its code and message (RESOURCE_EXHAUSTED)", T, async () => {
    const { target } = await greeterServer(jsonDetailsCodec());
    const err = await expectRpcError(createClient(Greeter, scope.channel(target)).sayHello({ name: "x" }, { timeout: 5000 }), Code.RESOURCE_EXHAUSTED, /^out of quota$/);
    assert.deepEqual(err.details, []);
    assert.ok(err.statusDetailsBin);
  });

  it("a client codec that throws or returns something else than details leaves the call's status intact, with no details (RESOURCE_EXHAUSTED)", T, async () => {
    const { target } = await greeterServer();
    const bad: StatusDetailsCodec[] = [
      { encode: () => new Uint8Array(), decode: () => { throw new Error("cannot decode"); } },
      { encode: () => new Uint8Array(), decode: () => "nonsense" as never },
      { encode: () => new Uint8Array(), decode: () => [{ typeUrl: 1, value: "x" }] as never },
    ];
    for (const statusDetailsCodec of bad) {
      const err = await expectRpcError(createClient(Greeter, scope.channel(target, { statusDetailsCodec })).sayHello({ name: "x" }, { timeout: 5000 }), Code.RESOURCE_EXHAUSTED, /^out of quota$/);
      assert.deepEqual(err.details, []);
    }
  });

  it("a server codec that throws: the status goes out without details and a warning is emitted (RESOURCE_EXHAUSTED)", T, async () => {
    const warned = new Promise<Error>((resolve) => {
      const on = (w: Error) => {
        if (!w.message.includes("statusDetailsCodec")) return;
        process.off("warning", on);
        resolve(w);
      };
      process.on("warning", on);
    });
    const { target } = await greeterServer({
      encode() {
        throw new Error("encoder broke");
      },
      decode: () => undefined,
    });
    const err = await expectRpcError(createClient(Greeter, scope.channel(target)).sayHello({ name: "x" }, { timeout: 5000 }), Code.RESOURCE_EXHAUSTED, /^out of quota$/);
    assert.equal(err.statusDetailsBin, undefined);
    assert.match((await warned).message, /SayHello.*encoder broke/);
  });

  it("with onError set, a server codec that throws is reported there and the status still goes out (RESOURCE_EXHAUSTED)", T, async () => {
    let seen: ((v: { err: unknown; source: string }) => void) | undefined;
    const reported = new Promise<{ err: unknown; source: string }>((resolve) => (seen = resolve));
    const broken: StatusDetailsCodec = {
      encode() {
        throw new Error("encoder broke");
      },
      decode: () => undefined,
    };
    const { target } = await scope.server((s) => s.addService(Greeter, failing), { statusDetailsCodec: broken, onError: (err, c) => seen!({ err, source: c.source }) });
    const err = await expectRpcError(createClient(Greeter, scope.channel(target)).sayHello({ name: "x" }, { timeout: 5000 }), Code.RESOURCE_EXHAUSTED, /^out of quota$/);
    assert.equal(err.statusDetailsBin, undefined);
    const r = await reported;
    assert.equal(r.source, "handler");
    assert.match((r.err as Error).message, /encoder broke/);
  });

  it("a statusDetailsCodec that is not null or a codec is rejected by Server and Channel with ERR_SB_BAD_OPTION", () => {
    const bad = (e: unknown) => e instanceof SwitchboardError && e.code === ErrorCode.BAD_OPTION && /statusDetailsCodec/.test(e.message);
    for (const value of [{}, { encode() {} }, "proto", 1]) {
      assert.throws(() => new Server({ statusDetailsCodec: value as never }), bad);
      assert.throws(() => scope.channel("127.0.0.1:1", { statusDetailsCodec: value as never }), bad);
    }
  });
});
