import { ErrorCode, SwitchboardError } from "../errors.js";
import type { ServerOptions } from "./options.js";

/** grpcio / C-core channel arguments, as `options=[("grpc.x", value), ...]` or a record. */
export type GrpcChannelArgs = Iterable<readonly [string, number | string]> | Record<string, number | string>;

const COMPRESSION = ["identity", "deflate", "gzip"] as const;

/** -1 means "no limit" in C-core channel arguments. */
const limit = (v: number) => (v < 0 ? Number.MAX_SAFE_INTEGER : v);

type Apply = (v: number, o: ServerOptions) => void;

/**
 * The supported arguments. A Map, not an object lookup: argument names are caller input, and
 * `constructor`, `toString` or `__proto__` must be unknown names, not Object.prototype members.
 */
const MAPPING = new Map<string, Apply>(
  Object.entries({
    "grpc.max_receive_message_length": (v, o) => (o.maxReceiveMessageLength = limit(v)),
    "grpc.max_send_message_length": (v, o) => (o.maxSendMessageLength = limit(v)),
    "grpc.max_concurrent_streams": (v, o) => (o.maxConcurrentStreams = v),
    "grpc.keepalive_time_ms": (v, o) => (o.keepaliveTimeMs = v),
    "grpc.keepalive_timeout_ms": (v, o) => (o.keepaliveTimeoutMs = v),
    "grpc.max_metadata_size": (v, o) => (o.maxHeaderListSize = v),
    "grpc.http2.max_frame_size": (v, o) => (o.maxFrameSize = v),
    "grpc.http2.min_ping_interval_without_data_ms": (v, o) => (o.keepaliveMinTimeMs = v),
    "grpc.keepalive_permit_without_calls": (v, o) => (o.keepalivePermitWithoutCalls = v !== 0),
    "grpc.http2.max_ping_strikes": (v, o) => (o.maxPingStrikes = v),
    "grpc.max_connection_idle_ms": (v, o) => (o.maxConnectionIdleMs = v),
    "grpc.max_connection_age_ms": (v, o) => (o.maxConnectionAgeMs = v),
    "grpc.max_connection_age_grace_ms": (v, o) => (o.maxConnectionAgeGraceMs = v),
    "grpc.default_compression_algorithm": (v, o) => {
      const name = COMPRESSION[v];
      if (!name) throw new SwitchboardError(ErrorCode.BAD_OPTION, `grpc.default_compression_algorithm must be 0, 1 or 2, not ${v}`);
      o.compression = name;
    },
  } satisfies Record<string, Apply>),
);

/**
 * Translates grpcio-style channel arguments into ServerOptions. Unknown keys are an
 * error rather than silently ignored, so a setting that would not take effect is noticed.
 */
export function fromGrpcChannelArgs(args: GrpcChannelArgs, base: ServerOptions = {}): ServerOptions {
  const out: ServerOptions = { ...base };
  const entries = Symbol.iterator in args ? (args as Iterable<readonly [string, number | string]>) : Object.entries(args);
  for (const [key, value] of entries) {
    const apply = MAPPING.get(key);
    if (!apply) throw new SwitchboardError(ErrorCode.BAD_OPTION, `channel argument ${JSON.stringify(key)} is not supported (supported: ${[...MAPPING.keys()].join(", ")})`);
    const n = typeof value === "number" ? value : Number(value);
    if (!Number.isFinite(n)) throw new SwitchboardError(ErrorCode.BAD_OPTION, `channel argument ${key} needs a number, got ${JSON.stringify(value)}`);
    apply(n, out);
  }
  return out;
}
