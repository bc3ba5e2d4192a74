import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Backoff, backoffDelay } from "../../src/backoff.js";

// The one backoff formula of subchannel reconnects, etcd retry loops and cluster restarts.
describe("backoff", () => {
  it("without jitter: initialMs * multiplier^(attempt-1), capped at maxMs", () => {
    const p = { initialMs: 100, maxMs: 1000, multiplier: 2, jitter: 0 };
    assert.deepEqual([1, 2, 3, 4, 5, 9].map((n) => backoffDelay(n, p)), [100, 200, 400, 800, 1000, 1000]);
  });

  it("jitter spreads each delay within ±jitter of the base", () => {
    const p = { initialMs: 1000, maxMs: 120_000, multiplier: 1.6, jitter: 0.2 };
    for (let i = 0; i < 200; i++) {
      const d = backoffDelay(2, p);
      assert.ok(d >= 1600 * 0.8 && d <= 1600 * 1.2, `${d}`);
    }
  });

  it("Backoff steps through the attempts and starts over after reset()", () => {
    const b = new Backoff(100, 400, 2, 0);
    assert.deepEqual([b.delay(), b.delay(), b.delay(), b.delay()], [100, 200, 400, 400]);
    b.reset();
    assert.equal(b.delay(), 100);
  });
});
