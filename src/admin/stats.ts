// What the dashboard shows of a server's calls, kept by a ServerObserver in bounded memory:
// per method (path) the count of each status code, a calls/s window and a latency histogram;
// the same over all methods, plus a per-second history for the sparkline. Requests for
// unregistered paths, and methods beyond `maxMethods`, all land in one "other" row, so a
// scanner trying a million paths adds one row, not a million.
import { ErrorCode, SwitchboardError } from "../errors.js";
import type { ObservedCall, ServerObserver } from "../call/observer.js";
import type { MethodInfo } from "../service/method.js";
import { Code, codeName } from "../status.js";
import { LatencyHistogram } from "./latency.js";
import { RateWindow } from "./rate.js";

/** The row every request for an unregistered path (and any method past the cap) counts under. */
export const OTHER_METHOD = "other";

/** Options of DashboardStats. */
export interface DashboardStatsOptions {
  /** The calls/s window in seconds (default 10). */
  windowSeconds?: number;
  /** Seconds of per-second call counts kept for the history (default 60). */
  historySeconds?: number;
  /** Method rows kept before further methods count as "other" (default 200). */
  maxMethods?: number;
  /** The clock in ms (default performance.now); tests pass their own. */
  now?: () => number;
}

/** One method's numbers in a snapshot. */
export interface MethodSnapshot {
  /** `/package.Service/Method`, or "other". */
  readonly method: string;
  readonly service: string;
  readonly name: string;
  /** unary, client_streaming, server_streaming, bidi_streaming, or unknown for "other". */
  readonly kind: string;
  readonly calls: number;
  /** Calls that ended with a status other than OK. */
  readonly errors: number;
  /** Calls by status code name (OK, NOT_FOUND, ...); only codes seen are present. */
  readonly codes: Readonly<Record<string, number>>;
  /** Calls per second over the window. */
  readonly rate: number;
  /** Latency percentiles in ms since the start (null before the first call). */
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
  readonly maxMs: number | null;
}

/** The call numbers of a snapshot. */
export interface CallsSnapshot {
  readonly calls: number;
  readonly errors: number;
  readonly codes: Readonly<Record<string, number>>;
  readonly rate: number;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
  /** Streaming calls (any kind but unary) in progress. */
  readonly activeStreams: number;
  /** Calls per second for each of the last `historySeconds` seconds, oldest first. */
  readonly history: readonly number[];
  readonly windowSeconds: number;
  /** Rows sorted by path, "other" last. */
  readonly methods: readonly MethodSnapshot[];
}

class MethodRow {
  readonly codes = new Map<number, number>();
  calls = 0;
  errors = 0;
  readonly latency = new LatencyHistogram();
  readonly rate: RateWindow;

  constructor(readonly path: string, readonly service: string, readonly name: string, readonly kind: string, windowSeconds: number) {
    this.rate = new RateWindow(windowSeconds);
  }

  ended(code: Code, durationMs: number | undefined, now: number): void {
    this.calls++;
    if (code !== Code.OK) this.errors++;
    this.codes.set(code, (this.codes.get(code) ?? 0) + 1);
    if (durationMs !== undefined) this.latency.record(durationMs);
    this.rate.add(now);
  }
}

/**
 * A ServerObserver keeping the dashboard's numbers. Calls count when they end (callEnded, with
 * their latency) or are refused (callRefused, no latency: no handler ran).
 */
export class DashboardStats implements ServerObserver {
  private readonly rows = new Map<string, MethodRow>();
  private other: MethodRow | undefined;
  private readonly total: MethodRow;
  private readonly history: RateWindow;
  private readonly streaming = new WeakSet<ObservedCall>();
  private streams = 0;
  private readonly windowSeconds: number;
  private readonly maxMethods: number;
  private readonly now: () => number;

  constructor(options: DashboardStatsOptions = {}) {
    this.windowSeconds = wholeAtLeastOne("windowSeconds", options.windowSeconds ?? 10);
    this.maxMethods = wholeAtLeastOne("maxMethods", options.maxMethods ?? 200);
    this.history = new RateWindow(wholeAtLeastOne("historySeconds", options.historySeconds ?? 60));
    this.now = options.now ?? (() => performance.now());
    this.total = new MethodRow("", "", "", "", this.windowSeconds);
  }

  callStarted(call: ObservedCall): void {
    if (call.method.kind === "unary") return;
    this.streaming.add(call);
    this.streams++;
  }

  callEnded(call: ObservedCall, code: Code, durationMs: number): void {
    if (this.streaming.delete(call)) this.streams--;
    this.count(this.rowOf(call.method), code, durationMs);
  }

  callRefused(method: MethodInfo | undefined, code: Code): void {
    this.count(method ? this.rowOf(method) : this.otherRow(), code, undefined);
  }

  /** The numbers as of now. */
  snapshot(): CallsSnapshot {
    const now = this.now();
    const rows = [...this.rows.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    if (this.other) rows.push(this.other);
    const t = this.total;
    return {
      calls: t.calls,
      errors: t.errors,
      codes: codesOf(t),
      rate: round(t.rate.rate(now)),
      p50Ms: ms(t.latency.quantile(0.5)),
      p99Ms: ms(t.latency.quantile(0.99)),
      activeStreams: this.streams,
      history: this.history.history(now),
      windowSeconds: this.windowSeconds,
      methods: rows.map((r) => ({
        method: r.path,
        service: r.service,
        name: r.name,
        kind: r.kind,
        calls: r.calls,
        errors: r.errors,
        codes: codesOf(r),
        rate: round(r.rate.rate(now)),
        p50Ms: ms(r.latency.quantile(0.5)),
        p99Ms: ms(r.latency.quantile(0.99)),
        maxMs: ms(r.latency.max),
      })),
    };
  }

  private count(row: MethodRow, code: Code, durationMs: number | undefined): void {
    const now = this.now();
    row.ended(code, durationMs, now);
    this.total.ended(code, durationMs, now);
    this.history.add(now);
  }

  private rowOf(method: MethodInfo): MethodRow {
    const row = this.rows.get(method.path);
    if (row) return row;
    if (this.rows.size >= this.maxMethods) return this.otherRow();
    const created = new MethodRow(method.path, method.service, method.name, method.kind, this.windowSeconds);
    this.rows.set(method.path, created);
    return created;
  }

  private otherRow(): MethodRow {
    return (this.other ??= new MethodRow(OTHER_METHOD, OTHER_METHOD, OTHER_METHOD, "unknown", this.windowSeconds));
  }
}

function codesOf(row: MethodRow): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [code, n] of [...row.codes].sort((a, b) => a[0] - b[0])) out[codeName(code)] = n;
  return out;
}

/** Milliseconds rounded to µs for the JSON (null when there is no value yet). */
function ms(value: number | undefined): number | null {
  return value === undefined ? null : Math.round(value * 1000) / 1000;
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

function wholeAtLeastOne(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new SwitchboardError(ErrorCode.BAD_OPTION, `DashboardStats ${name} must be a whole number >= 1, not ${String(value)}`);
  return value;
}
