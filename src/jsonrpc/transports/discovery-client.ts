// JSON-RPC over HTTP POST to a set of servers found by a resolver (etcd, dns, a static list):
// calls rotate over the addresses the resolver currently reports, and a server that refuses
// the connection is skipped for that call (the request never reached it, so sending it to the
// next one cannot run it twice). The same registry that gRPC channels resolve through serves
// JSON-RPC clients too.
import * as http from "node:http";
import { ErrorCode, SwitchboardError } from "../../errors.js";
import { parseTargetUri, resolverFor, type ResolvedAddress, type Resolver, type ResolverFactory } from "../../client/resolver.js";
import type { ClientTransport } from "../transport.js";
import { HttpClientTransport, type HttpClientTransportOptions } from "./http-client.js";

export interface DiscoveryHttpClientTransportOptions extends Omit<HttpClientTransportOptions, "agent"> {
  /** The URL path every server answers JSON-RPC on. Default "/". */
  path?: string;
  /** Resolvers for this transport only, by scheme (e.g. `{ etcd: etcdResolver(client) }`); else the registered ones. */
  resolvers?: Record<string, ResolverFactory>;
  /** How long a call waits for the first address list. Default 5000 ms. */
  firstResolutionMs?: number;
}

/** Connection errors that prove the request was not delivered. */
const NOT_DELIVERED = new Set(["ECONNREFUSED", "EHOSTUNREACH", "ENETUNREACH", "EADDRNOTAVAIL"]);

/**
 * A `ClientTransport` that POSTs each message to one of the servers a target resolves to,
 * e.g. `new DiscoveryHttpClientTransport("etcd:///services/jsonrpc.Calculator", { resolvers: { etcd: etcdResolver(client) } })`.
 */
export class DiscoveryHttpClientTransport implements ClientTransport {
  readonly #resolver: Resolver;
  readonly #agent = new http.Agent({ keepAlive: true });
  readonly #options: DiscoveryHttpClientTransportOptions;
  readonly #transports = new Map<string, HttpClientTransport>();
  #addresses: string[] = [];
  #resolved = false;
  #lastError: Error | undefined;
  #next = 0;
  #waiters: (() => void)[] = [];
  #closed = false;

  constructor(target: string | Resolver, options: DiscoveryHttpClientTransportOptions = {}) {
    this.#options = options;
    if (typeof target === "string") {
      const uri = parseTargetUri(target);
      const factory = uri && (options.resolvers?.[uri.scheme] ?? resolverFor(uri.scheme));
      if (!uri || !factory) throw new SwitchboardError(ErrorCode.BAD_ADDRESS, `no resolver for target ${JSON.stringify(target)} (register one, or pass resolvers: { scheme: factory })`);
      this.#resolver = factory(uri);
    } else {
      this.#resolver = target;
    }
    this.#resolver.start({
      onAddresses: (list) => {
        this.#addresses = list.flatMap(toUrlHost);
        this.#resolved = true;
        this.#lastError = undefined;
        for (const wake of this.#waiters.splice(0)) wake();
      },
      onError: (err) => {
        this.#lastError = err;
        for (const wake of this.#waiters.splice(0)) wake();
      },
    });
  }

  /** The servers calls currently rotate over, as `host:port`. */
  get addresses(): readonly string[] {
    return this.#addresses;
  }

  async sendMessage(message: Uint8Array, expectReply: boolean): Promise<Uint8Array | undefined> {
    if (this.#closed) throw new SwitchboardError(ErrorCode.TRANSPORT_CLOSED, "discovery HTTP client transport is closed");
    if (!this.#resolved) await this.#firstResolution();
    const addresses = this.#addresses;
    if (addresses.length === 0) {
      throw new SwitchboardError(ErrorCode.NO_ADDRESSES, `no server is registered for this target${this.#lastError ? ` (${this.#lastError.message})` : ""}`);
    }
    const start = this.#next++;
    let lastFailure: unknown;
    for (let i = 0; i < addresses.length; i++) {
      const transport = this.#transportFor(addresses[(start + i) % addresses.length]!);
      try {
        return await transport.sendMessage(message, expectReply);
      } catch (err) {
        const code = ((err as Error).cause as NodeJS.ErrnoException | undefined)?.code;
        if (!code || !NOT_DELIVERED.has(code)) throw err;
        lastFailure = err;
        this.#resolver.refresh();
      }
    }
    throw new SwitchboardError(ErrorCode.NO_ADDRESSES, `every server refused the connection (${addresses.join(", ")}): ${(lastFailure as Error).message}`, { cause: lastFailure });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#resolver.close();
    for (const wake of this.#waiters.splice(0)) wake();
    await Promise.all([...this.#transports.values()].map((t) => t.close()));
    this.#agent.destroy();
  }

  #transportFor(hostPort: string): HttpClientTransport {
    let t = this.#transports.get(hostPort);
    if (!t) {
      const { path = "/", resolvers: _r, firstResolutionMs: _f, ...http } = this.#options;
      t = new HttpClientTransport(`http://${hostPort}${path.startsWith("/") ? path : `/${path}`}`, { ...http, agent: this.#agent });
      this.#transports.set(hostPort, t);
    }
    return t;
  }

  #firstResolution(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, this.#options.firstResolutionMs ?? 5000);
      timer.unref();
      const waiters = this.#waiters;
      function done(): void {
        clearTimeout(timer);
        const i = waiters.indexOf(done);
        if (i >= 0) waiters.splice(i, 1);
        resolve();
      }
      waiters.push(done);
    });
  }
}

/** `host:port` for an HTTP URL; Unix-socket addresses cannot carry HTTP URLs here and are left out. */
function toUrlHost(a: ResolvedAddress): string[] {
  if (a.host === undefined || a.port === undefined) return [];
  return [a.host.includes(":") ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`];
}
