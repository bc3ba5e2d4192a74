import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { EtcdClient } from "../../src/etcd/client.js";
import type { WatchBatch } from "../../src/etcd/watch.js";
import { etcdFixture, skipUnlessEtcd, uniquePrefix, waitFor } from "./harness.js";

describe("EtcdClient against a real etcd", { skip: skipUnlessEtcd() }, () => {
  const fx = etcdFixture();

  it("put then get -> the value; get of a missing key -> undefined", async () => {
    const p = uniquePrefix("kv");
    await fx.client.put(p + "a", "1");
    assert.equal((await fx.client.get(p + "a"))?.value, "1");
    assert.equal(await fx.client.get(p + "missing"), undefined);
  });

  it("getPrefix -> only keys under the prefix, sorted, with the read revision", async () => {
    const p = uniquePrefix("range");
    await fx.client.put(p + "b", "2");
    const rev = await fx.client.put(p + "a", "1");
    await fx.client.put(p.slice(0, -1) + "X", "outside");
    const { kvs, revision } = await fx.client.getPrefix(p);
    assert.deepEqual(kvs.map((kv) => [kv.key, kv.value]), [[p + "a", "1"], [p + "b", "2"]]);
    assert.ok(revision >= rev);
  });

  it("delete / deletePrefix -> counts of deleted keys", async () => {
    const p = uniquePrefix("del");
    await fx.client.put(p + "a", "1");
    await fx.client.put(p + "b", "2");
    await fx.client.put(p + "c", "3");
    assert.equal(await fx.client.delete(p + "a"), 1);
    assert.equal(await fx.client.delete(p + "a"), 0);
    assert.equal(await fx.client.deletePrefix(p), 2);
    assert.deepEqual((await fx.client.getPrefix(p)).kvs, []);
  });

  it("leaseGrant + put with lease, leaseRevoke -> key gone at once", async () => {
    const p = uniquePrefix("lease");
    const lease = await fx.client.leaseGrant(30);
    assert.equal(lease.ttl, 30);
    await fx.client.put(p + "k", "v", { lease: lease.id });
    assert.equal((await fx.client.get(p + "k"))?.lease, lease.id);
    await fx.client.leaseRevoke(lease.id);
    assert.equal(await fx.client.get(p + "k"), undefined);
    // Revoking a lease that is gone is not an error.
    await fx.client.leaseRevoke(lease.id);
  });

  it("leaseKeepAlive keeps a 2 s lease beyond its TTL; close() -> lease expires", async () => {
    const p = uniquePrefix("keepalive");
    const lease = await fx.client.leaseGrant(2);
    await fx.client.put(p + "k", "v", { lease: lease.id });
    const ka = fx.client.leaseKeepAlive(lease.id, { ttlSeconds: lease.ttl });
    let refreshes = 0;
    ka.on("keepalive", () => refreshes++);
    // Four refreshes at ttl/3 span more than the 2 s TTL.
    await waitFor("4 keep-alive answers", () => refreshes >= 4);
    assert.equal((await fx.client.get(p + "k"))?.value, "v");
    ka.close();
    assert.equal(await ka.done, undefined);
    await waitFor("the key to expire", async () => (await fx.client.get(p + "k")) === undefined);
  });

  it("leaseKeepAlive of a revoked lease -> 'lost' with reason expired", async () => {
    const lease = await fx.client.leaseGrant(5);
    const ka = fx.client.leaseKeepAlive(lease.id, { ttlSeconds: lease.ttl });
    await fx.client.leaseRevoke(lease.id);
    const loss = await ka.done;
    assert.equal(loss?.reason, "expired");
    assert.equal(ka.lost, true);
  });

  it("watchPrefix -> puts and deletes under the prefix in order, nothing outside", async () => {
    const p = uniquePrefix("watch");
    const seen: string[] = [];
    let created = false;
    const w = fx.client.watchPrefix(p, { onCreated: () => (created = true) }, (b: WatchBatch) => {
      if (b.kind === "events") for (const e of b.events) seen.push(`${e.type} ${e.kv.key.slice(p.length)} ${e.kv.value}`);
    });
    await waitFor("watch created", () => created);
    await fx.client.put(p + "a", "1");
    await fx.client.put(p.slice(0, -1) + "Z", "outside");
    await fx.client.put(p + "a", "2");
    await fx.client.delete(p + "a");
    await waitFor("3 events", () => seen.length >= 3);
    assert.deepEqual(seen, ["put a 1", "put a 2", "delete a "]);
    w.close();
    await w.done;
  });

  it("watchPrefix fromRevision -> replays history from that revision", async () => {
    const p = uniquePrefix("replay");
    const r1 = await fx.client.put(p + "a", "1");
    await fx.client.put(p + "b", "2");
    const seen: string[] = [];
    const w = fx.client.watchPrefix(p, { fromRevision: r1 }, (b) => {
      if (b.kind === "events") for (const e of b.events) seen.push(e.kv.key.slice(p.length));
    });
    await waitFor("2 replayed events", () => seen.length >= 2);
    assert.deepEqual(seen, ["a", "b"]);
    w.close();
  });

  it("watch from a compacted revision -> a 'reset' batch with the current keys", async () => {
    const p = uniquePrefix("compact");
    const r1 = await fx.client.put(p + "a", "1");
    const r2 = await fx.client.put(p + "a", "2");
    await fx.etcd.ctl("compact", String(r2));
    let reset: WatchBatch | undefined;
    const w = fx.client.watchPrefix(p, { fromRevision: r1 }, (b) => {
      if (b.kind === "reset") reset = b;
    });
    const got = await waitFor("reset batch", () => reset);
    assert.equal(got.kind, "reset");
    if (got.kind === "reset") assert.deepEqual(got.kvs.map((kv) => kv.value), ["2"]);
    w.close();
  });
});
