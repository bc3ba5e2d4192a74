import { ErrorCode } from "../errors.js";
import type { Code } from "../status.js";

/**
 * Thrown by `Context.abort()` to end the handler (SR OS `AbortError`). The facade catches it
 * and sends the status; `handleRpc()` then completes normally, since aborting is how a handler
 * answers with an error, not a failure of the handling.
 */
export class AbortError extends Error {
  override readonly name = "AbortError";
  constructor(
    /** The status code the client gets. */
    readonly statusCode: Code,
    /** The status message the client gets. */
    readonly details: string,
  ) {
    super(`RPC aborted with status ${statusCode}: ${details}`);
  }
}

/**
 * Why `handleRpc()` fails when no handler was added for the RPC it took (SR OS raises
 * Python's `NotImplementedError`); the client has been answered UNIMPLEMENTED.
 */
export class NotImplementedError extends Error {
  override readonly name = "NotImplementedError";
  readonly code = ErrorCode.NO_HANDLER;
  constructor(
    /** The RPC nobody handles, `/package.Service/Rpc`. */
    readonly rpc: string,
  ) {
    super(`no handler added for ${rpc} [${ErrorCode.NO_HANDLER}]`);
  }
}

/**
 * A handler's response does not fit the RPC's response type (SR OS raises TypeError or
 * ValueError when serializing it); the client has been answered INTERNAL. It is a TypeError,
 * so `instanceof TypeError` holds, with a stable `code`.
 */
export class ResponseTypeError extends TypeError {
  readonly code = ErrorCode.BAD_RESPONSE;
  constructor(
    readonly rpc: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`bad response from the handler for ${rpc}: ${reason} [${ErrorCode.BAD_RESPONSE}]`, options);
  }
}
