import type { Duplex } from "node:stream";
import type { Codec } from "../codec/codec.js";
import type { Encoding } from "../codec/compression.js";
import { ErrorCode, SwitchboardError } from "../errors.js";
import { checkStatusDetailsCodec, type StatusDetailsCodec } from "../grpc/status-details.js";
import { EventBus } from "../events.js";
import { defaultTransport, type ClientSessionLike, type Transport } from "../grpc/transport.js";
import { Code, RpcError } from "../status.js";
import { ChannelCredentials } from "./credentials.js";
import { createLoadBalancer, type LoadBalancer, type LoadBalancingPolicy } from "./load-balancer.js";
import type { ResolvedAddress, Resolver, ResolverFactory } from "./resolver.js";
import { Subchannel, type SubchannelContext } from "./subchannel.js";
import { addressKey, parseChannelTarget, type ChannelTarget } from "./target.js";
import { ClientObserverSet, type ClientObserver } from "./observer.js";
import type { ClientEvents } from "./events.js";
import type { ClientInterceptor } from "./interceptors.js";
import { ChannelTracker } from "../services/channelz/channel.js";

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
  /**
   * How calls are spread over the target's addresses (grpc-js `grpc.lb_policy_name`):
   * "pick_first" (default) uses the first address that connects; "round_robin" connects to
   * all and rotates calls over the ready ones.
   */
  loadBalancingPolicy?: LoadBalancingPolicy;
  /**
   * The parts of a gRPC service config the channel uses (grpc-js `grpc.service_config`):
   * `loadBalancingConfig` (first known policy wins; `loadBalancingPolicy` wins over it) and
   * `healthCheckConfig` (same as `healthCheck`).
   */
  serviceConfig?: ServiceConfig;
  /**
   * Client-side health checking (gRPC A17): each connection watches grpc.health.v1.Health for
   * `serviceName` and takes calls only while it is SERVING. A server without the health service
   * counts as serving.
   */
  healthCheck?: { serviceName: string };
  /** Told about every call of this channel (client metrics use this; see Channel.observe()). */
  observers?: readonly ClientObserver[];
  /** Resolvers for target schemes of this channel only (before the registerResolver registry). */
  resolvers?: Readonly<Record<string, ResolverFactory>>;
  /** Floor between two DNS resolutions of a dns: target (grpc-js `grpc.dns_min_time_between_resolutions_ms`, default 30 s). */
  dnsMinTimeBetweenResolutionsMs?: number;
  /**
   * List this channel, its subchannels and connections in channelz (grpc.channelz.v1) until
   * close() (grpc-js `grpc.enable_channelz`). Off by default: a listed channel stays in the
   * process-wide registry until it is closed.
   */
  channelz?: boolean;
}

/** The part of a gRPC service config (doc/service_config.md) a channel reads. */
export interface ServiceConfig {
  loadBalancingConfig?: ReadonlyArray<Readonly<Record<string, unknown>>>;
  healthCheckConfig?: { serviceName?: string };
}

/** Connectivity of a channel, as gRPC names it. */
export type ChannelState = "idle" | "connecting" | "ready" | "transient_failure" | "shutdown";

const PACKAGE_VERSION = "0.1.0";

/**
 * A channel to a target (grpclib `Channel`, grpc-js `Channel`): the target's addresses
 * (fixed, or from a resolver: dns:, or a scheme given to registerResolver), one subchannel
 * (an HTTP/2 connection shared by every call) per address, and a load balancing policy that
 * picks a subchannel for each call. It connects lazily, reconnects with backoff after
 * GOAWAY or a lost connection, and can be closed or disposed with `await using`.
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
  /** @internal Client metrics and channelz (see observe()). */
  readonly observers = new ClientObserverSet();
  /** The target string this channel was created with. */
  readonly targetString: string;
  readonly options: Readonly<Required<Pick<ChannelOptions, "maxReceiveMessageLength" | "maxSendMessageLength" | "compression" | "keepaliveTimeoutMs" | "connectTimeoutMs">>> & ChannelOptions;
  readonly userAgent: string;
  readonly scheme: "http" | "https";
  readonly authority: string;
  /** The load balancing policy in use. */
  readonly loadBalancingPolicy: LoadBalancingPolicy;
  private readonly target: ChannelTarget;
  private readonly credentials: ChannelCredentials;
  private closed = false;
  private readonly balancer: LoadBalancer;
  /** Subchannels of the current address list, in the resolver's order. */
  private subchannels: Subchannel[] = [];
  /** Every subchannel with open connections, including ones removed by an update (draining). */
  private readonly allSubchannels = new Set<Subchannel>();
  private readonly subchannelOf = new WeakMap<ClientSessionLike, Subchannel>();
  private resolver: Resolver | undefined;
  /** The resolver has reported at least once (fixed targets: from the start). */
  private resolved = false;
  private resolveError: Error | undefined;
  /** Wake-ups of getSession() calls waiting for a state change. */
  private readonly waiters = new Set<() => void>();
  private readonly subchannelContext: SubchannelContext;
  /** Channelz bookkeeping while ChannelOptions.channelz is on (removed from the registry by close()). */
  private readonly channelz: ChannelTracker | undefined;

  /**
   * @param target `host:port`, `[v6]:port`, `unix:/path`, `unix:///path`, `dns:[//authority/]host[:port]`,
   *   `ipv4:a:p[,b:p]`, `ipv6:[a]:p[,[b]:p]`, or `scheme:endpoint` for a scheme given to registerResolver
   *   (or ChannelOptions.resolvers).
   */
  constructor(target: string, options: ChannelOptions = {}) {
    this.targetString = target;
    for (const o of options.observers ?? []) this.observers.add(o);
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
    const engine = options.transport ?? defaultTransport();
    if (engine !== "switchboard" && engine !== "node") throw new SwitchboardError(ErrorCode.BAD_OPTION, `transport must be "switchboard" or "node", not ${JSON.stringify(engine)}`);
    this.loadBalancingPolicy = lbPolicyFrom(options);
    const healthServiceName = options.healthCheck?.serviceName ?? options.serviceConfig?.healthCheckConfig?.serviceName;
    this.scheme = this.credentials.secure ? "https" : "http";
    this.target = parseChannelTarget(target, {
      ...(this.credentials.tls?.serverNameOverride !== undefined ? { override: this.credentials.tls.serverNameOverride } : {}),
      ...(options.resolvers ? { resolvers: options.resolvers } : {}),
      ...(options.dnsMinTimeBetweenResolutionsMs !== undefined ? { dnsMinTimeBetweenResolutionsMs: options.dnsMinTimeBetweenResolutionsMs } : {}),
    });
    this.authority = this.target.authority;
    this.userAgent = `${options.userAgent ? options.userAgent + " " : ""}switchboard-node/${PACKAGE_VERSION}`;
    this.balancer = createLoadBalancer(this.loadBalancingPolicy);
    const channel = this;
    this.subchannelContext = {
      scheme: this.scheme,
      authority: this.authority,
      credentials: this.credentials,
      servername: this.target.servername,
      engine,
      connectTimeoutMs: this.options.connectTimeoutMs,
      keepaliveTimeMs: options.keepaliveTimeMs,
      keepaliveTimeoutMs: this.options.keepaliveTimeoutMs,
      keepaliveMaxPingsWithoutData: options.keepaliveMaxPingsWithoutData,
      initialWindowSize: options.initialWindowSize,
      connectionWindowSize: options.connectionWindowSize,
      backoff: options.backoff,
      createConnection: options.createConnection,
      healthServiceName,
      get closed() {
        return channel.closed;
      },
      onChange: () => this.wakeAll(),
      onConnectionLost: () => this.resolver?.refresh(),
      adopt: (session, sub) => {
        this.subchannelOf.set(session, sub);
        this.allSubchannels.add(sub);
      },
      release: (sub) => {
        // Kept while closed: asyncDispose may still be collecting its connections.
        if (!this.closed) this.allSubchannels.delete(sub);
      },
    };
    if (this.target.addresses) this.setAddresses(this.target.addresses);
    this.channelz = options.channelz === true ? new ChannelTracker(this) : undefined;
  }

  /** The current connectivity state (derived from the subchannels' states). */
  /** Tells `observer` about every call of this channel from now on; returns a function that stops it. */
  observe(observer: ClientObserver): () => void {
    return this.observers.add(observer);
  }

  get state(): ChannelState {
    if (this.closed) return "shutdown";
    const list = this.subchannels;
    let connecting = false;
    let failing = 0;
    for (const sc of list) {
      if (sc.pickable) return "ready";
      const s = sc.state;
      if (s === "connecting" || sc.healthPending) connecting = true;
      else if (s === "transient_failure" || sc.unhealthy) failing++;
    }
    if (connecting) return "connecting";
    // A waitForReady call waiting out the backoff is no connection attempt yet.
    if (list.length > 0 && failing === list.length) return "transient_failure";
    if (this.resolved && list.length === 0 && this.resolver) return "transient_failure";
    if (!this.resolved && this.resolveError) return "transient_failure";
    if (this.resolver && !this.resolved) return "connecting";
    return "idle";
  }

  /** HTTP/2 connections open now, over every subchannel (draining ones included). */
  get openConnections(): number {
    let n = 0;
    for (const sc of this.allSubchannels) for (const s of sc.sessions) if (!s.closed && !s.destroyed) n++;
    return n;
  }

  /** The addresses the channel balances over right now (`host:port` or `unix:/path`), in order. */
  get addresses(): string[] {
    return this.subchannels.map((sc) => sc.key);
  }

  /**
   * Connects now instead of on the first call: resolves once a subchannel is ready, rejects
   * (UNAVAILABLE) when the attempts it started (after waiting out a running backoff) all
   * failed. Calls with waitForReady keep trying instead.
   */
  async connect(): Promise<void> {
    let attempted = false;
    for (;;) {
      if (this.closed) throw new RpcError(Code.UNAVAILABLE, "channel is closed");
      this.startResolving();
      if (this.pick()) return;
      const err = this.failFastError();
      if (err && attempted) throw err;
      if (this.state === "connecting") attempted = true;
      await this.changed(this.earliestBackoffEnd(), undefined);
    }
  }

  /**
   * A ready session for a new call (picked by the load balancing policy), or undefined when
   * none is ready now (the policy has started connecting). Synchronous: the hot path.
   */
  pick(): ClientSessionLike | undefined {
    if (this.closed) return undefined;
    const list = this.subchannels;
    // The common single-address case skips the policy.
    if (list.length === 1 && list[0]!.pickable) return list[0]!.session;
    return this.balancer.pick(list)?.session;
  }

  /**
   * A live session for a new call. While every address is failing (backing off after a
   * failed attempt, or NOT_SERVING), calls fail fast with UNAVAILABLE unless `waitForReady`
   * is set; those wait for a pickable subchannel until `signal` aborts or the channel closes.
   */
  async getSession(waitForReady = false, signal?: AbortSignal): Promise<ClientSessionLike> {
    for (;;) {
      if (this.closed) throw new RpcError(Code.UNAVAILABLE, "channel is closed");
      if (signal?.aborted) throw signal.reason instanceof RpcError ? signal.reason : new RpcError(Code.CANCELLED, "call ended while waiting for a connection");
      this.startResolving();
      const session = this.pick();
      if (session) return session;
      if (!waitForReady) {
        const err = this.failFastError();
        if (err) throw err;
      }
      await this.changed(waitForReady ? this.earliestBackoffEnd() : undefined, signal);
    }
  }

  /** The error for a fail-fast call when nothing can take it now, or undefined when something may soon. */
  private failFastError(): RpcError | undefined {
    const list = this.subchannels;
    if (!this.resolved) {
      return this.resolveError ? new RpcError(Code.UNAVAILABLE, `name resolution failed for ${this.authority}: ${this.resolveError.message}`, { cause: this.resolveError }) : undefined;
    }
    if (list.length === 0) {
      const why = this.resolveError ? `: ${this.resolveError.message}` : "";
      return new RpcError(Code.UNAVAILABLE, `no addresses for ${this.authority}${why}`);
    }
    let last: RpcError | undefined;
    for (const sc of list) {
      const s = sc.state;
      if (s === "transient_failure") last = sc.lastError ?? last;
      else if (!sc.unhealthy) return undefined;
    }
    return last ?? new RpcError(Code.UNAVAILABLE, `no address of ${this.authority} is serving (health check)`);
  }

  /** When the first backoff ends (a waiting call then tries again), if every address is backing off. */
  private earliestBackoffEnd(): number | undefined {
    let min: number | undefined;
    for (const sc of this.subchannels) {
      const left = sc.backoffLeftMs();
      if (left > 0) min = min === undefined ? left : Math.min(min, left);
    }
    return min;
  }

  /** Waits for the next change (a subchannel, the address list, close), a timeout, or `signal`. */
  private changed(timeoutMs: number | undefined, signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done = () => {
        if (timer) clearTimeout(timer);
        this.waiters.delete(done);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      this.waiters.add(done);
      signal?.addEventListener("abort", done, { once: true });
      if (timeoutMs !== undefined) timer = setTimeout(done, timeoutMs);
    });
  }

  private wakeAll(): void {
    for (const w of [...this.waiters]) w();
  }

  private startResolving(): void {
    if (this.resolver || !this.target.createResolver || this.closed) return;
    let resolver: Resolver;
    try {
      resolver = this.target.createResolver();
    } catch (err) {
      this.resolveError = err as Error;
      this.target.createResolver = undefined;
      this.resolved = true;
      return;
    }
    this.resolver = resolver;
    resolver.start({
      onAddresses: (addresses) => {
        if (this.closed || this.resolver !== resolver) return;
        this.resolveError = undefined;
        this.resolved = true;
        this.setAddresses(addresses);
      },
      onError: (err) => {
        if (this.closed || this.resolver !== resolver) return;
        // The last good list stays; only a channel that never resolved fails calls on it.
        this.resolveError = err;
        this.wakeAll();
      },
    });
  }

  /** A new address list: known addresses keep their subchannel, new ones get one, removed ones drain. */
  private setAddresses(addresses: readonly ResolvedAddress[]): void {
    const old = new Map(this.subchannels.map((sc) => [sc.key, sc]));
    const next: Subchannel[] = [];
    const seen = new Set<string>();
    for (const a of addresses) {
      const key = addressKey(a);
      if (seen.has(key)) continue;
      seen.add(key);
      next.push(old.get(key) ?? new Subchannel(a, this.subchannelContext));
      old.delete(key);
    }
    this.subchannels = next;
    this.resolved = true;
    // Removed addresses take no new calls; their running calls finish on their connections.
    for (const sc of old.values()) sc.shutdown();
    this.wakeAll();
  }

  /** Call bookkeeping: an idle channel must not keep the process alive. */
  callStarted(session: ClientSessionLike): void {
    const sub = this.subchannelOf.get(session);
    sub?.callStarted(session);
    // channelz counts the call on the subchannel and connection it went to.
    if (sub && this.channelz) this.channelz.streamStarted(sub, session);
  }

  /** @internal channelz: the current subchannels, then the draining ones (removed by an update or close()). */
  channelzSubchannels(): readonly Subchannel[] {
    const list = [...this.subchannels];
    for (const sc of this.allSubchannels) if (!list.includes(sc)) list.push(sc);
    return list;
  }

  callEnded(session: ClientSessionLike): void {
    this.subchannelOf.get(session)?.callEnded(session);
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
    this.channelz?.remove();
    this.resolver?.close();
    for (const sc of this.allSubchannels) sc.shutdown();
    for (const sc of this.subchannels) sc.shutdown();
    this.wakeAll();
  }

  /**
   * Closes the channel and resolves once every connection is closed: at once when idle
   * or never connected, after the last running call when calls are in flight.
   */
  async [Symbol.asyncDispose](): Promise<void> {
    const all = [...this.allSubchannels].map((sc) => sc.closedAll());
    this.close();
    await Promise.all(all);
  }
}

/** The policy from loadBalancingPolicy, else the first known one in serviceConfig.loadBalancingConfig. */
function lbPolicyFrom(options: ChannelOptions): LoadBalancingPolicy {
  const named = options.loadBalancingPolicy;
  if (named !== undefined) {
    if (named !== "pick_first" && named !== "round_robin") throw new SwitchboardError(ErrorCode.BAD_OPTION, `loadBalancingPolicy must be "pick_first" or "round_robin", not ${JSON.stringify(named)}`);
    return named;
  }
  for (const entry of options.serviceConfig?.loadBalancingConfig ?? []) {
    for (const name of Object.keys(entry)) if (name === "pick_first" || name === "round_robin") return name;
  }
  return "pick_first";
}
