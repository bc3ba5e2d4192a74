// The cluster's decisions without processes: port sharing per Node version and platform, the
// port a new worker binds (both sharing modes, port 0), crash backoff and its per-minute bound.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { choosePortSharing, firstWorkerAlone, nextRestart, portForNewWorker, restartPolicy, workerExecArgv } from "../../src/cluster/plan.js";

describe("choosePortSharing", () => {
  it("auto -> reuse-port on Linux with Node >= 22.12 or >= 23.1, shared-handle otherwise", () => {
    assert.equal(choosePortSharing("auto", "22.12.0", "linux"), "reuse-port");
    assert.equal(choosePortSharing("auto", "24.1.0", "linux"), "reuse-port");
    assert.equal(choosePortSharing("auto", "23.1.0", "linux"), "reuse-port");
    assert.equal(choosePortSharing("auto", "22.11.0", "linux"), "shared-handle");
    assert.equal(choosePortSharing("auto", "20.20.2", "linux"), "shared-handle");
    assert.equal(choosePortSharing("auto", "23.0.0", "linux"), "shared-handle");
    // macOS and the BSDs accept SO_REUSEPORT but do not balance across the sockets.
    assert.equal(choosePortSharing("auto", "24.1.0", "darwin"), "shared-handle");
  });

  it("an explicit choice is kept", () => {
    assert.equal(choosePortSharing("shared-handle", "24.1.0", "linux"), "shared-handle");
    assert.equal(choosePortSharing("reuse-port", "20.0.0", "linux"), "reuse-port");
  });
});

describe("portForNewWorker", () => {
  const reuse = { sharing: "reuse-port" as const, keyPort: undefined, keyHeld: false };
  it("reuse-port, port 0: the first worker binds 0, later ones the port it reported", () => {
    assert.equal(portForNewWorker({ ...reuse, requested: 0, known: undefined }), 0);
    assert.equal(portForNewWorker({ ...reuse, requested: 0, known: 41000 }), 41000);
    assert.equal(firstWorkerAlone("reuse-port", 0), true);
  });

  it("reuse-port, a fixed port: every worker binds it, all at once", () => {
    assert.equal(portForNewWorker({ ...reuse, requested: 50051, known: undefined }), 50051);
    assert.equal(firstWorkerAlone("reuse-port", 50051), false);
  });

  const shared = { sharing: "shared-handle" as const };
  it("shared handle, port 0: every worker passes 0 while a holder of that handle lives (same key, same port)", () => {
    assert.equal(firstWorkerAlone("shared-handle", 0), false);
    assert.equal(portForNewWorker({ ...shared, requested: 0, known: undefined, keyPort: undefined, keyHeld: false }), 0);
    assert.equal(portForNewWorker({ ...shared, requested: 0, known: 41000, keyPort: 0, keyHeld: true }), 0);
  });

  it("shared handle, port 0, every holder gone -> the known port explicitly, so the cluster keeps it", () => {
    assert.equal(portForNewWorker({ ...shared, requested: 0, known: 41000, keyPort: 0, keyHeld: false }), 41000);
    // ...and later workers share that new key while its holder lives.
    assert.equal(portForNewWorker({ ...shared, requested: 0, known: 41000, keyPort: 41000, keyHeld: true }), 41000);
  });
});

describe("nextRestart", () => {
  const policy = restartPolicy({ backoffMs: 100, maxBackoffMs: 1000, maxRestartsPerMinute: 4 });
  it("the delay doubles per crash within the last minute, capped at maxBackoffMs", () => {
    let crashes: number[] = [];
    const delays: (number | undefined)[] = [];
    for (let i = 0; i < 4; i++) {
      const r = nextRestart(crashes, 1_000_000 + i * 1000, policy);
      crashes = r.recent;
      delays.push(r.delayMs);
    }
    assert.deepEqual(delays, [100, 200, 400, 800]);
    assert.equal(nextRestart([1, 2, 3], 4, restartPolicy({ backoffMs: 400, maxBackoffMs: 1000, maxRestartsPerMinute: 9 })).delayMs, 1000);
  });

  it("more crashes than maxRestartsPerMinute within a minute -> no restart (undefined)", () => {
    const now = 1_000_000;
    const r = nextRestart([now - 4000, now - 3000, now - 2000, now - 1000], now, policy);
    assert.equal(r.delayMs, undefined);
    assert.equal(r.recent.length, 5);
  });

  it("crashes older than a minute are forgotten: the backoff starts over", () => {
    const now = 1_000_000;
    const r = nextRestart([now - 120_000, now - 90_000, now - 61_000], now, policy);
    assert.deepEqual(r, { recent: [now], delayMs: 100 });
  });

  it("defaults: 100 ms first delay, 5 s cap, 10 restarts per minute", () => {
    assert.deepEqual(restartPolicy(), { backoffMs: 100, maxBackoffMs: 5000, maxRestartsPerMinute: 10 });
  });
});

describe("workerExecArgv", () => {
  it("keeps loader flags, drops test-runner and inspector flags (with their values)", () => {
    assert.deepEqual(
      workerExecArgv(["--import", "tsx", "--test", "--test-reporter", "tap", "--test-timeout=5", "--inspect=9229", "--enable-source-maps", "--watch"]),
      ["--import", "tsx", "--enable-source-maps"],
    );
  });
});
