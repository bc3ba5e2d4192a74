// Server reflection (grpc.reflection.v1 and v1alpha) through our client, and a full
// python3-grpcio round trip: list, fetch descriptors, build a DescriptorPool, call dynamically.
import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { create, fromBinary, toBinary, type DescFile } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema, TimestampSchema, file_google_protobuf_struct } from "@bufbuild/protobuf/wkt";
import { addReflection, Code, createClient, Health, HealthService, ReflectionService, type Channel } from "../../src/index.js";
import * as v1 from "../../src/gen/grpc/reflection/v1/reflection_pb.js";
import * as v1alpha from "../../src/gen/grpc/reflection/v1alpha/reflection_pb.js";
import { Greeter } from "../../examples/gen/helloworld/helloworld_pb.js";
import { greeter } from "../../examples/helloworld/server.js";
import { pythonPeerMissing, requirePeer } from "../interop/peers.js";
import { Clock, clockFile, moreFile } from "./fixtures.js";
import { Scope, T, within } from "./helpers.js";

let scope = new Scope();
afterEach(async () => {
  await scope.close();
  scope = new Scope();
});

const NOW = create(TimestampSchema, { seconds: 1_700_000_000n, nanos: 5 });

/** Greeter + Clock + Health with reflection for them (and more.proto as an extra file). */
async function serve(options?: { wellKnownTypes?: boolean }) {
  return scope.server((s) => {
    s.addService(Greeter, greeter);
    s.addService(Clock, { now: () => NOW } as never);
    new HealthService().register(s);
    addReflection(s, [Greeter, Clock, Health, moreFile], options);
  });
}

// The request/response shapes are the same in both versions; the tests run once per version.
type Request = v1.ServerReflectionRequest["messageRequest"];
type Response = { validHost: string; originalRequest?: { host: string; messageRequest: Request } | undefined; messageResponse: v1.ServerReflectionResponse["messageResponse"] };

const VERSIONS = {
  v1: (ch: Channel) => (reqs: Request[], host = "") =>
    collect(createClient(v1.ServerReflection, ch).serverReflectionInfo(reqs.map((messageRequest) => create(v1.ServerReflectionRequestSchema, { host, messageRequest })))),
  v1alpha: (ch: Channel) => (reqs: Request[], host = "") =>
    collect(
      createClient(v1alpha.ServerReflection, ch).serverReflectionInfo(
        reqs.map((messageRequest) => create(v1alpha.ServerReflectionRequestSchema, { host, messageRequest: messageRequest as v1alpha.ServerReflectionRequest["messageRequest"] })),
      ),
    ),
} as const;

async function collect(call: AsyncIterable<unknown>): Promise<Response[]> {
  const out: Response[] = [];
  await within(
    (async () => {
      for await (const r of call) out.push(r as Response);
    })(),
    5000,
    "the reflection stream",
  );
  return out;
}

/** The file names in a file_descriptor_response, decoding each FileDescriptorProto. */
function fileNames(r: Response): string[] {
  assert.equal(r.messageResponse.case, "fileDescriptorResponse", JSON.stringify(r.messageResponse));
  return r.messageResponse.value.fileDescriptorProto.map((b) => fromBinary(FileDescriptorProtoSchema, b).name);
}

function errorOf(r: Response): { errorCode: number; errorMessage: string } {
  assert.equal(r.messageResponse.case, "errorResponse", JSON.stringify(r.messageResponse));
  return r.messageResponse.value;
}

const sym = (value: string): Request => ({ case: "fileContainingSymbol", value });
const file = (value: string): Request => ({ case: "fileByFilename", value });
const CLOCK_DEPS = ["sbtest/clock.proto", "google/protobuf/empty.proto", "google/protobuf/timestamp.proto", "google/protobuf/descriptor.proto"];

for (const [version, open] of Object.entries(VERSIONS)) {
  describe(`reflection ${version} through our client`, () => {
    it("list_services lists the given services and the reflection services", T, async () => {
      const { target } = await serve();
      const [r] = await open(scope.channel(target))([{ case: "listServices", value: "" }], "example.test");
      assert.equal(r!.validHost, "example.test");
      assert.deepEqual(r!.originalRequest?.messageRequest, { case: "listServices", value: "" });
      assert.equal(r!.messageResponse.case, "listServicesResponse");
      assert.deepEqual(
        r!.messageResponse.value!.service.map((s) => s.name),
        ["helloworld.Greeter", "sbtest.Clock", "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection"],
      );
    });

    it("file_by_filename: the file's exact FileDescriptorProto bytes, then its imports; well-known types too", T, async () => {
      const { target } = await serve();
      const rs = await open(scope.channel(target))([
        file("helloworld/helloworld.proto"),
        file("sbtest/clock.proto"),
        file("google/protobuf/struct.proto"),
        file("grpc/health/v1/health.proto"),
        file("nope.proto"),
      ]);
      assert.equal(rs.length, 5);
      assert.deepEqual(fileNames(rs[0]!), ["helloworld/helloworld.proto"]);
      const bytes = (rs[0]!.messageResponse.value as { fileDescriptorProto: Uint8Array[] }).fileDescriptorProto[0]!;
      assert.deepEqual(Buffer.from(bytes), Buffer.from(toBinary(FileDescriptorProtoSchema, Greeter.file.proto)));
      assert.deepEqual(fileNames(rs[1]!), CLOCK_DEPS);
      assert.deepEqual(fileNames(rs[2]!), ["google/protobuf/struct.proto"], "a well-known type nobody imports");
      assert.deepEqual(fileNames(rs[3]!), ["grpc/health/v1/health.proto"]);
      const err = errorOf(rs[4]!);
      assert.equal(err.errorCode, Code.NOT_FOUND);
      assert.match(err.errorMessage, /nope\.proto/);
    });

    it("file_containing_symbol: services, methods, messages, fields, nested types, enums, enum values, extensions", T, async () => {
      const { target } = await serve();
      const cases: [string, string[]][] = [
        ["helloworld.Greeter", ["helloworld/helloworld.proto"]],
        ["helloworld.Greeter.SayHello", ["helloworld/helloworld.proto"]],
        ["helloworld.HelloRequest", ["helloworld/helloworld.proto"]],
        [".helloworld.HelloReply", ["helloworld/helloworld.proto"]],
        ["helloworld.HelloRequest.name", ["helloworld/helloworld.proto"]],
        ["sbtest.Clock", CLOCK_DEPS],
        ["sbtest.Clock.Now", CLOCK_DEPS],
        ["sbtest.Extendable.Inner", CLOCK_DEPS],
        ["sbtest.Extendable.Inner.Color", CLOCK_DEPS],
        ["sbtest.Extendable.Inner.GREEN", CLOCK_DEPS],
        ["sbtest.Mood", CLOCK_DEPS],
        ["sbtest.SAD", CLOCK_DEPS],
        ["sbtest.weight", CLOCK_DEPS],
        ["sbtest.Holder.label", CLOCK_DEPS],
        ["sbtest.sb_tag", CLOCK_DEPS],
        ["sbtest.nothing", ["sbtest/more.proto", ...CLOCK_DEPS]],
        ["google.protobuf.Timestamp", ["google/protobuf/timestamp.proto"]],
        ["google.protobuf.Value", ["google/protobuf/struct.proto"]],
        ["grpc.health.v1.HealthCheckResponse.ServingStatus", ["grpc/health/v1/health.proto"]],
        ["grpc.reflection.v1alpha.ServerReflection", ["grpc/reflection/v1alpha/reflection.proto"]],
        ["grpc.reflection.v1.ServerReflection.ServerReflectionInfo", ["grpc/reflection/v1/reflection.proto"]],
      ];
      const rs = await open(scope.channel(target))([...cases.map(([s]) => sym(s)), sym("no.such.Symbol"), sym("sbtest.Mood.SAD"), sym("helloworld")]);
      assert.equal(rs.length, cases.length + 3);
      cases.forEach(([symbol, files], i) => assert.deepEqual(fileNames(rs[i]!), files, symbol));
      for (const r of rs.slice(cases.length)) assert.equal(errorOf(r).errorCode, Code.NOT_FOUND, JSON.stringify(r.originalRequest));
      assert.match(errorOf(rs[cases.length]!).errorMessage, /no\.such\.Symbol/);
    });

    it("file_containing_extension and all_extension_numbers_of_type", T, async () => {
      const { target } = await serve();
      const ext = (containingType: string, extensionNumber: number): Request => ({ case: "fileContainingExtension", value: { containingType, extensionNumber } as never });
      const nums = (value: string): Request => ({ case: "allExtensionNumbersOfType", value });
      const rs = await open(scope.channel(target))([
        ext("sbtest.Extendable", 100),
        ext("sbtest.Extendable", 150),
        ext("sbtest.Extendable", 120),
        ext("google.protobuf.MessageOptions", 50001),
        ext("sbtest.Extendable", 101),
        ext("no.Such", 100),
        nums("sbtest.Extendable"),
        nums("google.protobuf.MessageOptions"),
        nums("helloworld.HelloRequest"),
        nums("no.Such"),
      ]);
      assert.deepEqual(fileNames(rs[0]!), CLOCK_DEPS);
      assert.deepEqual(fileNames(rs[1]!), CLOCK_DEPS);
      assert.deepEqual(fileNames(rs[2]!), ["sbtest/more.proto", ...CLOCK_DEPS], "each file once, though more.proto imports empty.proto directly and through clock.proto");
      assert.deepEqual(fileNames(rs[3]!), CLOCK_DEPS);
      assert.equal(errorOf(rs[4]!).errorCode, Code.NOT_FOUND);
      assert.equal(errorOf(rs[5]!).errorCode, Code.NOT_FOUND);
      const numbers = (r: Response) => {
        assert.equal(r.messageResponse.case, "allExtensionNumbersResponse", JSON.stringify(r.messageResponse));
        return r.messageResponse.value;
      };
      assert.deepEqual({ ...numbers(rs[6]!), $typeName: undefined }, { $typeName: undefined, baseTypeName: "sbtest.Extendable", extensionNumber: [100, 120, 150] });
      assert.deepEqual(numbers(rs[7]!).extensionNumber, [50001]);
      assert.deepEqual(numbers(rs[8]!).extensionNumber, []);
      assert.equal(errorOf(rs[9]!).errorCode, Code.NOT_FOUND);
    });

    it("answers in order on one stream and keeps it open after errors and an empty request", T, async () => {
      const { target } = await serve();
      const rs = await open(scope.channel(target))([sym("nope"), { case: undefined }, file("nope.proto"), { case: "listServices", value: "*" }, sym("helloworld.Greeter")]);
      assert.equal(rs.length, 5);
      assert.equal(errorOf(rs[0]!).errorCode, Code.NOT_FOUND);
      assert.equal(errorOf(rs[1]!).errorCode, Code.INVALID_ARGUMENT);
      assert.equal(errorOf(rs[2]!).errorCode, Code.NOT_FOUND);
      assert.equal(rs[3]!.messageResponse.case, "listServicesResponse");
      assert.deepEqual(fileNames(rs[4]!), ["helloworld/helloworld.proto"]);
      assert.deepEqual(rs[4]!.originalRequest?.messageRequest, sym("helloworld.Greeter"));
    });

    it("wellKnownTypes: false resolves only the files of the given sources and their imports", T, async () => {
      const { target } = await serve({ wellKnownTypes: false });
      const rs = await open(scope.channel(target))([file("google/protobuf/struct.proto"), file("google/protobuf/timestamp.proto")]);
      assert.equal(errorOf(rs[0]!).errorCode, Code.NOT_FOUND);
      assert.deepEqual(fileNames(rs[1]!), ["google/protobuf/timestamp.proto"], "imported by clock.proto");
    });
  });
}

describe("ReflectionService", () => {
  it("can be built from files and registered by hand, without listing itself", T, async () => {
    const reflection = new ReflectionService([Greeter, file_google_protobuf_struct as DescFile, clockFile], { listSelf: false });
    const { target } = await scope.server((s) => s.addService(v1.ServerReflection, reflection.v1));
    const rs = await VERSIONS.v1(scope.channel(target))([{ case: "listServices", value: "" }, sym("sbtest.Clock")]);
    assert.deepEqual(
      (rs[0]!.messageResponse.value as { service: { name: string }[] }).service.map((s) => s.name),
      ["helloworld.Greeter"],
      "files are resolvable, not listed",
    );
    assert.deepEqual(fileNames(rs[1]!), CLOCK_DEPS);
    assert.deepEqual(reflection.index.extensionNumbersOf("sbtest.Extendable"), [100, 150], "more.proto was not given");
  });
});

describe("reflection through a python3-grpcio client", () => {
  const skip = requirePeer(pythonPeerMissing());
  if (skip) process.stderr.write(`# SKIP python3-grpcio reflection tests: ${skip}\n`);

  for (const version of ["v1", "v1alpha"]) {
    it(`${version}: list, fetch descriptors, build a DescriptorPool and call Greeter and Clock dynamically`, { timeout: 60_000, skip }, async () => {
      const { port } = await serve();
      const py = scope.python("reflection_client.py", [
        "--port",
        String(port),
        "--version",
        version,
        "--call",
        "helloworld.Greeter.SayHello",
        JSON.stringify({ name: "Ada" }),
        "--call",
        "sbtest.Clock.Now",
        "{}",
      ]);
      const out = await py.next(45_000);
      const { code, stderr } = await py.finish();
      assert.equal(code, 0, stderr);
      assert.deepEqual(out, {
        version,
        services: ["helloworld.Greeter", "sbtest.Clock", "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection"],
        files: {
          "helloworld.Greeter": ["helloworld/helloworld.proto"],
          "sbtest.Clock": CLOCK_DEPS,
        },
        calls: {
          "helloworld.Greeter.SayHello": { type: "helloworld.HelloReply", fields: { message: "Hello, Ada!" } },
          "sbtest.Clock.Now": { type: "google.protobuf.Timestamp", fields: { seconds: 1_700_000_000, nanos: 5 } },
        },
        not_found: { code: Code.NOT_FOUND, message: 'symbol "no.such.Symbol" not found' },
        extra_fetches: 0,
      });
    });
  }
});
