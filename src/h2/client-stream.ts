// A stream as the client sees it: its request went out with the HEADERS that opened it; the
// response arrives as 'response' (headers), 'data', 'trailers' and 'end'.
import { H2Stream } from "./stream.js";
import type { H2ClientSession } from "./client-session.js";

export class H2ClientStream extends H2Stream {
  declare readonly session: H2ClientSession;
  /** @internal the response headers arrived (a second block is trailers) */
  gotResponse = false;
}
