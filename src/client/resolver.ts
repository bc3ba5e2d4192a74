// Name resolution for channels (gRPC naming, doc/naming.md): a target URI `scheme:[//authority/]endpoint`
// becomes a live list of addresses. Each scheme has a factory; a resolver reports every new
// address list (or an error) to its listener until it is closed. Built-in schemes are dns, unix,
// ipv4, ipv6 and plain host:port; `etcd` comes from src/etcd (etcdResolver()).

/** One address a subchannel can connect to. */
export interface ResolvedAddress {
  /** TCP host (IP literal or name) and port; absent for a Unix socket. */
  host?: string;
  port?: number;
  /** Unix socket path. */
  path?: string;
  /** Whatever the registry said about this address (etcd endpoint Metadata), if anything. */
  metadata?: unknown;
}

/** A parsed target URI (RFC 3986 as gRPC's naming doc uses it). */
export interface TargetUri {
  /** Lower-case scheme, e.g. "dns", "etcd", "unix", "ipv4". */
  scheme: string;
  /** The authority between `//` and the next `/` ("" when absent). */
  authority: string;
  /** The rest after the authority's `/` (or after `scheme:` when there is no `//`). */
  endpoint: string;
  /** The target exactly as given. */
  raw: string;
}

export interface ResolverListener {
  /** A complete new address list (may be empty: no server registered right now). */
  onAddresses(addresses: ResolvedAddress[]): void;
  /** Resolution failed; the channel keeps its last good list and the resolver retries on its own or on refresh(). */
  onError(err: Error): void;
}

export interface Resolver {
  /** Starts resolving; the listener hears the first result asynchronously. */
  start(listener: ResolverListener): void;
  /** Asks for a re-resolution (a subchannel lost its connection); resolvers may rate-limit it. */
  refresh(): void;
  /** Stops; no listener calls after it. */
  close(): void;
}

export type ResolverFactory = (target: TargetUri) => Resolver;

const factories = new Map<string, ResolverFactory>();

/** Makes `scheme:` targets resolvable by every channel created afterwards (grpc-js registerResolver). */
export function registerResolver(scheme: string, factory: ResolverFactory): void {
  factories.set(scheme.toLowerCase(), factory);
}

/** The factory registered for a scheme, if any. */
export function resolverFor(scheme: string): ResolverFactory | undefined {
  return factories.get(scheme.toLowerCase());
}

/**
 * Splits a target into scheme, authority and endpoint when it has the form `scheme:...` with a
 * registered or built-in scheme syntax (letters, digits, + - .); `host:port` targets have no
 * scheme (their "scheme" would be a host name followed by digits only) and give undefined.
 */
export function parseTargetUri(raw: string): TargetUri | undefined {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):(.*)$/s.exec(raw);
  if (!m) return undefined;
  const rest = m[2]!;
  // "localhost:50051": a port, not an opaque endpoint.
  if (/^\d+$/.test(rest)) return undefined;
  const scheme = m[1]!.toLowerCase();
  if (rest.startsWith("//")) {
    const slash = rest.indexOf("/", 2);
    return slash < 0
      ? { scheme, authority: rest.slice(2), endpoint: "", raw }
      : { scheme, authority: rest.slice(2, slash), endpoint: rest.slice(slash + 1), raw };
  }
  return { scheme, authority: "", endpoint: rest, raw };
}
