// Exponential backoff, one formula for every retry loop (gRPC connection-backoff): attempt n
// waits min(maxMs, initialMs * multiplier^(n-1)), spread by ±jitter so many peers do not retry
// in step. Subchannel reconnects, the etcd loops and cluster restarts all use it.

export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
  multiplier: number;
  /** Fraction of spread either way (0.2 = ±20 %); 0 for exact delays. */
  jitter: number;
}

/** The delay before retry number `attempt` (1 = the first retry). */
export function backoffDelay(attempt: number, p: BackoffPolicy): number {
  const base = Math.min(p.maxMs, p.initialMs * p.multiplier ** (attempt - 1));
  return p.jitter === 0 ? base : base * (1 + p.jitter * (Math.random() * 2 - 1));
}

/** Successive delays of one retry loop; reset() after a success. */
export class Backoff {
  private attempt = 0;
  private readonly policy: BackoffPolicy;

  constructor(initialMs: number, maxMs: number, multiplier = 2, jitter = 0.2) {
    this.policy = { initialMs, maxMs, multiplier, jitter };
  }

  delay(): number {
    return backoffDelay(++this.attempt, this.policy);
  }

  reset(): void {
    this.attempt = 0;
  }
}
