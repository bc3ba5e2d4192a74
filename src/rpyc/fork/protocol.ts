// Messages between a ForkingServer and the child process serving one connection (IPC with
// Node's "advanced" serialization, so Buffers and structured credentials arrive intact).
import type { ProtocolConfig } from "../config.js";

/** Parent -> child, once: the connection to serve (the socket handle travels with it, unless relay). */
export interface ForkHello {
  t: "serve";
  /** The protocol config without what cannot cross a process (the logger). */
  config: Partial<ProtocolConfig>;
  credentials: unknown;
  /** Bytes the authenticator read past its token: the first bytes of the RPyC stream. */
  leftover: Uint8Array | null;
  /** The bytes come through the relay pipe on fd 4 rather than a socket handle. */
  relay: boolean;
}

export type FromForkChild = { t: "ready" } | { t: "load-error"; message: string };
