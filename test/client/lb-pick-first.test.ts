// pick_first (the default policy): addresses are tried in order, the first that connects takes
// every call and keeps them; when it fails, calls move to the next address. With waitForReady,
// a backend that is killed costs no call.
import { afterEach, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import { Code, createClient } from "../../src/index.js";
import { Greeter } from "../../examples/gen/helloworld/helloworld_pb.js";
import { countBy, expectRpcError, idServer, refusingUnixPath, Scope, T, until } from "./helpers.js";

const scope = new Scope();
afterEach(() => scope.close());

describe("pick_first", () => {
  it("sticks to the first address: 20 calls all go to it (OK); the second is never used", T, async () => {
    const a = await idServer(scope, "a");
    const b = await idServer(scope, "b");
    const ch = scope.channel(`ipv4:127.0.0.1:${a.port},127.0.0.1:${b.port}`);
    assert.equal(ch.loadBalancingPolicy, "pick_first");
    const client = createClient(Greeter, ch);
    const replies: string[] = [];
    for (let i = 0; i < 20; i++) replies.push((await client.sayHello({ name: "x" }, { timeout: 5000 })).message);
    assert.deepEqual(countBy(replies), { a: 20 });
    assert.equal(b.calls(), 0);
  });

  it("the first address refuses connections -> the next one takes the calls (fail-fast call still OK)", T, async () => {
    const dead = await refusingUnixPath(scope);
    const { mkdtempSync, rmSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const path = await import("node:path");
    const dir = mkdtempSync(path.join(tmpdir(), "sb-pf-"));
    scope.defer(() => rmSync(dir, { recursive: true, force: true }));
    const sock = path.join(dir, "b.sock");
    await scope.server((s) => s.addService(Greeter, { sayHello: () => ({ message: "b" }) }), {}, `unix:${sock}`);
    // Two unix addresses through a per-channel resolver (a fixed list in order).
    const ch = scope.channel("static:two", {
      resolvers: {
        static: () => ({
          start: (l) => queueMicrotask(() => l.onAddresses([{ path: dead.path }, { path: sock }])),
          refresh: () => {},
          close: () => {},
        }),
      },
    });
    const reply = await createClient(Greeter, ch).sayHello({ name: "x" }, { timeout: 5000 });
    assert.equal(reply.message, "b");
  });

  it("the selected server stops -> later calls fail over to the next address (waitForReady: zero failed calls)", T, async () => {
    const a = await idServer(scope, "a");
    const b = await idServer(scope, "b");
    const ch = scope.channel(`ipv4:127.0.0.1:${a.port},127.0.0.1:${b.port}`);
    const client = createClient(Greeter, ch);
    const replies: string[] = [];
    for (let i = 0; i < 5; i++) replies.push((await client.sayHello({ name: "x" }, { timeout: 5000, waitForReady: true })).message);
    await a.server.stop(0);
    for (let i = 0; i < 5; i++) replies.push((await client.sayHello({ name: "x" }, { timeout: 5000, waitForReady: true })).message);
    assert.deepEqual(replies, ["a", "a", "a", "a", "a", "b", "b", "b", "b", "b"]);
  });

  it("a killed backend under concurrent waitForReady calls -> zero failed calls once its connection is gone", T, async () => {
    const a = await idServer(scope, "a");
    const b = await idServer(scope, "b");
    const ch = scope.channel(`ipv4:127.0.0.1:${a.port},127.0.0.1:${b.port}`);
    const client = createClient(Greeter, ch);
    assert.equal((await client.sayHello({ name: "x" }, { timeout: 5000 })).message, "a");
    // The server goes away with no call in flight on it; every later call must land on b.
    await a.server.stop(0);
    await until(() => ch.state !== "ready", 5000, "the channel noticed the lost connection");
    const replies = await Promise.all(Array.from({ length: 20 }, () => client.sayHello({ name: "x" }, { timeout: 5000, waitForReady: true })));
    assert.deepEqual(countBy(replies.map((r) => r.message)), { b: 20 });
  });

  it("every address failing -> a call without waitForReady fails UNAVAILABLE fast", T, async () => {
    const dead1 = await refusingUnixPath(scope);
    const dead2 = await refusingUnixPath(scope);
    const ch = scope.channel("fixed:x", {
      resolvers: { fixed: () => ({ start: (l) => queueMicrotask(() => l.onAddresses([{ path: dead1.path }, { path: dead2.path }])), refresh() {}, close() {} }) },
    });
    await expectRpcError(createClient(Greeter, ch).sayHello({ name: "x" }, { timeout: 5000 }), Code.UNAVAILABLE, /failed to connect/);
    assert.equal(ch.state, "transient_failure");
  });
});
