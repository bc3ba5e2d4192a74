// round_robin (grpc-js lb policy): every address is connected and calls rotate over the ready
// ones; a backend stopped gracefully loses its share without a single failed call (its GOAWAY
// moves new calls, refused streams are retried transparently); one that is gone is skipped.
import { afterEach, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import { createClient } from "../../src/index.js";
import { Greeter } from "../../examples/gen/helloworld/helloworld_pb.js";
import { countBy, idServer, Scope, T, until } from "./helpers.js";

const scope = new Scope();
afterEach(() => scope.close());

describe("round_robin", () => {
  it("spreads 30 sequential calls evenly over 3 servers (10 each, all OK)", T, async () => {
    const servers = await Promise.all(["a", "b", "c"].map((id) => idServer(scope, id)));
    const ch = scope.channel(`ipv4:${servers.map((s) => `127.0.0.1:${s.port}`).join(",")}`, { loadBalancingPolicy: "round_robin" });
    const client = createClient(Greeter, ch);
    // The first call connects to all three; the rotation is exact once they are all ready.
    await client.sayHello({ name: "warm-up" }, { timeout: 5000, waitForReady: true });
    await until(() => ch.addresses.length === 3 && ch.state === "ready", 5000, "three ready subchannels");
    await Promise.all(servers.map(() => client.sayHello({ name: "x" }, { timeout: 5000 })));
    // Wait until every subchannel is ready: round_robin only rotates over ready ones.
    const seen = new Set<string>();
    for (let i = 0; i < 50 && seen.size < 3; i++) seen.add((await client.sayHello({ name: "probe" }, { timeout: 5000 })).message);
    assert.equal(seen.size, 3, "all three backends answer");
    const replies: string[] = [];
    for (let i = 0; i < 30; i++) replies.push((await client.sayHello({ name: `c${i}` }, { timeout: 5000 })).message);
    assert.deepEqual(countBy(replies), { a: 10, b: 10, c: 10 });
  });

  it("also selected by serviceConfig.loadBalancingConfig [{ round_robin: {} }] (calls reach every server)", T, async () => {
    const servers = await Promise.all(["a", "b"].map((id) => idServer(scope, id)));
    const ch = scope.channel(`ipv4:127.0.0.1:${servers[0]!.port},127.0.0.1:${servers[1]!.port}`, { serviceConfig: { loadBalancingConfig: [{ weird_policy: {} }, { round_robin: {} }] } });
    assert.equal(ch.loadBalancingPolicy, "round_robin");
    const client = createClient(Greeter, ch);
    const seen = new Set<string>();
    for (let i = 0; i < 50 && seen.size < 2; i++) seen.add((await client.sayHello({ name: "x" }, { timeout: 5000, waitForReady: true })).message);
    assert.deepEqual([...seen].sort(), ["a", "b"]);
  });

  for (const engine of ["node", "switchboard"] as const) {
    // Streams reaching a draining server (our engine lets them in between its two GOAWAYs;
    // node:http2 refuses them at the HTTP/2 level) are reset REFUSED_STREAM: never processed, so
    // the client retries them transparently on the other backends.
    it(`a server stopped gracefully while calls run -> its share moves to the others with zero failed calls (${engine} servers)`, T, async () => {
      const servers = await Promise.all(["a", "b", "c"].map((id) => idServer(scope, id, () => {}, { transport: engine })));
      const ch = scope.channel(`ipv4:${servers.map((s) => `127.0.0.1:${s.port}`).join(",")}`, { loadBalancingPolicy: "round_robin" });
      const client = createClient(Greeter, ch);
      const seen = new Set<string>();
      for (let i = 0; i < 50 && seen.size < 3; i++) seen.add((await client.sayHello({ name: "probe" }, { timeout: 5000, waitForReady: true })).message);
      assert.equal(seen.size, 3);
      // 8 concurrent callers keep calls in flight on every backend while "b" stops.
      let stopped = false;
      const replies: string[] = [];
      const failures: unknown[] = [];
      const worker = async () => {
        for (let i = 0; i < 40; i++) {
          try {
            replies.push((await client.sayHello({ name: "w" }, { timeout: 5000 })).message);
          } catch (err) {
            failures.push(err);
          }
        }
      };
      const workers = Array.from({ length: 8 }, worker);
      await until(() => replies.length >= 40, 5000, "calls under way");
      const stop = servers[1]!.server.stop(2000).then(() => (stopped = true));
      await Promise.all(workers);
      await stop;
      assert.equal(stopped, true);
      assert.deepEqual(failures, []);
      assert.equal(replies.length, 320);
      // After the stop every call goes to a and c.
      const after: string[] = [];
      for (let i = 0; i < 10; i++) after.push((await client.sayHello({ name: "after" }, { timeout: 5000 })).message);
      assert.ok(!after.includes("b"), `calls after the stop: ${after.join(",")}`);
      assert.deepEqual(new Set(after), new Set(["a", "c"]));
    });
  }
});
