// The dns: resolver: every address node:dns lookup() gives for a host name (A and AAAA, in the
// order the system prefers), re-resolved when a subchannel loses its connection, but never
// more often than a floor (grpc-js `grpc.dns_min_time_between_resolutions_ms`, default 30 s).
import { lookup } from "node:dns/promises";
import * as net from "node:net";
import type { ResolvedAddress, Resolver, ResolverListener } from "./resolver.js";

/** grpc-js DEFAULT_MIN_TIME_BETWEEN_RESOLUTIONS_MS. */
export const DEFAULT_DNS_MIN_TIME_BETWEEN_RESOLUTIONS_MS = 30_000;

export class DnsResolver implements Resolver {
  private listener: ResolverListener | undefined;
  private closed = false;
  private resolving = false;
  private lastStartedAt = -Infinity;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly minTimeMs = DEFAULT_DNS_MIN_TIME_BETWEEN_RESOLUTIONS_MS,
  ) {}

  start(listener: ResolverListener): void {
    this.listener = listener;
    this.resolve();
  }

  refresh(): void {
    if (this.closed || this.resolving || this.timer) return;
    const wait = this.lastStartedAt + this.minTimeMs - Date.now();
    if (wait <= 0) return this.resolve();
    // Rate-limited: one resolution at the end of the floor; unref'd so it never holds the process.
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.resolve();
    }, wait);
    this.timer.unref();
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private resolve(): void {
    if (this.closed || !this.listener) return;
    this.resolving = true;
    this.lastStartedAt = Date.now();
    const done = (addresses: ResolvedAddress[] | undefined, err?: Error) => {
      this.resolving = false;
      if (this.closed) return;
      if (addresses) this.listener!.onAddresses(addresses);
      else this.listener!.onError(err!);
    };
    if (net.isIP(this.host) !== 0) {
      queueMicrotask(() => done([{ host: this.host, port: this.port }]));
      return;
    }
    lookup(this.host, { all: true }).then(
      (found) => {
        // Duplicates (the same address for several socket types) would make duplicate subchannels.
        const seen = new Set<string>();
        const list: ResolvedAddress[] = [];
        for (const f of found) if (!seen.has(f.address)) seen.add(f.address), list.push({ host: f.address, port: this.port });
        done(list);
      },
      (err: Error) => done(undefined, new Error(`DNS lookup of ${this.host} failed: ${err.message}`, { cause: err })),
    );
  }
}
