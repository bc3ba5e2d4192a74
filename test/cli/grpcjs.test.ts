// switchboard against a @grpc/grpc-js server with @grpc/reflection and grpc-health-check: the
// descriptors protobufjs serves have relative type names and no json_name, and still work.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { runMain, T } from "./helpers.js";
import { SICK, startGrpcJsServer, type Running } from "./servers.js";

describe("switchboard against @grpc/grpc-js", () => {
  let server: Running;
  before(async () => {
    server = await startGrpcJsServer();
  });
  after(() => server.close());

  it("ls lists the services @grpc/reflection reports, and a service's methods", T, async () => {
    const r = await runMain(["ls", server.target]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split("\n"), ["clitest.Echo", "grpc.health.v1.Health"]);
    const m = await runMain(["ls", server.target, "clitest.Echo"]);
    assert.equal(m.code, 0, m.stderr);
    assert.deepEqual(m.stdout.trim().split("\n"), ["clitest.Echo.Unary", "clitest.Echo.ServerStream", "clitest.Echo.ClientStream", "clitest.Echo.Bidi"]);
  });

  it("describe resolves protobufjs' relative type names (nested enum, map entry, google.protobuf.Timestamp)", T, async () => {
    const r = await runMain(["describe", server.target, "clitest.EchoRequest"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^ {2}\.google\.protobuf\.Timestamp at = 6;$/m);
    assert.match(r.stdout, /^ {2}\.clitest\.EchoRequest\.Mood mood = 7;$/m);
    assert.match(r.stdout, /^ {2}map<string, string> labels = 8;$/m);
  });

  it("unary: JSON names from the field names (json_name missing), metadata sent", T, async () => {
    const request = { text: "hi", delayMs: 1, at: "2024-01-02T03:04:05Z", mood: "HAPPY", big: "42" };
    const r = await runMain(["call", server.target, "clitest.Echo/Unary", JSON.stringify(request), "-H", "x-user: ada", "-H", "x-raw-bin: AAEC"]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { text: "hi", count: 1, metadata: { "x-user": "ada", "x-raw-bin": "AAEC" }, at: "2024-01-02T03:04:05Z", mood: "HAPPY", big: "42" });
  });

  it("server streaming, client streaming from stdin, bidi", T, async () => {
    const s = await runMain(["call", server.target, "clitest.Echo/ServerStream", '{"text":"s","repeat":2}', "--compact"]);
    assert.equal(s.code, 0, s.stderr);
    assert.equal(s.stdout, '{"text":"s #1","count":1}\n{"text":"s #2","count":2}\n');
    const c = await runMain(["call", server.target, "clitest.Echo/ClientStream", "--compact"], { stdin: '{"text":"a"}\n{"text":"b"}\n' });
    assert.equal(c.code, 0, c.stderr);
    assert.equal(c.stdout, '{"text":"a b","count":2}\n');
    const b = await runMain(["call", server.target, "clitest.Echo/Bidi", "--compact"], { stdin: '{"text":"x"}\n{"text":"y"}\n' });
    assert.equal(b.code, 0, b.stderr);
    assert.equal(b.stdout, '{"text":"X","count":1}\n{"text":"Y","count":2}\n');
  });

  it("a status from grpc-js: exit 64 + code; --timeout: DEADLINE_EXCEEDED", T, async () => {
    const e = await runMain(["call", server.target, "clitest.Echo/Unary", '{"failCode":7,"failMessage":"go away"}']);
    assert.equal(e.code, 64 + 7);
    assert.equal(e.stderr, "switchboard: call: PERMISSION_DENIED: go away\n");
    const t = await runMain(["call", server.target, "clitest.Echo/Unary", '{"delayMs":10000}', "--timeout", "0.3"]);
    assert.equal(t.code, 64 + 4, t.stderr);
  });

  it("health against grpc-health-check: 0 SERVING, 4 NOT_SERVING, 3 unknown service", T, async () => {
    const ok = await runMain(["health", server.target]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout, "status: SERVING\n");
    const sick = await runMain(["health", server.target, SICK]);
    assert.equal(sick.code, 4, sick.stderr);
    const unknown = await runMain(["health", server.target, "no.Such"]);
    assert.equal(unknown.code, 3, unknown.stderr);
    assert.match(unknown.stderr, /NOT_FOUND/);
  });
});
