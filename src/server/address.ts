import type * as net from "node:net";
import { ErrorCode, SwitchboardError } from "../errors.js";

/**
 * An already-bound socket to serve on (grpclib `start(sock=)`): a listening `net.Server`
 * (its socket is taken over) or `{ fd }`, a file descriptor of a bound socket, e.g. one a
 * process manager passed down (systemd socket activation hands over fd 3).
 */
export type ListenHandle = net.Server | { fd: number };

/** Where to listen: a TCP host and port, a Unix socket path, or an already-bound socket. */
export type ListenTarget =
  | { kind: "tcp"; host: string | undefined; port: number }
  | { kind: "unix"; path: string }
  | { kind: "handle"; handle: ListenHandle };

/**
 * Parses gRPC-style addresses: `host:port`, `[::]:port`, `:port` (all interfaces),
 * `unix:/path` and `unix:///path`.
 */
export function parseAddress(address: string): ListenTarget {
  if (address.startsWith("unix:")) {
    const path = address.startsWith("unix://") ? address.slice("unix://".length) : address.slice("unix:".length);
    if (!path) throw new SwitchboardError(ErrorCode.BAD_ADDRESS, `unix address ${JSON.stringify(address)} has no path`);
    return { kind: "unix", path };
  }
  let host: string;
  let portText: string;
  if (address.startsWith("[")) {
    const close = address.indexOf("]");
    if (close < 0 || address[close + 1] !== ":") throw new SwitchboardError(ErrorCode.BAD_ADDRESS, `bad IPv6 address ${JSON.stringify(address)}; use [addr]:port`);
    host = address.slice(1, close);
    portText = address.slice(close + 2);
  } else {
    const colon = address.lastIndexOf(":");
    if (colon < 0) throw new SwitchboardError(ErrorCode.BAD_ADDRESS, `address ${JSON.stringify(address)} needs a port (host:port)`);
    host = address.slice(0, colon);
    portText = address.slice(colon + 1);
  }
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) throw new SwitchboardError(ErrorCode.BAD_ADDRESS, `address ${JSON.stringify(address)} has a bad port`);
  return { kind: "tcp", host: host === "" ? undefined : host, port };
}
