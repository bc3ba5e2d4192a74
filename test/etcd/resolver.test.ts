import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseTargetUri, type ResolvedAddress, type ResolverListener, type TargetUri } from "../../src/client/resolver.js";
import { EndpointsManager } from "../../src/etcd/endpoints.js";
import { etcdResolver } from "../../src/etcd/resolver.js";
import { etcdFixture, skipUnlessEtcd, uniquePrefix, waitFor } from "./harness.js";

/** A listener that keeps every list it is given. */
function recorder() {
  const lists: string[][] = [];
  const errors: Error[] = [];
  const listener: ResolverListener = {
    onAddresses: (a: ResolvedAddress[]) => lists.push(a.map((x) => `${x.host}:${x.port}${x.metadata != null ? ` ${JSON.stringify(x.metadata)}` : ""}`).sort()),
    onError: (e) => errors.push(e),
  };
  return { lists, errors, listener, last: () => lists[lists.length - 1] };
}

const uri = (raw: string): TargetUri => parseTargetUri(raw)!;

describe("etcdResolver", { skip: skipUnlessEtcd() }, () => {
  const fx = etcdFixture();

  it("initial list, then every add and delete -> a complete new address list", async () => {
    const target = uniquePrefix("res") + "helloworld.Greeter";
    const em = new EndpointsManager(fx.client);
    await em.addEndpoint(target, "127.0.0.1:1001", { zone: "a" });
    const r = recorder();
    const resolver = etcdResolver(fx.client)(uri(`etcd:///${target}`));
    resolver.start(r.listener);
    await waitFor("first list", () => r.lists.length >= 1);
    assert.deepEqual(r.last(), ['127.0.0.1:1001 {"zone":"a"}']);
    await em.addEndpoint(target, "[::1]:1002");
    await waitFor("two addresses", () => r.last()?.length === 2);
    assert.deepEqual(r.last(), ["127.0.0.1:1001 {\"zone\":\"a\"}", "::1:1002"]);
    await em.deleteEndpoint(target, "127.0.0.1:1001");
    await waitFor("one address", () => r.last()?.length === 1);
    assert.deepEqual(r.last(), ["::1:1002"]);
    await em.deleteEndpoint(target, "[::1]:1002");
    await waitFor("empty list", () => r.last()?.length === 0);
    resolver.close();
    const n = r.lists.length;
    await em.addEndpoint(target, "127.0.0.1:1003");
    // Close is synchronous: the put above is after it, so no list can follow.
    assert.equal(r.lists.length, n);
  });

  it("malformed values put by etcdctl -> skipped and reported; the resolver keeps going", async () => {
    const target = uniquePrefix("resbad") + "svc";
    const invalid: string[] = [];
    const r = recorder();
    await fx.etcd.ctl("put", `${target}/junk`, "not json");
    const resolver = etcdResolver(fx.client, { onInvalid: (b) => invalid.push(b.reason) })(uri(`etcd:///${target}`));
    resolver.start(r.listener);
    await waitFor("first list", () => r.lists.length >= 1);
    assert.deepEqual(r.last(), []);
    await fx.etcd.ctl("put", `${target}/noport`, '{"Op":0,"Addr":"1.2.3.4"}');
    await fx.etcd.ctl("put", `${target}/x`, '{"Op":0,"Addr":"127.0.0.1:2001"}');
    await waitFor("the valid address", () => r.last()?.length === 1);
    assert.deepEqual(r.last(), ["127.0.0.1:2001"]);
    assert.deepEqual(invalid, ["value is not JSON", 'Addr "1.2.3.4" is not host:port']);
    // A valid record overwritten with junk drops out of the list.
    await fx.etcd.ctl("put", `${target}/x`, "{");
    await waitFor("empty list", () => r.last()?.length === 0);
    resolver.close();
  });

  it("etcd://<etcd host:port>/<target> -> asks that etcd with a client of its own", async () => {
    const target = uniquePrefix("auth") + "svc";
    await new EndpointsManager(fx.client).addEndpoint(target, "127.0.0.1:3001");
    const r = recorder();
    const resolver = etcdResolver(undefined)(uri(`etcd://127.0.0.1:${fx.etcd.clientPort}/${target}`));
    resolver.start(r.listener);
    await waitFor("first list", () => r.lists.length >= 1);
    assert.deepEqual(r.last(), ["127.0.0.1:3001"]);
    resolver.close();
  });

  it("a target with no service path -> ERR_SB_BAD_ADDRESS", () => {
    assert.throws(() => etcdResolver(fx.client)(uri("etcd:///")), { code: "ERR_SB_BAD_ADDRESS" });
  });
});
