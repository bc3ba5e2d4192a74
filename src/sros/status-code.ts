import { Code, codeName, isCode } from "../status.js";

/**
 * SR OS `StatusCode`: the 17 gRPC status codes, 0 (OK) to 16 (UNAUTHENTICATED). It is the
 * core `Code` enum under the seed's name, so values pass between both APIs unchanged.
 */
export { Code as StatusCode } from "../status.js";

/** A code for the wire: anything outside 0..16 is UNKNOWN, as the core's RpcError treats it. */
export function normalizeCode(code: number): Code {
  return isCode(code) ? code : Code.UNKNOWN;
}

/**
 * The details `abort(code)` sends when the handler gives none. The seed only says they are
 * "derived from the code"; the code's canonical name (e.g. "NOT_FOUND") is what every gRPC
 * implementation prints for a status, so a client shows something meaningful.
 */
export function detailsFor(code: Code): string {
  return codeName(code);
}
