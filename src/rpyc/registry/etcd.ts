// An rpyc registrar on etcd: the RegistryClient interface (what AutoRegistrar and discover()
// use) over etcd's gRPC naming records, so rpyc servers and gRPC services share one registry.
// A registration lives under a lease kept alive between registrations: a crashed server's
// records expire with the TTL, unregister() revokes the lease and they vanish at once.
import { EtcdClient, type EtcdLogger } from "../../etcd/client.js";
import { encodeEndpoint, endpointKey, endpointsFrom, splitHostPort, type InvalidEndpoint } from "../../etcd/endpoints.js";
import type { LeaseKeepAlive } from "../../etcd/lease.js";
import type { RegisterOptions, RegistryClient } from "./client.js";

export interface EtcdRegistryClientOptions {
  /** A client to use, or etcd endpoints ("http://127.0.0.1:2379") for a client of its own. */
  etcd: EtcdClient | readonly string[];
  /** Key prefix (default "services/"): names live under `<prefix>rpyc/<NAME>/<host:port>`. */
  prefix?: string;
  /** The host other machines reach this server at. Default: the register() interface when it is specific, else 127.0.0.1. */
  advertiseHost?: string;
  /** Lease TTL in seconds (default 10): how long a crashed server stays discoverable. */
  ttlSeconds?: number;
  /** Seconds between AutoRegistrar's registrations (default 10): each rewrites the records, in case etcd lost them. */
  reregisterInterval?: number;
  /** Told about failed registrations and skipped malformed records. */
  logger?: EtcdLogger;
  onInvalid?: (bad: InvalidEndpoint) => void;
}

interface PortLease {
  id: bigint;
  keepAlive: LeaseKeepAlive;
  keys: Set<string>;
}

/**
 * rpyc's registrar interface on etcd.
 *
 * ```ts
 * const registrar = new EtcdRegistryClient({ etcd: ["http://127.0.0.1:2379"] });
 * const server = new ThreadedServer(MyService, { port: 18861, registrar });
 * const [[host, port]] = await discover("MY", registrar);
 * ```
 */
export class EtcdRegistryClient implements RegistryClient {
  readonly reregisterInterval: number;
  readonly client: EtcdClient;
  private readonly ownClient: boolean;
  private readonly prefix: string;
  private readonly ttl: number;
  private readonly leases = new Map<number, PortLease>();

  constructor(private readonly options: EtcdRegistryClientOptions) {
    this.ownClient = !(options.etcd instanceof EtcdClient);
    this.client = options.etcd instanceof EtcdClient ? options.etcd : new EtcdClient({ endpoints: options.etcd, logger: options.logger });
    this.prefix = `${options.prefix ?? "services/"}rpyc/`;
    this.ttl = options.ttlSeconds ?? 10;
    this.reregisterInterval = options.reregisterInterval ?? 10;
  }

  /** The etcd target of a service name (rpyc names are case-insensitive: stored upper-case). */
  target(name: string): string {
    return this.prefix + name.toUpperCase();
  }

  async discover(name: string): Promise<Array<[string, number]>> {
    let listing;
    try {
      listing = await this.client.getPrefix(`${this.target(name)}/`);
    } catch (err) {
      // rpyc's registrars answer "nothing found" when the registry is unreachable.
      this.options.logger?.debug?.(`etcd: no answer to discover ${name}: ${(err as Error).message}`);
      return [];
    }
    const out: Array<[string, number]> = [];
    for (const e of endpointsFrom(listing.kvs, (bad) => this.invalid(bad))) {
      const hp = splitHostPort(e.addr);
      if (hp) out.push([hp.host, hp.port]);
      else this.invalid({ key: e.key, value: "", reason: `Addr ${JSON.stringify(e.addr)} is not host:port` });
    }
    return out;
  }

  async list(filterHost: string | null = null): Promise<string[] | null> {
    let listing;
    try {
      listing = await this.client.getPrefix(this.prefix);
    } catch (err) {
      this.options.logger?.debug?.(`etcd: no answer to list: ${(err as Error).message}`);
      return [];
    }
    const names = new Set<string>();
    for (const e of endpointsFrom(listing.kvs, (bad) => this.invalid(bad))) {
      const name = e.key.slice(this.prefix.length).split("/")[0];
      if (!name) continue;
      if (filterHost != null && splitHostPort(e.addr)?.host !== filterHost) continue;
      names.add(name);
    }
    return [...names];
  }

  async register(aliases: readonly string[], port: number, options: RegisterOptions = {}): Promise<boolean> {
    const iface = options.interface;
    const host = this.options.advertiseHost ?? (iface && iface !== "0.0.0.0" && iface !== "::" ? iface : "127.0.0.1");
    const addr = host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
    try {
      let lease = this.leases.get(port);
      if (!lease || lease.keepAlive.lost) {
        const grant = await this.client.leaseGrant(this.ttl);
        const keepAlive = this.client.leaseKeepAlive(grant.id, { ttlSeconds: grant.ttl });
        lease = { id: grant.id, keepAlive, keys: new Set() };
        const previous = this.leases.get(port);
        this.leases.set(port, lease);
        if (previous) this.client.leaseRevoke(previous.id).catch(() => {});
      }
      for (const name of aliases) {
        if (options.signal?.aborted) return false;
        const key = endpointKey(this.target(name), addr);
        await this.client.put(key, encodeEndpoint(addr, null), { lease: lease.id });
        lease.keys.add(key);
      }
      return true;
    } catch (err) {
      this.options.logger?.warn?.(`could not register ${aliases.join(", ")} in etcd: ${(err as Error).message}`);
      return false;
    }
  }

  async unregister(port: number): Promise<void> {
    const lease = this.leases.get(port);
    if (!lease) return;
    this.leases.delete(port);
    lease.keepAlive.close();
    try {
      await this.client.leaseRevoke(lease.id);
    } catch (err) {
      this.options.logger?.warn?.(`could not unregister port ${port} from etcd (${(err as Error).message}); its records expire within ${this.ttl} s`);
    }
  }

  /** Stops every keep-alive (records then expire) and closes the client if it is the registrar's own. */
  close(): void {
    for (const l of this.leases.values()) l.keepAlive.close();
    this.leases.clear();
    if (this.ownClient) this.client.close();
  }

  private invalid(bad: InvalidEndpoint): void {
    this.options.logger?.warn?.(`etcd: skipping ${bad.key}: ${bad.reason}`);
    try {
      this.options.onInvalid?.(bad);
    } catch {
      // An observer's failure is not the registrar's.
    }
  }
}
