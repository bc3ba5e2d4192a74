// Client-side health checking (gRPC A17, option healthCheck): each connection watches
// grpc.health.v1.Health/Watch for the service; a backend that is NOT_SERVING gets no calls
// and gets them again once SERVING; a backend without the health service counts as serving.
import { afterEach, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import { Code, createClient, HealthService, ServiceStatus } from "../../src/index.js";
import { Greeter } from "../../examples/gen/helloworld/helloworld_pb.js";
import { countBy, expectRpcError, idServer, Scope, T, until } from "./helpers.js";

const scope = new Scope();
afterEach(() => scope.close());

const SERVICE = "helloworld.Greeter";

/** A backend with a health service whose status for SERVICE the test flips. */
async function healthBackend(id: string, initiallyServing: boolean) {
  const status = new ServiceStatus(initiallyServing);
  const started = await idServer(scope, id, (s) => new HealthService([[SERVICE, [status]]]).register(s));
  return { ...started, status };
}

async function spread(call: () => Promise<{ message: string }>, n: number): Promise<Record<string, number>> {
  const replies: string[] = [];
  for (let i = 0; i < n; i++) replies.push((await call()).message);
  return countBy(replies);
}

describe("health checking", () => {
  it("round_robin: a NOT_SERVING backend gets no calls; after it turns SERVING it gets its share again (all OK)", T, async () => {
    const a = await healthBackend("a", true);
    const b = await healthBackend("b", false);
    const ch = scope.channel(`ipv4:127.0.0.1:${a.port},127.0.0.1:${b.port}`, { loadBalancingPolicy: "round_robin", healthCheck: { serviceName: SERVICE } });
    const client = createClient(Greeter, ch);
    const call = () => client.sayHello({ name: "x" }, { timeout: 5000, waitForReady: true });
    await call();
    // b is connected and has answered NOT_SERVING: it is ready but never picked.
    await until(() => ch.addresses.length === 2, 3000);
    assert.deepEqual(await spread(call, 12), { a: 12 });
    assert.equal(b.calls(), 0);

    b.status.set(true);
    const seen = new Set<string>();
    for (let i = 0; i < 50 && seen.size < 2; i++) seen.add((await call()).message);
    assert.deepEqual([...seen].sort(), ["a", "b"]);
    assert.deepEqual(await spread(call, 10), { a: 5, b: 5 });

    a.status.set(false);
    // Once a's NOT_SERVING has arrived, everything goes to b.
    const after: string[] = [];
    for (let i = 0; i < 50; i++) {
      after.push((await call()).message);
      if (after.slice(-10).length === 10 && after.slice(-10).every((m) => m === "b")) break;
    }
    assert.ok(after.slice(-10).every((m) => m === "b"), `after a went NOT_SERVING: ${after.join(",")}`);
  });

  it("serviceConfig.healthCheckConfig works like healthCheck; every backend NOT_SERVING -> fail-fast call UNAVAILABLE", T, async () => {
    const a = await healthBackend("a", false);
    const ch = scope.channel(`127.0.0.1:${a.port}`, { serviceConfig: { healthCheckConfig: { serviceName: SERVICE } } });
    // connect() rejects once the connection is up but NOT_SERVING; the connection stays.
    ch.connect().catch(() => {});
    await until(() => ch.state === "transient_failure", 5000, "NOT_SERVING seen");
    await expectRpcError(createClient(Greeter, ch).sayHello({ name: "x" }, { timeout: 5000 }), Code.UNAVAILABLE, /serving/);
    assert.equal(a.calls(), 0);
    a.status.set(true);
    assert.equal((await createClient(Greeter, ch).sayHello({ name: "x" }, { timeout: 5000, waitForReady: true })).message, "a");
  });

  it("a backend without grpc.health.v1.Health (UNIMPLEMENTED) counts as serving (OK)", T, async () => {
    const plain = await idServer(scope, "plain");
    const ch = scope.channel(`127.0.0.1:${plain.port}`, { healthCheck: { serviceName: SERVICE } });
    assert.equal((await createClient(Greeter, ch).sayHello({ name: "x" }, { timeout: 5000, waitForReady: true })).message, "plain");
  });
});
