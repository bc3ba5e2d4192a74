// Per-method counts kept as plain numbers. prom-client's `labels()` children hash their
// label values on every inc()/observe(), so the call path here only bumps fields of a
// record found by one Map lookup; the label objects are built when Prometheus scrapes.
import type { MethodKind } from "../service/method.js";
import { parsePath } from "../service/method.js";
import { GRPC_TYPE, OTHER_LABELS, type RpcLabels } from "./labels.js";

const CODES = 17;

/** The counts of one method (one label set). */
export class MethodStats {
  started = 0;
  received = 0;
  sent = 0;
  /** Calls handled, by status code (index = code). */
  readonly handled = new Float64Array(CODES);
  /** Observations per histogram bucket (not cumulative); the last slot is +Inf. */
  readonly buckets: Float64Array;
  sum = 0;
  count = 0;

  constructor(
    readonly labels: RpcLabels,
    private readonly bounds: readonly number[],
  ) {
    this.buckets = new Float64Array(bounds.length + 1);
  }

  /** Counts one call ending with `code` (codes outside 0..16 count as UNKNOWN, as gRPC maps them). */
  ended(code: number): void {
    this.handled[code >= 0 && code < CODES ? code : 2]! += 1;
  }

  /** Adds one duration to the histogram. */
  observe(seconds: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && seconds > bounds[i]!) i++;
    this.buckets[i]! += 1;
    this.sum += seconds;
    this.count += 1;
  }
}

/** The records of every method seen, plus the one record unknown paths share. */
export class RpcTable {
  private readonly byPath = new Map<string, MethodStats>();
  /** Requests for paths no registered method has (see OTHER_LABELS). */
  readonly other: MethodStats;
  /** Whether `other` has counted anything (it is left out of the scrape until then). */
  otherUsed = false;

  constructor(
    readonly bounds: readonly number[],
    /** Distinct paths kept apart; later new paths share `other` (catch-all generic handlers answer any path). */
    private readonly maxMethods: number,
  ) {
    this.other = new MethodStats(OTHER_LABELS, bounds);
  }

  /** The record of a registered method (created on first use). */
  method(path: string, kind: MethodKind, service: string, name: string): MethodStats {
    let row = this.byPath.get(path);
    if (row === undefined) {
      if (this.byPath.size >= this.maxMethods) return this.useOther();
      row = new MethodStats({ grpc_type: GRPC_TYPE[kind] ?? "unknown", grpc_service: service, grpc_method: name }, this.bounds);
      this.byPath.set(path, row);
    }
    return row;
  }

  /** The record of a client-side path: the `other` record when it is not `/pkg.Service/Method`. */
  path(path: string, kind: MethodKind): MethodStats {
    const row = this.byPath.get(path);
    if (row !== undefined) return row;
    const parts = parsePath(path);
    if (!parts) return this.useOther();
    return this.method(path, kind, parts.service, parts.name);
  }

  /** The shared record of unknown paths. */
  useOther(): MethodStats {
    this.otherUsed = true;
    return this.other;
  }

  /** Every record to expose, in first-seen order. */
  rows(): MethodStats[] {
    const rows = [...this.byPath.values()];
    if (this.otherUsed) rows.push(this.other);
    return rows;
  }

  /** Drops every count (prom-client `registry.resetMetrics()`). */
  clear(): void {
    this.byPath.clear();
    this.other.started = this.other.received = this.other.sent = this.other.sum = this.other.count = 0;
    this.other.handled.fill(0);
    this.other.buckets.fill(0);
    this.otherUsed = false;
  }
}
