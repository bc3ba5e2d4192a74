import type { ServerCallContext } from "../call/context.js";
import { ErrorCode, SwitchboardError } from "../errors.js";
import { Code, RpcError } from "../status.js";

/**
 * How a taken RPC reports to the `handleRpc()` that took it, exactly once: with nothing when it
 * was handled, or with what `handleRpc()` rejects with.
 */
export type Settle = (failure?: unknown) => void;

/** Limits on RPCs that arrived while no `handleRpc()` was waiting. */
export interface QueueLimits {
  readonly maxPending: number;
  readonly pendingTimeoutMs: number;
}

/** What `handleRpc()` accepts. */
export interface HandleRpcOptions {
  /** Give up when no RPC arrives within this many ms (ERR_SB_WAIT_TIMEOUT). Default: wait until the server stops. */
  timeoutMs?: number;
  /** Give up when this signal aborts (rejects with its reason). */
  signal?: AbortSignal;
}

interface WaitingRpc {
  grant(settle: Settle): void;
}

interface Taker {
  take(): Settle;
  fail(err: unknown): void;
}

/**
 * Pairs arriving RPCs with `handleRpc()` calls, first come first served. On SR OS the router
 * starts the script for an RPC, so one is always there to take; here RPCs and takers may come
 * in any order, so each side can wait for the other — both waits bounded.
 */
export class RpcQueue {
  private readonly rpcs: WaitingRpc[] = [];
  private readonly takers: Taker[] = [];
  private stopped = false;

  constructor(private readonly limits: QueueLimits) {}

  /**
   * For each arriving RPC: resolves with the taker's Settle once a `handleRpc()` takes it.
   * Rejects with the status for the client when nobody takes it in time, too many wait, or
   * the call ends first (client cancel, deadline, server stop) — the script never sees those.
   */
  admit(ctx: ServerCallContext): Promise<Settle> {
    const taker = this.takers.shift();
    if (taker) return Promise.resolve(taker.take());
    if (this.rpcs.length >= this.limits.maxPending) {
      return Promise.reject(new RpcError(Code.RESOURCE_EXHAUSTED, `${this.limits.maxPending} RPCs already wait for handleRpc()`));
    }
    const signal = ctx.signal;
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise<Settle>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", onAbort);
        remove(this.rpcs, entry);
      };
      const onAbort = () => {
        done();
        reject(signal.reason);
      };
      const timer = setTimeout(() => {
        done();
        reject(new RpcError(Code.UNAVAILABLE, `no handleRpc() took the RPC within ${this.limits.pendingTimeoutMs} ms`));
      }, this.limits.pendingTimeoutMs);
      const entry: WaitingRpc = {
        grant: (settle) => {
          done();
          resolve(settle);
        },
      };
      signal.addEventListener("abort", onAbort, { once: true });
      this.rpcs.push(entry);
    });
  }

  /** For `handleRpc()`: gives `settle` to the next RPC, now or when one arrives; `fail` when none will. */
  take(settle: Settle, options: HandleRpcOptions, fail: (err: unknown) => void): void {
    const rpc = this.rpcs.shift();
    if (rpc) return rpc.grant(settle);
    if (this.stopped) return fail(stoppedError());
    const { signal, timeoutMs } = options;
    if (signal?.aborted) return fail(signal.reason);
    let timer: NodeJS.Timeout | undefined;
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      remove(this.takers, taker);
    };
    const taker: Taker = {
      take: () => {
        done();
        return settle;
      },
      fail: (err) => {
        done();
        fail(err);
      },
    };
    const onAbort = () => taker.fail(signal!.reason);
    if (timeoutMs !== undefined) {
      timer = setTimeout(() => taker.fail(new SwitchboardError(ErrorCode.WAIT_TIMEOUT, `no RPC arrived within ${timeoutMs} ms`)), timeoutMs);
    }
    signal?.addEventListener("abort", onAbort, { once: true });
    this.takers.push(taker);
  }

  /** The server is stopping: waiting `handleRpc()` calls fail, and later ones once no RPC is left. */
  stop(): void {
    this.stopped = true;
    for (const taker of [...this.takers]) taker.fail(stoppedError());
  }
}

function stoppedError(): SwitchboardError {
  return new SwitchboardError(ErrorCode.STOPPED, "the server is stopping; no more RPCs will arrive");
}

function remove<T>(list: T[], item: T): void {
  const i = list.indexOf(item);
  if (i >= 0) list.splice(i, 1);
}
