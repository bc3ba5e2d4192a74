// The grpclib form of Server.start (`start(host, port, options)` / `start(options)`): its
// options and their checks. Kept apart from the server so every refusal of a bad start()
// argument (ERR_SB_BAD_OPTION, before anything is bound) reads in one place.
import * as net from "node:net";
import { ErrorCode, SwitchboardError } from "../errors.js";
import type { ListenHandle, ListenTarget } from "./address.js";
import type { ServerCredentials } from "./credentials.js";
import { reusePortSupported, type ListenOptions } from "./listener.js";

/**
 * Options of the grpclib form `server.start(host, port, options)` / `server.start(options)`
 * (grpclib `Server.start(host, port, *, path, ssl, reuse_address, reuse_port, sock, backlog)`).
 */
export interface StartOptions {
  /** A Unix socket path to listen on (grpclib `path=`); host and port are omitted then. */
  path?: string;
  /**
   * An already-bound socket (grpclib `sock=`): a listening `net.Server` (its socket is taken
   * over: stop the Switchboard server, not the net.Server) or `{ fd }`, e.g. `{ fd: 3 }` from
   * systemd socket activation. Host, port and path are omitted then.
   */
  sock?: ListenHandle;
  /** Pending connections the kernel queues (listen(2) backlog; Node's default is 511, grpclib's 100). */
  backlog?: number;
  /** TLS for this port (grpclib `ssl=`); plaintext when omitted. */
  ssl?: ServerCredentials;
  /** SO_REUSEADDR (grpclib `reuse_address=`). Node.js always sets it on TCP listening sockets on Unix, so only `false` is refused. */
  reuseAddress?: boolean;
  /** SO_REUSEPORT (grpclib `reuse_port=`): several servers share one TCP port. Needs Node.js >= 22.12 on Linux or BSD; refused (ERR_SB_BAD_OPTION) elsewhere. */
  reusePort?: boolean;
}

/** Where start(host, port, options) / start(options) binds. */
export function startTarget(host: string | undefined, port: number | undefined, o: StartOptions): ListenTarget {
  const bad = (message: string) => new SwitchboardError(ErrorCode.BAD_OPTION, `server.start(): ${message}`);
  if (o.path !== undefined && o.sock !== undefined) throw bad("give path or sock, not both");
  if (o.path !== undefined || o.sock !== undefined) {
    if (host !== undefined || port !== undefined) throw bad(`host and port must be omitted with ${o.path !== undefined ? "path" : "sock"}`);
    if (o.path !== undefined) {
      if (typeof o.path !== "string" || o.path === "") throw bad("path must be a non-empty string");
      return { kind: "unix", path: o.path };
    }
    const sock = o.sock!;
    if (sock instanceof net.Server) {
      if (!sock.listening) throw bad("sock must be a listening net.Server (call listen() on it first)");
    } else if (typeof sock !== "object" || sock === null || !Number.isInteger((sock as { fd?: unknown }).fd) || (sock as { fd: number }).fd < 0) {
      throw bad("sock must be a listening net.Server or { fd } with a bound socket's file descriptor");
    }
    return { kind: "handle", handle: sock };
  }
  if (port === undefined) throw bad("needs a port (0 for any free one), a path or a sock");
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw bad(`bad port ${String(port)}`);
  if (host !== undefined && typeof host !== "string") throw bad("host must be a string or undefined");
  return { kind: "tcp", host: host === "" ? undefined : host, port };
}

/** The socket options of start(), checked against what this Node.js can do. */
export function listenOptions(target: ListenTarget, o: StartOptions): ListenOptions {
  const bad = (message: string) => new SwitchboardError(ErrorCode.BAD_OPTION, `server.start(): ${message}`);
  const out: ListenOptions = {};
  if (o.backlog !== undefined) {
    if (!Number.isInteger(o.backlog) || o.backlog <= 0) throw bad(`backlog must be a positive integer, not ${String(o.backlog)}`);
    out.backlog = o.backlog;
  }
  if (o.reuseAddress === false) throw bad("reuseAddress: false cannot be honoured: Node.js (libuv) always sets SO_REUSEADDR on TCP listening sockets");
  if (o.reusePort) {
    if (target.kind !== "tcp") throw bad("reusePort applies to TCP host/port listeners only");
    if (!reusePortSupported()) throw bad(`reusePort needs Node.js >= 22.12 (or >= 23.1); this is ${process.versions.node}`);
    out.reusePort = true;
  }
  return out;
}
