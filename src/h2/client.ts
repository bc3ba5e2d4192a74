// Opening a client connection on the engine over a transport the caller made (TCP, TLS with
// ALPN "h2", a Unix socket, or an in-memory duplex).
import type { Duplex } from "node:stream";
import { H2ClientSession } from "./client-session.js";
import { DEFAULT_SESSION_OPTIONS, type H2SessionOptions } from "./options.js";

export interface H2ConnectOptions extends Partial<H2SessionOptions> {
  /** The request defaults: "http" or "https", and host[:port]. */
  scheme: string;
  authority: string;
}

/** Client defaults: responses may carry more metadata than requests are allowed. */
const CLIENT_DEFAULTS: Partial<H2SessionOptions> = { maxHeaderListSize: 64 * 1024 };

/** A client session on `socket`; it sends the preface at once and emits 'connect' when the socket is ready. */
export function connectH2(socket: Duplex, options: H2ConnectOptions): H2ClientSession {
  const { scheme, authority, ...rest } = options;
  return new H2ClientSession(socket, { ...DEFAULT_SESSION_OPTIONS, ...CLIENT_DEFAULTS, ...rest }, { scheme, authority });
}
