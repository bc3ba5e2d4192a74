import * as http2 from "node:http2";
import * as net from "node:net";
import * as tls from "node:tls";
import { createH2Server, createSecureH2Server, type H2ServerOptions } from "../h2/index.js";
import { lstatSync, unlinkSync, type BigIntStats } from "node:fs";
import { ErrorCode, SwitchboardError } from "../errors.js";
import type { ListenTarget } from "./address.js";
import type { ServerCredentials } from "./credentials.js";
import type { ResolvedServerOptions } from "./options.js";

/** One bound port: the HTTP/2 server object behind it and what it listens on. */
export interface Listener {
  readonly server: net.Server;
  readonly target: ListenTarget;
  /** The bound TCP port (0 for Unix sockets). */
  readonly port: number;
}

/** Socket options for one listener (grpclib `Server.start(backlog=, reuse_port=)`). */
export interface ListenOptions {
  /** Pending connections the kernel queues before accept (listen(2) backlog; Node's default 511). */
  backlog?: number;
  /** SO_REUSEPORT: several processes listen on one TCP port and the kernel spreads connections (Node >= 22.12, Linux/BSD). */
  reusePort?: boolean;
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
export async function bindListener(target: ListenTarget, credentials: ServerCredentials, o: ResolvedServerOptions, listen: ListenOptions = {}): Promise<Listener> {
  const base: http2.ServerOptions = {
    settings: http2Settings(o),
    maxHeaderListPairs: o.maxHeaderListPairs,
    // nghttp2 keeps at most this many MB per session (headers, queued frames) before refusing streams.
    maxSessionMemory: 32,
  };
  // With HTTP/1.1 on, TLS offers http/1.1 too; such connections come out as 'unknownProtocol' (see Server.wire).
  const alpn = o.web.http1 ? ["h2", "http/1.1"] : ["h2"];
  if (o.transport === "switchboard") {
    if (credentials.tls && o.web.http1) return bindServer(secureWithHttp1(credentials.tls, o), target, listen);
    return bindServer(credentials.tls ? createSecureH2Server({ ...credentials.tls, handshakeTimeout: o.handshakeTimeoutMs }, engineOptions(o)) : createH2Server(engineOptions(o)), target, listen);
  }
  const server = credentials.tls
    ? http2.createSecureServer({ ...base, ...credentials.tls, ALPNProtocols: alpn, allowHTTP1: false, handshakeTimeout: o.handshakeTimeoutMs })
    : http2.createServer(base);
  // node:http2 offers only h2 unless it handles HTTP/1.1 itself (allowHTTP1, which would turn
  // h2 streams into compat requests too): the offer is widened on the TLS server it built.
  if (credentials.tls && o.web.http1) (server as unknown as { ALPNProtocols: Buffer }).ALPNProtocols = alpnWire(alpn);
  return bindServer(server, target, listen);
}

/**
 * Our engine over TLS with ALPN `h2` and `http/1.1`: h2 connections go to an h2c engine server
 * whose events this TLS server re-emits, so it looks like createSecureH2Server to the Server;
 * http/1.1 (or no ALPN) connections are emitted as 'unknownProtocol'.
 */
function secureWithHttp1(tlsOptions: tls.TlsOptions, o: ResolvedServerOptions): tls.Server {
  const server = tls.createServer({ ...tlsOptions, ALPNProtocols: ["h2", "http/1.1"], allowHalfOpen: true, handshakeTimeout: o.handshakeTimeoutMs });
  const h2 = createH2Server(engineOptions(o));
  h2.on("session", (session: unknown) => server.emit("session", session));
  h2.on("stream", (stream: unknown, headers: unknown, flags: unknown, raw: unknown) => server.emit("stream", stream, headers, flags, raw));
  h2.on("sessionError", (err: unknown, session: unknown) => server.emit("sessionError", err, session));
  server.on("secureConnection", (socket: tls.TLSSocket) => {
    if (socket.alpnProtocol === "h2") h2.emit("connection", socket);
    else if (!server.emit("unknownProtocol", socket)) socket.destroy();
  });
  return server;
}

/** ALPN protocol names in their wire form (each one length-prefixed), as node:tls keeps them. */
function alpnWire(names: readonly string[]): Buffer {
  return Buffer.concat(names.map((n) => Buffer.concat([Buffer.from([n.length]), Buffer.from(n, "latin1")])));
}

/** Options of our engine (src/h2) from the server options. */
export function engineOptions(o: ResolvedServerOptions): H2ServerOptions {
  const options: H2ServerOptions = {
    maxConcurrentStreams: o.maxConcurrentStreams,
    maxHeaderListSize: o.maxHeaderListSize,
    maxHeaderListPairs: o.maxHeaderListPairs,
    settingsTimeoutMs: o.handshakeTimeoutMs,
    // The engine counts resets as it reads them (the guard only sees them a tick later).
    resetBurst: o.guard.resetBurst,
    resetRatePerSecond: o.guard.resetRatePerSecond,
  };
  if (o.initialWindowSize !== undefined) options.initialWindowSize = o.initialWindowSize;
  if (o.connectionWindowSize !== undefined) options.connectionWindowSize = o.connectionWindowSize;
  if (o.maxFrameSize !== undefined) options.maxFrameSize = o.maxFrameSize;
  return options;
}

async function bindServer(server: net.Server, target: ListenTarget, listen: ListenOptions): Promise<Listener> {
  try {
    if (target.kind === "unix") await listenUnix(server, target.path, listen.backlog);
    else await listenOnce(server, target, listen);
  } catch (err) {
    if (err instanceof SwitchboardError) throw err;
    throw new SwitchboardError(ErrorCode.BIND_FAILED, `could not listen on ${describe(target)}: ${(err as Error).message}`, { cause: err });
  }
  const addr = server.address();
  const port = addr && typeof addr === "object" ? addr.port : 0;
  return { server, target, port };
}

function listenOnce(server: net.Server, target: ListenTarget, o: ListenOptions): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once("error", onError);
    const done = () => {
      server.off("error", onError);
      resolve();
    };
    const backlog = o.backlog === undefined ? {} : { backlog: o.backlog };
    if (target.kind === "unix") server.listen({ path: target.path, ...backlog }, done);
    else if (target.kind === "handle") server.listen(target.handle, o.backlog, done);
    else server.listen({ host: target.host, port: target.port, ipv6Only: false, ...backlog, ...(o.reusePort ? { reusePort: true } : {}) }, done);
  });
}

/**
 * Binds a Unix socket path. A socket file left behind by a process that died makes listen()
 * fail with EADDRINUSE; only then is the path probed by connecting to it: accepted means
 * another server owns it (a clear error; its file is left alone), refused means nobody
 * listens. A stale file is removed only if it is still the very file that was probed (same
 * inode), checked, removed and re-bound in one synchronous step (node binds a path inside
 * listen()), so a socket another server bound meanwhile is never deleted. A path that is not
 * a socket is never deleted either.
 */
async function listenUnix(server: net.Server, path: string, backlog: number | undefined): Promise<void> {
  const target: ListenTarget = { kind: "unix", path };
  try {
    return await listenOnce(server, target, { backlog });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EADDRINUSE") throw err;
  }
  for (let attempt = 0; attempt < 2; attempt++) {
    const probed = await probeUnixSocket(path);
    if (probed.state === "live") throw new SwitchboardError(ErrorCode.BIND_FAILED, `could not listen on unix:${path}: another server is listening on it`);
    if (probed.state === "not-a-socket") throw new SwitchboardError(ErrorCode.BIND_FAILED, `could not listen on unix:${path}: the path exists and is not a socket`);
    if (probed.state === "stale") {
      const now = statOrUndefined(path);
      // Replaced since the probe (another server bound it): look again. Inode numbers are
      // reused at once, so the file's change time (ns) tells a new file from the probed one.
      if (now !== undefined && (now.ino !== probed.ino || now.ctimeNs !== probed.ctimeNs)) continue;
      if (now !== undefined) unlinkSync(path);
    }
    try {
      return await listenOnce(server, target, { backlog });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EADDRINUSE") throw err;
    }
  }
  throw new SwitchboardError(ErrorCode.BIND_FAILED, `could not listen on unix:${path}: another server took the path while the stale socket was being replaced`);
}

type Probed = { state: "live" | "gone" | "not-a-socket" } | { state: "stale"; ino: bigint; ctimeNs: bigint };

/** How long a connect to a Unix socket may take before we call its owner alive but busy. */
const PROBE_TIMEOUT_MS = 1000;

/**
 * Whether a server accepts connections on `path`; for a stale socket file, which file it
 * was. The file is identified before connecting: a file bound after a refused connect is
 * then a different file, not mistaken for the stale one.
 */
async function probeUnixSocket(path: string): Promise<Probed> {
  const st = statOrUndefined(path);
  if (st === undefined) return { state: "gone" };
  // Connecting to a regular file is refused too: only a socket file can be stale.
  if (!st.isSocket()) return { state: "not-a-socket" };
  return new Promise((resolve, reject) => {
    const socket = net.connect({ path });
    const timer = setTimeout(() => finish({ state: "live" }), PROBE_TIMEOUT_MS);
    const finish = (probed: Probed) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(probed);
    };
    socket.once("connect", () => finish({ state: "live" }));
    socket.once("error", (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (err.code === "ECONNREFUSED") resolve({ state: "stale", ino: st.ino, ctimeNs: st.ctimeNs });
      else if (err.code === "ENOENT") resolve({ state: "gone" });
      // A full accept queue answers EAGAIN: someone is listening.
      else if (err.code === "EAGAIN") resolve({ state: "live" });
      else reject(err);
    });
  });
}

function statOrUndefined(path: string): BigIntStats | undefined {
  try {
    return lstatSync(path, { bigint: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}

function describe(target: ListenTarget): string {
  if (target.kind === "unix") return `unix:${target.path}`;
  if (target.kind === "handle") return "fd" in target.handle && typeof target.handle.fd === "number" ? `fd ${target.handle.fd}` : "the given socket";
  return `${target.host ?? "*"}:${target.port}`;
}

/** Node added `reusePort` to net's listen() in 22.12 and 23.1; older versions silently ignore it. */
export function reusePortSupported(version = process.versions.node): boolean {
  const [major = 0, minor = 0] = version.split(".").map(Number);
  return major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12);
}
