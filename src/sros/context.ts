import type { ServerCallContext } from "../call/context.js";
import type { Code } from "../status.js";
import { AbortError } from "./errors.js";
import { detailsFor, normalizeCode, type StatusCode } from "./status-code.js";

/** The status a handler chose with `abort()`. */
export interface AbortStatus {
  readonly code: Code;
  readonly details: string;
}

// Kept outside the class so the abort status is readable by the facade but is no part of
// the handler-facing API (the seed's Context has `rpc` and `abort` only).
const abortStatus = new WeakMap<Context, AbortStatus>();

/** The gRPC context passed to each handler (SR OS `grpcserver.Context`). */
export class Context {
  /**
   * The RPC called, including package and service: the gRPC method path
   * `/package.Service/Rpc` (`/Service/Rpc` for a service without a package).
   */
  readonly rpc: string;
  /**
   * The Switchboard call behind this RPC (metadata, peer, deadline, cancellation signal).
   * Not part of the seed; there the router keeps these to itself.
   */
  readonly call: ServerCallContext;

  constructor(call: ServerCallContext) {
    this.call = call;
    this.rpc = call.method.path;
  }

  /**
   * Sets the status code and details the client gets, and ends the handler by throwing an
   * AbortError. Without `details` they are the code's name (e.g. "NOT_FOUND"). Codes outside
   * 0..16 become UNKNOWN. Any code is accepted, OK too: aborting with OK ends the RPC
   * successfully without (further) responses.
   */
  abort(code: StatusCode | number, details?: string): never {
    const normalized = normalizeCode(code);
    const status: AbortStatus = { code: normalized, details: details ?? detailsFor(normalized) };
    // Like a setter, the latest call decides, even if the handler caught an earlier AbortError.
    abortStatus.set(this, status);
    throw new AbortError(status.code, status.details);
  }
}

/** The status set by `abort()` on this context, if it was called. */
export function abortStatusOf(context: Context): AbortStatus | undefined {
  return abortStatus.get(context);
}
