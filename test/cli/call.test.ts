// switchboard call against a Switchboard server: JSON in and out for every call type, metadata,
// deadlines, stdin streaming, and the exit codes of failures.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { refusingAddress, runCli, runMain, T } from "./helpers.js";
import { startOurServer, type Running } from "./servers.js";

const UNARY = "clitest.Echo/Unary";

describe("switchboard call (Switchboard server)", () => {
  let server: Running;
  before(async () => {
    server = await startOurServer();
  });
  after(() => server.close());

  it("unary: protobuf JSON mapping both ways (Timestamp, enum names, int64 as string, map), pretty-printed", T, async () => {
    const request = { text: "hi", at: "2024-01-02T03:04:05.500Z", mood: "GRUMPY", big: "9007199254740993", labels: { a: "b" } };
    const r = await runMain(["call", server.target, UNARY, JSON.stringify(request)]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { text: "hi", count: 1, at: "2024-01-02T03:04:05.500Z", mood: "GRUMPY", big: "9007199254740993" });
    assert.match(r.stdout, /^\{\n {2}"text": "hi",\n/);
  });

  it("-H sends metadata (-bin values from base64); -v prints response headers and trailers on stderr", T, async () => {
    const r = await runMain(["call", server.target, UNARY, '{"text":"md"}', "-H", "x-user: ada", "-H", "X-Trace-Bin: AAEC/w==", "-H", "x-echo-initial: hello", "-H", "x-echo-trailing-bin: AQID", "-v"]);
    assert.equal(r.code, 0, r.stderr);
    const reply = JSON.parse(r.stdout);
    assert.equal(reply.metadata["x-user"], "ada");
    assert.equal(reply.metadata["x-trace-bin"], "AAEC/w==");
    assert.match(r.stderr, /Response headers:\n(?:.*\n)*x-echo-initial: hello\n/);
    assert.match(r.stderr, /Response trailers:\n(?:.*\n)*x-echo-trailing-bin: AQID\n/);
  });

  it("no request argument for a unary method sends {}; --emit-defaults prints zero values", T, async () => {
    const r = await runMain(["call", server.target, UNARY, "--emit-defaults", "--compact"]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { text: "", count: 1, metadata: {}, mood: "MOOD_UNSPECIFIED", big: "0" });
  });

  it("- reads one JSON request from stdin for a unary method (it may span lines)", T, async () => {
    const r = await runMain(["call", server.target, UNARY, "-"], { stdin: '{\n  "text": "from stdin"\n}\n' });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).text, "from stdin");
  });

  it("server streaming: one JSON per response; --compact puts each on one line", T, async () => {
    const r = await runMain(["call", server.target, "clitest.Echo/ServerStream", '{"text":"s","repeat":3}', "--compact"]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split("\n"), ['{"text":"s #1","count":1}', '{"text":"s #2","count":2}', '{"text":"s #3","count":3}']);
  });

  it("client streaming reads one JSON message per line from stdin (blank lines skipped)", T, async () => {
    const r = await runCli(["call", server.target, "clitest.Echo/ClientStream", "--compact"], {
      stdin: async (child) => {
        child.stdin!.write('{"text":"one"}\n\n');
        await new Promise((resolve) => setTimeout(resolve, 100));
        child.stdin!.end('{"text":"two"}\n{"text":"three"}');
      },
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '{"text":"one two three","count":3}\n');
  });

  it("client streaming also takes a JSON array argument", T, async () => {
    const r = await runMain(["call", server.target, "clitest.Echo/ClientStream", '[{"text":"a"},{"text":"b"}]', "--compact"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '{"text":"a b","count":2}\n');
  });

  it("bidi: each stdin line is sent as read, each response printed as it arrives", T, async () => {
    const r = await runCli(["call", server.target, "clitest.Echo/Bidi", "-", "--compact"], {
      stdin: async (child) => {
        let out = "";
        child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
        child.stdin!.write('{"text":"ping"}\n');
        // The first answer comes back while stdin is still open.
        const started = Date.now();
        while (!out.includes("PING") && Date.now() - started < 10_000) await new Promise((resolve) => setTimeout(resolve, 20));
        child.stdin!.end('{"text":"pong"}\n');
      },
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '{"text":"PING","count":1}\n{"text":"PONG","count":2}\n');
  });

  it("a non-OK status: `switchboard: call: CODE: message` and rich details as JSON (google.rpc and reflected types) on stderr, exit 64 + code", T, async () => {
    const r = await runMain(["call", server.target, UNARY, '{"text":"x","failCode":3,"failMessage":"bad thing"}']);
    assert.equal(r.code, 64 + 3);
    assert.equal(r.stdout, "");
    const [first, second, third, fourth] = r.stderr.split("\n");
    assert.equal(first, "switchboard: call: INVALID_ARGUMENT: bad thing");
    assert.equal(second, "details:");
    assert.deepEqual(JSON.parse(third!), { "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason: "ECHO_FAILED", domain: "clitest" });
    assert.deepEqual(JSON.parse(fourth!), { "@type": "type.googleapis.com/clitest.EchoRequest", text: "x", failCode: 3, failMessage: "bad thing" });
  });

  it("a stream that fails after some responses prints them, then the error (exit 64 + 9)", T, async () => {
    const r = await runMain(["call", server.target, "clitest.Echo/ServerStream", '{"text":"s","repeat":2,"failCode":9,"failMessage":"no more"}', "--compact"]);
    assert.equal(r.code, 64 + 9);
    assert.equal(r.stdout.trim().split("\n").length, 2);
    assert.match(r.stderr, /^switchboard: call: FAILED_PRECONDITION: no more\n/);
  });

  it("--timeout is the call's deadline: a slow handler ends DEADLINE_EXCEEDED (exit 68) in time", T, async () => {
    const r = await runMain(["call", server.target, UNARY, '{"delayMs":10000}', "--timeout", "300ms"]);
    assert.equal(r.code, 64 + 4, r.stderr);
    assert.match(r.stderr, /^switchboard: call: DEADLINE_EXCEEDED/);
    assert.ok(r.ms < 8000, `took ${r.ms} ms`);
  });

  it("bad request JSON, an unknown field or an unknown method: exit 1 with ERR_SB_CLI_INPUT / ERR_SB_UNKNOWN_SYMBOL", T, async () => {
    const json = await runMain(["call", server.target, UNARY, "{nope"]);
    assert.equal(json.code, 1);
    assert.match(json.stderr, /the request argument is not JSON.*\[ERR_SB_CLI_INPUT\]/);
    const field = await runMain(["call", server.target, UNARY, '{"bogus":1}']);
    assert.equal(field.code, 1);
    assert.match(field.stderr, /not a valid clitest\.EchoRequest.*"bogus".*\[ERR_SB_CLI_INPUT\]/);
    const line = await runMain(["call", server.target, "clitest.Echo/ClientStream"], { stdin: '{"text":"ok"}\nnot json\n' });
    assert.equal(line.code, 1);
    assert.match(line.stderr, /stdin line 2 is not JSON/);
    const method = await runMain(["call", server.target, "clitest.Echo/Nope"]);
    assert.equal(method.code, 1);
    assert.match(method.stderr, /has no method "Nope" \(methods: Unary, ServerStream, ClientStream, Bidi\) \[ERR_SB_UNKNOWN_SYMBOL\]/);
  });

  it("the method may be written pkg.Service.Method or /pkg.Service/Method", T, async () => {
    for (const name of ["helloworld.Greeter.SayHello", "/helloworld.Greeter/SayHello"]) {
      const r = await runMain(["call", server.target, name, '{"name":"Ada"}', "--compact"]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, '{"message":"Hello, Ada!"}\n');
    }
  });
});

describe("switchboard call: connection failures", () => {
  it("nothing listening: UNAVAILABLE, exit 64 + 14", T, async () => {
    using refusing = await refusingAddress();
    const r = await runMain(["call", refusing.target, UNARY, "{}"]);
    assert.equal(r.code, 78, r.stderr);
    assert.match(r.stderr, /^switchboard: call: UNAVAILABLE: failed to connect to localhost: connect ECONNREFUSED /);
  });
});
