import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { TokenBucket } from "../../src/token-bucket.js";

// The budget shared by the engine's flood and rapid-reset limits and the ConnectionGuard.
describe("TokenBucket", () => {
  it("allows `burst` events at once, then refuses the next", () => {
    const bucket = new TokenBucket(3, 1);
    assert.deepEqual([bucket.take(), bucket.take(), bucket.take(), bucket.take()], [true, true, true, false]);
  });

  it("refills at ratePerSecond, never above burst", (t) => {
    let now = 1_000;
    t.mock.method(performance, "now", () => now);
    const bucket = new TokenBucket(2, 10);
    assert.ok(bucket.take() && bucket.take());
    assert.equal(bucket.take(), false);
    now += 250; // 2.5 tokens at 10/s, minus the one overdrawn
    assert.equal(bucket.take(), true);
    now += 60_000; // a long quiet spell refills to burst only
    assert.deepEqual([bucket.take(), bucket.take(), bucket.take()], [true, true, false]);
  });
});
