// Process gauges read when Prometheus scrapes: event-loop delay (node:perf_hooks) and memory.
import { monitorEventLoopDelay, type IntervalHistogram } from "node:perf_hooks";
import { Gauge, type Registry } from "prom-client";

/** Sampling period of the event-loop delay monitor, in ms (Node's default is 10). */
export const RESOLUTION_MS = 10;

/**
 * The monitor records the whole interval between its timer's runs (nanoseconds), sampling
 * period included; the delay is what exceeds the period.
 */
export function delaySeconds(intervalNs: number): number {
  return Math.max(0, intervalNs - RESOLUTION_MS * 1e6) / 1e9;
}

/**
 * `<prefix>switchboard_event_loop_delay_seconds{stat="p50"|"p99"|"max"}` since the previous
 * scrape (how late the loop ran a timer beyond its 10 ms period), and `<prefix>switchboard_process_memory_bytes{area="rss"|"heap_used"|"heap_total"|"external"}`.
 * The delay monitor runs only while something is attached (ref/unref).
 */
export class RuntimeGauges {
  private monitor: IntervalHistogram | undefined;
  private users = 0;

  constructor(registry: Registry, prefix: string) {
    const self = this;
    new Gauge({
      name: `${prefix}switchboard_event_loop_delay_seconds`,
      help: "Event-loop delay since the previous scrape (node:perf_hooks monitorEventLoopDelay), in seconds.",
      labelNames: ["stat"],
      registers: [registry],
      collect() {
        this.reset();
        const m = self.monitor;
        if (!m || m.count === 0) return;
        this.set({ stat: "p50" }, delaySeconds(m.percentile(50)));
        this.set({ stat: "p99" }, delaySeconds(m.percentile(99)));
        this.set({ stat: "max" }, delaySeconds(m.max));
        m.reset();
      },
    });
    new Gauge({
      name: `${prefix}switchboard_process_memory_bytes`,
      help: "Memory of this process (process.memoryUsage()), in bytes.",
      labelNames: ["area"],
      registers: [registry],
      collect() {
        const mem = process.memoryUsage();
        this.set({ area: "rss" }, mem.rss);
        this.set({ area: "heap_used" }, mem.heapUsed);
        this.set({ area: "heap_total" }, mem.heapTotal);
        this.set({ area: "external" }, mem.external);
      },
    });
  }

  /** One more server observed: starts the delay monitor if it is the first. */
  ref(): void {
    if (this.users++ === 0) {
      this.monitor = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
      this.monitor.enable();
    }
  }

  /** One server less: stops the monitor with the last. */
  unref(): void {
    if (this.users > 0 && --this.users === 0) {
      this.monitor?.disable();
      this.monitor = undefined;
    }
  }
}
