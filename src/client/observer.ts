// The observation seam of the client: client metrics and channelz learn about calls here.
// Synchronous and free while nobody observes (a call checks one field).
import type { ClientSessionLike } from "../grpc/transport.js";
import type { MethodKind } from "../service/method.js";
import type { Code } from "../status.js";

/** What an observer can read of one client call. */
export interface ObservedClientCall {
  readonly method: { readonly path: string; readonly kind: MethodKind };
  /** The channel's target as given (`dns:///host:port`, `127.0.0.1:50051`, ...). */
  readonly target: string;
  /** `performance.now()` when the request was started. */
  readonly startedAt: number;
  readonly messagesSent: number;
  readonly messagesReceived: number;
  /** The connection the call's stream runs on, once opened (channelz counts per connection). */
  readonly connection?: ClientSessionLike | undefined;
}

/** Listens to a channel's calls; every member is optional, synchronous and must be cheap. */
export interface ClientObserver {
  /** The call's request is being sent (its stream is being opened). */
  callStarted?(call: ObservedClientCall): void;
  messageSent?(call: ObservedClientCall): void;
  messageReceived?(call: ObservedClientCall): void;
  /** The call has its final status. */
  callEnded?(call: ObservedClientCall, code: Code, durationMs: number): void;
}

type Member = keyof ClientObserver;

/** The observers of one channel, called in registration order. */
export class ClientObserverSet {
  private list: ClientObserver[] = [];

  get active(): boolean {
    return this.list.length > 0;
  }

  /** Adds an observer; returns a function that removes it. */
  add(observer: ClientObserver): () => void {
    this.list = [...this.list, observer];
    return () => {
      this.list = this.list.filter((o) => o !== observer);
    };
  }

  callStarted(call: ObservedClientCall): void {
    for (const o of this.list) if (o.callStarted) guarded("callStarted", () => o.callStarted!(call));
  }

  messageSent(call: ObservedClientCall): void {
    for (const o of this.list) if (o.messageSent) guarded("messageSent", () => o.messageSent!(call));
  }

  messageReceived(call: ObservedClientCall): void {
    for (const o of this.list) if (o.messageReceived) guarded("messageReceived", () => o.messageReceived!(call));
  }

  callEnded(call: ObservedClientCall, code: Code, durationMs: number): void {
    for (const o of this.list) if (o.callEnded) guarded("callEnded", () => o.callEnded!(call, code, durationMs));
  }
}

/** An observer's failure is a warning, never a failed call. */
function guarded(member: Member, fn: () => void): void {
  try {
    fn();
  } catch (err) {
    process.emitWarning(`a client observer's ${member}() threw: ${err instanceof Error ? err.message : String(err)}`, { type: "SwitchboardWarning", code: "ERR_SB_OBSERVER" });
  }
}
