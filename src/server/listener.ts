import * as http2 from "node:http2";
import { existsSync, unlinkSync, statSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { ErrorCode, SwitchboardError } from "../errors.js";
import type { ListenTarget } from "./address.js";
import type { ServerCredentials } from "./credentials.js";
import type { ResolvedServerOptions } from "./options.js";

/** One bound port: the HTTP/2 server object behind it and what it listens on. */
export interface Listener {
  readonly server: http2.Http2Server | http2.Http2SecureServer;
  readonly target: ListenTarget;
  /** The bound TCP port (0 for Unix sockets). */
  readonly port: number;
}

/** The HTTP/2 settings we advertise, from the server options. */
export function http2Settings(o: ResolvedServerOptions): http2.Settings {
  const settings: http2.Settings = {
    maxConcurrentStreams: o.maxConcurrentStreams,
    maxHeaderListSize: o.maxHeaderListSize,
  };
  if (o.initialWindowSize !== undefined) settings.initialWindowSize = o.initialWindowSize;
  if (o.maxFrameSize !== undefined) settings.maxFrameSize = o.maxFrameSize;
  return settings;
}

/** Creates the node:http2 server for one port and binds it. */
export async function bindListener(target: ListenTarget, credentials: ServerCredentials, o: ResolvedServerOptions): Promise<Listener> {
  const base: http2.ServerOptions = {
    settings: http2Settings(o),
    maxHeaderListPairs: o.maxHeaderListPairs,
    // nghttp2 keeps at most this many MB per session (headers, queued frames) before refusing streams.
    maxSessionMemory: 32,
  };
  const server = credentials.tls
    ? http2.createSecureServer({ ...base, ...credentials.tls, ALPNProtocols: ["h2"], allowHTTP1: false, handshakeTimeout: o.handshakeTimeoutMs })
    : http2.createServer(base);
  if (target.kind === "unix") removeStaleSocket(target.path);
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error) => reject(new SwitchboardError(ErrorCode.BIND_FAILED, `could not listen on ${describe(target)}: ${err.message}`, { cause: err }));
    server.once("error", onError);
    const done = () => {
      server.off("error", onError);
      resolve();
    };
    if (target.kind === "unix") server.listen(target.path, done);
    else server.listen({ host: target.host, port: target.port, ipv6Only: false }, done);
  });
  const addr = server.address();
  const port = addr && typeof addr === "object" ? (addr as AddressInfo).port : 0;
  return { server, target, port };
}

function describe(target: ListenTarget): string {
  return target.kind === "unix" ? `unix:${target.path}` : `${target.host ?? "*"}:${target.port}`;
}

/** A socket file left by a previous run would make listen() fail with EADDRINUSE. */
function removeStaleSocket(path: string): void {
  try {
    if (existsSync(path) && statSync(path).isSocket()) unlinkSync(path);
  } catch {
    // listen() reports the real problem if the path stays unusable.
  }
}
