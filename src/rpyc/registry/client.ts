// rpyc's registry clients ("registrars"): UDPRegistryClient (broadcast by default) and
// TCPRegistryClient, plus discover(), rpyc.discover's counterpart.
import { ErrorCode, SwitchboardError } from "../../errors.js";
import { load } from "../brine.js";
import type { Logger } from "../logger.js";
import type { PyValue } from "../values.js";
import { DEFAULT_CLIENT_TIMEOUT, encodeRequest, MAX_DGRAM_SIZE, REGISTRY_PORT, REREGISTER_INTERVAL, secondsToMs } from "./common.js";
import { tcpExchange, udpExchange, type Outcome } from "./transport.js";

export interface RegisterOptions {
  /** The local address to send from: a server passes the address it listens on. Default: any. */
  interface?: string;
  /** Stops waiting for the registry's answer (register() then answers false). */
  signal?: AbortSignal;
}

/** What a server needs to announce itself, and a client to find servers (rpyc's RegistryClient). */
export interface RegistryClient {
  /** Seconds between two registrations of a running server. */
  readonly reregisterInterval: number;
  /** The (ip, port) of every server registered under `name` (any case); [] when none or no registry answered. */
  discover(name: string): Promise<Array<[string, number]>>;
  /** The registered names (only those with a server on `filterHost` when given); null when the registry does not allow listing. */
  list(filterHost?: string | null): Promise<string[] | null>;
  /** Registers `aliases` for the server listening on `port`; true once a registry acknowledged. */
  register(aliases: readonly string[], port: number, options?: RegisterOptions): Promise<boolean>;
  /** Removes the server on `port` (from the sender's address) under every name. */
  unregister(port: number): Promise<void>;
}

interface CommonOptions {
  /** The registry's port. Default 18811. */
  port?: number;
  /** Seconds to wait for an answer. Default 2. */
  timeout?: number;
  /** Seconds between two registrations by a running server. Default 60. */
  reregisterInterval?: number;
  /** Told why a registration or a query got no answer. */
  logger?: Logger;
}

export interface UDPRegistryClientOptions extends CommonOptions {
  /** Where to send: an address, or a broadcast address. Default "255.255.255.255". */
  ip?: string;
  /** Whether to broadcast. Default: when some part of `ip` is 255. */
  bcast?: boolean;
  /** Use IPv6 (never broadcasts). Default false. */
  ipv6?: boolean;
}

export interface TCPRegistryClientOptions extends CommonOptions {
  /** The registry's address. Default "127.0.0.1". */
  ip?: string;
}

abstract class RegistryClientBase implements RegistryClient {
  readonly ip: string;
  readonly port: number;
  readonly timeout: number;
  readonly reregisterInterval: number;
  protected readonly timeoutMs: number;
  protected readonly logger: Logger | undefined;

  constructor(ip: string, options: CommonOptions) {
    this.ip = ip;
    this.port = options.port ?? REGISTRY_PORT;
    this.timeout = options.timeout ?? DEFAULT_CLIENT_TIMEOUT;
    this.timeoutMs = secondsToMs(this.timeout, "timeout");
    this.reregisterInterval = options.reregisterInterval ?? REREGISTER_INTERVAL;
    secondsToMs(this.reregisterInterval, "reregisterInterval");
    this.logger = options.logger;
  }

  async discover(name: string): Promise<Array<[string, number]>> {
    const outcome = await this.exchange(encodeRequest("QUERY", [name]), MAX_DGRAM_SIZE);
    if (!outcome.ok) {
      this.logger?.debug?.(`registry ${this.ip}:${this.port}: no answer to QUERY ${name}: ${outcome.reason}`);
      return [];
    }
    return parseServers(decodeReply(outcome.data, "QUERY"));
  }

  async list(filterHost: string | null = null): Promise<string[] | null> {
    // A registry's LIST reply may outgrow one registration datagram: rpyc reads ten times as much.
    const outcome = await this.exchange(encodeRequest("LIST", [[filterHost]]), MAX_DGRAM_SIZE * 10);
    if (!outcome.ok) {
      this.logger?.debug?.(`registry ${this.ip}:${this.port}: no answer to LIST: ${outcome.reason}`);
      return [];
    }
    return parseNames(decodeReply(outcome.data, "LIST"));
  }

  abstract register(aliases: readonly string[], port: number, options?: RegisterOptions): Promise<boolean>;
  abstract unregister(port: number): Promise<void>;

  /** Sends a request and returns the reply bytes. */
  protected abstract exchange(data: Buffer, maxReply: number): Promise<Outcome>;
}

/**
 * rpyc's UDPRegistryClient: by default broadcasts to 255.255.255.255 and takes the first
 * answer; give `ip` to ask one registry.
 *
 * ```ts
 * const registrar = new UDPRegistryClient({ ip: "127.0.0.1" });
 * const servers = await registrar.discover("CALCULATOR");
 * ```
 */
export class UDPRegistryClient extends RegistryClientBase {
  readonly bcast: boolean;
  private readonly type: "udp4" | "udp6";

  constructor(options: UDPRegistryClientOptions = {}) {
    super(options.ip ?? "255.255.255.255", options);
    this.type = options.ipv6 ? "udp6" : "udp4";
    this.bcast = options.ipv6 ? false : (options.bcast ?? this.ip.split(".").includes("255"));
  }

  protected exchange(data: Buffer, _maxReply: number): Promise<Outcome> {
    // rpyc takes the first datagram that arrives, whoever sent it.
    return udpExchange({ ...this.target(), data, bindAddress: undefined, timeoutMs: this.timeoutMs, accept: () => "take" });
  }

  async register(aliases: readonly string[], port: number, options: RegisterOptions = {}): Promise<boolean> {
    this.logger?.info?.(`registering on ${this.ip}:${this.port}`);
    const outcome = await udpExchange({
      ...this.target(),
      data: encodeRequest("REGISTER", [[...aliases], port]),
      bindAddress: options.interface,
      timeoutMs: this.timeoutMs,
      signal: options.signal,
      // Only an "OK" from the registry port counts; anything else is noise on a broadcast domain.
      accept: (msg, rinfo) => (rinfo.port === this.port && isOk(msg) ? "take" : "skip"),
    });
    if (!outcome.ok) {
      this.logger?.warn?.(`no registry acknowledged (${outcome.reason})`);
      return false;
    }
    this.logger?.info?.(`registry acknowledged`);
    return true;
  }

  async unregister(port: number): Promise<void> {
    this.logger?.info?.(`unregistering from ${this.ip}:${this.port}`);
    const outcome = await udpExchange({ ...this.target(), data: encodeRequest("UNREGISTER", [port]), timeoutMs: this.timeoutMs });
    if (!outcome.ok) this.logger?.warn?.(`could not send UNREGISTER to ${this.ip}:${this.port}: ${outcome.reason}`);
  }

  private target(): { type: "udp4" | "udp6"; ip: string; port: number; broadcast: boolean } {
    return { type: this.type, ip: this.ip, port: this.port, broadcast: this.bcast };
  }
}

/**
 * rpyc's TCPRegistryClient: asks one registry, one connection per request, where broadcasts
 * do not pass.
 *
 * ```ts
 * const registrar = new TCPRegistryClient({ ip: "10.0.0.5" });
 * await registrar.register(["CALCULATOR"], 18861);
 * ```
 */
export class TCPRegistryClient extends RegistryClientBase {
  constructor(options: TCPRegistryClientOptions = {}) {
    super(options.ip ?? "127.0.0.1", options);
  }

  protected exchange(data: Buffer, maxReply: number): Promise<Outcome> {
    return tcpExchange({ ip: this.ip, port: this.port, data, timeoutMs: this.timeoutMs, maxReply, wantReply: true });
  }

  async register(aliases: readonly string[], port: number, options: RegisterOptions = {}): Promise<boolean> {
    this.logger?.info?.(`registering on ${this.ip}:${this.port}`);
    const outcome = await tcpExchange({
      ip: this.ip,
      port: this.port,
      data: encodeRequest("REGISTER", [[...aliases], port]),
      localAddress: options.interface,
      timeoutMs: this.timeoutMs,
      signal: options.signal,
      maxReply: MAX_DGRAM_SIZE,
      wantReply: true,
    });
    if (!outcome.ok) {
      this.logger?.warn?.(`could not register with ${this.ip}:${this.port}: ${outcome.reason}`);
      return false;
    }
    // rpyc counts any brine reply as success, "OK" or not.
    try {
      load(outcome.data);
    } catch {
      this.logger?.warn?.(`registry ${this.ip}:${this.port} sent no valid acknowledgement`);
      return false;
    }
    return true;
  }

  async unregister(port: number): Promise<void> {
    this.logger?.info?.(`unregistering from ${this.ip}:${this.port}`);
    const outcome = await tcpExchange({
      ip: this.ip,
      port: this.port,
      data: encodeRequest("UNREGISTER", [port]),
      timeoutMs: this.timeoutMs,
      maxReply: MAX_DGRAM_SIZE,
      wantReply: false,
    });
    if (!outcome.ok) this.logger?.warn?.(`could not unregister from ${this.ip}:${this.port}: ${outcome.reason}`);
  }
}

/**
 * The (ip, port) of every server registered under `name`, asking `registrar` (default: a UDP
 * broadcast to port 18811); throws RPYC_DISCOVERY when there is none (rpyc's DiscoveryError).
 */
export async function discover(name: string, registrar: RegistryClient = new UDPRegistryClient()): Promise<Array<[string, number]>> {
  const servers = await registrar.discover(name);
  if (servers.length === 0) throw new SwitchboardError(ErrorCode.RPYC_DISCOVERY, `no servers of ${JSON.stringify(name)} found`);
  return servers;
}

function isOk(data: Buffer): boolean {
  try {
    return load(data) === "OK";
  } catch {
    return false;
  }
}

function decodeReply(data: Buffer, command: string): PyValue {
  try {
    return load(data);
  } catch (err) {
    throw new SwitchboardError(ErrorCode.RPYC_PROTOCOL, `the registry's reply to ${command} is not brine`, { cause: err });
  }
}

function parseServers(reply: PyValue): Array<[string, number]> {
  const bad = (): never => {
    throw new SwitchboardError(ErrorCode.RPYC_PROTOCOL, "the registry's reply to QUERY is not a tuple of (host, port)");
  };
  if (!Array.isArray(reply)) return bad();
  return (reply as readonly PyValue[]).map((item): [string, number] => {
    if (!Array.isArray(item) || item.length !== 2) return bad();
    const [host, port] = item as readonly PyValue[];
    if (typeof host !== "string" || typeof port !== "number" || !Number.isSafeInteger(port)) return bad();
    return [host, port];
  });
}

function parseNames(reply: PyValue): string[] | null {
  if (reply === null || reply === undefined) return null;
  if (Array.isArray(reply) && (reply as readonly PyValue[]).every((n) => typeof n === "string")) return [...(reply as readonly string[])];
  throw new SwitchboardError(ErrorCode.RPYC_PROTOCOL, "the registry's reply to LIST is not a tuple of names");
}
