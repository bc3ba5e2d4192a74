// OpenTelemetry RPC metrics (semantic conventions: rpc.server.call.duration and
// rpc.client.call.duration, in seconds) through @opentelemetry/api only. Without an SDK the
// global meter provider is the API's no-op one and recording costs next to nothing.
import { metrics, type Attributes, type Histogram, type MeterProvider } from "@opentelemetry/api";
import type { Channel } from "../client/channel.js";
import type { Server } from "../server/server.js";
import { parsePath } from "../service/method.js";
import { Code, codeName } from "../status.js";
import { DEFAULT_MAX_METHODS } from "./options.js";
import { targetAddress } from "./target-address.js";

/** Options of attachOpenTelemetry / attachClientOpenTelemetry. */
export interface OpenTelemetryOptions {
  /** Where meters come from (default: the global provider at attach time, `metrics.getMeterProvider()`). */
  meterProvider?: MeterProvider;
  /** Distinct methods recorded by name (default 2,000); further ones record as `_OTHER`, bounding the attribute sets. */
  maxMethods?: number;
}

/** The instrumentation scope name of the meters. */
export const METER_NAME = "switchboard";

/** `rpc.method` of a request for a method the server does not have (semantic conventions). */
export const OTHER_METHOD = "_OTHER";

/** The semantic conventions' advice for duration histograms, in seconds. */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

/** Server-side status codes that the gRPC conventions call errors (the rest are the client's doing). */
const SERVER_ERRORS = new Set<number>([Code.UNKNOWN, Code.DEADLINE_EXCEEDED, Code.UNIMPLEMENTED, Code.INTERNAL, Code.UNAVAILABLE, Code.DATA_LOSS]);

/**
 * Attribute sets made once per (method, status code) and reused: a record() call then builds
 * no objects and no strings.
 */
class AttributeCache {
  private readonly byMethod = new Map<string, Attributes[]>();

  constructor(
    private readonly base: Attributes,
    private readonly isError: (code: number) => boolean,
  ) {}

  get(method: string, code: number): Attributes {
    let row = this.byMethod.get(method);
    if (row === undefined) {
      row = [];
      this.byMethod.set(method, row);
    }
    let attrs = row[code];
    if (attrs === undefined) {
      const name = codeName(code);
      attrs = { ...this.base, "rpc.method": method, "rpc.response.status_code": name };
      if (this.isError(code)) attrs["error.type"] = name;
      row[code] = attrs;
    }
    return attrs;
  }
}

/**
 * `rpc.method` per path (`pkg.Service/Method`), kept so no call slices a string; paths past
 * `maxMethods`, and those `known` rejects, are `_OTHER`.
 */
function methodNames(options: OpenTelemetryOptions, known: (path: string) => boolean): (path: string) => string {
  const max = options.maxMethods ?? DEFAULT_MAX_METHODS;
  const names = new Map<string, string>();
  return (path) => {
    const name = names.get(path);
    if (name !== undefined) return name;
    if (names.size >= max || !known(path)) return OTHER_METHOD;
    const made = path.slice(1);
    names.set(path, made);
    return made;
  };
}

function durationHistogram(provider: MeterProvider, name: string, description: string): Histogram {
  return provider.getMeter(METER_NAME).createHistogram(name, { unit: "s", description, advice: { explicitBucketBoundaries: DURATION_BUCKETS } });
}

/**
 * Records `rpc.server.call.duration` (seconds) for every call of `server`, with
 * `rpc.system.name="grpc"`, `rpc.method` (`pkg.Service/Method`, or `_OTHER` for paths the
 * server does not serve), `rpc.response.status_code` (the code name) and, for the codes the
 * gRPC conventions count as server errors, `error.type`. Requests refused from their
 * headers record a duration of 0. Returns a function that stops recording.
 */
export function attachOpenTelemetry(server: Server, options: OpenTelemetryOptions = {}): () => void {
  const duration = durationHistogram(options.meterProvider ?? metrics.getMeterProvider(), "rpc.server.call.duration", "Duration of RPCs handled by the server, until the status was sent.");
  const attrs = new AttributeCache({ "rpc.system.name": "grpc" }, (code) => SERVER_ERRORS.has(code));
  const methodName = methodNames(options, () => true);
  return server.observe({
    callEnded(call, code, durationMs) {
      duration.record(durationMs / 1000, attrs.get(methodName(call.method.path), code));
    },
    callRefused(method, code) {
      duration.record(0, attrs.get(method ? methodName(method.path) : OTHER_METHOD, code));
    },
  });
}

/**
 * Records `rpc.client.call.duration` (seconds) for every call of `channel`, with
 * `rpc.system.name`, `rpc.method`, `rpc.response.status_code`, `error.type` (any code but OK)
 * and `server.address` / `server.port` taken from the channel's target. Returns a function
 * that stops recording.
 */
export function attachClientOpenTelemetry(channel: Channel, options: OpenTelemetryOptions = {}): () => void {
  const duration = durationHistogram(options.meterProvider ?? metrics.getMeterProvider(), "rpc.client.call.duration", "Duration of RPCs made by the client, until the status arrived.");
  const base: Attributes = { "rpc.system.name": "grpc" };
  const where = targetAddress(channel.targetString);
  if (where) {
    base["server.address"] = where.address;
    if (where.port !== undefined) base["server.port"] = where.port;
  }
  const attrs = new AttributeCache(base, (code) => code !== Code.OK);
  const methodName = methodNames(options, (path) => parsePath(path) !== undefined);
  return channel.observe({
    callEnded(call, code, durationMs) {
      duration.record(durationMs / 1000, attrs.get(methodName(call.method.path), code));
    },
  });
}
