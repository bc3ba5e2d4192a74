import { codecMap, defaultCodecs, type Codec } from "../codec/codec.js";
import { ErrorCode, SwitchboardError } from "../errors.js";
import { checkStatusDetailsCodec, type StatusDetailsCodec } from "../grpc/status-details.js";
import type { Encoding } from "../codec/compression.js";
import type { ServerInterceptor } from "../call/interceptors.js";
import type { GenericRpcHandler } from "../service/raw.js";
import type { ServiceInterceptor } from "../service/router.js";
import type { GuardOptions } from "./connection-guard.js";
import { defaultTransport, type Transport } from "../grpc/transport.js";

export { defaultTransport, type Transport };
import { resolveWebOptions, type ResolvedWebOptions, type WebOptions } from "../web/options.js";
import { fromGrpcChannelArgs, type GrpcChannelArgs } from "./grpc-options.js";
import { resolveAdminOptions, type AdminOptions } from "../admin/options.js";

/** Options for `new Server()`; every limit has a bounded default. */
export interface ServerOptions {
  /** Continuation-style interceptors `(ctx, next)` and grpcio-style `interceptService` objects, outermost first. */
  interceptors?: ReadonlyArray<ServerInterceptor | ServiceInterceptor>;
  /** Generic handlers registered at creation (grpcio `handlers=`). */
  handlers?: readonly GenericRpcHandler[];
  /** Largest request message accepted, compressed or not (default 4 MiB); larger -> RESOURCE_EXHAUSTED. */
  maxReceiveMessageLength?: number;
  /** Largest response message sent (default unlimited); larger -> RESOURCE_EXHAUSTED. */
  maxSendMessageLength?: number;
  /** Concurrent streams per connection, advertised in SETTINGS (default 256). */
  maxConcurrentStreams?: number;
  /** Calls running at once on the whole server; excess calls get RESOURCE_EXHAUSTED (default 10,000; grpcio `maximum_concurrent_rpcs`). */
  maximumConcurrentRpcs?: number;
  /** Response compression for every call unless a handler chooses otherwise (default identity). */
  compression?: Encoding;
  /** Request header list limit in bytes, counted as HTTP/2 does (default 16 KiB). */
  maxHeaderListSize?: number;
  /** Request header pairs accepted before the stream is reset (default 128). */
  maxHeaderListPairs?: number;
  /** Interval between keepalive pings on idle and busy connections (default 2 h, like gRPC). */
  keepaliveTimeMs?: number;
  /** How long a keepalive ping may go unanswered before the connection is closed (default 20 s). */
  keepaliveTimeoutMs?: number;
  /** HTTP/2 initial stream window (SETTINGS_INITIAL_WINDOW_SIZE; default 64 KiB - 1). */
  initialWindowSize?: number;
  /** HTTP/2 connection receive window (default: the HTTP/2 default, 64 KiB - 1). */
  connectionWindowSize?: number;
  /** HTTP/2 SETTINGS_MAX_FRAME_SIZE (default 16 KiB). */
  maxFrameSize?: number;
  /**
   * The HTTP/2 engine: "switchboard" (our own, src/h2) or "node" (node:http2). The default is
   * the SWITCHBOARD_TRANSPORT environment variable when it names one, else "switchboard".
   */
  transport?: Transport;
  /** Caps every call's deadline, whether or not the client sent one. */
  maxDeadlineMs?: number;
  /** Client pings closer together than this earn a strike (default 5 min, as in gRPC). */
  keepaliveMinTimeMs?: number;
  /** Allow client pings while the connection has no calls (default false). */
  keepalivePermitWithoutCalls?: boolean;
  /** Ping strikes tolerated before GOAWAY ENHANCE_YOUR_CALM "too_many_pings" (default 2). */
  maxPingStrikes?: number;
  /** A connection must finish its TLS and HTTP/2 handshake (client SETTINGS) within this (default 20 s). */
  handshakeTimeoutMs?: number;
  /** GOAWAY a connection that had no calls for this long (default: never; gRPC A9). */
  maxConnectionIdleMs?: number;
  /** GOAWAY a connection this old, ±10 % jitter (default: never; gRPC A9). */
  maxConnectionAgeMs?: number;
  /** After the age GOAWAY, cut the connection when this grace has passed (default: never). */
  maxConnectionAgeGraceMs?: number;
  /** Stream resets by a client tolerated in a burst (default 200), then per second (default 50); beyond: GOAWAY. */
  resetBurst?: number;
  resetRatePerSecond?: number;
  /**
   * Codecs by content subtype (`application/grpc+{subtype}`), on top of the defaults
   * (proto, and JSON with the protobuf JSON mapping); one with a default's subtype replaces it.
   */
  codecs?: readonly Codec[];
  /**
   * How rich error details are sent in `grpc-status-details-bin` (grpclib
   * `status_details_codec`): a google.rpc.Status by default; `null` sends none (a handler's
   * pre-encoded `statusDetailsBin` still goes out as given).
   */
  statusDetailsCodec?: StatusDetailsCodec | null;
  /** grpcio-style channel arguments (`[["grpc.max_receive_message_length", n], ...]`); they override the fields above. */
  grpcOptions?: GrpcChannelArgs;
  /**
   * Unary and server-streaming calls start their handler once the whole request is in, and
   * take a `maximumConcurrentRpcs` slot only then. A request that makes no progress (no DATA,
   * no END_STREAM) for this long ends the call with CANCELLED and resets its stream
   * (default 30 s; `Infinity`: never). Client-streaming and bidi calls are their handler's to
   * time (`ctx.signal`, deadlines, `maxDeadlineMs`).
   */
  requestIdleTimeoutMs?: number;
  /**
   * Connections open at once over all ports. A connection beyond it is closed at once: a
   * plaintext one after SETTINGS + GOAWAY ENHANCE_YOUR_CALM "too_many_connections", a TLS one
   * before its handshake (default 10,000).
   */
  maxConnections?: number;
  /** Connections open at once from one IP address, refused like `maxConnections` (default: no limit, as clients behind a proxy share one address). */
  maxConnectionsPerIp?: number;
  /**
   * Keepalive pings the server sends in a row while it sends no HEADERS or DATA; after that
   * many it pings again only once it sent some (grpclib `_http2_max_pings_without_data`,
   * C-core `GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA`). Default 0: no limit, like grpc-go and grpc-js.
   */
  keepaliveMaxPingsWithoutData?: number;
  /**
   * Sees what the server cannot report to a client: handler exceptions that are not RpcErrors,
   * and session, socket, TLS and server errors. A hook that throws is reported as a
   * process warning and never stops the server.
   */
  onError?: ServerErrorHook;
  /**
   * Whether a handler exception that is not an RpcError sends its message to the client
   * (UNKNOWN with the message, the default, like grpcio and grpc-js); false sends UNKNOWN
   * "Internal error" instead and leaves the details to `onError`.
   */
  exposeErrors?: boolean;
  /**
   * gRPC-Web and Connect beside gRPC on every port, over HTTP/2 and HTTP/1.1 (default: all on,
   * CORS off); `false` serves gRPC only. See docs/web.md.
   */
  web?: boolean | WebOptions;
  /**
   * An admin server on a port of its own: Prometheus /metrics, /health and the live dashboard
   * (`{ port: 9090 }` binds 127.0.0.1:9090; see startAdmin). It starts with the server
   * (`server.admin` resolves once it listens) and closes when the server has stopped.
   */
  admin?: AdminOptions;
}

/** Where an error reported to `onError` happened. */
export type ServerErrorSource = "handler" | "session" | "socket" | "tls" | "server";

/** What `onError` learns besides the error itself. */
export interface ServerErrorContext {
  readonly source: ServerErrorSource;
  /** The method path (`/pkg.Service/Method`) for handler errors. */
  readonly method?: string;
  /** The peer (`ipv4:127.0.0.1:51234`, `unix:...`) when known. */
  readonly peer?: string;
}

/** `onError(err, context)`; its return value is ignored (a rejected promise is reported as a warning). */
export type ServerErrorHook = (err: unknown, context: ServerErrorContext) => unknown;

/** ServerOptions with every default filled in. */
export interface ResolvedServerOptions {
  maxReceiveMessageLength: number;
  maxSendMessageLength: number;
  maxConcurrentStreams: number;
  maximumConcurrentRpcs: number;
  compression: Encoding;
  maxHeaderListSize: number;
  maxHeaderListPairs: number;
  keepaliveTimeMs: number;
  keepaliveTimeoutMs: number;
  initialWindowSize: number | undefined;
  connectionWindowSize: number | undefined;
  maxFrameSize: number | undefined;
  transport: Transport;
  maxDeadlineMs: number | undefined;
  handshakeTimeoutMs: number;
  guard: GuardOptions;
  codecs: ReadonlyMap<string, Codec>;
  statusDetailsCodec: StatusDetailsCodec | null;
  requestIdleTimeoutMs: number;
  maxConnections: number;
  maxConnectionsPerIp: number;
  keepaliveMaxPingsWithoutData: number;
  onError: ServerErrorHook | undefined;
  exposeErrors: boolean;
  web: ResolvedWebOptions;
  /** Checked at construction: bad admin options throw before anything starts. */
  admin: AdminOptions | undefined;
}

/** Fills in defaults. */
export function resolveOptions(options: ServerOptions): ResolvedServerOptions {
  const o = options.grpcOptions ? fromGrpcChannelArgs(options.grpcOptions, options) : options;
  const transport = transportOf(options.transport);
  return {
    maxReceiveMessageLength: o.maxReceiveMessageLength ?? 4 * 1024 * 1024,
    maxSendMessageLength: o.maxSendMessageLength ?? Number.MAX_SAFE_INTEGER,
    maxConcurrentStreams: o.maxConcurrentStreams ?? 256,
    maximumConcurrentRpcs: o.maximumConcurrentRpcs ?? 10_000,
    compression: o.compression ?? "identity",
    maxHeaderListSize: o.maxHeaderListSize ?? 16 * 1024,
    maxHeaderListPairs: o.maxHeaderListPairs ?? 128,
    keepaliveTimeMs: o.keepaliveTimeMs ?? 2 * 60 * 60 * 1000,
    keepaliveTimeoutMs: o.keepaliveTimeoutMs ?? 20_000,
    initialWindowSize: o.initialWindowSize,
    connectionWindowSize: o.connectionWindowSize,
    maxFrameSize: o.maxFrameSize,
    transport,
    maxDeadlineMs: o.maxDeadlineMs,
    handshakeTimeoutMs: o.handshakeTimeoutMs ?? 20_000,
    codecs: codecMap([...defaultCodecs(), ...(options.codecs ?? [])]),
    statusDetailsCodec: checkStatusDetailsCodec(options.statusDetailsCodec, "Server"),
    requestIdleTimeoutMs: positive("requestIdleTimeoutMs", o.requestIdleTimeoutMs ?? 30_000),
    maxConnections: positive("maxConnections", o.maxConnections ?? 10_000),
    maxConnectionsPerIp: positive("maxConnectionsPerIp", o.maxConnectionsPerIp ?? Infinity),
    keepaliveMaxPingsWithoutData: count("keepaliveMaxPingsWithoutData", o.keepaliveMaxPingsWithoutData ?? 0),
    onError: hook(options.onError),
    exposeErrors: options.exposeErrors ?? true,
    web: resolveWebOptions(options.web),
    admin: options.admin === undefined ? undefined : (resolveAdminOptions(options.admin), options.admin),
    guard: {
      keepaliveMinTimeMs: o.keepaliveMinTimeMs ?? 5 * 60 * 1000,
      keepalivePermitWithoutCalls: o.keepalivePermitWithoutCalls ?? false,
      maxPingStrikes: o.maxPingStrikes ?? 2,
      maxConnectionIdleMs: o.maxConnectionIdleMs ?? Infinity,
      maxConnectionAgeMs: o.maxConnectionAgeMs ?? Infinity,
      maxConnectionAgeGraceMs: o.maxConnectionAgeGraceMs ?? Infinity,
      resetBurst: o.resetBurst ?? 200,
      resetRatePerSecond: o.resetRatePerSecond ?? 50,
      countResets: transport === "node",
    },
  };
}


function transportOf(value: unknown): Transport {
  if (value === undefined) return defaultTransport();
  if (value !== "switchboard" && value !== "node") throw new SwitchboardError(ErrorCode.BAD_OPTION, `transport must be "switchboard" or "node", not ${JSON.stringify(value)}`);
  return value;
}

/** A limit or time that must be a positive number (Infinity allowed: no limit). */
function positive(name: string, value: unknown): number {
  if (typeof value !== "number" || Number.isNaN(value) || value <= 0) {
    throw new SwitchboardError(ErrorCode.BAD_OPTION, `${name} must be a positive number of milliseconds or a positive count (Infinity for none), not ${String(value)}`);
  }
  return value;
}

/** A count that may be 0 (no limit). */
function count(name: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0) throw new SwitchboardError(ErrorCode.BAD_OPTION, `${name} must be an integer >= 0, not ${String(value)}`);
  return value;
}

function hook(value: unknown): ServerErrorHook | undefined {
  if (value !== undefined && typeof value !== "function") throw new SwitchboardError(ErrorCode.BAD_OPTION, "onError must be a function (err, context) => void");
  return value as ServerErrorHook | undefined;
}
