// Resolver updates change a live channel: added addresses get calls, removed ones get no new
// calls while their running calls finish (drain), known ones keep their connection; a lost
// connection asks the resolver to re-resolve; dns: re-resolution is rate-limited by its floor.
import { afterEach, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import { createClient, type Server } from "../../src/index.js";
import type { ResolvedAddress, Resolver, ResolverListener } from "../../src/client/resolver.js";
import { DnsResolver } from "../../src/client/dns-resolver.js";
import { Greeter } from "../../examples/gen/helloworld/helloworld_pb.js";
import { countBy, deferred, idServer, Scope, T, until, within } from "./helpers.js";

const scope = new Scope();
afterEach(() => scope.close());

/** A resolver the test drives: `push()` reports a new list; refresh() calls are counted. */
class FakeResolver implements Resolver {
  listener: ResolverListener | undefined;
  refreshes = 0;
  closed = false;
  readonly started = deferred();
  start(listener: ResolverListener): void {
    this.listener = listener;
    this.started.resolve();
  }
  refresh(): void {
    this.refreshes++;
  }
  close(): void {
    this.closed = true;
  }
  push(ports: number[]): void {
    this.listener!.onAddresses(ports.map((port): ResolvedAddress => ({ host: "127.0.0.1", port })));
  }
}

function fakeChannel(options: { loadBalancingPolicy?: "round_robin" | "pick_first" } = {}) {
  const fake = new FakeResolver();
  const ch = scope.channel("fake:svc", { ...options, resolvers: { fake: () => fake } });
  return { fake, ch };
}

describe("resolver updates", () => {
  it("round_robin: an added address gets calls, a removed one gets none (all OK); a known address keeps its connection", T, async () => {
    const a = await idServer(scope, "a");
    const b = await idServer(scope, "b");
    const { fake, ch } = fakeChannel({ loadBalancingPolicy: "round_robin" });
    const client = createClient(Greeter, ch);
    const first = client.sayHello({ name: "x" }, { timeout: 5000, waitForReady: true });
    await within(fake.started.promise, 3000, "resolver started on first use");
    fake.push([a.port]);
    assert.equal((await first).message, "a");

    fake.push([a.port, b.port]);
    const seen = new Set<string>();
    for (let i = 0; i < 50 && seen.size < 2; i++) seen.add((await client.sayHello({ name: "x" }, { timeout: 5000 })).message);
    assert.deepEqual([...seen].sort(), ["a", "b"]);

    fake.push([b.port]);
    const replies: string[] = [];
    for (let i = 0; i < 10; i++) replies.push((await client.sayHello({ name: "x" }, { timeout: 5000 })).message);
    assert.deepEqual(countBy(replies), { b: 10 });
    assert.deepEqual(ch.addresses, [`127.0.0.1:${b.port}`]);
  });

  it("a removed address drains: its running call finishes OK, new calls go to the new address", T, async () => {
    const entered = deferred();
    const release = deferred();
    const slow = await scope.server((s: Server) =>
      s.addService(Greeter, {
        async sayHello() {
          entered.resolve();
          await release.promise;
          return { message: "slow" };
        },
      }),
    );
    const b = await idServer(scope, "b");
    const { fake, ch } = fakeChannel();
    const client = createClient(Greeter, ch);
    const running = client.sayHello({ name: "x" }, { timeout: 8000, waitForReady: true });
    await within(fake.started.promise, 3000, "resolver started");
    fake.push([slow.port]);
    await within(entered.promise, 5000, "call running on the slow server");
    fake.push([b.port]);
    assert.equal((await client.sayHello({ name: "y" }, { timeout: 5000, waitForReady: true })).message, "b");
    release.resolve();
    assert.equal((await running).message, "slow");
  });

  it("an empty address list -> fail-fast calls fail UNAVAILABLE, waitForReady calls wait for the next list (OK)", T, async () => {
    const a = await idServer(scope, "a");
    const { fake, ch } = fakeChannel();
    const client = createClient(Greeter, ch);
    const waiting = client.sayHello({ name: "w" }, { timeout: 8000, waitForReady: true });
    await within(fake.started.promise, 3000, "resolver started");
    fake.push([]);
    await assert.rejects(client.sayHello({ name: "x" }, { timeout: 5000 }), /UNAVAILABLE.*no addresses/);
    assert.equal(ch.state, "transient_failure");
    fake.push([a.port]);
    assert.equal((await waiting).message, "a");
  });

  it("a lost connection asks the resolver to re-resolve (refresh)", T, async () => {
    const a = await idServer(scope, "a");
    const { fake, ch } = fakeChannel();
    const client = createClient(Greeter, ch);
    const first = client.sayHello({ name: "x" }, { timeout: 5000, waitForReady: true });
    await within(fake.started.promise, 3000, "resolver started");
    fake.push([a.port]);
    await first;
    assert.equal(fake.refreshes, 0);
    await a.server.stop(0);
    await until(() => fake.refreshes > 0, 5000, "refresh after the connection was lost");
    ch.close();
    assert.equal(fake.closed, true, "close() closes the resolver");
  });

  it("dns: refresh() within the floor (dnsMinTimeBetweenResolutionsMs) resolves at the end of it, not at once", T, async () => {
    const results: number[] = [];
    const r = new DnsResolver("127.0.0.1", 1, 200);
    const first = deferred();
    r.start({
      onAddresses: () => {
        results.push(Date.now());
        if (results.length === 1) first.resolve();
      },
      onError: () => {},
    });
    scope.defer(() => r.close());
    await within(first.promise, 3000, "first resolution");
    const before = Date.now();
    r.refresh();
    r.refresh();
    r.refresh();
    await until(() => results.length === 2, 3000, "second resolution");
    assert.ok(results[1]! - results[0]! >= 190, `second resolution ${results[1]! - results[0]!} ms after the first`);
    assert.ok(Date.now() - before < 3000);
  });
});
