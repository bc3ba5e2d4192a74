// Events per second over a sliding window of whole seconds: a ring of per-second counters, so
// the memory is fixed whatever the traffic. The current second counts as it fills; the rate
// divides by the window, or by the seconds since the first event when that is fewer (a server
// up for 3 s with 30 calls runs at 10 calls/s, not 30/60).

/** Counts events in one-second slots and reports their rate over the last `seconds`. */
export class RateWindow {
  private readonly slots: Float64Array;
  private readonly stamps: Float64Array;
  private firstSecond: number | undefined;

  /** `seconds`: the window (and the history kept), at least 1. */
  constructor(readonly seconds: number) {
    this.slots = new Float64Array(seconds);
    this.stamps = new Float64Array(seconds).fill(-1);
  }

  /** Counts `n` events at time `nowMs`. */
  add(nowMs: number, n = 1): void {
    const s = Math.floor(nowMs / 1000);
    this.firstSecond ??= s;
    const i = s % this.seconds;
    if (this.stamps[i] !== s) {
      this.stamps[i] = s;
      this.slots[i] = 0;
    }
    this.slots[i]! += n;
  }

  /** Events in the window ending at `nowMs` (this second included). */
  total(nowMs: number): number {
    const now = Math.floor(nowMs / 1000);
    let sum = 0;
    for (let i = 0; i < this.seconds; i++) {
      const s = this.stamps[i]!;
      if (s > now - this.seconds && s <= now) sum += this.slots[i]!;
    }
    return sum;
  }

  /** Events per second over the window ending at `nowMs`. */
  rate(nowMs: number): number {
    if (this.firstSecond === undefined) return 0;
    // Whole seconds seen so far, the current one included.
    const span = Math.min(this.seconds, Math.max(1, Math.floor(nowMs / 1000) - this.firstSecond + 1));
    return this.total(nowMs) / span;
  }

  /** The count of each of the last `seconds` seconds, oldest first, ending with the current one. */
  history(nowMs: number): number[] {
    const now = Math.floor(nowMs / 1000);
    const out: number[] = [];
    for (let s = now - this.seconds + 1; s <= now; s++) {
      const i = ((s % this.seconds) + this.seconds) % this.seconds;
      out.push(this.stamps[i] === s ? this.slots[i]! : 0);
    }
    return out;
  }
}
