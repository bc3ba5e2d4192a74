import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import type { ResolvedAddress } from "../../src/client/resolver.js";
import { EtcdClient } from "../../src/etcd/client.js";
import { registerWithEtcd } from "../../src/etcd/register.js";
import { etcdResolver } from "../../src/etcd/resolver.js";
import { Greeter } from "../../src/gen/helloworld/helloworld_pb.js";
import { Server } from "../../src/server/server.js";
import { EtcdServer, skipUnlessEtcd, uniquePrefix, waitFor } from "./harness.js";

function greeterServer(): Server {
  const server = new Server();
  server.addService(Greeter, { sayHello: (req) => ({ message: `Hello ${req.name}` }) });
  return server;
}

describe("etcd down or restarting", { skip: skipUnlessEtcd() }, () => {
  const cleanup: (() => unknown)[] = [];
  after(async () => {
    for (const fn of cleanup.reverse()) await fn();
  });

  it("etcd down at start -> ERR_SB_ETCD_UNAVAILABLE; registration and resolver retry and work once etcd starts", async () => {
    const etcd = new EtcdServer();
    etcd.choosePorts();
    cleanup.push(() => etcd.close());
    const client = new EtcdClient({ endpoints: [etcd.endpoint], dialTimeoutMs: 1000 });
    cleanup.push(() => client.close());
    await assert.rejects(client.get("x"), (err: Error & { code?: string }) => {
      assert.equal(err.code, "ERR_SB_ETCD_UNAVAILABLE");
      assert.match(err.message, new RegExp(`etcd get failed \\(${etcd.endpoint}\\)`));
      return true;
    });
    const prefix = uniquePrefix("down");
    const errors: unknown[] = [];
    const reg = registerWithEtcd(greeterServer(), { etcd: client, advertise: "127.0.0.1:4001", prefix, ttlSeconds: 5, onError: (e) => errors.push(e) });
    let addresses: ResolvedAddress[] | undefined;
    const resolverErrors: Error[] = [];
    const resolver = etcdResolver(client)({ scheme: "etcd", authority: "", endpoint: `${prefix}helloworld.Greeter`, raw: "" });
    resolver.start({ onAddresses: (a) => (addresses = a), onError: (e) => resolverErrors.push(e) });
    cleanup.push(() => resolver.close());
    await waitFor("a failed registration attempt", () => errors.length > 0 && resolverErrors.length > 0);
    assert.equal(reg.registered, false);
    await etcd.start({ keepPorts: true });
    assert.equal(await reg.ready, true);
    await waitFor("the resolver to list the server", () => addresses?.length === 1);
    assert.deepEqual(addresses, [{ host: "127.0.0.1", port: 4001, metadata: null }]);
    await reg.stop();
    await waitFor("the resolver to see it go", () => addresses?.length === 0);
  });

  it("etcd killed past the lease TTL and restarted -> registration comes back on a new lease; the watch resumes", async () => {
    const etcd = new EtcdServer();
    await etcd.start({ keepPorts: false });
    cleanup.push(() => etcd.close());
    const client = new EtcdClient({ endpoints: [etcd.endpoint], dialTimeoutMs: 1000 });
    cleanup.push(() => client.close());
    const prefix = uniquePrefix("restart");
    const reg = registerWithEtcd(greeterServer(), { etcd: client, advertise: "127.0.0.1:4002", prefix, ttlSeconds: 2 });
    assert.equal(await reg.ready, true);
    const firstLease = reg.leaseId;
    let addresses: ResolvedAddress[] = [];
    const resolver = etcdResolver(client)({ scheme: "etcd", authority: "", endpoint: `${prefix}helloworld.Greeter`, raw: "" });
    resolver.start({ onAddresses: (a) => (addresses = a), onError: () => {} });
    cleanup.push(() => resolver.close());
    await waitFor("the resolver to list the server", () => addresses.length === 1);

    await etcd.kill();
    // No refresh gets through for longer than the TTL: the registration knows its lease is gone.
    await waitFor("the lease to be lost", () => !reg.registered);
    await etcd.start({ keepPorts: true });
    // A record written by someone else right after the restart must reach the resolver.
    await etcd.ctl("put", `${prefix}helloworld.Greeter/127.0.0.1:4003`, '{"Op":0,"Addr":"127.0.0.1:4003","Metadata":null}');
    assert.equal(await reg.whenRegistered(), true);
    assert.notEqual(reg.leaseId, firstLease);
    await waitFor("both addresses", () => addresses.length === 2);
    assert.deepEqual(addresses.map((a) => a.port).sort(), [4002, 4003]);
    const ttl = await etcd.ctl("lease", "timetolive", reg.leaseId!.toString(16), "--keys");
    assert.match(ttl, /127\.0\.0\.1:4002/);
    await reg.stop();
    await waitFor("the registration's record to go", () => addresses.length === 1);
  });

  it("two endpoints, the first down -> requests fail over to the second", async () => {
    const live = new EtcdServer();
    await live.start({ keepPorts: false });
    cleanup.push(() => live.close());
    const dead = new EtcdServer();
    dead.choosePorts();
    const client = new EtcdClient({ endpoints: [dead.endpoint, live.endpoint], dialTimeoutMs: 1000 });
    cleanup.push(() => client.close());
    await client.put("failover", "ok");
    assert.equal((await client.get("failover"))?.value, "ok");
  });
});
