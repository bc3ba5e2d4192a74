import * as http2 from "node:http2";
import * as net from "node:net";
import * as tls from "node:tls";
import type { Duplex } from "node:stream";
import type { Codec } from "../codec/codec.js";
import type { Encoding } from "../codec/compression.js";
import { ErrorCode, SwitchboardError } from "../errors.js";
import { checkStatusDetailsCodec, type StatusDetailsCodec } from "../grpc/status-details.js";
import { EventBus } from "../events.js";
import { connectH2 } from "../h2/index.js";
import { defaultTransport, type ClientSessionLike, type Transport } from "../grpc/transport.js";
import { keepAlive, sentHeadersOrData } from "../http2/keepalive.js";
import { Code, RpcError } from "../status.js";
import { ChannelCredentials, tlsConnectOptions } from "./credentials.js";
import type { ClientEvents } from "./events.js";
import type { ClientInterceptor } from "./interceptors.js";

/** Options for `new Channel()`. */
export interface ChannelOptions {
  credentials?: ChannelCredentials;
  /** Largest response message accepted, compressed or not (default 4 MiB) -> RESOURCE_EXHAUSTED. */
  maxReceiveMessageLength?: number;
  /** Largest request message sent (default unlimited) -> RESOURCE_EXHAUSTED. */
  maxSendMessageLength?: number;
  /** Ping the server this often while connected (default: no keepalive pings). */
  keepaliveTimeMs?: number;
  /** Close the connection when a keepalive ping is not answered in time (default 20 s). */
  keepaliveTimeoutMs?: number;
  /**
   * Keepalive pings sent in a row while the channel sends no HEADERS or DATA; then pings wait
   * for the next call or message (grpclib `_http2_max_pings_without_data`, C-core
   * GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA). Default 0: no limit.
   */
  keepaliveMaxPingsWithoutData?: number;
  /** Compression for every call unless the call chooses (default identity). */
  compression?: Encoding;
  /** Continuation-style interceptors `(call, next)`, outermost first. */
  interceptors?: readonly ClientInterceptor[];
  /** Prefix of the user-agent header. */
  userAgent?: string;
  /** How long one connection attempt may take (default 20 s). */
  connectTimeoutMs?: number;
  /** Reconnect backoff (gRPC connection-backoff): first delay, cap and growth (defaults 1 s, 120 s, 1.6, jitter 0.2). */
  backoff?: { initialMs?: number; maxMs?: number; multiplier?: number; jitter?: number };
  /** HTTP/2 initial stream window and connection window for responses. */
  initialWindowSize?: number;
  connectionWindowSize?: number;
  /**
   * The HTTP/2 engine: "switchboard" (our own, src/h2) or "node" (node:http2). The default is
   * the SWITCHBOARD_TRANSPORT environment variable when it names one, else "switchboard".
   */
  transport?: Transport;
  /** Provides the transport instead of dialing (in-memory channels). */
  createConnection?: () => Duplex;
  /**
   * How messages are encoded (grpclib `Channel(codec=)`): protobuf by default; e.g.
   * `jsonCodec()` sends `application/grpc+json` with the protobuf JSON mapping.
   */
  codec?: Codec;
  /**
   * How rich error details in `grpc-status-details-bin` are decoded (grpclib
   * `status_details_codec`): a google.rpc.Status by default; `null` decodes none (the raw
   * bytes stay in `err.statusDetailsBin`).
   */
  statusDetailsCodec?: StatusDetailsCodec | null;
}

/** Connectivity of a channel, as gRPC names it. */
export type ChannelState = "idle" | "connecting" | "ready" | "transient_failure" | "shutdown";

interface Target {
  /** The URL node:http2 connects to (scheme + authority). */
  url: string;
  authority: string;
  host?: string;
  port?: number;
  unixPath?: string;
}

const PACKAGE_VERSION = "0.1.0";

/**
 * One multiplexed HTTP/2 connection to a server, shared by every call (grpclib
 * `Channel`). It connects lazily, reconnects with backoff after GOAWAY or a lost
 * connection, and can be closed or disposed with `await using`.
 *
 * Closing follows grpc-js `Channel.close()`, not grpclib's (which drops the connection
 * under running calls): new calls fail UNAVAILABLE at once, calls already running
 * continue until they end (give them deadlines, or cancel them), and each connection is
 * closed as soon as it carries no call. `await using` waits for exactly that, so it
 * settles in every state: never connected, connecting or backing off (the attempt is
 * abandoned), idle, calls in flight (after the last one ends), and server gone.
 */
export class Channel implements AsyncDisposable {
  readonly events = new EventBus<ClientEvents>();
  readonly options: Readonly<Required<Pick<ChannelOptions, "maxReceiveMessageLength" | "maxSendMessageLength" | "compression" | "keepaliveTimeoutMs" | "connectTimeoutMs">>> & ChannelOptions;
  readonly userAgent: string;
  readonly scheme: "http" | "https";
  readonly authority: string;
  private readonly target: Target;
  private readonly credentials: ChannelCredentials;
  private session: ClientSessionLike | undefined;
  private connecting: Promise<ClientSessionLike> | undefined;
  private closed = false;
  private failures = 0;
  private nextAttemptAt = 0;
  private lastError: RpcError | undefined;
  /** Calls running per session: a session holds the process open only while it has some. */
  private readonly callsOn = new WeakMap<ClientSessionLike, number>();
  private readonly sessions = new Set<ClientSessionLike>();
  /** Each session's transport: node:http2 lets go of it once the session is destroyed. */
  private readonly transports = new WeakMap<ClientSessionLike, Duplex>();
  /** Aborted by close(): ends a backoff wait at once instead of holding the process open. */
  private readonly closing = new AbortController();

  /**
   * @param target `host:port`, `[v6]:port`, `unix:/path` or `unix:///path`
   */
  constructor(target: string, options: ChannelOptions = {}) {
    this.credentials = options.credentials ?? ChannelCredentials.insecure();
    checkStatusDetailsCodec(options.statusDetailsCodec, "Channel");
    this.options = {
      ...options,
      maxReceiveMessageLength: options.maxReceiveMessageLength ?? 4 * 1024 * 1024,
      maxSendMessageLength: options.maxSendMessageLength ?? Number.MAX_SAFE_INTEGER,
      compression: options.compression ?? "identity",
      keepaliveTimeoutMs: options.keepaliveTimeoutMs ?? 20_000,
      connectTimeoutMs: options.connectTimeoutMs ?? 20_000,
    };
    this.scheme = this.credentials.secure ? "https" : "http";
    this.target = parseTarget(target, this.scheme, this.credentials.tls?.serverNameOverride);
    this.authority = this.target.authority;
    this.userAgent = `${options.userAgent ? options.userAgent + " " : ""}switchboard-node/${PACKAGE_VERSION}`;
  }

  /** The current connectivity state. */
  get state(): ChannelState {
    if (this.closed) return "shutdown";
    if (this.session && !this.session.closed && !this.session.destroyed) return "ready";
    // A waitForReady call waiting out the backoff is no connection attempt yet.
    if (this.lastError && Date.now() < this.nextAttemptAt) return "transient_failure";
    return this.connecting ? "connecting" : "idle";
  }

  /** Connects now instead of on the first call. */
  async connect(): Promise<void> {
    await this.getSession(true);
  }

  /**
   * A live session for a new call. While the channel is backing off after a failed
   * attempt, calls fail fast with UNAVAILABLE unless `waitForReady` is set.
   */
  async getSession(waitForReady = false): Promise<ClientSessionLike> {
    if (this.closed) throw new RpcError(Code.UNAVAILABLE, "channel is closed");
    const s = this.session;
    if (s && !s.closed && !s.destroyed) return s;
    if (this.connecting) return this.connecting;
    const wait = this.nextAttemptAt - Date.now();
    if (wait > 0 && !waitForReady) throw this.lastError ?? new RpcError(Code.UNAVAILABLE, "connection failed; backing off");
    this.connecting = (async () => {
      if (wait > 0) await sleepUnlessAborted(wait, this.closing.signal);
      if (this.closed) throw new RpcError(Code.UNAVAILABLE, "channel is closed");
      return this.dial();
    })();
    try {
      return await this.connecting;
    } finally {
      this.connecting = undefined;
    }
  }

  private dial(): Promise<ClientSessionLike> {
    const tls = this.credentials.tls;
    const settings: http2.Settings = { enablePush: false };
    if (this.options.initialWindowSize !== undefined) settings.initialWindowSize = this.options.initialWindowSize;
    const connectOptions: http2.SecureClientSessionOptions = { settings, maxSessionMemory: 32 };
    const open = this.options.createConnection ?? (() => this.openSocket());
    // node:http2 calls this synchronously inside connect(); the transport is kept for shutDown().
    let transport: Duplex | undefined;
    connectOptions.createConnection = () => (transport = open());
    const engine = this.options.transport ?? defaultTransport();
    if (engine !== "switchboard" && engine !== "node") throw new SwitchboardError(ErrorCode.BAD_OPTION, `transport must be "switchboard" or "node", not ${JSON.stringify(engine)}`);
    return new Promise((resolve, reject) => {
      const session: ClientSessionLike =
        engine === "switchboard"
          ? connectH2((transport = open()), {
              scheme: this.scheme,
              authority: this.authority,
              ...(this.options.initialWindowSize !== undefined ? { initialWindowSize: this.options.initialWindowSize } : {}),
            })
          : http2.connect(this.target.url, connectOptions);
      if (transport) this.transports.set(session, transport);
      this.sessions.add(session);
      let settled = false;
      const timer = setTimeout(() => fail(new Error(`connect timed out after ${this.options.connectTimeoutMs} ms`)), this.options.connectTimeoutMs);
      const fail = (err: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        session.destroy();
        if (this.closed) {
          // close() abandoned this attempt: that is no connection failure to back off from.
          reject(new RpcError(Code.UNAVAILABLE, "channel is closed"));
          return;
        }
        this.failures++;
        const { initialMs = 1000, maxMs = 120_000, multiplier = 1.6, jitter = 0.2 } = this.options.backoff ?? {};
        const delay = Math.min(maxMs, initialMs * multiplier ** (this.failures - 1));
        this.nextAttemptAt = Date.now() + delay * (1 + jitter * (Math.random() * 2 - 1));
        this.lastError = new RpcError(Code.UNAVAILABLE, `failed to connect to ${this.authority}: ${err.message}`, { cause: err });
        reject(this.lastError);
      };
      session.once("error", fail);
      session.once("connect", () => {
        if (settled) return;
        if (this.closed) return fail(new Error("channel is closed"));
        settled = true;
        clearTimeout(timer);
        session.off("error", fail);
        session.on("error", () => {
          // Calls on the session see the failure through their streams' close; nothing else to do.
        });
        this.failures = 0;
        this.nextAttemptAt = 0;
        this.lastError = undefined;
        if (this.options.connectionWindowSize !== undefined) session.setLocalWindowSize(this.options.connectionWindowSize);
        this.session = session;
        keepAlive(session, this.options.keepaliveTimeMs, this.options.keepaliveTimeoutMs, { maxPingsWithoutData: this.options.keepaliveMaxPingsWithoutData });
        session.unref();
        resolve(session);
      });
      // A draining or lost connection takes no new calls; the next call dials again.
      session.once("goaway", () => this.forget(session));
      session.once("close", () => {
        this.forget(session);
        this.sessions.delete(session);
        // Closed before it connected (close() during the attempt, or the peer hung up).
        fail(new Error("connection closed before it was established"));
      });
    });
  }

  /** The transport for a new session: TCP or a Unix socket, TLS when asked, Nagle off. */
  private openSocket(): Duplex {
    const { host, port, unixPath } = this.target;
    const where: net.NetConnectOpts = unixPath ? { path: unixPath } : { host: host!, port: port! };
    const tlsOptions = this.credentials.tls;
    let socket: net.Socket;
    if (tlsOptions) {
      socket = tls.connect(tlsConnectOptions(tlsOptions, where, host && net.isIP(host) === 0 ? host : undefined));
    } else {
      socket = net.connect(where);
    }
    // Small frames must not wait for the peer's delayed ACK (Nagle): gRPC calls are latency-bound.
    socket.setNoDelay(true);
    return socket;
  }

  private forget(session: ClientSessionLike): void {
    if (this.session === session) this.session = undefined;
  }

  /** Call bookkeeping: an idle channel must not keep the process alive. */
  callStarted(session: ClientSessionLike): void {
    // The call's HEADERS went out: keepalive may ping again (keepaliveMaxPingsWithoutData).
    sentHeadersOrData(session);
    const n = this.callsOn.get(session) ?? 0;
    this.callsOn.set(session, n + 1);
    if (n === 0) session.ref();
  }

  callEnded(session: ClientSessionLike): void {
    const n = (this.callsOn.get(session) ?? 1) - 1;
    this.callsOn.set(session, n);
    if (n > 0) return;
    if (this.closed) this.shutDown(session);
    else if (!session.destroyed) session.unref();
  }

  /**
   * Closes the channel (grpc-js semantics, see the class comment): new calls fail
   * UNAVAILABLE "channel is closed"; a connection attempt or backoff wait is abandoned;
   * idle connections close now; a connection with running calls closes when its last
   * call ends. It returns at once; `await using` (asyncDispose) also waits for the end.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.closing.abort();
    for (const s of this.sessions) if ((this.callsOn.get(s) ?? 0) === 0) this.shutDown(s);
  }

  /**
   * Ends a session that carries no call: GOAWAY, then the socket is ended and released
   * locally. Not `session.close()`: its graceful path leaves the socket open until the
   * peer closes its side, which a gone or slow peer may never do, and the session is
   * unref'd, so the process could exit with that wait still pending. A session node has
   * already closed that way (after the peer's GOAWAY) is still waiting: its socket goes now.
   */
  private shutDown(session: ClientSessionLike): void {
    if (!session.destroyed) session.destroy();
    else this.transports.get(session)?.destroy();
  }

  /**
   * Closes the channel and resolves once every connection is closed: at once when idle
   * or never connected, after the last running call when calls are in flight.
   */
  async [Symbol.asyncDispose](): Promise<void> {
    const all = [...this.sessions].map((s) => new Promise<void>((r) => s.once("close", () => r())));
    this.close();
    await Promise.all(all);
  }
}

/** Waits `ms`, or less if `signal` aborts first; the timer is cleared either way. */
function sleepUnlessAborted(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

function parseTarget(target: string, scheme: string, override: string | undefined): Target {
  if (target.startsWith("unix:")) {
    const path = target.startsWith("unix://") ? target.slice("unix://".length) : target.slice("unix:".length);
    if (!path) throw new SwitchboardError(ErrorCode.BAD_ADDRESS, `unix target ${JSON.stringify(target)} has no path`);
    const authority = override ?? "localhost";
    return { url: `${scheme}://${authority}`, authority, unixPath: path };
  }
  const m = /^(\[[^\]]+\]|[^:/]+):(\d{1,5})$/.exec(target);
  if (!m || Number(m[2]) > 65535) throw new SwitchboardError(ErrorCode.BAD_ADDRESS, `target ${JSON.stringify(target)} must be host:port, [v6]:port or unix:/path`);
  const hostPort = `${m[1]}:${m[2]}`;
  const host = m[1]!.startsWith("[") ? m[1]!.slice(1, -1) : m[1]!;
  return { url: `${scheme}://${hostPort}`, authority: override ? `${override}:${m[2]}` : hostPort, host, port: Number(m[2]) };
}
