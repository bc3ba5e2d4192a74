// Event-loop delay and memory for the dashboard. The delay comes from perf_hooks'
// monitorEventLoopDelay, read and reset once a second, so the page shows the last second's
// delay rather than an average since the start that would hide a stall.
import { monitorEventLoopDelay, type IntervalHistogram } from "node:perf_hooks";
import { delaySeconds, RESOLUTION_MS } from "../metrics/runtime.js";

/** The runtime numbers of a snapshot. */
export interface RuntimeSnapshot {
  /** Event-loop delay over the last sampled second, in ms (0 before the first sample). */
  readonly eventLoop: { readonly meanMs: number; readonly p50Ms: number; readonly p99Ms: number; readonly maxMs: number };
  /** process.memoryUsage() in bytes. */
  readonly memory: { readonly rssBytes: number; readonly heapUsedBytes: number; readonly heapTotalBytes: number; readonly externalBytes: number };
}

/** Samples the event-loop delay every `intervalMs` while started. */
export class RuntimeSampler {
  private readonly histogram: IntervalHistogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  private timer: NodeJS.Timeout | undefined;
  private last: RuntimeSnapshot["eventLoop"] = { meanMs: 0, p50Ms: 0, p99Ms: 0, maxMs: 0 };

  constructor(private readonly intervalMs = 1000) {}

  start(): void {
    if (this.timer) return;
    this.histogram.enable();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    // The sampler must not keep a process alive on its own.
    this.timer.unref();
  }

  stop(): void {
    if (!this.timer) return;
    clearInterval(this.timer);
    this.timer = undefined;
    this.histogram.disable();
  }

  snapshot(): RuntimeSnapshot {
    const m = process.memoryUsage();
    return {
      eventLoop: this.last,
      memory: { rssBytes: m.rss, heapUsedBytes: m.heapUsed, heapTotalBytes: m.heapTotal, externalBytes: m.external },
    };
  }

  private sample(): void {
    const h = this.histogram;
    // No sample yet (a fully blocked second): keep the last reading instead of NaN.
    if (h.count > 0) {
      this.last = { meanMs: msOf(h.mean), p50Ms: msOf(h.percentile(50)), p99Ms: msOf(h.percentile(99)), maxMs: msOf(h.max) };
    }
    h.reset();
  }
}

/** The delay beyond the monitor's period (as the Prometheus gauge reports it), in ms to the µs. */
function msOf(ns: number): number {
  return Number.isFinite(ns) ? Math.round(delaySeconds(ns) * 1e6) / 1000 : 0;
}
