// switchboard ls / describe / call with --proto (and --import-path) or --protoset, against a
// Switchboard server that has no reflection service: the schema comes from local files only.
// Runs the CLI in this process (main()); the bin itself is spawned by examples.test.ts.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { create, toBinary, type DescFile } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { file_clitest_echo } from "./gen/clitest/echo_pb.js";
import { runMain, T } from "./helpers.js";
import { startOurServer, type Running } from "./servers.js";

const PROTO = ["--proto", "test/cli/fixtures/clitest/echo.proto", "--import-path", "test/cli/fixtures"];

const ECHO_REQUEST = [
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
].join("\n");

/** A FileDescriptorSet of the generated code's embedded descriptors (what protoc or buf would write). */
function protosetOf(file: DescFile): Uint8Array {
  const ordered: DescFile[] = [];
  const visit = (f: DescFile) => {
    if (ordered.includes(f)) return;
    f.dependencies.forEach(visit);
    ordered.push(f);
  };
  visit(file);
  return toBinary(FileDescriptorSetSchema, create(FileDescriptorSetSchema, { file: ordered.map((f) => f.proto) }));
}

describe("switchboard with local schemas, against a server without reflection", () => {
  let server: Running;
  const dir = mkdtempSync(path.join(tmpdir(), "sb-cli-schemas-"));
  const protoset = path.join(dir, "echo.binpb");
  before(async () => {
    server = await startOurServer({ reflection: "none" });
    writeFileSync(protoset, protosetOf(file_clitest_echo));
  });
  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("the server really has no reflection: plain ls exits 64 + 12 (UNIMPLEMENTED)", T, async () => {
    const r = await runMain(["ls", server.target]);
    assert.equal(r.code, 76, r.stderr);
  });

  it("ls --proto: the services of the files, without HOST:PORT (no server asked) or with it; -l SERVICE", T, async () => {
    for (const args of [["ls", ...PROTO], ["ls", server.target, ...PROTO]]) {
      const r = await runMain(args);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, "clitest.Echo\n");
    }
    const long = await runMain(["ls", "clitest.Echo", "-l", ...PROTO]);
    assert.equal(long.code, 0, long.stderr);
    assert.match(long.stdout, /^rpc Bidi\(stream \.clitest\.EchoRequest\) returns \(stream \.clitest\.EchoReply\);$/m);
  });

  it("describe --proto prints what reflection would (nested enum, map, oneof, proto3 optional, Timestamp)", T, async () => {
    const r = await runMain(["describe", server.target, "clitest.EchoRequest", ...PROTO]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, ECHO_REQUEST);
  });

  it("call --proto: JSON both ways, server streaming, and rich error details typed from the .proto (exit 64 + 3)", T, async () => {
    const request = { text: "hi", at: "2024-01-02T03:04:05.500Z", mood: "GRUMPY", big: "9007199254740993", labels: { a: "b" } };
    const unary = await runMain(["call", server.target, "clitest.Echo/Unary", JSON.stringify(request), ...PROTO]);
    assert.equal(unary.code, 0, unary.stderr);
    assert.deepEqual(JSON.parse(unary.stdout), { text: "hi", count: 1, at: "2024-01-02T03:04:05.500Z", mood: "GRUMPY", big: "9007199254740993" });
    const stream = await runMain(["call", server.target, "clitest.Echo.ServerStream", '{"text":"s","repeat":2}', "--compact", ...PROTO]);
    assert.equal(stream.code, 0, stream.stderr);
    assert.equal(stream.stdout, '{"text":"s #1","count":1}\n{"text":"s #2","count":2}\n');
    const failed = await runMain(["call", server.target, "clitest.Echo/Unary", '{"failCode":3,"failMessage":"bad"}', ...PROTO]);
    assert.equal(failed.code, 64 + 3);
    const [first, , , fourth] = failed.stderr.split("\n");
    assert.equal(first, "switchboard: call: INVALID_ARGUMENT: bad");
    assert.deepEqual(JSON.parse(fourth!), { "@type": "type.googleapis.com/clitest.EchoRequest", failCode: 3, failMessage: "bad" });
  });

  it("client streaming from stdin with --proto; a file named relative to -I; a path with no import path (then it is its name)", T, async () => {
    const c = await runMain(["call", server.target, "clitest.Echo/ClientStream", "--compact", "--proto", "clitest/echo.proto", "-I", "test/cli/fixtures"], { stdin: '{"text":"a"}\n{"text":"b"}\n' });
    assert.equal(c.code, 0, c.stderr);
    assert.equal(c.stdout, '{"text":"a b","count":2}\n');
    const hello = await runMain(["call", server.target, "helloworld.Greeter/SayHello", '{"name":"Ada"}', "--compact", "--proto", "examples/helloworld/helloworld.proto"]);
    assert.equal(hello.code, 0, hello.stderr);
    assert.equal(hello.stdout, '{"message":"Hello, Ada!"}\n');
  });

  it("--protoset (a binary FileDescriptorSet): ls, describe and call", T, async () => {
    const ls = await runMain(["ls", "--protoset", protoset]);
    assert.equal(ls.code, 0, ls.stderr);
    assert.equal(ls.stdout, "clitest.Echo\n");
    const d = await runMain(["describe", "clitest.EchoRequest", "--protoset", protoset]);
    assert.equal(d.code, 0, d.stderr);
    assert.equal(d.stdout, ECHO_REQUEST);
    const c = await runMain(["call", server.target, "clitest.Echo/Unary", '{"text":"set","delayMs":1}', "--compact", "--protoset", protoset]);
    assert.equal(c.code, 0, c.stderr);
    assert.equal(c.stdout, '{"text":"set","count":1}\n');
  });

  it("a method or symbol the files do not define: exit 1, ERR_SB_UNKNOWN_SYMBOL naming the files", T, async () => {
    const m = await runMain(["call", server.target, "helloworld.Greeter/SayHello", ...PROTO]);
    assert.equal(m.code, 1);
    assert.equal(m.stderr, 'switchboard: call: symbol "helloworld.Greeter" not found in the --proto files [ERR_SB_UNKNOWN_SYMBOL]\n');
    const d = await runMain(["describe", "clitest.Nope", "--protoset", protoset]);
    assert.equal(d.code, 1);
    assert.equal(d.stderr, 'switchboard: describe: symbol "clitest.Nope" not found in the --protoset files [ERR_SB_UNKNOWN_SYMBOL]\n');
  });

  it("a .proto with an error: exit 1 and one line `switchboard: CMD: FILE:LINE:COL: message [ERR_SB_BAD_PROTO]`", T, async () => {
    const bad = path.join(dir, "bad.proto");
    writeFileSync(bad, 'syntax = "proto3";\nmessage M {\n  Missing m = 1;\n}\n');
    const r = await runMain(["call", server.target, "M/X", "--proto", bad, "-I", dir]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, "");
    assert.equal(r.stderr, `switchboard: call: ${bad}:3:3: "Missing" is not defined. [ERR_SB_BAD_PROTO]\n`);
    const missing = await runMain(["ls", "--proto", "nope/none.proto"]);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, "switchboard: ls: nope/none.proto: File not found (import paths: .). [ERR_SB_BAD_PROTO]\n");
  });

  it("bad --protoset files and option mixes: exit 1 with one line each", T, async () => {
    const junk = path.join(dir, "junk.binpb");
    writeFileSync(junk, "not a descriptor set");
    const notSet = await runMain(["ls", "--protoset", junk]);
    assert.equal(notSet.code, 1);
    assert.match(notSet.stderr, /^switchboard: ls: --protoset .*junk\.binpb is not a binary FileDescriptorSet: .* \[ERR_SB_BAD_DESCRIPTOR\]\n$/);
    const unreadable = await runMain(["ls", "--protoset", path.join(dir, "absent.binpb")]);
    assert.equal(unreadable.code, 1);
    assert.match(unreadable.stderr, /^switchboard: ls: --protoset .*absent\.binpb: cannot read: ENOENT.* \[ERR_SB_CLI_INPUT\]\n$/);
    const both = await runMain(["ls", ...PROTO, "--protoset", protoset]);
    assert.equal(both.stderr, "switchboard: ls: use either --proto or --protoset, not both (see 'switchboard ls --help')\n");
    const importOnly = await runMain(["describe", server.target, "-I", "test/cli/fixtures"]);
    assert.equal(importOnly.stderr, "switchboard: describe: --import-path is only used with --proto (see 'switchboard describe --help')\n");
    const noTarget = await runMain(["call", "clitest.Echo/Unary", ...PROTO]);
    assert.equal(noTarget.code, 1);
    assert.equal(noTarget.stderr, "switchboard: call: missing METHOD (see 'switchboard call --help')\n", "call always needs HOST:PORT: the first argument is taken as it");
  });
});
