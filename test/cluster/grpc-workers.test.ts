// 2 workers serving one gRPC port: connections spread over both, a SIGKILLed worker is
// replaced while the port keeps answering, a rolling restart fails no call, and a failing
// start() fails serveWorkers().
import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { isWorker, serveWorkers } from "../../src/cluster/index.js";
import { choosePortSharing } from "../../src/cluster/plan.js";
import { alive, FIXTURES, nextEvent, pidCall, reachAll, startCluster, stopClusters, T, within } from "./helpers.js";

afterEach(stopClusters);

describe("serveWorkers: one port, N processes", () => {
  it("2 workers on port 0 -> one real port, calls on separate connections reach both pids", T, async () => {
    const c = await startCluster("grpc");
    assert.notEqual(c.port, 0);
    const workers = c.workers;
    assert.equal(workers.length, 2);
    assert.deepEqual(workers.map((w) => [w.slot, w.state, w.port, w.restarts]), [[0, "serving", c.port, 0], [1, "serving", c.port, 0]]);
    const pids = workers.map((w) => w.pid!);
    assert.notEqual(pids[0], pids[1]);
    const seen = await reachAll(c.port, pids);
    assert.deepEqual([...seen].sort(), [...pids].sort());
  });

  it("a start() that throws -> serveWorkers rejects ERR_SB_CLUSTER with its message", T, async () => {
    const lines: string[] = [];
    await assert.rejects(serveWorkers({ module: FIXTURES, export: "broken", workers: 2, log: (l) => lines.push(l) }), { code: "ERR_SB_CLUSTER", message: /broken on purpose/ });
    assert.ok(lines.some((l) => l.includes("broken on purpose")), lines.join("\n"));
  });

  it("a module without the export -> serveWorkers rejects naming it", T, async () => {
    await assert.rejects(serveWorkers({ module: FIXTURES, export: "missing", workers: 1, log: () => {} }), /no exported function "missing"/);
  });

  it("workers: 0 -> ERR_SB_BAD_OPTION before any fork", async () => {
    await assert.rejects(serveWorkers({ module: FIXTURES, workers: 0 }), { code: "ERR_SB_BAD_OPTION" });
  });

  it("portSharing reuse-port where Node has no reusePort in listen() -> ERR_SB_BAD_OPTION", async (t) => {
    if (choosePortSharing("auto") === "reuse-port") return t.skip(`Node ${process.versions.node} on ${process.platform} has reusePort`);
    await assert.rejects(serveWorkers({ module: FIXTURES, workers: 1, portSharing: "reuse-port" }), { code: "ERR_SB_BAD_OPTION", message: /reuse-port.*22\.12/ });
  });

  it("isWorker is false in a process serveWorkers() did not fork", () => {
    assert.equal(isWorker, false);
  });
});

describe("crash -> restart", () => {
  it("SIGKILL a worker -> exit (unexpected), restart event, a new pid serves the same port; waitForReady calls never fail", T, async () => {
    const c = await startCluster("grpc", { restart: { backoffMs: 50 } });
    const [victim, survivor] = c.workers;
    const exit = nextEvent(c, "exit", (w) => w.pid === victim!.pid);
    const restart = nextEvent(c, "restart", (w) => w.slot === victim!.slot);
    const online = nextEvent(c, "online", (w) => w.slot === victim!.slot && w.pid !== victim!.pid);
    process.kill(victim!.pid!, "SIGKILL");
    const [exited, expected] = await exit;
    // From the primary's sight of the exit on, calls on fresh connections are answered while
    // the slot is empty and after it is back. (Before it: a call running on the killed process
    // dies with it, and node:cluster may still deal a new connection to the dead worker in the
    // moment before its exit is seen; that connection never gets a SETTINGS frame.)
    let stop = false;
    let failures = 0;
    let ok = 0;
    const errors: string[] = [];
    const load = (async () => {
      for (let i = 0; i < 2000 && !stop; i++) {
        try {
          await pidCall(c.port, { waitForReady: true });
          ok++;
        } catch (err) {
          failures++;
          errors.push(String(err));
        }
      }
    })();
    assert.equal(expected, false);
    assert.equal(exited.signal, "SIGKILL");
    const [, reason] = await restart;
    assert.equal(reason, "crash");
    const [fresh] = await online;
    assert.equal(fresh.restarts, 1);
    stop = true;
    await within(load, 60_000, "load loop");
    assert.deepEqual(errors.slice(0, 3), []);
    assert.equal(failures, 0);
    assert.ok(ok > 0);
    const now = c.workers;
    assert.deepEqual(now.map((w) => w.state), ["serving", "serving"]);
    assert.ok(alive(survivor!.pid));
    const seen = await reachAll(c.port, now.map((w) => w.pid!));
    assert.equal(seen.size, 2);
  });
});

describe("restart bound", () => {
  it("a slot crashing more than maxRestartsPerMinute times -> giveup event; with no slot left the cluster terminates", T, async () => {
    const c = await startCluster("crashAfterServing", { workers: 1, restart: { backoffMs: 20, maxRestartsPerMinute: 2 } });
    const restarts: number[] = [];
    const reasons = new Set<string>();
    c.on("restart", (_w, reason, delayMs) => {
      restarts.push(delayMs);
      reasons.add(reason);
    });
    const [slot, crashes] = await nextEvent(c, "giveup", () => true);
    assert.deepEqual([slot, crashes], [0, 3]);
    assert.deepEqual(restarts, [20, 40]);
    assert.deepEqual([...reasons], ["crash"]);
    await within(c.waitForTermination(), 20_000, "waitForTermination");
    assert.ok(c.workers.every((w) => w.state === "exited"));
  });
});

describe("rolling restart", () => {
  it("restart() with calls in flight -> every worker replaced one at a time, zero failed calls", T, async () => {
    const c = await startCluster("grpc");
    const before = c.workers.map((w) => w.pid!);
    let stop = false;
    let failures = 0;
    let ok = 0;
    const errors: string[] = [];
    // Four callers, each a 100 ms call per fresh connection, so calls are running at every step.
    const callers = Array.from({ length: 4 }, async () => {
      for (let i = 0; i < 500 && !stop; i++) {
        try {
          await pidCall(c.port, { name: "slow:100" });
          ok++;
        } catch (err) {
          failures++;
          errors.push(String(err));
        }
      }
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const restarts: string[] = [];
    c.on("restart", (w, reason) => restarts.push(`${w.slot}:${reason}`));
    await within(c.restart(5000), 60_000, "restart()");
    await new Promise((resolve) => setTimeout(resolve, 300));
    stop = true;
    await within(Promise.all(callers), 60_000, "callers");
    assert.deepEqual(errors.slice(0, 3), []);
    assert.equal(failures, 0);
    assert.ok(ok > 0);
    assert.deepEqual(restarts, ["0:rolling", "1:rolling"]);
    const after = c.workers.filter((w) => w.state !== "exited");
    assert.equal(after.length, 2);
    for (const w of after) assert.ok(!before.includes(w.pid!), `pid ${w.pid} was not replaced`);
    assert.deepEqual(after.map((w) => w.restarts), [1, 1]);
    for (const pid of before) assert.equal(alive(pid), false);
  });
});
