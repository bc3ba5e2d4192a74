// A small etcd v3 client on Switchboard's own gRPC client: KV, leases with keep-alive, and
// prefix watches that survive disconnects. One Channel per endpoint; calls go to the current
// endpoint and move on to the next one when the connection fails (UNAVAILABLE).
import { Channel, type ChannelOptions } from "../client/channel.js";
import type { ClientCall } from "../client/client-call.js";
import { ChannelCredentials } from "../client/credentials.js";
import { createClient, type Client } from "../client/typed.js";
import { ErrorCode, SwitchboardError } from "../errors.js";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { KV, Lease, Watch, type LeaseKeepAliveRequestSchema, type LeaseKeepAliveResponse, type WatchRequestSchema, type WatchResponse } from "../gen/etcd/etcdserverpb/rpc_pb.js";
import { EtcdError, EtcdErrorCode, etcdError, isConnectionFailure } from "./errors.js";
import { fromKv, prefixEnd, toBytes, type Bytes, type EtcdKeyValue } from "./keys.js";
import { LeaseKeepAlive, type LeaseKeepAliveOptions } from "./lease.js";
import { EtcdWatcher, type WatchHandler, type WatchOptions } from "./watch.js";

/** Where the etcd client reports what it does not throw (a lost connection it will retry). */
export interface EtcdLogger {
  debug?(message: string): void;
  info?(message: string): void;
  warn?(message: string): void;
  error?(message: string): void;
}

export interface EtcdClientOptions {
  /** etcd client URLs: "http://127.0.0.1:2379", "https://etcd-0:2379" or a bare "host:port". */
  endpoints: readonly string[];
  /** How long one connection attempt to an endpoint may take (default 2000 ms). */
  dialTimeoutMs?: number;
  /** Deadline of each unary request (Range, Put, LeaseGrant, ...) (default 5000 ms). */
  requestTimeoutMs?: number;
  /** TLS settings for https:// endpoints (default: system CAs). */
  credentials?: ChannelCredentials;
  /** Extra channel options (keepalive, message limits, transport); the client sets the rest. */
  channel?: Omit<ChannelOptions, "credentials" | "connectTimeoutMs">;
  /** Told about retries, lost connections and lost leases. */
  logger?: EtcdLogger;
}

export interface PutOptions {
  /** Attach the key to this lease: it is deleted when the lease expires or is revoked. */
  lease?: bigint;
}

/** The keys under a prefix and the store revision they were read at. */
export interface RangeResult {
  kvs: EtcdKeyValue[];
  revision: bigint;
}

/** A granted lease. */
export interface LeaseGrant {
  id: bigint;
  /** Seconds, as etcd granted it. */
  ttl: number;
}

interface Endpoint {
  /** "host:port" for the Channel, and the URL as given for messages. */
  target: string;
  url: string;
  secure: boolean;
}

/** The typed stubs of one endpoint. */
export interface EtcdStubs {
  readonly index: number;
  readonly where: string;
  readonly kv: Client<typeof KV>;
  readonly lease: Client<typeof Lease>;
  readonly watch: Client<typeof Watch>;
}

/**
 * An etcd v3 client (the subset service discovery needs).
 *
 * ```ts
 * const etcd = new EtcdClient({ endpoints: ["http://127.0.0.1:2379"] });
 * await etcd.put("greeting", "hello");
 * const kv = await etcd.get("greeting");
 * etcd.close();
 * ```
 *
 * Every failure is an EtcdError: ERR_SB_ETCD_UNAVAILABLE when no endpoint could be reached,
 * ERR_SB_ETCD_REQUEST when etcd refused the request. Keep-alives and watches never throw: they
 * retry and report through their handles.
 */
export class EtcdClient {
  readonly endpoints: readonly string[];
  readonly logger: EtcdLogger | undefined;
  private readonly parsed: Endpoint[];
  private readonly stubs: (EtcdStubs | undefined)[];
  private readonly channels: (Channel | undefined)[];
  private current = 0;
  private closed = false;
  private readonly requestTimeoutMs: number;
  private readonly channelOptions: ChannelOptions;
  private readonly credentials: ChannelCredentials | undefined;
  /** Keep-alives and watchers to stop on close(). */
  private readonly owned = new Set<{ close(): void }>();

  constructor(options: EtcdClientOptions) {
    if (!options || !Array.isArray(options.endpoints) || options.endpoints.length === 0) {
      throw new SwitchboardError(ErrorCode.BAD_OPTION, "EtcdClient needs at least one endpoint, e.g. http://127.0.0.1:2379");
    }
    this.endpoints = [...options.endpoints];
    this.parsed = this.endpoints.map(parseEndpoint);
    this.stubs = this.parsed.map(() => undefined);
    this.channels = this.parsed.map(() => undefined);
    this.logger = options.logger;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 5000;
    this.credentials = options.credentials;
    this.channelOptions = {
      // etcd restarts in seconds: come back quickly instead of gRPC's default 1 s .. 120 s.
      backoff: { initialMs: 100, maxMs: 1000 },
      ...options.channel,
      connectTimeoutMs: options.dialTimeoutMs ?? 2000,
    };
  }

  /** The value of `key`, or undefined when there is none. */
  async get(key: Bytes): Promise<EtcdKeyValue | undefined> {
    const res = await this.unary("get", (s, o) => s.kv.range({ key: toBytes(key) }, o));
    return res.kvs[0] ? fromKv(res.kvs[0]) : undefined;
  }

  /** Every key starting with `prefix`, sorted by key, and the revision they were read at. */
  async getPrefix(prefix: Bytes): Promise<RangeResult> {
    const p = toBytes(prefix);
    const res = await this.unary("getPrefix", (s, o) => s.kv.range({ key: p, rangeEnd: prefixEnd(p) }, o));
    return { kvs: res.kvs.map(fromKv), revision: res.header?.revision ?? 0n };
  }

  /** Sets `key` to `value`; returns the new store revision. */
  async put(key: Bytes, value: Bytes, options: PutOptions = {}): Promise<bigint> {
    const res = await this.unary("put", (s, o) => s.kv.put({ key: toBytes(key), value: toBytes(value), lease: options.lease ?? 0n }, o));
    return res.header?.revision ?? 0n;
  }

  /** Deletes `key`; returns how many keys were deleted (0 or 1). */
  async delete(key: Bytes): Promise<number> {
    const res = await this.unary("delete", (s, o) => s.kv.deleteRange({ key: toBytes(key) }, o));
    return Number(res.deleted);
  }

  /** Deletes every key starting with `prefix`; returns how many. */
  async deletePrefix(prefix: Bytes): Promise<number> {
    const p = toBytes(prefix);
    const res = await this.unary("deletePrefix", (s, o) => s.kv.deleteRange({ key: p, rangeEnd: prefixEnd(p) }, o));
    return Number(res.deleted);
  }

  /** Grants a lease of `ttlSeconds` (etcd may grant more: its minimum TTL). */
  async leaseGrant(ttlSeconds: number): Promise<LeaseGrant> {
    if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1) throw new SwitchboardError(ErrorCode.BAD_OPTION, `lease TTL must be a whole number of seconds >= 1, not ${ttlSeconds}`);
    const res = await this.unary("leaseGrant", (s, o) => s.lease.leaseGrant({ TTL: BigInt(ttlSeconds) }, o));
    if (res.error) throw new EtcdError(EtcdErrorCode.REQUEST, `etcd leaseGrant failed: ${res.error}`);
    return { id: res.ID, ttl: Number(res.TTL) };
  }

  /** Revokes a lease: its keys are deleted at once. A lease that no longer exists counts as revoked. */
  async leaseRevoke(id: bigint): Promise<void> {
    try {
      await this.unary("leaseRevoke", (s, o) => s.lease.leaseRevoke({ ID: id }, o));
    } catch (err) {
      if (err instanceof EtcdError && (err.code as string) === EtcdErrorCode.REQUEST && /lease not found/.test(err.message)) return;
      throw err;
    }
  }

  /** The seconds a lease has left (-1 when it does not exist). */
  async leaseTimeToLive(id: bigint): Promise<number> {
    const res = await this.unary("leaseTimeToLive", (s, o) => s.lease.leaseTimeToLive({ ID: id }, o));
    return Number(res.TTL);
  }

  /**
   * Keeps lease `id` alive over a LeaseKeepAlive stream, refreshing every third of its TTL,
   * until close() on the handle (the lease then expires unless revoked). The handle's "lost"
   * event says the lease is gone: etcd answered TTL <= 0, or no refresh got through for longer
   * than the TTL.
   */
  leaseKeepAlive(id: bigint, options: LeaseKeepAliveOptions = {}): LeaseKeepAlive {
    this.checkOpen("leaseKeepAlive");
    const handle = new LeaseKeepAlive(this, id, options);
    this.own(handle);
    return handle;
  }

  /**
   * Watches every key under `prefix` from `fromRevision` (default: changes after now). The
   * watch is re-created after a lost connection from the revision after the last one seen, so
   * no change is missed or repeated; when etcd has compacted that history away, the prefix is
   * listed again and `onEvents` gets a "reset" batch with the whole current state.
   */
  watchPrefix(prefix: Bytes, options: WatchOptions, onEvents: WatchHandler): EtcdWatcher {
    this.checkOpen("watchPrefix");
    const p = toBytes(prefix);
    const watcher = new EtcdWatcher(this, p, prefixEnd(p), options, onEvents);
    this.own(watcher);
    return watcher;
  }

  /** Stops keep-alives and watches and closes the connections. Leases are left to expire; revoke them first to delete their keys at once. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const o of [...this.owned]) o.close();
    this.owned.clear();
    for (const ch of this.channels) ch?.close();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** @internal The stubs of the endpoint calls go to now. */
  connection(): EtcdStubs {
    this.checkOpen("request");
    const i = this.current;
    let s = this.stubs[i];
    if (!s) {
      const ep = this.parsed[i]!;
      const credentials = this.credentials ?? (ep.secure ? ChannelCredentials.ssl() : ChannelCredentials.insecure());
      const channel = new Channel(ep.target, { ...this.channelOptions, credentials });
      this.channels[i] = channel;
      s = { index: i, where: ep.url, kv: createClient(KV, channel), lease: createClient(Lease, channel), watch: createClient(Watch, channel) };
      this.stubs[i] = s;
    }
    return s;
  }

  /** @internal The connection to endpoint `index` failed: later calls try the next one. */
  failed(index: number, err: unknown): void {
    if (this.parsed.length > 1 && this.current === index) {
      this.current = (index + 1) % this.parsed.length;
      this.logger?.debug?.(`etcd ${this.parsed[index]!.url} failed (${(err as Error)?.message}); trying ${this.parsed[this.current]!.url}`);
    }
  }

  /** @internal Opens a LeaseKeepAlive stream on the current endpoint. */
  openKeepAlive(): { call: ClientCall<MessageInitShape<typeof LeaseKeepAliveRequestSchema>, LeaseKeepAliveResponse>; stubs: EtcdStubs } {
    const stubs = this.connection();
    return { call: stubs.lease.leaseKeepAlive.open(), stubs };
  }

  /** @internal Opens a Watch stream on the current endpoint. */
  openWatch(): { call: ClientCall<MessageInitShape<typeof WatchRequestSchema>, WatchResponse>; stubs: EtcdStubs } {
    const stubs = this.connection();
    return { call: stubs.watch.watch.open(), stubs };
  }

  /** @internal Stops tracking a closed keep-alive or watcher. */
  disown(o: { close(): void }): void {
    this.owned.delete(o);
  }

  /** One unary request; on a connection failure the next endpoint is tried, each at most once. */
  private async unary<T>(op: string, fn: (s: EtcdStubs, o: { timeout: number }) => Promise<T>): Promise<T> {
    let lastErr: unknown;
    const tried: string[] = [];
    for (let n = 0; n < this.parsed.length; n++) {
      const s = this.connection();
      tried.push(s.where);
      try {
        return await fn(s, { timeout: this.requestTimeoutMs });
      } catch (err) {
        if (this.closed) throw new SwitchboardError(ErrorCode.STOPPED, `etcd ${op}: the client is closed`);
        if (!isConnectionFailure(err)) throw etcdError(op, s.where, err);
        lastErr = err;
        this.failed(s.index, err);
      }
    }
    throw etcdError(op, tried.join(", "), lastErr);
  }

  private own(o: { close(): void }): void {
    this.owned.add(o);
  }

  private checkOpen(op: string): void {
    if (this.closed) throw new SwitchboardError(ErrorCode.STOPPED, `etcd ${op}: the client is closed`);
  }
}

/** "http://host:port" | "https://host:port" | "host:port" -> what Channel dials. */
function parseEndpoint(url: string): Endpoint {
  const m = /^(?:(https?):\/\/)?(\[[^\]]+\]|[^:/\s]+)(?::(\d{1,5}))?\/?$/.exec(url);
  if (!m) throw new SwitchboardError(ErrorCode.BAD_ADDRESS, `etcd endpoint ${JSON.stringify(url)} must look like http://host:port`);
  const secure = m[1] === "https";
  const port = m[3] ?? "2379";
  if (Number(port) > 65535) throw new SwitchboardError(ErrorCode.BAD_ADDRESS, `etcd endpoint ${JSON.stringify(url)} has a bad port`);
  return { target: `${m[2]}:${port}`, url, secure };
}
