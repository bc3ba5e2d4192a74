// rpyc's registry servers: UDPRegistryServer answers datagrams (and broadcasts), and
// TCPRegistryServer answers one request per connection. Both share RegistryTable.
import dgram from "node:dgram";
import net from "node:net";
import { ErrorCode, SwitchboardError } from "../../errors.js";
import { dump, load } from "../brine.js";
import type { Logger } from "../logger.js";
import type { PyValue } from "../values.js";
import { DEFAULT_PRUNING_TIMEOUT, MAX_DGRAM_SIZE, REGISTRY_PORT, secondsToMs, TCP_SERVER_TIMEOUT } from "./common.js";
import { RegistryTable, type RegistryEntry } from "./table.js";

export interface RegistryServerOptions {
  /** The address to bind. Default "0.0.0.0" (every IPv4 interface); an IPv6 address binds IPv6. */
  host?: string;
  /** The port to bind; 0 picks a free one (read it back from `.port` after start()). Default 18811. */
  port?: number;
  /** Seconds after its last REGISTER an entry is dropped by the next QUERY for its name. Default 240. */
  pruningTimeout?: number;
  /** Whether LIST answers with the registered names; when false it answers None. Default false. */
  allowListing?: boolean;
  /** Told about ignored requests and socket errors. */
  logger?: Logger;
}

type State = "new" | "starting" | "listening" | "closed";

abstract class RegistryServerBase {
  readonly host: string;
  readonly pruningTimeout: number;
  readonly allowListing: boolean;
  protected readonly logger: Logger | undefined;
  protected readonly table: RegistryTable;
  protected state: State = "new";
  private requestedPort: number;
  private boundPort: number | undefined;
  private closing: Promise<void> | undefined;
  private abortStart: (() => void) | undefined;

  constructor(options: RegistryServerOptions = {}) {
    this.host = options.host ?? "0.0.0.0";
    this.requestedPort = options.port ?? REGISTRY_PORT;
    if (!Number.isInteger(this.requestedPort) || this.requestedPort < 0 || this.requestedPort > 65535) {
      throw new SwitchboardError(ErrorCode.BAD_OPTION, `port must be an integer 0..65535, got ${String(options.port)}`);
    }
    this.pruningTimeout = options.pruningTimeout ?? DEFAULT_PRUNING_TIMEOUT;
    this.allowListing = options.allowListing ?? false;
    this.logger = options.logger;
    this.table = new RegistryTable(secondsToMs(this.pruningTimeout, "pruningTimeout"), this.allowListing, this.logger);
  }

  /** The bound port once started (the assigned one when the option was 0), else the requested one. */
  get port(): number {
    return this.boundPort ?? this.requestedPort;
  }

  /** True once close() was called. */
  get closed(): boolean {
    return this.state === "closed";
  }

  /** Binds the socket; rejects with BIND_FAILED when the address cannot be bound. */
  async start(): Promise<void> {
    if (this.state === "closed") throw new SwitchboardError(ErrorCode.STOPPED, "the registry server is closed");
    if (this.state !== "new") throw new SwitchboardError(ErrorCode.ALREADY_STARTED, "the registry server is already started");
    this.state = "starting";
    const bound = this.bind(this.requestedPort);
    bound.catch(() => {});
    const closedMeanwhile = new Promise<never>((_, reject) => {
      this.abortStart = () => reject(new SwitchboardError(ErrorCode.STOPPED, "the registry server was closed while starting"));
    });
    try {
      this.boundPort = await Promise.race([bound, closedMeanwhile]);
    } catch (err) {
      await this.close();
      if (err instanceof SwitchboardError) throw err;
      throw new SwitchboardError(ErrorCode.BIND_FAILED, `could not bind the registry to ${this.host}:${this.requestedPort}: ${(err as Error).message}`, { cause: err });
    } finally {
      this.abortStart = undefined;
    }
    // close() may have come after the bind but before this continuation ran.
    if (this.closed) {
      await this.close();
      throw new SwitchboardError(ErrorCode.STOPPED, "the registry server was closed while starting");
    }
    this.state = "listening";
    this.logger?.debug?.(`registry: listening on ${this.host}:${this.port}`);
  }

  /** Stops serving and frees the socket; safe to call more than once. */
  close(): Promise<void> {
    this.state = "closed";
    this.abortStart?.();
    this.closing ??= this.release();
    return this.closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** The registered names and their servers, a copy (entries past the pruning timeout stay until a QUERY for their name). */
  services(): Map<string, RegistryEntry[]> {
    return this.table.services();
  }

  protected abstract bind(port: number): Promise<number>;
  protected abstract release(): Promise<void>;
}

/**
 * rpyc's UDPRegistryServer: answers each request datagram with a datagram from the registry
 * port, so clients on a LAN can find it by broadcast.
 *
 * ```ts
 * await using registry = new UDPRegistryServer({ port: 0 });
 * await registry.start();
 * ```
 */
export class UDPRegistryServer extends RegistryServerBase {
  private socket: dgram.Socket | undefined;

  protected bind(port: number): Promise<number> {
    const socket = dgram.createSocket(net.isIPv6(this.host) ? "udp6" : "udp4");
    this.socket = socket;
    return new Promise<number>((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      socket.once("error", onError);
      socket.bind(port, this.host, () => {
        socket.off("error", onError);
        // Later errors (a reply that could not be sent) are the client's problem, never the server's.
        socket.on("error", (err) => this.logger?.warn?.(`registry: UDP socket error: ${err.message}`));
        socket.on("message", (msg, rinfo) => this.onMessage(msg, rinfo));
        resolve(socket.address().port);
      });
    });
  }

  private onMessage(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    if (this.state !== "listening") return;
    // rpyc reads with recvfrom(MAX_DGRAM_SIZE): the rest of a longer datagram is lost.
    const result = this.table.handle(rinfo.address, msg.subarray(0, MAX_DGRAM_SIZE));
    if (result === null) return;
    this.socket?.send(dump(result.reply), rinfo.port, rinfo.address, (err) => {
      if (err) this.logger?.debug?.(`registry: could not reply to ${rinfo.address}:${rinfo.port}: ${err.message}`);
    });
  }

  protected release(): Promise<void> {
    const socket = this.socket;
    this.socket = undefined;
    if (socket === undefined) return Promise.resolve();
    return new Promise<void>((resolve) => {
      try {
        socket.close(() => resolve());
      } catch {
        // Never bound, or already closed.
        resolve();
      }
    });
  }
}

export interface TCPRegistryServerOptions extends RegistryServerOptions {
  /** Seconds a connection may take to deliver its request before it is dropped. Default 3. */
  timeout?: number;
  /** The most connections served at once; more are refused until some end. Default 256. */
  maxConnections?: number;
}

/**
 * rpyc's TCPRegistryServer: one request per connection (the client connects, sends, reads
 * the reply, and the registry closes), for networks where broadcasts do not pass.
 *
 * ```ts
 * await using registry = new TCPRegistryServer({ host: "127.0.0.1", port: 0 });
 * await registry.start();
 * ```
 */
export class TCPRegistryServer extends RegistryServerBase {
  readonly timeout: number;
  private readonly timeoutMs: number;
  private readonly maxConnections: number;
  private server: net.Server | undefined;
  private readonly connections = new Set<net.Socket>();

  constructor(options: TCPRegistryServerOptions = {}) {
    super(options);
    this.timeout = options.timeout ?? TCP_SERVER_TIMEOUT;
    this.timeoutMs = secondsToMs(this.timeout, "timeout");
    this.maxConnections = options.maxConnections ?? 256;
  }

  protected bind(port: number): Promise<number> {
    // allowHalfOpen: a client that ends its side right after sending still gets the reply.
    const server = net.createServer({ allowHalfOpen: true }, (socket) => this.onConnection(socket));
    server.maxConnections = this.maxConnections;
    this.server = server;
    return new Promise<number>((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      server.once("error", onError);
      server.listen({ host: this.host, port }, () => {
        server.off("error", onError);
        server.on("error", (err) => this.logger?.warn?.(`registry: TCP listener error: ${err.message}`));
        resolve((server.address() as net.AddressInfo).port);
      });
    });
  }

  private onConnection(socket: net.Socket): void {
    const host = socket.remoteAddress;
    if (this.state !== "listening" || host === undefined) {
      socket.destroy();
      return;
    }
    this.connections.add(socket);
    socket.on("close", () => this.connections.delete(socket));
    socket.on("error", (err) => this.logger?.debug?.(`registry: connection from ${host}: ${err.message}`));
    // A silent client must not hold a connection (rpyc's registry would block on it for good).
    socket.setTimeout(this.timeoutMs, () => socket.destroy());

    let received = Buffer.alloc(0);
    let done = false;
    const answer = (value: PyValue | undefined, complete: boolean): void => {
      // rpyc reads the request with one recv(MAX_DGRAM_SIZE); a request split across TCP
      // segments is read on until it decodes, up to the same size.
      if (value === undefined && !complete) return;
      done = true;
      const result = value === undefined ? null : this.table.handleValue(host, value);
      if (result === null) socket.destroy();
      else socket.end(dump(result.reply));
    };
    socket.on("data", (chunk: Buffer) => {
      if (done) return;
      received = Buffer.concat([received, chunk]).subarray(0, MAX_DGRAM_SIZE);
      answer(tryLoad(received), received.length >= MAX_DGRAM_SIZE);
    });
    socket.on("end", () => {
      if (!done) answer(tryLoad(received), true);
    });
  }

  protected release(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.connections) socket.destroy();
    this.connections.clear();
    if (server === undefined) return Promise.resolve();
    if (!server.listening) {
      // Closed while listen() was still under way: close it once it is up, or it stays open.
      server.once("listening", () => server.close());
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

// The request as a value, or undefined while the bytes are not (yet) brine.
function tryLoad(data: Uint8Array): PyValue | undefined {
  if (data.length === 0) return undefined;
  try {
    const value = load(data);
    // undefined is not a brine result; keep "no value" unambiguous.
    return value === undefined ? null : value;
  } catch {
    return undefined;
  }
}
