// What the HTTP and WebSocket server transports share about their endpoint: the path check,
// listening, and the bound address and URL read back (port 0 picks a free port).
import type * as http from "node:http";
import type { AddressInfo } from "node:net";
import { ErrorCode, SwitchboardError } from "../../errors.js";

/** `/a/b?x=1` -> `/a/b`; a missing target counts as `/`. */
export function pathOf(url: string | undefined): string {
  if (!url) return "/";
  const q = url.indexOf("?");
  return q < 0 ? url : url.slice(0, q);
}

/** Listens on `host:port` (defaults 127.0.0.1 and 0); rejects with the listen error. */
export function listenOn(server: http.Server, port = 0, host = "127.0.0.1"): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

/** The TCP address `server` is bound to; `what` names the transport in the error. */
export function boundAddress(server: http.Server, what: string): AddressInfo {
  const a = server.address();
  if (a === null || typeof a === "string") throw new SwitchboardError(ErrorCode.TRANSPORT, `${what} server is not listening on a TCP port`);
  return a;
}

/** `scheme://host:port/path`, with IPv6 hosts in brackets. */
export function endpointUrl(address: AddressInfo, scheme: "http" | "ws", path: string): string {
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return `${scheme}://${host}:${address.port}${path}`;
}
