// Options shared by ServerMetrics and ClientMetrics, checked once at construction.
import { Registry } from "prom-client";
import { ErrorCode, SwitchboardError } from "../errors.js";
import { DEFAULT_BUCKETS } from "./labels.js";

/** Options of ServerMetrics and ClientMetrics. */
export interface MetricsOptions {
  /** The prom-client registry to register in (default: a new one, not prom-client's global). */
  registry?: Registry;
  /** Whether to keep the `*_handling_seconds` histogram (default true). */
  histogram?: boolean;
  /** Histogram bucket upper bounds in seconds, increasing (default: 5 ms to 10 s, as go-grpc-prometheus). */
  buckets?: number[];
  /** Prepended to every metric name (e.g. "myapp_"); default none. */
  prefix?: string;
  /**
   * Distinct methods that get their own label set (default 2,000). Calls of further methods
   * count under the "other" pair, so a catch-all generic handler answering any path cannot
   * grow the series without bound.
   */
  maxMethods?: number;
}

/** Options of ServerMetrics only. */
export interface ServerMetricsOptions extends MetricsOptions {
  /** Event-loop delay and memory gauges (default true). */
  runtime?: boolean;
  /** Also register prom-client's collectDefaultMetrics() (process and Node.js metrics); default false. */
  defaultMetrics?: boolean;
}

/** The checked form of the options. */
export interface ResolvedMetricsOptions {
  registry: Registry;
  histogram: boolean;
  buckets: readonly number[];
  prefix: string;
  maxMethods: number;
}

/** Distinct methods with their own label set, by default. */
export const DEFAULT_MAX_METHODS = 2000;

const METRIC_NAME_PREFIX = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

/** Validates the options; a bad value is a BAD_OPTION error naming it. */
export function resolveMetricsOptions(options: MetricsOptions): ResolvedMetricsOptions {
  const prefix = options.prefix ?? "";
  if (typeof prefix !== "string" || (prefix !== "" && !METRIC_NAME_PREFIX.test(prefix))) {
    throw new SwitchboardError(ErrorCode.BAD_OPTION, `metrics prefix ${JSON.stringify(prefix)} is not a valid start of a Prometheus metric name`);
  }
  const buckets = options.buckets ?? DEFAULT_BUCKETS;
  if (!Array.isArray(buckets) || buckets.length === 0 || buckets.some((b, i) => typeof b !== "number" || !Number.isFinite(b) || (i > 0 && b <= buckets[i - 1]!))) {
    throw new SwitchboardError(ErrorCode.BAD_OPTION, "metrics buckets must be a non-empty list of finite numbers in increasing order");
  }
  const maxMethods = options.maxMethods ?? DEFAULT_MAX_METHODS;
  if (!Number.isInteger(maxMethods) || maxMethods < 0) {
    throw new SwitchboardError(ErrorCode.BAD_OPTION, `metrics maxMethods must be a non-negative integer, got ${String(maxMethods)}`);
  }
  return { registry: options.registry ?? new Registry(), histogram: options.histogram ?? true, buckets: [...buckets], prefix, maxMethods };
}
