import { constants } from "node:http2";
import type { SessionLike } from "../grpc/transport.js";
import { probeSession, type KeepaliveState } from "../http2/keepalive.js";
import { TokenBucket } from "../token-bucket.js";

/** Per-connection protections, from ServerOptions (all times in milliseconds). */
export interface GuardOptions {
  /** Pings closer together than this earn a strike (grpc-go EnforcementPolicy.MinTime). */
  keepaliveMinTimeMs: number;
  /** Whether pings are allowed while the connection has no calls (EnforcementPolicy.PermitWithoutStream). */
  keepalivePermitWithoutCalls: boolean;
  /** Strikes tolerated before GOAWAY `too_many_pings`. */
  maxPingStrikes: number;
  /** A connection without calls for this long gets GOAWAY (gRPC A9 MAX_CONNECTION_IDLE). */
  maxConnectionIdleMs: number;
  /** A connection older than this (±10 % jitter) gets GOAWAY (A9 MAX_CONNECTION_AGE). */
  maxConnectionAgeMs: number;
  /** After the age GOAWAY, running calls get this long before the connection is cut (A9 MAX_CONNECTION_AGE_GRACE). */
  maxConnectionAgeGraceMs: number;
  /** Client stream resets tolerated in a burst, then at `resetRatePerSecond` (rapid reset, CVE-2023-44487). */
  resetBurst: number;
  resetRatePerSecond: number;
  /** Whether the guard budgets resets (node:http2); our engine does it while reading frames. */
  countResets: boolean;
}

/** Pings without calls are held to this interval when they are not permitted outright (grpc-go). */
const IDLE_PING_MIN_MS = 2 * 60 * 60 * 1000;
/** How long a GOAWAY frame gets to leave before the connection is destroyed. */
const GOAWAY_FLUSH_MS = 50;

const guards = new WeakMap<SessionLike, ConnectionGuard>();

/** The guard of a session, if it has one. */
export function guardOf(session: SessionLike | undefined): ConnectionGuard | undefined {
  return session ? guards.get(session) : undefined;
}

/**
 * Enforces keepalive policy, idle and age limits, and rapid-reset limits on one
 * HTTP/2 connection. All timers are unref'd and released when the session closes.
 */
export class ConnectionGuard {
  private calls = 0;
  private lastPingAt = -Infinity;
  private pingStrikes = 0;
  private resets: TokenBucket | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private readonly timers: NodeJS.Timeout[] = [];
  private closing = false;
  /** Set once we gave up on the peer: streams still being read must not be dispatched. */
  abandoned = false;
  /** Set when we sent headers or data: the next ping is welcome again (grpc-go resetPingStrikes). */
  private activity = false;

  private probeTimer: NodeJS.Timeout | undefined;

  /**
   * @param probe a connection without calls for `afterMs` gets one ping it must answer within
   * `timeoutMs`: a session nghttp2 already ended by itself (HPACK or flood errors) never answers
   * and is destroyed instead of leaking its socket.
   * @param keepalive the server's own keepalive ping counter, reset whenever it sends headers or data
   */
  constructor(
    private readonly session: SessionLike,
    private readonly o: GuardOptions,
    private readonly probe: { afterMs: number; timeoutMs: number },
    private readonly keepalive?: KeepaliveState,
  ) {
    guards.set(session, this);
    // Our engine budgets resets itself, as it reads them; counting them here again would double the cost.
    if (o.countResets) this.resets = new TokenBucket(o.resetBurst, o.resetRatePerSecond);
    session.on("ping", () => this.onPing());
    session.once("close", () => this.release());
    this.armIdle();
    if (Number.isFinite(o.maxConnectionAgeMs)) {
      const jitter = 1 + (Math.random() * 0.2 - 0.1);
      this.later(o.maxConnectionAgeMs * jitter, () => this.retire());
    }
  }

  callStarted(): void {
    this.calls++;
    if (this.probeTimer) {
      clearTimeout(this.probeTimer);
      this.probeTimer = undefined;
    }
    if (this.idleTimer) {
      clearTimeout(this.idleTimer);
      this.idleTimer = undefined;
    }
  }

  callEnded(resetByClient: boolean): void {
    this.calls--;
    if (resetByClient) this.onClientReset();
    if (this.calls === 0) this.armIdle();
  }

  /** Our side sent headers or data: pings answering it (BDP probes) must not count as abuse, and our keepalive may ping again. */
  sawActivity(): void {
    this.activity = true;
    if (this.keepalive) this.keepalive.pingsWithoutData = 0;
  }

  private onPing(): void {
    const now = performance.now();
    if (this.activity) {
      this.activity = false;
      this.pingStrikes = 0;
      this.lastPingAt = -Infinity;
    }
    const min = this.calls > 0 || this.o.keepalivePermitWithoutCalls ? this.o.keepaliveMinTimeMs : Math.max(this.o.keepaliveMinTimeMs, IDLE_PING_MIN_MS);
    if (now - this.lastPingAt < min && ++this.pingStrikes > this.o.maxPingStrikes) {
      this.abandon(constants.NGHTTP2_ENHANCE_YOUR_CALM, "too_many_pings");
    }
    this.lastPingAt = now;
  }

  private onClientReset(): void {
    if (this.resets && !this.resets.take()) this.abandon(constants.NGHTTP2_ENHANCE_YOUR_CALM, "too_many_resets");
  }

  private armIdle(): void {
    if (!this.probeTimer) {
      this.probeTimer = setTimeout(() => {
        this.probeTimer = undefined;
        probeSession(this.session, this.probe.timeoutMs);
      }, this.probe.afterMs);
      this.probeTimer.unref();
    }
    if (!Number.isFinite(this.o.maxConnectionIdleMs) || this.idleTimer || this.closing) return;
    this.idleTimer = setTimeout(() => this.retire(), this.o.maxConnectionIdleMs);
    this.idleTimer.unref();
  }

  /** Graceful: GOAWAY now, running calls continue; cut the connection after the age grace. */
  private retire(): void {
    if (this.closing || this.session.closed || this.session.destroyed) return;
    this.closing = true;
    this.session.close();
    if (Number.isFinite(this.o.maxConnectionAgeGraceMs)) this.later(this.o.maxConnectionAgeGraceMs, () => this.session.destroy());
  }

  /** Abusive peer: GOAWAY with an error code and debug data, then cut the connection. */
  private abandon(code: number, reason: string): void {
    if (this.session.destroyed) return;
    this.closing = true;
    this.abandoned = true;
    try {
      this.session.goaway(code, undefined, Buffer.from(reason));
    } catch {
      // The session may already be going away; destroying it below is what matters.
    }
    this.later(GOAWAY_FLUSH_MS, () => this.session.destroy());
  }

  private later(ms: number, fn: () => void): void {
    const t = setTimeout(fn, Math.min(ms, 2 ** 31 - 1));
    t.unref();
    this.timers.push(t);
  }

  private release(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    if (this.probeTimer) clearTimeout(this.probeTimer);
    for (const t of this.timers) clearTimeout(t);
  }
}
