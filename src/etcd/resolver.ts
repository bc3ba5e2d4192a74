// The `etcd` name resolver: `etcd:///services/helloworld.Greeter` lists the endpoint records
// under `services/helloworld.Greeter/`, then follows them with a watch; every change yields the
// complete new address list. `etcd://127.0.0.1:2379/services/x` names the etcd to ask.
import type { ResolvedAddress, Resolver, ResolverFactory, ResolverListener, TargetUri } from "../client/resolver.js";
import { ErrorCode, SwitchboardError } from "../errors.js";
import { EtcdClient, type EtcdLogger } from "./client.js";
import { parseEndpointValue, splitHostPort, type InvalidEndpoint } from "./endpoints.js";
import type { EtcdKeyValue } from "./keys.js";
import type { EtcdWatcher } from "./watch.js";
import { Backoff } from "../backoff.js";
import { sleep } from "./util.js";

export interface EtcdResolverOptions {
  /** Told about malformed records (skipped) and retries. */
  logger?: EtcdLogger;
  /** Called with each malformed record skipped. */
  onInvalid?: (bad: InvalidEndpoint) => void;
}

/**
 * A ResolverFactory for `etcd:` targets on `client` (used when the target names no etcd; a
 * target with an authority gets a client of its own, closed with the resolver).
 *
 * ```ts
 * registerResolver("etcd", etcdResolver(new EtcdClient({ endpoints: ["http://127.0.0.1:2379"] })));
 * const channel = new Channel("etcd:///services/helloworld.Greeter");
 * ```
 */
export function etcdResolver(client: EtcdClient | undefined, options: EtcdResolverOptions = {}): ResolverFactory {
  return (target: TargetUri) => {
    const name = target.endpoint.replace(/^\/+/, "").replace(/\/+$/, "");
    if (!name) throw new SwitchboardError(ErrorCode.BAD_ADDRESS, `etcd target ${JSON.stringify(target.raw)} names no service (etcd:///services/my.Service)`);
    if (target.authority) return new EtcdResolver(new EtcdClient({ endpoints: [target.authority], logger: options.logger }), true, name, options);
    if (!client) throw new SwitchboardError(ErrorCode.BAD_ADDRESS, `etcd target ${JSON.stringify(target.raw)} names no etcd and the resolver has no client`);
    return new EtcdResolver(client, false, name, options);
  };
}

/** One etcd target followed live. */
export class EtcdResolver implements Resolver {
  private listener: ResolverListener | undefined;
  private watcher: EtcdWatcher | undefined;
  private closed = false;
  private readonly abort = new AbortController();
  /** The records now under the target, by key. */
  private readonly records = new Map<string, ResolvedAddress | null>();
  private listing: Promise<void> | undefined;

  constructor(
    private readonly client: EtcdClient,
    private readonly ownClient: boolean,
    /** The target's path, e.g. "services/helloworld.Greeter". */
    readonly name: string,
    private readonly options: EtcdResolverOptions = {},
  ) {}

  start(listener: ResolverListener): void {
    if (this.listener || this.closed) return;
    this.listener = listener;
    this.listing = this.listAndWatch();
  }

  /** The watch keeps the list current; a refresh has nothing to add. */
  refresh(): void {}

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.abort.abort();
    this.watcher?.close();
    if (this.ownClient) this.client.close();
  }

  /** Lists the target (retrying while etcd is unreachable), then watches from the listing's revision. */
  private async listAndWatch(): Promise<void> {
    const prefix = `${this.name}/`;
    const backoff = new Backoff(100, 2000);
    while (!this.closed) {
      try {
        const { kvs, revision } = await this.client.getPrefix(prefix);
        if (this.closed) return;
        this.reset(kvs);
        this.publish();
        this.watcher = this.client.watchPrefix(prefix, { fromRevision: revision + 1n, onError: (err) => this.emitError(err) }, (batch) => {
          if (this.closed) return;
          if (batch.kind === "reset") this.reset(batch.kvs);
          else for (const e of batch.events) e.type === "put" ? this.records.set(e.kv.key, this.toAddress(e.kv)) : this.records.delete(e.kv.key);
          this.publish();
        });
        return;
      } catch (err) {
        if (this.closed) return;
        this.emitError(err);
        await sleep(backoff.delay(), this.abort.signal);
      }
    }
  }

  private reset(kvs: readonly EtcdKeyValue[]): void {
    this.records.clear();
    for (const kv of kvs) this.records.set(kv.key, this.toAddress(kv));
  }

  /** A record's address; null for a Delete record or a malformed one (reported). */
  private toAddress(kv: EtcdKeyValue): ResolvedAddress | null {
    const parsed = parseEndpointValue(kv.value);
    let reason: string | undefined;
    if (!parsed.ok) reason = parsed.reason;
    else if (parsed.op === "delete") return null;
    else {
      const hp = splitHostPort(parsed.addr);
      if (hp) return { host: hp.host, port: hp.port, metadata: parsed.metadata };
      reason = `Addr ${JSON.stringify(parsed.addr)} is not host:port`;
    }
    const bad = { key: kv.key, value: kv.value, reason };
    this.options.logger?.warn?.(`etcd resolver ${this.name}: skipping ${kv.key}: ${reason}`);
    try {
      this.options.onInvalid?.(bad);
    } catch {
      // An observer's failure must not stop resolution.
    }
    return null;
  }

  private publish(): void {
    const seen = new Set<string>();
    const list: ResolvedAddress[] = [];
    for (const a of this.records.values()) {
      if (!a) continue;
      // The same address under two keys is one address for the channel.
      const id = `${a.host}|${a.port}`;
      if (seen.has(id)) continue;
      seen.add(id);
      list.push(a);
    }
    try {
      this.listener?.onAddresses(list);
    } catch (err) {
      this.options.logger?.error?.(`etcd resolver listener threw: ${(err as Error)?.message}`);
    }
  }

  private emitError(err: unknown): void {
    try {
      this.listener?.onError(err instanceof Error ? err : new Error(String(err)));
    } catch {
      // The listener's failure is not ours.
    }
  }

  /** @internal Settles once the first listing has succeeded (or the resolver closed). */
  get started(): Promise<void> | undefined {
    return this.listing;
  }
}
