// Channel targets (gRPC naming, doc/naming.md): which addresses a channel may connect to, and
// the :authority its calls carry. Fixed targets (host:port, [v6]:port, unix:, ipv4:, ipv6:)
// give their addresses at once; dns: and any registered scheme give a Resolver that reports
// address lists over time.
import * as net from "node:net";
import { ErrorCode, SwitchboardError } from "../errors.js";
import { DnsResolver } from "./dns-resolver.js";
import { parseTargetUri, resolverFor, type ResolvedAddress, type Resolver, type ResolverFactory, type TargetUri } from "./resolver.js";

/** The port of a dns:, ipv4: or ipv6: address that names none (gRPC naming doc; grpc-js DEFAULT_PORT). */
export const DEFAULT_PORT = 443;

/** What a channel knows about its target before connecting. */
export interface ChannelTarget {
  /** :authority of every call (and the TLS name unless serverNameOverride says otherwise). */
  authority: string;
  /** The host name TLS verifies when an address is an IP literal (dns: names), if any. */
  servername?: string;
  /** Addresses known at once (fixed targets). */
  addresses?: ResolvedAddress[];
  /** Makes the resolver of a resolved target (started on the channel's first use). */
  createResolver?: () => Resolver;
}

export interface TargetOptions {
  /** TLS serverNameOverride: replaces the host part of the authority. */
  override?: string;
  /** Per-channel schemes, consulted before the global registry. */
  resolvers?: Readonly<Record<string, ResolverFactory>>;
  /** dns: floor between two resolutions (ms). */
  dnsMinTimeBetweenResolutionsMs?: number;
}

const BAD_TARGET = "must be host:port, [v6]:port, unix:/path, dns:[//authority/]host[:port], ipv4:a:p[,b:p], ipv6:[a]:p[,[b]:p] or scheme:endpoint of a registered resolver";

/** Parses a channel target; throws SwitchboardError BAD_ADDRESS for a malformed target or an unknown scheme. */
export function parseChannelTarget(raw: string, options: TargetOptions = {}): ChannelTarget {
  const { override } = options;
  const uri = parseTargetUri(raw);
  if (!uri) return hostPortTarget(raw, override);
  const custom = lookupFactory(uri.scheme, options.resolvers);
  if (custom) {
    // grpc-js: the default authority of a resolver-named target is its endpoint (the "path").
    const authority = override ?? (uri.endpoint || uri.authority || "localhost");
    return { authority, createResolver: () => custom(uri) };
  }
  switch (uri.scheme) {
    case "unix":
      return unixTarget(raw, override);
    case "dns":
      return dnsTarget(uri, options);
    case "ipv4":
    case "ipv6":
      return ipListTarget(uri, override);
    default:
      throw new SwitchboardError(ErrorCode.BAD_ADDRESS, `target ${JSON.stringify(raw)} has the unknown scheme ${JSON.stringify(uri.scheme)}: register a resolver for it (registerResolver) or pass it in ChannelOptions.resolvers`);
  }
}

function lookupFactory(scheme: string, perChannel: TargetOptions["resolvers"]): ResolverFactory | undefined {
  if (perChannel) {
    for (const [name, factory] of Object.entries(perChannel)) if (name.toLowerCase() === scheme) return factory;
  }
  return resolverFor(scheme);
}

function hostPortTarget(raw: string, override: string | undefined): ChannelTarget {
  const hp = splitHostPort(raw, undefined);
  if (!hp) throw new SwitchboardError(ErrorCode.BAD_ADDRESS, `target ${JSON.stringify(raw)} ${BAD_TARGET}`);
  const hostPort = `${hp.bracketed}:${hp.port}`;
  return {
    authority: override ? `${override}:${hp.port}` : hostPort,
    // A host name is connected to as given (the OS resolves it per connection), as before resolvers existed.
    addresses: [{ host: hp.host, port: hp.port }],
  };
}

function unixTarget(raw: string, override: string | undefined): ChannelTarget {
  const path = raw.startsWith("unix://") ? raw.slice("unix://".length) : raw.slice("unix:".length);
  if (!path) throw new SwitchboardError(ErrorCode.BAD_ADDRESS, `unix target ${JSON.stringify(raw)} has no path`);
  return { authority: override ?? "localhost", addresses: [{ path }] };
}

function dnsTarget(uri: TargetUri, options: TargetOptions): ChannelTarget {
  const hp = splitHostPort(uri.endpoint, DEFAULT_PORT);
  if (!hp) throw new SwitchboardError(ErrorCode.BAD_ADDRESS, `dns target ${JSON.stringify(uri.raw)} must name host[:port]`);
  const authority = options.override ? `${options.override}:${hp.port}` : uri.endpoint;
  const servername = net.isIP(hp.host) === 0 ? hp.host : undefined;
  const minMs = options.dnsMinTimeBetweenResolutionsMs;
  return {
    authority,
    ...(servername ? { servername } : {}),
    createResolver: () => new DnsResolver(hp.host, hp.port, minMs),
  };
}

function ipListTarget(uri: TargetUri, override: string | undefined): ChannelTarget {
  const family = uri.scheme === "ipv4" ? 4 : 6;
  const parts = uri.endpoint.split(",");
  const addresses: ResolvedAddress[] = [];
  for (const part of parts) {
    const hp = splitHostPort(part, DEFAULT_PORT);
    if (!hp || net.isIP(hp.host) !== family) throw new SwitchboardError(ErrorCode.BAD_ADDRESS, `${uri.scheme} target ${JSON.stringify(uri.raw)}: ${JSON.stringify(part)} is not an IPv${family} address with an optional port`);
    addresses.push({ host: hp.host, port: hp.port });
  }
  // grpc-js: the default authority of an IP list is its first entry.
  const first = parts[0]!;
  return { authority: override ? `${override}:${addresses[0]!.port}` : first, addresses };
}

/** `host:port`, `[v6]:port`, or (with a default port) `host` / `[v6]`; undefined when malformed. */
export function splitHostPort(s: string, defaultPort: number | undefined): { host: string; bracketed: string; port: number } | undefined {
  const m = /^(\[[^\]]+\]|[^:/[\]]+)(?::(\d{1,5}))?$/.exec(s);
  if (!m) {
    // A bare IPv6 literal (ipv6:::1 without brackets) with the default port.
    if (defaultPort !== undefined && net.isIPv6(s)) return { host: s, bracketed: `[${s}]`, port: defaultPort };
    return undefined;
  }
  if (m[2] === undefined && defaultPort === undefined) return undefined;
  const port = m[2] === undefined ? defaultPort! : Number(m[2]);
  if (port > 65535) return undefined;
  const host = m[1]!.startsWith("[") ? m[1]!.slice(1, -1) : m[1]!;
  return { host, bracketed: m[1]!, port };
}

/** A stable key per address: subchannels are reused across resolver updates by it. */
export function addressKey(a: ResolvedAddress): string {
  if (a.path !== undefined) return `unix:${a.path}`;
  return net.isIPv6(a.host ?? "") ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}
