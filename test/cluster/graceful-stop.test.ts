// cluster.stop(grace): each worker flips grpc.health.v1 to NOT_SERVING, keeps answering on
// its open connections for drainDelayMs, drains its calls, and exits 0; nothing is restarted.
import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { Channel, createClient, Health, ServingStatus } from "../../src/index.js";
import { Greeter } from "../../src/gen/helloworld/helloworld_pb.js";
import { alive, startCluster, stopClusters, T, within } from "./helpers.js";

afterEach(stopClusters);

async function until(test: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`${what} not seen within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("graceful stop", () => {
  it("stop() -> a draining worker's health Watch and Check report NOT_SERVING, its running call completes, then every worker exits 0", T, async () => {
    const c = await startCluster("grpc", { drainDelayMs: 2000 });
    const pids = c.workers.map((w) => w.pid!);
    const channel = new Channel(`127.0.0.1:${c.port}`);
    try {
      const health = createClient(Health, channel);
      assert.equal((await health.check({ service: "" }, { timeout: 10_000 })).status, ServingStatus.SERVING);
      const seen: ServingStatus[] = [];
      const watch = health.watch({ service: "" }, { timeout: 30_000 });
      const reading = (async () => {
        try {
          for await (const r of watch) seen.push(r.status);
        } catch {
          // The watch ends with the worker; what matters is what arrived before.
        }
      })();
      await until(() => seen.length > 0, 10_000, "the first Watch response");
      assert.deepEqual(seen, [ServingStatus.SERVING]);
      // A call still running when the drain starts must finish (grace 10 s > 2 s delay + 1.5 s call).
      const running = createClient(Greeter, channel).sayHello({ name: "slow:1500" }, { timeout: 20_000 });
      const exits: boolean[] = [];
      c.on("exit", (_w, expected) => exits.push(expected));
      const stopping = c.stop(10_000);
      await until(() => seen.includes(ServingStatus.NOT_SERVING), 10_000, "NOT_SERVING on the Watch");
      assert.deepEqual(seen, [ServingStatus.SERVING, ServingStatus.NOT_SERVING]);
      // Within the drain delay the connection still answers, with the flipped status.
      assert.equal((await health.check({ service: "" }, { timeout: 10_000 })).status, ServingStatus.NOT_SERVING);
      assert.ok(c.workers.some((w) => w.state === "draining"), JSON.stringify(c.workers));
      assert.ok(pids.includes(Number((await running).message)));
      await within(stopping, 30_000, "cluster.stop()");
      await reading;
      assert.deepEqual(c.workers.map((w) => [w.state, w.exitCode]), [["exited", 0], ["exited", 0]]);
      assert.deepEqual(exits, [true, true]);
      for (const pid of pids) assert.equal(alive(pid), false);
      await within(c.waitForTermination(), 1000, "waitForTermination");
    } finally {
      channel.close();
    }
  });
});
