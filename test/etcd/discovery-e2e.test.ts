// The whole loop with a real etcd and real server processes: three `switchboard serve --etcd`
// processes register helloworld.Greeter; a Channel on `etcd:///<prefix>helloworld.Greeter`
// round-robins over them; a SIGKILLed server's lease expires and its traffic moves with zero
// failed waitForReady calls; a restarted server rejoins; a graceful stop removes its record at
// once. Records are read back with etcdctl in grpc-go's endpoint format.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Channel, createClient, EtcdClient, etcdResolver } from "../../src/index.js";
import { Greeter } from "../../src/gen/helloworld/helloworld_pb.js";
import { CliProcess } from "../cli/helpers.js";
import { EtcdServer, skipUnlessEtcd, startEtcd, uniquePrefix, waitFor } from "./harness.js";

const skip = skipUnlessEtcd();
const T = { timeout: 120_000 };

describe("discovery end to end: switchboard serve --etcd, a round_robin Channel on etcd:///", { skip }, () => {
  let etcd: EtcdServer;
  let client: EtcdClient;
  let channel: Channel;
  const servers = new Map<string, CliProcess>();
  const prefix = uniquePrefix("e2e");
  const target = `${prefix}helloworld.Greeter`;

  /** Starts one server process registering under `prefix`; resolves with its host:port. */
  async function serve(): Promise<string> {
    const proc = new CliProcess(["serve", "--port", "0", "--etcd", etcd.endpoint, "--etcd-prefix", prefix]);
    const m = await proc.waitFor(/^Greeter listening on (127\.0\.0\.1:\d+)$/m);
    servers.set(m[1]!, proc);
    return m[1]!;
  }

  /** The Greeter records in etcd, key -> parsed value, as etcdctl prints them. */
  async function records(): Promise<Map<string, { Op: number; Addr: string; Metadata: unknown }>> {
    const lines = (await etcd.ctl("get", "--prefix", `${target}/`)).split("\n").filter((l) => l !== "");
    const out = new Map<string, { Op: number; Addr: string; Metadata: unknown }>();
    for (let i = 0; i + 1 < lines.length; i += 2) out.set(lines[i]!, JSON.parse(lines[i + 1]!));
    return out;
  }

  /** One SayHello; resolves with the address that answered. */
  async function hello(waitForReady: boolean): Promise<string> {
    const call = createClient(Greeter, channel).sayHello.open({ timeout: 10_000, waitForReady });
    await call.sendMessage({ name: "etcd" }, { end: true });
    const reply = await call.recvMessage();
    assert.equal(reply?.message, "Hello, etcd!");
    return call.peer!.replace(/^ipv4:/, "");
  }

  before(async () => {
    etcd = await startEtcd();
    client = new EtcdClient({ endpoints: [etcd.endpoint] });
  });

  after(async () => {
    channel?.close();
    for (const p of servers.values()) p.kill();
    await client?.close();
    await etcd?.close();
  });

  it("three servers register in grpc-go's record format; round_robin spreads calls over all three", T, async () => {
    const addrs = await Promise.all([serve(), serve(), serve()]);
    const recs = await waitFor("three records", async () => ((await records()).size === 3 ? records() : undefined));
    for (const addr of addrs) {
      const rec = recs.get(`${target}/${addr}`);
      assert.ok(rec, `no record for ${addr}: ${[...recs.keys()].join(", ")}`);
      assert.equal(rec.Op, 0);
      assert.equal(rec.Addr, addr);
    }
    channel = new Channel(`etcd:///${target}`, { resolvers: { etcd: etcdResolver(client) }, loadBalancingPolicy: "round_robin" });
    // Until every subchannel is READY, round_robin picks among those that are.
    await waitFor("all three servers answering", async () => {
      const seen = new Set<string>();
      for (let i = 0; i < 6; i++) seen.add(await hello(true));
      return seen.size === 3;
    });
    const counts = new Map<string, number>();
    for (let i = 0; i < 30; i++) {
      const peer = await hello(false);
      counts.set(peer, (counts.get(peer) ?? 0) + 1);
    }
    assert.deepEqual([...counts.keys()].sort(), [...addrs].sort());
    for (const [peer, n] of counts) assert.equal(n, 10, `round_robin gave ${peer} ${n} of 30 calls: ${JSON.stringify([...counts])}`);
  });

  it("SIGKILL: the record expires with the lease, calls move with zero failures; a restarted server rejoins", T, async () => {
    const [victim] = [...servers.keys()];
    servers.get(victim!)!.child.kill("SIGKILL");
    servers.delete(victim!);
    let calls = 0;
    // Calls keep flowing (waitForReady) until the lease expires and the record is gone.
    await waitFor(
      "the killed server's record to expire",
      async () => {
        for (let i = 0; i < 5; i++, calls++) assert.notEqual(await hello(true), victim, "a call reached the killed server");
        return !(await records()).has(`${target}/${victim}`);
      },
      30_000,
    );
    assert.ok(calls > 0);
    const rejoined = await serve();
    await waitFor("the restarted server to get calls", async () => {
      for (let i = 0; i < 6; i++) if ((await hello(true)) === rejoined) return true;
      return false;
    });
    assert.equal((await records()).size, 3);
  });

  it("a graceful stop (SIGTERM) removes the record before the process exits", T, async () => {
    const [leaving] = [...servers.keys()];
    const proc = servers.get(leaving!)!;
    servers.delete(leaving!);
    proc.child.kill("SIGTERM");
    assert.equal(await proc.exited, 0, proc.stderr);
    assert.ok(!(await records()).has(`${target}/${leaving}`), "the record outlived the graceful stop");
    for (let i = 0; i < 10; i++) assert.notEqual(await hello(true), leaving);
  });
});
