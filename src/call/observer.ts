// The observation seam of the server: metrics, OpenTelemetry, channelz and the dashboard all
// learn about calls and connections here. It is synchronous and free while nobody observes
// (a call checks one field), so the hot path pays nothing for features that are off.
import type { SessionLike } from "../grpc/transport.js";
import type { MethodInfo } from "../service/method.js";
import type { Code } from "../status.js";

/** The wire protocol a call arrived on. */
export type CallProtocol = "grpc" | "grpc-web" | "connect";

/** What an observer can read of one call (a ServerCall satisfies it). */
export interface ObservedCall {
  readonly method: MethodInfo;
  readonly peer: string;
  /** The connection the call runs on (undefined for calls not on a session). */
  readonly session: SessionLike | undefined;
  readonly protocol: CallProtocol;
  /** `performance.now()` when the call was dispatched. */
  readonly startedAt: number;
  readonly messagesReceived: number;
  readonly messagesSent: number;
}

/**
 * Listens to a server's calls and connections. Every member is optional; each runs
 * synchronously on the call path, so it must be cheap and must not throw (a throw is
 * reported as a process warning and the call goes on).
 */
export interface ServerObserver {
  /** A call was dispatched to a registered method (its handler may start later). */
  callStarted?(call: ObservedCall): void;
  /** One request message arrived on the call. */
  messageReceived?(call: ObservedCall): void;
  /** One response message was written on the call. */
  messageSent?(call: ObservedCall): void;
  /** The call is over on the wire: `code` is the status sent, CANCELLED when none went out. */
  callEnded?(call: ObservedCall, code: Code, durationMs: number): void;
  /**
   * A request answered with a status before it became a call (unknown method, bad headers,
   * overload, shutdown). `method` is undefined when the path names no registered method.
   */
  callRefused?(method: MethodInfo | undefined, code: Code, session: SessionLike | undefined, protocol: CallProtocol): void;
  /** A connection finished its handshake. */
  sessionOpened?(session: SessionLike): void;
  /** A connection closed. */
  sessionClosed?(session: SessionLike): void;
}

type Member = keyof ServerObserver;

/** The observers of one server, called in registration order; `active` is the hot-path check. */
export class ObserverSet {
  private list: ServerObserver[] = [];

  get active(): boolean {
    return this.list.length > 0;
  }

  /** Adds an observer; returns a function that removes it. */
  add(observer: ServerObserver): () => void {
    this.list = [...this.list, observer];
    return () => {
      this.list = this.list.filter((o) => o !== observer);
    };
  }

  callStarted(call: ObservedCall): void {
    for (const o of this.list) if (o.callStarted) guarded(o, "callStarted", () => o.callStarted!(call));
  }

  messageReceived(call: ObservedCall): void {
    for (const o of this.list) if (o.messageReceived) guarded(o, "messageReceived", () => o.messageReceived!(call));
  }

  messageSent(call: ObservedCall): void {
    for (const o of this.list) if (o.messageSent) guarded(o, "messageSent", () => o.messageSent!(call));
  }

  callEnded(call: ObservedCall, code: Code, durationMs: number): void {
    for (const o of this.list) if (o.callEnded) guarded(o, "callEnded", () => o.callEnded!(call, code, durationMs));
  }

  callRefused(method: MethodInfo | undefined, code: Code, session: SessionLike | undefined, protocol: CallProtocol): void {
    for (const o of this.list) if (o.callRefused) guarded(o, "callRefused", () => o.callRefused!(method, code, session, protocol));
  }

  sessionOpened(session: SessionLike): void {
    for (const o of this.list) if (o.sessionOpened) guarded(o, "sessionOpened", () => o.sessionOpened!(session));
  }

  sessionClosed(session: SessionLike): void {
    for (const o of this.list) if (o.sessionClosed) guarded(o, "sessionClosed", () => o.sessionClosed!(session));
  }
}

/** An observer's failure is a warning, never a failed call. */
function guarded(_o: ServerObserver, member: Member, fn: () => void): void {
  try {
    fn();
  } catch (err) {
    process.emitWarning(`a server observer's ${member}() threw: ${err instanceof Error ? err.message : String(err)}`, { type: "SwitchboardWarning", code: "ERR_SB_OBSERVER" });
  }
}
