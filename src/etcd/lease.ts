// Keeping one etcd lease alive over the bidi LeaseKeepAlive stream, and saying when it is lost.
import { EventEmitter } from "node:events";
import type { EtcdClient } from "./client.js";
import { isConnectionFailure } from "./errors.js";
import { Backoff } from "../backoff.js";
import { sleep, TIMED_OUT, within } from "./util.js";

export interface LeaseKeepAliveOptions {
  /** The TTL the lease was granted with, in seconds: until etcd's first answer, the lease is assumed to last this long from now. Default 10. */
  ttlSeconds?: number;
  /** Called once when the lease is lost (same as the "lost" event). */
  onLost?: (loss: LeaseLoss) => void;
}

/** Why a lease is gone: etcd said so ("expired": TTL <= 0, revoked or expired), or it could not be refreshed within its TTL ("unreachable"). */
export interface LeaseLoss {
  id: bigint;
  reason: "expired" | "unreachable";
  error?: unknown;
}

export interface LeaseKeepAliveEvents {
  /** etcd refreshed the lease to `ttl` seconds. */
  keepalive: [ttl: number];
  /** The lease is gone; the keep-alive has stopped. */
  lost: [loss: LeaseLoss];
}

/**
 * A running keep-alive: refreshes every third of the TTL; on a failed stream it reconnects
 * (failing over between endpoints) until the TTL, counted from the last refresh, runs out.
 */
export class LeaseKeepAlive extends EventEmitter<LeaseKeepAliveEvents> {
  /** The last TTL etcd granted, in seconds. */
  ttl: number;
  private expiresAt: number;
  private stopped = false;
  private lostWith: LeaseLoss | undefined;
  private readonly abort = new AbortController();
  private cancelCall: (() => void) | undefined;
  /** Settles with the loss, or undefined after close(); never rejects. */
  readonly done: Promise<LeaseLoss | undefined>;

  constructor(
    private readonly client: EtcdClient,
    readonly id: bigint,
    options: LeaseKeepAliveOptions = {},
  ) {
    super();
    this.ttl = options.ttlSeconds ?? 10;
    this.expiresAt = Date.now() + this.ttl * 1000;
    if (options.onLost) this.once("lost", options.onLost);
    this.done = this.run();
  }

  /** True once the lease is known to be gone. */
  get lost(): boolean {
    return this.lostWith !== undefined;
  }

  /** Stops refreshing (the lease then expires after its TTL unless revoked). Idempotent. */
  close(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.abort.abort();
    // A stream still opening is not cancelled here but by run() once it is open: a cancel that
    // races the stream's creation can leave the stream open on the connection.
    this.cancelCall?.();
    this.client.disown(this);
  }

  private async run(): Promise<LeaseLoss | undefined> {
    const backoff = new Backoff(100, 1000);
    while (!this.stopped) {
      let opened: ReturnType<EtcdClient["openKeepAlive"]>;
      try {
        opened = this.client.openKeepAlive();
      } catch {
        return undefined; // the client was closed
      }
      const { call, stubs } = opened;
      // Cancelled only once its stream is open (below): see close().
      this.cancelCall = undefined;
      try {
        for (;;) {
          await call.sendMessage({ ID: this.id });
          this.cancelCall ??= () => void call.cancel().catch(() => {});
          // close() came while the stream was opening: end it now that it exists.
          if (this.stopped) break;
          const res = await within(call.recvMessage(), this.expiresAt - Date.now());
          if (this.stopped) return undefined;
          if (res === TIMED_OUT) throw new Error(`no keep-alive answer within the lease's TTL`);
          if (res === null) throw new Error("etcd ended the keep-alive stream");
          backoff.reset();
          if (res.TTL <= 0n) return this.lose({ id: this.id, reason: "expired" });
          this.ttl = Number(res.TTL);
          this.expiresAt = Date.now() + this.ttl * 1000;
          if (this.listenerCount("keepalive") > 0) {
            try {
              this.emit("keepalive", this.ttl);
            } catch (err) {
              this.client.logger?.error?.(`a "keepalive" listener threw: ${(err as Error)?.message}`);
            }
          }
          await sleep((this.ttl * 1000) / 3, this.abort.signal);
          if (this.stopped) break;
        }
      } catch (err) {
        if (this.stopped) break;
        if (isConnectionFailure(err)) this.client.failed(stubs.index, err);
        const left = this.expiresAt - Date.now();
        if (left <= 0) return this.lose({ id: this.id, reason: "unreachable", error: err });
        this.client.logger?.debug?.(`etcd lease ${this.id.toString(16)} keep-alive failed (${(err as Error)?.message}); retrying for ${Math.ceil(left / 1000)} s more`);
        await sleep(Math.min(backoff.delay(), left), this.abort.signal);
        if (Date.now() >= this.expiresAt && !this.stopped) return this.lose({ id: this.id, reason: "unreachable", error: err });
      } finally {
        // Every way out of a stream ends it: a call left open would hold its connection (and the process).
        void call.cancel().catch(() => {});
      }
    }
    return undefined;
  }

  private lose(loss: LeaseLoss): LeaseLoss {
    this.lostWith = loss;
    this.stopped = true;
    this.client.disown(this);
    this.client.logger?.warn?.(`etcd lease ${this.id.toString(16)} lost (${loss.reason})`);
    try {
      this.emit("lost", loss);
    } catch (err) {
      // A throwing listener must not turn into an unhandled rejection of `done`.
      this.client.logger?.error?.(`a "lost" listener of etcd lease ${this.id.toString(16)} threw: ${(err as Error)?.message}`);
    }
    return loss;
  }
}
