// Server factories for the engine: h2c with prior knowledge (and Unix sockets) on node:net,
// `h2` over TLS chosen by ALPN on node:tls. They emit what node:http2's servers emit
// ('session', 'stream', 'sessionError', 'unknownProtocol'), so the gRPC server treats both
// engines alike; a connection can also be handed over with emit("connection", duplex).
import * as net from "node:net";
import * as tls from "node:tls";
import type { Duplex } from "node:stream";
import { DEFAULT_SESSION_OPTIONS, type H2SessionOptions } from "./options.js";
import { H2ServerSession } from "./server-session.js";

export type H2ServerOptions = Partial<H2SessionOptions>;

/** An h2c server (prior knowledge): every accepted connection becomes an H2ServerSession. */
export function createH2Server(options: H2ServerOptions = {}): net.Server {
  const o = { ...DEFAULT_SESSION_OPTIONS, ...options };
  // Half-open allowed: a client that ends its side still gets the responses in flight.
  const server = net.createServer({ allowHalfOpen: true });
  server.on("connection", (socket: Duplex) => startSession(server, socket, o));
  return server;
}

/** An `h2` server over TLS; clients that do not choose h2 by ALPN are turned away. */
export function createSecureH2Server(tlsOptions: tls.TlsOptions, options: H2ServerOptions = {}): tls.Server {
  const o = { ...DEFAULT_SESSION_OPTIONS, ...options };
  const server = tls.createServer({ ...tlsOptions, ALPNProtocols: ["h2"], allowHalfOpen: true });
  server.on("secureConnection", (socket: tls.TLSSocket) => {
    if (socket.alpnProtocol !== "h2") {
      server.emit("unknownProtocol", socket);
      socket.destroy();
      return;
    }
    startSession(server, socket, o);
  });
  return server;
}

function startSession(server: net.Server, socket: Duplex, o: H2SessionOptions): H2ServerSession {
  const session = new H2ServerSession(socket, o);
  // Fixed arguments, not a rest array: this runs once per request.
  session.on("stream", (stream: unknown, headers: unknown, flags: unknown, raw: unknown) => server.emit("stream", stream, headers, flags, raw));
  session.on("error", (err: Error) => server.emit("sessionError", err, session));
  session.on("connectionError", (err: Error) => server.emit("sessionError", err, session));
  server.emit("session", session);
  return session;
}
