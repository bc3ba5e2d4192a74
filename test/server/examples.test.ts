// The runnable examples of the README, docs/events.md and docs/codecs.md run as the docs say:
// each is started the way a reader starts it (`node --import tsx examples/...`), prints what
// its doc says, and a script ends by itself with exit 0. (test/docs/code-blocks.test.ts
// checks that the docs show these files unchanged.)
import { after, before, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import { runExample, startExample, type RunningExample } from "../docs-example.js";
import { within } from "./helpers.js";

const T = { timeout: 60_000 };

it("examples/json-ping/ping.ts: the JSON Ping service answers {\"value\":\"pong\"} and the script exits 0 (OK)", T, async () => {
  const r = await runExample("examples/json-ping/ping.ts");
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '{"value":"pong"}\n');
});

it("examples/events/auth.ts: no token -> UNAUTHENTICATED with the stamped trailer; with the token -> a greeting; exits 0 (UNAUTHENTICATED, OK)", T, async () => {
  const r = await runExample("examples/events/auth.ts");
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "refused: UNAUTHENTICATED (switchboard-example)\nhello friend\n");
});

/** Runs the README's client against `port`; it must end by itself (its channel is closed by `await using`). */
function client(port: number, name: string) {
  return runExample("examples/helloworld/client.ts", { args: [name], env: { TARGET: `127.0.0.1:${port}` } });
}

describe("the README's server (examples/greeter/server.ts) and client (examples/helloworld/client.ts)", () => {
  let server: RunningExample;
  before(async () => {
    server = await startExample("examples/greeter/server.ts");
  });
  after(() => server?.dispose());

  it("the client prints the unary reply, the three streamed replies and the call object's reply, then exits 0 by itself (OK)", T, async () => {
    const r = await client(server.port, "Ada");
    assert.equal(r.code, 0, `exit ${r.code ?? r.signal}\n${r.stderr}`);
    const lines = r.stdout.split("\n");
    assert.deepEqual(lines.slice(0, 4), ["Hello, Ada!", "#0 Hello, Ada!", "#1 Hello, Ada!", "#2 Hello, Ada!"]);
    assert.match(lines[4]!, new RegExp(`^Hello, Ada! from ipv4:127\\.0\\.0\\.1:${server.port} \\(\\d+ initial, \\d+ trailing metadata keys\\)$`));
    assert.equal(lines.length, 6, r.stdout);
  });

  it("an empty name: the server's RpcError reaches the client, which prints it and exits 1 (INVALID_ARGUMENT)", T, async () => {
    const r = await client(server.port, "");
    assert.equal(r.code, 1, `exit ${r.code ?? r.signal}\n${r.stderr}`);
    assert.equal(r.stdout, "");
    assert.equal(r.stderr, "call failed: INVALID_ARGUMENT name is required\n");
  });

  it("SIGTERM: the server stops gracefully (gracefulExit) and its process exits 0", T, async () => {
    server.child.kill("SIGTERM");
    const r = await within(server.exited, 20_000, "the greeter server exiting");
    assert.equal(r.code, 0, r.stderr);
  });
});

describe("`npm start`'s server (examples/helloworld/server.ts) with examples/helloworld/client.ts", () => {
  let server: RunningExample;
  before(async () => {
    server = await startExample("examples/helloworld/server.ts");
  });
  after(() => server?.dispose());

  it("the client prints the Greeter's replies and exits 0 by itself (OK)", T, async () => {
    const r = await client(server.port, "Ada");
    assert.equal(r.code, 0, `exit ${r.code ?? r.signal}\n${r.stderr}`);
    const lines = r.stdout.split("\n");
    assert.deepEqual(lines.slice(0, 4), ["Hello, Ada!", "Hello #1, Ada!", "Hello #2, Ada!", "Hello #3, Ada!"]);
    assert.match(lines[4]!, /^Hello, Ada! from ipv4:127\.0\.0\.1:\d+ /);
  });
});
