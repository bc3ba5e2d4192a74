// One address of a channel: its HTTP/2 connection, dialed on demand, with a connect timeout,
// reconnect backoff with jitter (gRPC connection-backoff), keepalive, GOAWAY handling (a draining
// connection takes no new calls but keeps its running ones), and call counting so an idle
// connection never holds the process open. With health checking (gRPC A17) it also watches
// grpc.health.v1.Health on each connection and is pickable only while the answer is SERVING.
import { backoffDelay } from "../backoff.js";
import * as http2 from "node:http2";
import * as net from "node:net";
import * as tls from "node:tls";
import type { Duplex } from "node:stream";
import { connectH2 } from "../h2/index.js";
import type { ClientSessionLike, Transport } from "../grpc/transport.js";
import { keepAlive, sentHeadersOrData } from "../http2/keepalive.js";
import { Code, RpcError } from "../status.js";
import { ChannelCredentials, tlsConnectOptions } from "./credentials.js";
import { watchHealth } from "./health-watch.js";
import type { ResolvedAddress } from "./resolver.js";
import { addressKey } from "./target.js";

/** Connectivity of one subchannel (the channel's state is derived from these). */
export type SubchannelState = "idle" | "connecting" | "ready" | "transient_failure" | "shutdown";

/** What a subchannel needs from its channel. */
export interface SubchannelContext {
  readonly scheme: "http" | "https";
  readonly authority: string;
  readonly credentials: ChannelCredentials;
  /** TLS name for IP addresses of a dns: target. */
  readonly servername: string | undefined;
  readonly engine: Transport;
  readonly connectTimeoutMs: number;
  readonly keepaliveTimeMs: number | undefined;
  readonly keepaliveTimeoutMs: number;
  readonly keepaliveMaxPingsWithoutData: number | undefined;
  readonly initialWindowSize: number | undefined;
  readonly connectionWindowSize: number | undefined;
  readonly backoff: { initialMs?: number; maxMs?: number; multiplier?: number; jitter?: number } | undefined;
  readonly createConnection: (() => Duplex) | undefined;
  /** grpc.health.v1 service name to watch, when health checking is on. */
  readonly healthServiceName: string | undefined;
  /** The channel is closed: a session whose last call ends is closed too. */
  readonly closed: boolean;
  /** Something about this subchannel changed (state, health). */
  onChange(sub: Subchannel): void;
  /** A connection that was ready is gone, or an attempt failed: the resolver may re-resolve. */
  onConnectionLost(sub: Subchannel): void;
  /** Tells the channel which subchannel a session belongs to. */
  adopt(session: ClientSessionLike, sub: Subchannel): void;
  /** A shut-down subchannel's last connection closed: the channel forgets it. */
  release(sub: Subchannel): void;
}

export class Subchannel {
  readonly key: string;
  /** The connection new calls go to (undefined while idle, connecting, failed or after GOAWAY). */
  session: ClientSessionLike | undefined;
  /** Health of the current connection: undefined until the first Watch answer (A17: still connecting). */
  serving: boolean | undefined;
  lastError: RpcError | undefined;
  nextAttemptAt = 0;
  /** Every connection of this subchannel not yet closed (the current one and draining ones). */
  readonly sessions = new Set<ClientSessionLike>();
  private connecting = false;
  private shut = false;
  private failures = 0;
  private readonly callsOn = new WeakMap<ClientSessionLike, number>();
  private readonly transports = new WeakMap<ClientSessionLike, Duplex>();
  private stopHealth: (() => void) | undefined;

  constructor(
    readonly address: ResolvedAddress,
    private readonly ctx: SubchannelContext,
  ) {
    this.key = addressKey(address);
  }

  get state(): SubchannelState {
    if (this.shut) return "shutdown";
    const s = this.session;
    if (s && !s.closed && !s.destroyed) return "ready";
    if (this.connecting) return "connecting";
    if (this.lastError && Date.now() < this.nextAttemptAt) return "transient_failure";
    return "idle";
  }

  /** Ready, and SERVING when health checking is on: new calls may go here. */
  get pickable(): boolean {
    const s = this.session;
    return s !== undefined && !s.closed && !s.destroyed && !this.shut && (this.ctx.healthServiceName === undefined || this.serving === true);
  }

  /** Ready but its health watch says NOT_SERVING (counts as a transient failure for fail-fast calls). */
  get unhealthy(): boolean {
    return this.ctx.healthServiceName !== undefined && this.serving === false && this.state === "ready";
  }

  /** Ready, waiting for the first health answer. */
  get healthPending(): boolean {
    return this.ctx.healthServiceName !== undefined && this.serving === undefined && this.state === "ready";
  }

  /** Starts a connection attempt when idle (not connecting, connected or backing off). */
  connect(): void {
    if (this.state !== "idle") return;
    this.connecting = true;
    this.dial();
  }

  /** Seconds until the backoff ends (0 when not backing off). */
  backoffLeftMs(): number {
    return this.state === "transient_failure" ? Math.max(0, this.nextAttemptAt - Date.now()) : 0;
  }

  private dial(): void {
    const ctx = this.ctx;
    const settings: http2.Settings = { enablePush: false };
    if (ctx.initialWindowSize !== undefined) settings.initialWindowSize = ctx.initialWindowSize;
    const connectOptions: http2.SecureClientSessionOptions = { settings, maxSessionMemory: 32 };
    const open = ctx.createConnection ?? (() => this.openSocket());
    // node:http2 calls this synchronously inside connect(); the transport is kept for shutDown().
    let transport: Duplex | undefined;
    connectOptions.createConnection = () => (transport = open());
    let session: ClientSessionLike;
    try {
      session =
        ctx.engine === "switchboard"
          ? connectH2((transport = open()), {
              scheme: ctx.scheme,
              authority: ctx.authority,
              ...(ctx.initialWindowSize !== undefined ? { initialWindowSize: ctx.initialWindowSize } : {}),
            })
          : http2.connect(urlFor(ctx.scheme, ctx.authority), connectOptions);
    } catch (err) {
      this.connecting = false;
      this.failed(err as Error);
      return;
    }
    if (transport) this.transports.set(session, transport);
    this.sessions.add(session);
    ctx.adopt(session, this);
    let settled = false;
    const timer = setTimeout(() => fail(new Error(`connect timed out after ${ctx.connectTimeoutMs} ms`)), ctx.connectTimeoutMs);
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      this.connecting = false;
      session.destroy();
      // close() or a resolver update abandoned this attempt: no failure to back off from.
      if (ctx.closed || this.shut) return this.ctx.onChange(this);
      this.failed(err);
    };
    session.once("error", fail);
    session.once("connect", () => {
      if (settled) return;
      if (ctx.closed || this.shut) return fail(new Error("channel is closed"));
      settled = true;
      clearTimeout(timer);
      this.connecting = false;
      session.off("error", fail);
      session.on("error", () => {
        // Calls on the session see the failure through their streams' close; nothing else to do.
      });
      this.failures = 0;
      this.nextAttemptAt = 0;
      this.lastError = undefined;
      if (ctx.connectionWindowSize !== undefined) session.setLocalWindowSize(ctx.connectionWindowSize);
      this.session = session;
      keepAlive(session, ctx.keepaliveTimeMs, ctx.keepaliveTimeoutMs, { maxPingsWithoutData: ctx.keepaliveMaxPingsWithoutData });
      session.unref();
      if (ctx.healthServiceName !== undefined) this.startHealth(session, ctx.healthServiceName);
      this.ctx.onChange(this);
    });
    // A draining or lost connection takes no new calls; the next pick dials again.
    session.once("goaway", () => this.forget(session));
    session.once("close", () => {
      this.forget(session);
      this.sessions.delete(session);
      if (this.shut && this.sessions.size === 0) ctx.release(this);
      // Closed before it connected (close() during the attempt, or the peer hung up).
      fail(new Error("connection closed before it was established"));
    });
  }

  private failed(err: Error): void {
    this.failures++;
    const { initialMs = 1000, maxMs = 120_000, multiplier = 1.6, jitter = 0.2 } = this.ctx.backoff ?? {};
    this.nextAttemptAt = Date.now() + backoffDelay(this.failures, { initialMs, maxMs, multiplier, jitter });
    this.lastError = new RpcError(Code.UNAVAILABLE, `failed to connect to ${this.describe()}: ${err.message}`, { cause: err });
    // The address may be stale: the resolver may re-resolve (rate-limited for dns:).
    this.ctx.onConnectionLost(this);
    this.ctx.onChange(this);
  }

  private describe(): string {
    return this.ctx.createConnection ? this.ctx.authority : this.address.path !== undefined ? this.ctx.authority : this.key;
  }

  private startHealth(session: ClientSessionLike, serviceName: string): void {
    this.serving = undefined;
    this.stopHealth = watchHealth(session, { scheme: this.ctx.scheme, authority: this.ctx.authority, serviceName, where: this.key }, (serving) => {
      if (this.session !== session || this.serving === serving) return;
      this.serving = serving;
      this.ctx.onChange(this);
    });
  }

  private forget(session: ClientSessionLike): void {
    if (this.session !== session) return;
    this.session = undefined;
    this.serving = undefined;
    this.stopHealth?.();
    this.stopHealth = undefined;
    this.ctx.onConnectionLost(this);
    this.ctx.onChange(this);
  }

  /** The transport for a new session: TCP or a Unix socket, TLS when asked, Nagle off. */
  private openSocket(): Duplex {
    const { host, port, path } = this.address;
    const where: net.NetConnectOpts = path !== undefined ? { path } : { host: host!, port: port! };
    const tlsOptions = this.ctx.credentials.tls;
    let socket: net.Socket;
    if (tlsOptions) {
      const name = this.ctx.servername ?? (host && net.isIP(host) === 0 ? host : undefined);
      socket = tls.connect(tlsConnectOptions(tlsOptions, where, name));
    } else {
      socket = net.connect(where);
    }
    // Small frames must not wait for the peer's delayed ACK (Nagle): gRPC calls are latency-bound.
    socket.setNoDelay(true);
    return socket;
  }

  /** Call bookkeeping: a session holds the process open only while it carries calls. */
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
    if (this.ctx.closed || this.shut) this.shutDownSession(session);
    else if (!session.destroyed) session.unref();
  }

  /**
   * Takes no new calls from now on (channel closed, or the address left the resolver's list):
   * idle connections close now, a connection with running calls when its last call ends.
   */
  shutdown(): void {
    this.shut = true;
    this.stopHealth?.();
    this.stopHealth = undefined;
    if (this.session) this.session = undefined;
    for (const s of this.sessions) if ((this.callsOn.get(s) ?? 0) === 0) this.shutDownSession(s);
    if (this.sessions.size === 0) this.ctx.release(this);
  }

  /** Resolves when every connection of this subchannel has closed. */
  closedAll(): Promise<void> {
    return Promise.all([...this.sessions].map((s) => new Promise<void>((r) => s.once("close", () => r())))).then(() => {});
  }

  /**
   * Ends a session that carries no call: GOAWAY, then the socket is ended and released
   * locally. Not `session.close()`: its graceful path leaves the socket open until the
   * peer closes its side, which a gone or slow peer may never do, and the session is
   * unref'd, so the process could exit with that wait still pending. A session node has
   * already closed that way (after the peer's GOAWAY) is still waiting: its socket goes now.
   */
  private shutDownSession(session: ClientSessionLike): void {
    if (!session.destroyed) session.destroy();
    else this.transports.get(session)?.destroy();
  }
}

/** The URL node:http2 needs (only its scheme and host matter: the socket comes from createConnection). */
function urlFor(scheme: string, authority: string): string {
  try {
    return new URL(`${scheme}://${authority}`).origin !== "null" ? `${scheme}://${authority}` : `${scheme}://localhost`;
  } catch {
    return `${scheme}://localhost`;
  }
}
