// Connecting to an RPyC server (ours or Python's): rpyc.connect, unix_connect, ssl_connect,
// connect_stream and connect_by_service. A client connection serves a root of its own too
// (a VoidService unless given), since the server may call back into it.
import net from "node:net";
import type { Duplex } from "node:stream";
import tls from "node:tls";
import { ErrorCode, SwitchboardError } from "../errors.js";
import type { ProtocolConfig } from "./config.js";
import { Connection } from "./connection.js";
import { discover, type RegistryClient } from "./registry/client.js";
import { VoidService } from "./service.js";

export interface ConnectOptions {
  /** What this side serves to the server (callbacks aside): a Service class or instance. Default VoidService. */
  service?: (new () => object) | object;
  config?: Partial<ProtocolConfig>;
  /** Seconds to wait for the TCP (and TLS) connection. Default 10. */
  connectTimeout?: number;
}

function rootOf(options: ConnectOptions): object {
  const s = options.service;
  if (s === undefined) return new VoidService();
  return typeof s === "function" ? new (s as new () => object)() : s;
}

/** Speaks RPyC over an already connected stream (rpyc.connect_stream). */
export async function connectStream(stream: Duplex, options: ConnectOptions = {}): Promise<Connection> {
  const conn = new Connection(stream, rootOf(options), options.config ? { config: options.config } : {});
  await conn.start();
  return conn;
}

function opened<T extends net.Socket>(socket: T, event: "connect" | "secureConnect", what: string, seconds: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new SwitchboardError(ErrorCode.RPYC_TIMEOUT, `connecting to ${what} timed out after ${seconds} s`));
    }, seconds * 1000);
    socket.once(event, () => {
      clearTimeout(timer);
      socket.off("error", onError);
      resolve(socket);
    });
    const onError = (err: Error): void => {
      clearTimeout(timer);
      reject(new SwitchboardError(ErrorCode.RPYC_CLOSED, `cannot connect to ${what}: ${err.message}`, { cause: err }));
    };
    socket.once("error", onError);
  });
}

/** rpyc.connect(host, port): a connection; `await conn.root` is the server's service. */
export async function connect(host: string, port: number, options: ConnectOptions = {}): Promise<Connection> {
  const socket = await opened(net.connect({ host, port }), "connect", `${host}:${port}`, options.connectTimeout ?? 10);
  socket.setNoDelay(true);
  return connectStream(socket, options);
}

/** rpyc.unix_connect(path). */
export async function unixConnect(path: string, options: ConnectOptions = {}): Promise<Connection> {
  const socket = await opened(net.connect({ path }), "connect", path, options.connectTimeout ?? 10);
  return connectStream(socket, options);
}

/** rpyc.ssl_connect: TLS (node:tls options: ca, cert, key, servername...) then RPyC. */
export async function sslConnect(host: string, port: number, tlsOptions: tls.ConnectionOptions = {}, options: ConnectOptions = {}): Promise<Connection> {
  const socket = await opened(tls.connect({ host, port, ...tlsOptions }), "secureConnect", `${host}:${port}`, options.connectTimeout ?? 10);
  socket.setNoDelay(true);
  return connectStream(socket, options);
}

/** rpyc.connect_by_service: discovers `name` with the registrar and connects to the first server that answers. */
export async function connectByService(name: string, registrar?: RegistryClient, options: ConnectOptions = {}): Promise<Connection> {
  const addresses = await discover(name, registrar);
  let last: unknown;
  for (const [host, port] of addresses) {
    try {
      return await connect(host, port, options);
    } catch (err) {
      last = err;
    }
  }
  throw new SwitchboardError(ErrorCode.RPYC_DISCOVERY, `no server of ${JSON.stringify(name)} could be reached`, { cause: last });
}
