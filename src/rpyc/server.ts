// rpyc's server family on the event loop. Server accepts, authenticates and serves each
// connection; a Service class gives every connection its own instance, an instance is shared.
// On Node every connection is already independent (a slow call on one never delays another),
// so ThreadedServer and the event-loop server are Server under rpyc's names; OneShotServer
// closes after its first connection; ThreadPoolServer and ForkingServer (own files) move the
// work to threads or processes.
import net from "node:net";
import type { Duplex } from "node:stream";
import { ErrorCode, SwitchboardError } from "../errors.js";
import { resolveConfig, type ProtocolConfig } from "./config.js";
import { Connection } from "./connection.js";
import type { Logger } from "./logger.js";
import { AutoRegistrar } from "./registry/auto.js";
import { UDPRegistryClient, type RegistryClient } from "./registry/client.js";
import { serviceAliasesOf, Service } from "./service.js";

/** rpyc's AuthenticationError: an authenticator refuses the client (the server closes the socket without a word). */
export class AuthenticationError extends Error {
  override readonly name = "AuthenticationError";
}

/** What an authenticator gives back: the stream to speak RPyC on (e.g. TLS) and the credentials. */
export interface AuthResult {
  stream: Duplex;
  credentials: unknown;
}

/**
 * Runs on each accepted socket before any RPyC byte. Resolve with the stream to use and the
 * credentials (they reach the service as `conn.config.credentials`); reject (with
 * AuthenticationError or anything) to refuse: the server closes the socket without a word.
 * The socket arrives paused (nothing is read before the authenticator asks): use `read()`
 * (as readExactly does) or `resume()`; an authenticator should bound its wait itself.
 */
export type Authenticator = (socket: net.Socket) => Promise<AuthResult> | AuthResult;

/** A Service class (an instance per connection) or an object shared by every connection. */
export type ServiceSpec = (new () => object) | object;

export interface ServerOptions {
  /** Address to listen on. Default: every interface (rpyc's hostname=None). */
  hostname?: string;
  /** Default 0: the system picks one; read it back as `server.port` once started. */
  port?: number;
  /** Listen on this Unix socket instead of hostname/port. */
  socketPath?: string;
  /** Listen on IPv6 ("::" when no hostname is given). */
  ipv6?: boolean;
  /** Listen backlog. Default 511 (Node's). */
  backlog?: number;
  /** SO_REUSEADDR: Node always sets it on listening TCP sockets, so only true is possible. */
  reuseAddr?: boolean;
  authenticator?: Authenticator;
  /** Where to register. Default: a broadcasting UDPRegistryClient (used only with autoRegister). */
  registrar?: RegistryClient;
  /** Register the service's aliases while running. Default: true when a registrar is given. */
  autoRegister?: boolean;
  protocolConfig?: Partial<ProtocolConfig>;
  /** rpyc's accept timeout in seconds; accepting never blocks on Node, so this is accepted and unused. */
  listenerTimeout?: number;
  logger?: Logger;
}

export class Server {
  readonly service: ServiceSpec;
  readonly options: Readonly<ServerOptions>;
  readonly protocolConfig: Partial<ProtocolConfig>;
  readonly logger: Logger | undefined;
  /** The live connections. */
  readonly connections = new Set<Connection>();
  protected listener: net.Server | undefined;
  private registrar: AutoRegistrar | undefined;
  private closing: Promise<void> | undefined;
  private startPromise: Promise<void> | undefined;
  private boundPort = 0;
  private readonly sockets = new Set<net.Socket>();
  private nextConnId = 1;
  private readonly donePromise: Promise<void>;
  private resolveDone!: () => void;

  constructor(service: ServiceSpec, options: ServerOptions = {}) {
    if (options.socketPath !== undefined && (options.hostname !== undefined || (options.port ?? 0) !== 0))
      throw new SwitchboardError(ErrorCode.BAD_OPTION, "socketPath cannot be combined with hostname or port");
    if (options.reuseAddr === false) throw new SwitchboardError(ErrorCode.BAD_OPTION, "reuseAddr: false is not possible on Node (listening sockets always set SO_REUSEADDR)");
    this.service = service;
    this.options = { ...options };
    this.protocolConfig = { ...options.protocolConfig };
    this.logger = options.logger;
    this.donePromise = new Promise((resolve) => (this.resolveDone = resolve));
  }

  /** The port listened on (after start()); 0 for a Unix socket. */
  get port(): number {
    return this.boundPort;
  }

  get host(): string {
    return this.options.hostname ?? (this.options.ipv6 ? "::" : "0.0.0.0");
  }

  /** True once close() was called. */
  get closed(): boolean {
    return this.closing !== undefined;
  }

  /** Resolves when the server has closed (rpyc's start() returns then). */
  get done(): Promise<void> {
    return this.donePromise;
  }

  /** The service's names: what autoRegister registers. */
  get aliases(): string[] {
    const cls = (typeof this.service === "function" ? this.service : this.service.constructor) as typeof Service;
    return typeof cls.getServiceAliases === "function" ? cls.getServiceAliases() : serviceAliasesOf(cls);
  }

  /** Listens (and registers, with autoRegister); resolves once connections are accepted. */
  start(): Promise<void> {
    if (this.closing) return Promise.reject(new SwitchboardError(ErrorCode.STOPPED, "the server was closed"));
    this.startPromise ??= this.listen();
    return this.startPromise;
  }

  private async listen(): Promise<void> {
    const listener = net.createServer({ pauseOnConnect: true }, (socket) => this.onSocket(socket));
    this.listener = listener;
    const o = this.options;
    await new Promise<void>((resolve, reject) => {
      listener.once("error", reject);
      const done = (): void => {
        listener.off("error", reject);
        resolve();
      };
      if (o.socketPath !== undefined) listener.listen({ path: o.socketPath, backlog: o.backlog ?? 511 }, done);
      else listener.listen({ host: this.host, port: o.port ?? 0, backlog: o.backlog ?? 511, ipv6Only: false }, done);
    }).catch((err: unknown) => {
      throw new SwitchboardError(ErrorCode.BIND_FAILED, `cannot listen on ${o.socketPath ?? `${this.host}:${o.port ?? 0}`}: ${(err as Error).message}`, { cause: err });
    });
    listener.on("error", (err) => this.logger?.error?.("rpyc server: listener error", err));
    const addr = listener.address();
    this.boundPort = typeof addr === "object" && addr !== null ? addr.port : 0;
    const autoRegister = o.autoRegister ?? o.registrar !== undefined;
    if (autoRegister && o.socketPath === undefined) {
      const registrar = o.registrar ?? new UDPRegistryClient();
      const iface = o.hostname !== undefined && o.hostname !== "0.0.0.0" && o.hostname !== "::" ? o.hostname : undefined;
      this.registrar = new AutoRegistrar(registrar, this.aliases, this.boundPort, { ...(iface ? { interface: iface } : {}), ...(this.logger ? { logger: this.logger } : {}) });
      void this.registrar.start();
    }
  }

  private onSocket(socket: net.Socket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    this.sockets.add(socket);
    socket.once("close", () => this.sockets.delete(socket));
    socket.on("error", () => {}); // reported by the connection, or the socket is simply gone
    socket.setNoDelay(true);
    // nothing a connection does may reach the accept path: failures are logged, never thrown
    this.authenticateAndServe(socket).catch((err: unknown) => {
      this.logger?.error?.("rpyc server: serving a connection failed", err);
      socket.destroy();
    });
  }

  /** Runs the authenticator (if any) and serves the connection; a refusal closes the socket silently. */
  protected async authenticateAndServe(socket: net.Socket): Promise<void> {
    let stream: Duplex = socket;
    let credentials: unknown = null;
    const auth = this.options.authenticator;
    if (auth) {
      // A client that leaves ends its authentication, even with an authenticator that does not notice.
      let onClose!: () => void;
      const left = new Promise<never>((_, reject) => {
        onClose = () => reject(new AuthenticationError("the client closed the connection during authentication"));
        socket.once("close", onClose);
      });
      left.catch(() => {});
      try {
        ({ stream, credentials } = await Promise.race([(async () => auth(socket))(), left]));
      } catch (err) {
        // rpyc: AuthenticationError is an expected refusal (info), anything else a failure
        if ((err as Error | undefined)?.name === "AuthenticationError") this.logger?.info?.("rpyc server: client failed to authenticate, rejecting connection", err);
        else this.logger?.error?.("rpyc server: authenticator failed, rejecting connection", err);
        socket.off("close", onClose);
        socket.destroy();
        return;
      }
      socket.off("close", onClose);
      // closed meanwhile, or the client left during authentication: nothing to serve
      if (this.closing || stream.destroyed || socket.destroyed) {
        stream.destroy();
        socket.destroy();
        return;
      }
    }
    await this.serveClient(stream, credentials, socket);
  }

  /** The protocol config of one connection: the server's, plus credentials and endpoints. */
  protected connectionConfig(socket: net.Socket, credentials: unknown): ProtocolConfig {
    const where = (host: string | undefined, port: number | undefined): string =>
      port === undefined ? (host ?? this.options.socketPath ?? "") : host?.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
    return resolveConfig(this.protocolConfig, {
      credentials,
      endpoints: [where(socket.localAddress, socket.localPort), where(socket.remoteAddress, socket.remotePort) || (this.options.socketPath ?? "")],
      connid: `conn${this.nextConnId++}`,
      ...(this.logger ? { logger: this.logger } : {}),
    });
  }

  /** The root object of a new connection: a fresh instance of a Service class, or the shared object. */
  protected rootFor(): object {
    return typeof this.service === "function" ? new (this.service as new () => object)() : this.service;
  }

  /** Serves one connection until it ends. */
  protected async serveClient(stream: Duplex, credentials: unknown, socket: net.Socket): Promise<void> {
    const conn = new Connection(stream, this.rootFor(), { config: this.connectionConfig(socket, credentials) });
    this.connections.add(conn);
    try {
      await conn.start();
      await conn.closed;
    } finally {
      this.connections.delete(conn);
    }
  }

  /** Stops listening, unregisters, and ends every connection (and authentication in progress). Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    await this.startPromise?.catch(() => {});
    const unregister = this.registrar?.stop();
    const listener = this.listener;
    const stopped = listener?.listening ? new Promise<void>((resolve) => listener.close(() => resolve())) : Promise.resolve();
    const ended = [...this.connections].map((conn) => conn.closed);
    for (const conn of this.connections) conn.destroy();
    for (const s of this.sockets) s.destroy();
    // done means every connection has ended (its onDisconnect ran) and the name is unregistered
    await Promise.all([stopped, unregister, ...ended]);
    this.resolveDone();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/** rpyc's ThreadedServer: every connection independent of the others (here, on the event loop). */
export class ThreadedServer extends Server {}

/** The role of rpyc's GeventServer: cooperative connections on one event loop. */
export class EventLoopServer extends Server {}

/** Serves one connection, then closes. */
export class OneShotServer extends Server {
  private taken = false;

  protected override async authenticateAndServe(socket: net.Socket): Promise<void> {
    if (this.taken) {
      socket.destroy();
      return;
    }
    this.taken = true;
    // no second connection is accepted while the first is served
    this.listener?.close();
    try {
      await super.authenticateAndServe(socket);
    } finally {
      await this.close();
    }
  }
}
