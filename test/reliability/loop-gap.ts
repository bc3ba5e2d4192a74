// Event-loop delay as the server children report it: node's histogram at 1 ms resolution (an
// idle loop reads ~1.1 ms), and the longest gap between 1 ms ticks.
//
// The histogram can miss a stall: its reset() also forgets when it last sampled, so a stall that
// begins right after a reset, before the next sample, is never recorded (its max then reads
// ~1 ms after a 2 s stall). The time of the last tick here survives a reset, so the first tick
// after any stall measures all of it.
import { monitorEventLoopDelay } from "node:perf_hooks";

export class LoopDelay {
  private readonly histogram = monitorEventLoopDelay({ resolution: 1 });
  private lastTick = performance.now();
  private longestGap = 0;

  constructor() {
    this.histogram.enable();
    setInterval(() => {
      const now = performance.now();
      this.longestGap = Math.max(this.longestGap, now - this.lastTick);
      this.lastTick = now;
    }, 1).unref();
  }

  /** The p-th percentile (0..100) of the histogram, in ms. */
  percentileMs(p: number): number {
    return this.histogram.percentile(p) / 1e6;
  }

  /** The histogram's max, in ms. */
  get maxMs(): number {
    return this.histogram.max / 1e6;
  }

  /** The longest the loop went without running the 1 ms interval (the delay plus the 1 ms), in ms. */
  get longestGapMs(): number {
    return this.longestGap;
  }

  /** Clears the histogram and the longest gap. */
  reset(): void {
    this.histogram.reset();
    this.longestGap = 0;
  }
}
