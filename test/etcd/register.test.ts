import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Server } from "../../src/server/server.js";
import { Greeter } from "../../src/gen/helloworld/helloworld_pb.js";
import { EtcdClient } from "../../src/etcd/client.js";
import { EndpointsManager } from "../../src/etcd/endpoints.js";
import { registerWithEtcd } from "../../src/etcd/register.js";
import { etcdFixture, skipUnlessEtcd, uniquePrefix, waitFor } from "./harness.js";

function greeterServer(): Server {
  const server = new Server();
  server.addService(Greeter, { sayHello: (req) => ({ message: `Hello ${req.name}` }) });
  return server;
}

describe("registerWithEtcd", { skip: skipUnlessEtcd() }, () => {
  const fx = etcdFixture();

  it("every served service -> key <prefix><Service>/<addr>, value {Op:0,Addr,Metadata} as etcdctl reads it", async () => {
    const prefix = uniquePrefix("reg");
    const server = greeterServer();
    const reg = registerWithEtcd(server, { etcd: fx.client, advertise: "127.0.0.1:50051", prefix, metadata: { zone: "a" } });
    assert.equal(await reg.ready, true);
    const key = `${prefix}helloworld.Greeter/127.0.0.1:50051`;
    assert.deepEqual(reg.keys, [key]);
    const out = await fx.etcd.ctl("get", "--prefix", prefix);
    assert.equal(out, `${key}\n{"Op":0,"Addr":"127.0.0.1:50051","Metadata":{"zone":"a"}}\n`);
    // The record is attached to the registration's lease.
    const lease = await fx.etcd.ctl("lease", "timetolive", reg.leaseId!.toString(16), "--keys");
    assert.match(lease, new RegExp(`granted with TTL\\(10s\\).*attached keys\\(\\[${key.replace(/[.]/g, "\\.")}\\]\\)`));
    await reg.stop();
  });

  it("stop() -> lease revoked, keys gone at once", async () => {
    const prefix = uniquePrefix("stop");
    const reg = registerWithEtcd(greeterServer(), { etcd: fx.client, advertise: "127.0.0.1:50052", prefix });
    await reg.ready;
    assert.equal((await fx.client.getPrefix(prefix)).kvs.length, 1);
    await reg.stop();
    assert.deepEqual((await fx.client.getPrefix(prefix)).kvs, []);
    assert.equal(await fx.client.leaseTimeToLive(reg.leaseId!), -1);
  });

  it("server.stop() -> the registration stops too (onStop hook)", async () => {
    const prefix = uniquePrefix("hook");
    const server = greeterServer();
    await server.start("127.0.0.1", 0);
    const reg = registerWithEtcd(server, { etcd: fx.client, advertise: `127.0.0.1:${server.ports[0]}`, prefix });
    await reg.ready;
    await server.stop();
    await reg.stop(); // the same stop the hook began: waits for the revoke
    assert.deepEqual((await fx.client.getPrefix(prefix)).kvs, []);
  });

  it("keep-alive ended without revoke (a crash) -> keys expire with the 2 s TTL", async () => {
    const prefix = uniquePrefix("crash");
    const own = new EtcdClient({ endpoints: [fx.etcd.endpoint] });
    const reg = registerWithEtcd(greeterServer(), { etcd: own, advertise: "127.0.0.1:50053", prefix, ttlSeconds: 2 });
    await reg.ready;
    // Closing the client stops the keep-alive and cannot revoke: what a killed process leaves behind.
    own.close();
    await reg.stop();
    assert.equal((await fx.client.getPrefix(prefix)).kvs.length, 1);
    await waitFor("the record to expire", async () => (await fx.client.getPrefix(prefix)).kvs.length === 0);
  });

  it("bad advertise address -> ERR_SB_BAD_ADDRESS; no services -> ERR_SB_BAD_OPTION", () => {
    assert.throws(() => registerWithEtcd(greeterServer(), { etcd: fx.client, advertise: "nohostport" }), { code: "ERR_SB_BAD_ADDRESS" });
    assert.throws(() => registerWithEtcd(new Server(), { etcd: fx.client, advertise: "127.0.0.1:1" }), { code: "ERR_SB_BAD_OPTION" });
  });
});

describe("EndpointsManager (etcd's gRPC naming records)", { skip: skipUnlessEtcd() }, () => {
  const fx = etcdFixture();

  it("addEndpoint / list / deleteEndpoint round trip", async () => {
    const target = uniquePrefix("em") + "svc";
    const em = new EndpointsManager(fx.client);
    await em.addEndpoint(target, "10.0.0.1:80", { w: 1 });
    await em.addEndpoint(target, "10.0.0.2:80");
    assert.deepEqual((await em.list(target)).endpoints, [
      { key: `${target}/10.0.0.1:80`, addr: "10.0.0.1:80", metadata: { w: 1 } },
      { key: `${target}/10.0.0.2:80`, addr: "10.0.0.2:80", metadata: null },
    ]);
    await em.deleteEndpoint(target, "10.0.0.1:80");
    assert.deepEqual((await em.list(target)).endpoints.map((e) => e.addr), ["10.0.0.2:80"]);
  });

  it("malformed values written by etcdctl -> skipped and reported, valid ones listed", async () => {
    const target = uniquePrefix("bad") + "svc";
    const bad: string[] = [];
    const em = new EndpointsManager(fx.client, { onInvalid: (b) => bad.push(`${b.key.slice(target.length + 1)}: ${b.reason}`) });
    await fx.etcd.ctl("put", `${target}/notjson`, "hello");
    await fx.etcd.ctl("put", `${target}/noaddr`, '{"Op":0}');
    await fx.etcd.ctl("put", `${target}/badop`, '{"Op":7,"Addr":"1.2.3.4:5"}');
    await fx.etcd.ctl("put", `${target}/array`, "[1,2]");
    await fx.etcd.ctl("put", `${target}/deleted`, '{"Op":1,"Addr":"1.2.3.4:6"}');
    await fx.etcd.ctl("put", `${target}/1.2.3.4:7`, '{"Addr":"1.2.3.4:7","Metadata":"m"}');
    const { endpoints } = await em.list(target);
    assert.deepEqual(endpoints.map((e) => [e.addr, e.metadata]), [["1.2.3.4:7", "m"]]);
    assert.deepEqual(bad.sort(), [
      "array: value is not a JSON object",
      "badop: Op must be 0 (Add) or 1 (Delete), not 7",
      "noaddr: Addr is missing or not a non-empty string",
      "notjson: value is not JSON",
    ]);
  });
});
