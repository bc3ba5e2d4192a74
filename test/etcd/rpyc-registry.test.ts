import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { EtcdClient } from "../../src/etcd/client.js";
import { discover } from "../../src/rpyc/registry/client.js";
import { AutoRegistrar } from "../../src/rpyc/registry/auto.js";
import { EtcdRegistryClient } from "../../src/rpyc/registry/etcd.js";
import { Service } from "../../src/rpyc/service.js";
import { ThreadedServer } from "../../src/rpyc/server.js";
import { rpycPeerSkip, runPythonAsync } from "../rpyc/python-peer.js";
import { etcdFixture, skipUnlessEtcd, uniquePrefix, waitFor } from "./harness.js";

class CalculatorService extends Service {
  exposed_add(a: number, b: number): number {
    return a + b;
  }
}

describe("EtcdRegistryClient (rpyc registrar on etcd)", { skip: skipUnlessEtcd() }, () => {
  const fx = etcdFixture();

  it("register -> records under <prefix>rpyc/<NAME>/<host:port>; discover any case; list; unregister -> gone at once", async () => {
    const prefix = uniquePrefix("rpyc");
    const registrar = new EtcdRegistryClient({ etcd: fx.client, prefix });
    assert.equal(await registrar.register(["Calculator", "calc"], 18861, { interface: "127.0.0.1" }), true);
    assert.equal(await fx.etcd.ctl("get", `${prefix}rpyc/CALCULATOR/127.0.0.1:18861`, "--print-value-only"), '{"Op":0,"Addr":"127.0.0.1:18861","Metadata":null}\n');
    assert.deepEqual(await registrar.discover("calculator"), [["127.0.0.1", 18861]]);
    assert.deepEqual(await registrar.discover("CALC"), [["127.0.0.1", 18861]]);
    assert.deepEqual(await registrar.discover("absent"), []);
    assert.deepEqual((await registrar.list())?.sort(), ["CALC", "CALCULATOR"]);
    assert.deepEqual(await registrar.list("10.9.9.9"), []);
    // A second registration of the same port reuses the lease.
    assert.equal(await registrar.register(["Calculator"], 18861), true);
    await registrar.unregister(18861);
    assert.deepEqual(await registrar.discover("calculator"), []);
    await assert.rejects(discover("calculator", registrar), { code: "ERR_SB_RPYC_DISCOVERY" });
    registrar.close();
  });

  it("etcd unreachable -> register false, discover [] (rpyc's registrar contract), never a throw", async () => {
    const dead = new EtcdClient({ endpoints: ["http://127.0.0.1:1"], dialTimeoutMs: 500 });
    const registrar = new EtcdRegistryClient({ etcd: dead });
    assert.equal(await registrar.register(["X"], 1234), false);
    assert.deepEqual(await registrar.discover("X"), []);
    assert.deepEqual(await registrar.list(), []);
    dead.close();
  });

  it("registrar closed without unregister (a crash) -> records expire with the 2 s TTL", async () => {
    const prefix = uniquePrefix("rpyccrash");
    const own = new EtcdClient({ endpoints: [fx.etcd.endpoint] });
    const registrar = new EtcdRegistryClient({ etcd: own, prefix, ttlSeconds: 2 });
    assert.equal(await registrar.register(["Gone"], 18862), true);
    registrar.close();
    own.close();
    const reader = new EtcdRegistryClient({ etcd: fx.client, prefix });
    assert.deepEqual(await reader.discover("gone"), [["127.0.0.1", 18862]]);
    await waitFor("the record to expire", async () => (await reader.discover("gone")).length === 0);
  });

  it("ThreadedServer with the etcd registrar (AutoRegistrar) -> discovered; a stock Python rpyc client calls it at that address", { skip: rpycPeerSkip() ?? false }, async () => {
    const prefix = uniquePrefix("rpycpy");
    const registrar = new EtcdRegistryClient({ etcd: fx.client, prefix });
    const server = new ThreadedServer(CalculatorService, { hostname: "127.0.0.1", port: 0, registrar });
    await server.start();
    try {
      const [[host, port]] = await waitFor("discovery", async () => {
        const found = await registrar.discover("CALCULATOR");
        return found.length > 0 ? found : undefined;
      });
      const run = await runPythonAsync("import sys, rpyc\nc = rpyc.connect(sys.argv[1], int(sys.argv[2]))\nprint(c.root.add(2, 3))\nc.close()", { args: [host, String(port)], timeoutMs: 30_000 });
      assert.equal(run.code, 0, run.stderr);
      const out = run.stdout;
      assert.equal(out.trim(), "5");
    } finally {
      await server.close();
    }
    // close() stopped the AutoRegistrar, which unregistered: the lease is revoked.
    assert.deepEqual(await registrar.discover("CALCULATOR"), []);
  });

  it("AutoRegistrar on the etcd registrar: start registers, stop unregisters", async () => {
    const prefix = uniquePrefix("auto");
    const registrar = new EtcdRegistryClient({ etcd: fx.client, prefix });
    const auto = new AutoRegistrar(registrar, ["Auto"], 18863, { interface: "127.0.0.1" });
    assert.equal(await auto.start(), true);
    assert.deepEqual(await registrar.discover("auto"), [["127.0.0.1", 18863]]);
    await auto.stop();
    assert.deepEqual(await registrar.discover("auto"), []);
  });
});
