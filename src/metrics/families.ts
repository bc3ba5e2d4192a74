// The grpc_* metric families as prom-client metrics. A prom-client Registry accepts any
// object with a name, a type and get() (that is how its own Counter and Histogram plug in),
// so these read the plain counts of an RpcTable when Prometheus scrapes and build the label
// objects only then.
import type { Registry } from "prom-client";
import { codeName } from "../status.js";
import type { MethodStats, RpcTable } from "./rpc-table.js";

interface Sample {
  value: number;
  labels: Record<string, string | number>;
  metricName?: string;
}

interface FamilyData {
  name: string;
  help: string;
  type: "counter" | "histogram";
  values: Sample[];
  aggregator: "sum";
}

/** One metric family computed from a table at scrape time. */
abstract class Family {
  readonly aggregator = "sum" as const;

  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: "counter" | "histogram",
    protected readonly table: RpcTable,
  ) {}

  protected abstract samples(rows: readonly MethodStats[]): Sample[];

  /** The prom-client metric-object contract: the family's current samples. */
  get(): Promise<FamilyData> {
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, values: this.samples(this.table.rows()), aggregator: this.aggregator });
  }

  /** `registry.resetMetrics()` zeroes every family of the table. */
  reset(): void {
    this.table.clear();
  }
}

/** A counter with one sample per method. */
class MethodCounter extends Family {
  constructor(name: string, help: string, table: RpcTable, private readonly read: (row: MethodStats) => number, private readonly withOther: boolean) {
    super(name, help, "counter", table);
  }

  protected samples(rows: readonly MethodStats[]): Sample[] {
    const out: Sample[] = [];
    for (const row of rows) {
      if (row === this.table.other && !this.withOther) continue;
      out.push({ value: this.read(row), labels: { ...row.labels } });
    }
    return out;
  }
}

/** `*_handled_total`: one sample per method and status code seen. */
class HandledCounter extends Family {
  constructor(name: string, help: string, table: RpcTable) {
    super(name, help, "counter", table);
  }

  protected samples(rows: readonly MethodStats[]): Sample[] {
    const out: Sample[] = [];
    for (const row of rows) {
      for (let code = 0; code < row.handled.length; code++) {
        const value = row.handled[code]!;
        if (value > 0) out.push({ value, labels: { ...row.labels, grpc_code: codeName(code) } });
      }
    }
    return out;
  }
}

/** `*_handling_seconds`: a classic Prometheus histogram per method. */
class DurationHistogram extends Family {
  constructor(name: string, help: string, table: RpcTable) {
    super(name, help, "histogram", table);
  }

  protected samples(rows: readonly MethodStats[]): Sample[] {
    const out: Sample[] = [];
    const bounds = this.table.bounds;
    for (const row of rows) {
      let cumulative = 0;
      for (let i = 0; i < bounds.length; i++) {
        cumulative += row.buckets[i]!;
        out.push({ metricName: `${this.name}_bucket`, value: cumulative, labels: { ...row.labels, le: bounds[i]! } });
      }
      out.push({ metricName: `${this.name}_bucket`, value: row.count, labels: { ...row.labels, le: "+Inf" } });
      out.push({ metricName: `${this.name}_sum`, value: row.sum, labels: { ...row.labels } });
      out.push({ metricName: `${this.name}_count`, value: row.count, labels: { ...row.labels } });
    }
    return out;
  }
}

/** Registers the five go-grpc-prometheus families of one side (`server` or `client`). */
export function registerRpcFamilies(registry: Registry, table: RpcTable, side: "server" | "client", prefix: string, histogram: boolean): void {
  const base = `${prefix}grpc_${side}`;
  const who = side === "server" ? "on the server" : "by the client";
  const families: Family[] = [
    new MethodCounter(`${base}_started_total`, `Total number of RPCs started ${who}.`, table, (r) => r.started, true),
    new HandledCounter(`${base}_handled_total`, `Total number of RPCs completed ${who}, regardless of success or failure.`, table),
    new MethodCounter(`${base}_msg_received_total`, `Total number of RPC stream messages received ${who}.`, table, (r) => r.received, false),
    new MethodCounter(`${base}_msg_sent_total`, `Total number of gRPC stream messages sent ${who}.`, table, (r) => r.sent, false),
  ];
  if (histogram) families.push(new DurationHistogram(`${base}_handling_seconds`, `Histogram of response latency (seconds) of gRPC calls ${who === "on the server" ? "that had been application-level handled by the server" : "until it got the response"}.`, table));
  // The family objects stand in for prom-client metrics; the registry only needs the shape.
  for (const family of families) registry.registerMetric(family as unknown as Parameters<Registry["registerMetric"]>[0]);
}
