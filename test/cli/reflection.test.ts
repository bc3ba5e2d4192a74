// switchboard ls and describe against a Switchboard server (reflection v1, or only v1alpha).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { runMain, T } from "./helpers.js";
import { startOurServer, type Running } from "./servers.js";

describe("switchboard ls / describe (Switchboard server)", () => {
  let server: Running;
  before(async () => {
    server = await startOurServer();
  });
  after(() => server.close());

  it("ls lists the services from reflection, sorted, one per line", T, async () => {
    const r = await runMain(["ls", server.target]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split("\n"), [
      "clitest.Echo",
      "grpc.health.v1.Health",
      "grpc.reflection.v1.ServerReflection",
      "grpc.reflection.v1alpha.ServerReflection",
      "helloworld.Greeter",
    ]);
  });

  it("ls SERVICE lists its methods as pkg.Service.Method; -l as rpc lines", T, async () => {
    const r = await runMain(["ls", server.target, "clitest.Echo"]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split("\n"), ["clitest.Echo.Unary", "clitest.Echo.ServerStream", "clitest.Echo.ClientStream", "clitest.Echo.Bidi"]);
    const long = await runMain(["ls", server.target, "clitest.Echo", "-l"]);
    assert.equal(long.code, 0, long.stderr);
    assert.match(long.stdout, /^rpc Bidi\(stream \.clitest\.EchoRequest\) returns \(stream \.clitest\.EchoReply\);$/m);
    assert.match(long.stdout, /^rpc ServerStream\(\.clitest\.EchoRequest\) returns \(stream \.clitest\.EchoReply\);$/m);
  });

  it("describe prints a message in proto syntax: nested enum, map, oneof, proto3 optional, imported types", T, async () => {
    const r = await runMain(["describe", server.target, "clitest.EchoRequest"]);
    assert.equal(r.code, 0, r.stderr);
    const expected = [
      "clitest.EchoRequest is a message:",
      "message EchoRequest {",
      "  string text = 1;",
      "  int32 repeat = 2;",
      "  int32 delay_ms = 3;",
      "  int32 fail_code = 4;",
      "  string fail_message = 5;",
      "  .google.protobuf.Timestamp at = 6;",
      "  .clitest.EchoRequest.Mood mood = 7;",
      "  map<string, string> labels = 8;",
      "  oneof extra {",
      "    int64 big = 9;",
      "    bytes blob = 10;",
      "  }",
      "  optional string note = 11;",
      "  enum Mood {",
      "    MOOD_UNSPECIFIED = 0;",
      "    HAPPY = 1;",
      "    GRUMPY = 2;",
      "  }",
      "}",
      "",
    ];
    assert.equal(r.stdout, expected.join("\n"));
  });

  it("describe resolves services, methods, enums, fields and enum values; several at once", T, async () => {
    const r = await runMain(["describe", server.target, "helloworld.Greeter", "clitest.Echo.ClientStream", "clitest.EchoRequest.Mood", "clitest.EchoReply.metadata", "clitest.EchoRequest.GRUMPY"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /helloworld\.Greeter is a service:\nservice Greeter \{\n {2}rpc SayHello\(\.helloworld\.HelloRequest\) returns \(\.helloworld\.HelloReply\);\n/);
    assert.match(r.stdout, /clitest\.Echo\.ClientStream is a method:\nrpc ClientStream\(stream \.clitest\.EchoRequest\) returns \(\.clitest\.EchoReply\);\n/);
    assert.match(r.stdout, /clitest\.EchoRequest\.Mood is an enum:\nenum Mood \{\n {2}MOOD_UNSPECIFIED = 0;/);
    assert.match(r.stdout, /clitest\.EchoReply\.metadata is a field:\nmap<string, string> metadata = 3;\n/);
    assert.match(r.stdout, /clitest\.EchoRequest\.GRUMPY is an enum value:\nGRUMPY = 2;\n/);
  });

  it("describe without a symbol describes every service", T, async () => {
    const r = await runMain(["describe", server.target]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /clitest\.Echo is a service:/);
    assert.match(r.stdout, /grpc\.health\.v1\.Health is a service:\nservice Health \{\n {2}rpc Check/);
  });

  it("an unknown symbol or service exits 1 with ERR_SB_UNKNOWN_SYMBOL", T, async () => {
    const d = await runMain(["describe", server.target, "clitest.Nope"]);
    assert.equal(d.code, 1);
    assert.match(d.stderr, /^switchboard: describe: symbol "clitest\.Nope" not found .*\[ERR_SB_UNKNOWN_SYMBOL\]\n$/);
    const l = await runMain(["ls", server.target, "clitest.EchoRequest"]);
    assert.equal(l.code, 1);
    assert.match(l.stderr, /is a message, not a service/);
  });
});

describe("switchboard ls / describe: reflection versions", () => {
  it("falls back to grpc.reflection.v1alpha when v1 answers UNIMPLEMENTED", T, async () => {
    const old = await startOurServer({ reflection: "v1alpha" });
    try {
      const r = await runMain(["ls", old.target]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^clitest\.Echo$/m);
      const d = await runMain(["describe", old.target, "clitest.EchoReply"]);
      assert.equal(d.code, 0, d.stderr);
      assert.match(d.stdout, /message EchoReply \{/);
    } finally {
      await old.close();
    }
  });

  it("a server without reflection: `switchboard: ls: UNIMPLEMENTED: ...` and exit 64 + 12", T, async () => {
    const bare = await startOurServer({ reflection: "none" });
    try {
      const r = await runMain(["ls", bare.target]);
      assert.equal(r.code, 76, r.stderr);
      assert.match(r.stderr, /^switchboard: ls: UNIMPLEMENTED: the server has no reflection service \(neither grpc\.reflection\.v1 nor v1alpha\)/);
    } finally {
      await bare.close();
    }
  });

  it("TLS: --ca verifies the server certificate; a plaintext dial to a TLS port fails UNAVAILABLE (78)", T, async () => {
    const secure = await startOurServer({ tls: true });
    try {
      const r = await runMain(["ls", secure.target, "--ca", "test/fixtures/tls/ca.pem", "--server-name", "foo.test.google.fr"]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^clitest\.Echo$/m);
      const plain = await runMain(["ls", secure.target]);
      assert.equal(plain.code, 78, plain.stderr);
      assert.match(plain.stderr, /^switchboard: ls: UNAVAILABLE/);
    } finally {
      await secure.close();
    }
  });
});
