// What a function running on a pool worker sees of its call. The ServerCall itself stays on
// the main thread (it owns the HTTP/2 stream), so the worker gets the facts that can be
// copied — method, metadata, peer, deadline — and an AbortSignal driven by messages.
import { Metadata } from "../metadata.js";
import type { CallInfo } from "./protocol.js";

/** The context a worker function receives as its second argument. */
export interface WorkerContext {
  /** The method being called. */
  readonly method: CallInfo["method"];
  /** Invocation metadata sent by the client (a copy: changes stay in the worker). */
  readonly metadata: Metadata;
  /** `ipv4:127.0.0.1:5000` and the like, as `ServerCallContext.peer`. */
  readonly peer: string;
  /** The client's user-agent header. */
  readonly userAgent: string | undefined;
  /** The call's deadline in `Date.now()` milliseconds; undefined when it has none. */
  readonly deadline: number | undefined;
  /**
   * Aborted when the call is cancelled, its deadline passes or the server stops; the reason
   * is an RpcError. A loop that never yields cannot see it: the pool ends such a task by
   * terminating its thread (`terminateOnCancel`).
   */
  readonly signal: AbortSignal;
  /** Milliseconds until the deadline; Infinity when there is none. */
  timeRemaining(): number;
}

/** A unary worker function: one request in, one response (or a promise of it) out. */
export type WorkerUnaryFunction<Req = any, Res = any> = (request: Req, ctx: WorkerContext) => Res | Promise<Res>;

/** A server-streaming worker function: returns an array, a generator or an async generator. */
export type WorkerStreamFunction<Req = any, Res = any> = (
  request: Req,
  ctx: WorkerContext,
) => Iterable<Res> | AsyncIterable<Res> | Promise<Iterable<Res> | AsyncIterable<Res>>;

/** Builds the context of one task inside the worker. */
export function workerContext(info: CallInfo, signal: AbortSignal): WorkerContext {
  const deadline = info.deadline;
  return {
    method: info.method,
    metadata: metadataOf(info.metadata),
    peer: info.peer,
    userAgent: info.userAgent,
    deadline,
    signal,
    timeRemaining: () => (deadline === undefined ? Infinity : Math.max(0, deadline - Date.now())),
  };
}

/** Rebuilds the metadata without validating again: the main thread decoded it from the wire. */
function metadataOf(record: CallInfo["metadata"]): Metadata {
  const md = new Metadata();
  for (const [key, value] of Object.entries(record)) {
    if (Array.isArray(value)) for (const one of value) md.pushTrusted(key, one);
    else md.pushTrusted(key, value);
  }
  return md;
}
