// The request idle timeout (requestIdleTimeoutMs): unary-request calls whose request is not
// complete yet hold no maximumConcurrentRpcs slot, so a client that never finishes its request
// is ended by this sweep instead of holding its stream and buffers until it disconnects.
//
// One sweep over the waiting calls every timeout/8 (at most 1 s) instead of a timer per
// call: a call whose request completes at once (nearly all) costs one Map insert and
// delete. A call still waiting at a sweep gets a 'data' counter; one that shows no new
// DATA for requestIdleTimeoutMs is ended. It ends between the timeout and the timeout plus
// two sweep intervals after its last progress, never earlier.
import type { ServerCall } from "../call/server-call.js";
import { Code, RpcError, statusOf } from "../status.js";

/** Progress of a unary-request call whose request is not complete yet (see IdleSweep.sweepIdle). */
interface IdleWatch {
  /** DATA chunks seen so far, and at the last sweep. */
  chunks: number;
  seen: number;
  /** performance.now() when progress was last seen. */
  since: number;
  readonly onData: () => void;
}

/** The unary-request calls of one server that wait for the rest of their request. */
export class IdleSweep {
  /** Unary-request calls whose request is not complete: no slot yet, watched for idleness. */
  private readonly waiting = new Map<ServerCall, IdleWatch | null>();
  private sweepTimer: NodeJS.Timeout | undefined;

  constructor(private readonly requestIdleTimeoutMs: number) {}

  /** Calls watched now. */
  get size(): number {
    return this.waiting.size;
  }

  /** Starts watching a call whose request is not complete (nothing when the timeout is off). */
  watch(call: ServerCall): void {
    if (!Number.isFinite(this.requestIdleTimeoutMs)) return;
    this.waiting.set(call, null);
    if (this.sweepTimer === undefined) {
      this.sweepTimer = setInterval(() => this.sweepIdle(), Math.min(1000, Math.max(10, this.requestIdleTimeoutMs / 8)));
      this.sweepTimer.unref();
    }
  }

  /** The call's request is complete, or the call ended: no longer watched. */
  unwatch(call: ServerCall): void {
    const watch = this.waiting.get(call);
    if (watch === undefined) return;
    this.waiting.delete(call);
    if (watch) call.stream.off("data", watch.onData);
  }

  /** Stops sweeping (the server is stopping; its remaining calls are ended by the shutdown). */
  stop(): void {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
  }

  private sweepIdle(): void {
    const now = performance.now();
    const limit = this.requestIdleTimeoutMs;
    for (const [call, watch] of this.waiting) {
      if (watch === null) {
        const w: IdleWatch = { chunks: 0, seen: 0, since: now, onData: () => w.chunks++ };
        call.stream.on("data", w.onData);
        this.waiting.set(call, w);
      } else if (watch.chunks !== watch.seen) {
        watch.seen = watch.chunks;
        watch.since = now;
      } else if (now - watch.since >= limit) {
        this.expireIdle(call);
      }
    }
  }

  /** The request made no progress for requestIdleTimeoutMs: CANCELLED, then the stream is reset. */
  private expireIdle(call: ServerCall): void {
    this.unwatch(call);
    const reason = new RpcError(
      Code.CANCELLED,
      `request idle for ${this.requestIdleTimeoutMs} ms: no request data and no end of stream (requestIdleTimeoutMs)`,
    );
    // Trailers-only status with END_STREAM; the client, which has not ended its side, then gets RST_STREAM NO_ERROR.
    call.finish(statusOf(reason), undefined);
    call.cancelled(reason);
  }
}
