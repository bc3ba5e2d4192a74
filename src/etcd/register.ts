// Announcing a running Server in etcd: one endpoint record per service it serves, all under one
// lease kept alive while it runs. A crash leaves the records to expire with the TTL; stop()
// revokes the lease so they vanish at once; a lost lease (etcd unreachable for longer than the
// TTL) is replaced by a new one and the records written again.
import type { DescService } from "@bufbuild/protobuf";
import { ErrorCode, SwitchboardError } from "../errors.js";
import { EtcdClient, type EtcdLogger } from "./client.js";
import { encodeEndpoint, endpointKey, splitHostPort } from "./endpoints.js";
import type { LeaseKeepAlive } from "./lease.js";
import { Backoff } from "../backoff.js";
import { sleep } from "./util.js";

export interface EtcdRegistrationOptions {
  /** A client to use (left open on stop), or etcd endpoints for a client of the registration's own. */
  etcd: EtcdClient | readonly string[];
  /** The address clients should dial, "host:port" (not 0.0.0.0). */
  advertise: string;
  /** Key prefix of every target (default "services/"): target = prefix + fully qualified service name. */
  prefix?: string;
  /** Lease TTL in seconds (default 10): how long the records outlive a crashed server. */
  ttlSeconds?: number;
  /** The record's Metadata (JSON), e.g. a zone or a weight; default null. */
  metadata?: unknown;
  /** Service names to announce instead of `server.services` (e.g. for raw handlers). */
  services?: readonly string[];
  /** Told about failed attempts (retried) and lost leases. */
  logger?: EtcdLogger;
  /** Called with every failed attempt (it is retried). */
  onError?: (err: unknown) => void;
}

/** A running registration. */
export interface EtcdRegistration {
  /** The targets announced, e.g. ["services/helloworld.Greeter"]. */
  readonly targets: readonly string[];
  /** The etcd keys written (`<target>/<advertise>`). */
  readonly keys: readonly string[];
  /** The current lease, when registered. */
  readonly leaseId: bigint | undefined;
  /** True while the records are known to be in etcd. */
  readonly registered: boolean;
  /** Resolves true at the first successful registration, false when stopped before it. Never rejects. */
  readonly ready: Promise<boolean>;
  /** Resolves true at the next successful registration (after a lost lease, at once when registered). */
  whenRegistered(): Promise<boolean>;
  /** Stops keeping the records alive and revokes the lease, so they vanish at once. Idempotent; never rejects. */
  stop(): Promise<void>;
}

/** What registerWithEtcd needs of a Server. */
export interface RegistrableServer {
  readonly services: readonly DescService[];
  onStop?(fn: () => void): unknown;
}

/**
 * Registers every service `server` serves in etcd, in the format of etcd's gRPC naming
 * (`services/helloworld.Greeter/10.0.0.7:50051` -> `{"Op":0,"Addr":"10.0.0.7:50051","Metadata":null}`),
 * and keeps it registered until stop(). `server.stop()` starts stop() too (through onStop), but
 * does not wait for the revoke: await `registration.stop()` to know the records are gone.
 *
 * Returns at once; registration happens in the background and retries while etcd is down
 * (`await registration.ready` to wait for it).
 */
export function registerWithEtcd(server: RegistrableServer, options: EtcdRegistrationOptions): EtcdRegistration {
  if (!splitHostPort(options.advertise)) {
    throw new SwitchboardError(ErrorCode.BAD_ADDRESS, `advertise must be host:port, not ${JSON.stringify(options.advertise)}`);
  }
  const ttl = options.ttlSeconds ?? 10;
  if (!Number.isInteger(ttl) || ttl < 1) throw new SwitchboardError(ErrorCode.BAD_OPTION, `ttlSeconds must be a whole number >= 1, not ${ttl}`);
  const names = options.services ?? server.services.map((s) => s.typeName);
  if (names.length === 0) throw new SwitchboardError(ErrorCode.BAD_OPTION, "the server serves no typed service: register them first, or pass `services`");
  const prefix = options.prefix ?? "services/";
  const registration = new Registration(options, [...new Set(names)].map((n) => prefix + n), ttl);
  server.onStop?.(() => void registration.stop());
  return registration;
}

class Registration implements EtcdRegistration {
  readonly targets: readonly string[];
  readonly keys: readonly string[];
  readonly ready: Promise<boolean>;
  leaseId: bigint | undefined;
  registered = false;
  private readonly client: EtcdClient;
  private readonly ownClient: boolean;
  private readonly value: string;
  private readonly abort = new AbortController();
  private keepAlive: LeaseKeepAlive | undefined;
  private stopping: Promise<void> | undefined;
  private waiters: ((ok: boolean) => void)[] = [];
  private readonly running: Promise<void>;

  constructor(
    private readonly options: EtcdRegistrationOptions,
    targets: string[],
    private readonly ttl: number,
  ) {
    this.targets = targets;
    this.keys = targets.map((t) => endpointKey(t, options.advertise));
    this.value = encodeEndpoint(options.advertise, options.metadata ?? null);
    this.ownClient = !(options.etcd instanceof EtcdClient);
    this.client = options.etcd instanceof EtcdClient ? options.etcd : new EtcdClient({ endpoints: options.etcd, logger: options.logger });
    this.ready = this.whenRegistered();
    this.running = this.run();
  }

  whenRegistered(): Promise<boolean> {
    if (this.registered) return Promise.resolve(true);
    if (this.stopping) return Promise.resolve(false);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private settle(ok: boolean): void {
    const w = this.waiters;
    this.waiters = [];
    for (const resolve of w) resolve(ok);
  }

  private async run(): Promise<void> {
    const backoff = new Backoff(200, 2000);
    while (!this.stopping) {
      let leaseId: bigint | undefined;
      try {
        const lease = await this.client.leaseGrant(this.ttl);
        leaseId = lease.id;
        this.leaseId = leaseId;
        if (this.stopping) break;
        for (const key of this.keys) await this.client.put(key, this.value, { lease: lease.id });
        if (this.stopping) break;
        const ka = this.client.leaseKeepAlive(lease.id, { ttlSeconds: lease.ttl });
        this.keepAlive = ka;
        this.registered = true;
        backoff.reset();
        this.options.logger?.info?.(`registered ${this.keys.join(", ")} in etcd (lease ${lease.id.toString(16)}, ttl ${lease.ttl} s)`);
        this.settle(true);
        const loss = await ka.done;
        this.registered = false;
        if (!loss || this.stopping) break;
        this.options.logger?.warn?.(`etcd lease ${lease.id.toString(16)} lost (${loss.reason}); registering again`);
        // The old lease may still exist (etcd restored it): drop it so its TTL cannot outlive ours.
        this.client.leaseRevoke(lease.id).catch(() => {});
      } catch (err) {
        this.registered = false;
        if (this.stopping || this.client.isClosed) break;
        if (leaseId !== undefined) this.client.leaseRevoke(leaseId).catch(() => {});
        this.options.logger?.warn?.(`etcd registration failed (${(err as Error)?.message}); retrying`);
        try {
          this.options.onError?.(err);
        } catch {
          // An observer's failure is not the registration's.
        }
        await sleep(backoff.delay(), this.abort.signal);
      }
    }
  }

  private async shutdown(): Promise<void> {
    this.abort.abort();
    this.keepAlive?.close();
    this.settle(false);
    await this.running;
    this.registered = false;
    const id = this.leaseId;
    if (id !== undefined && !this.client.isClosed) {
      try {
        await this.client.leaseRevoke(id);
      } catch (err) {
        this.options.logger?.warn?.(`could not revoke etcd lease ${id.toString(16)} (${(err as Error)?.message}); the records expire within ${this.ttl} s`);
      }
    }
    if (this.ownClient) this.client.close();
  }
}
