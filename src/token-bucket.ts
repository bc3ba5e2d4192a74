// A token bucket: `burst` events at once, then `ratePerSecond` on average. The HTTP/2 engine's
// flood and rapid-reset budgets and the ConnectionGuard (on node:http2) all share this one rule.

export class TokenBucket {
  private tokens: number;
  private refilledAt = performance.now();

  constructor(
    private readonly burst: number,
    private readonly ratePerSecond: number,
  ) {
    this.tokens = burst;
  }

  /** Spends one token; false once the budget is exhausted (the caller decides what that costs the peer). */
  take(): boolean {
    const now = performance.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.refilledAt) / 1000) * this.ratePerSecond);
    this.refilledAt = now;
    return --this.tokens >= 0;
  }
}
