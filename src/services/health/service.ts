// grpc.health.v1.Health (https://github.com/grpc/grpc/blob/master/doc/health-checking.md) in the
// style of grpclib's `Health`: services map to lists of checks; a service is SERVING when all of
// its checks pass, and the overall server ("" service name) when all checks of all services do.
import { create, type DescService } from "@bufbuild/protobuf";
import type { ServerCallContext } from "../../call/context.js";
import { Health, HealthCheckResponse_ServingStatus as ServingStatus, HealthCheckResponseSchema, type HealthCheckRequest, type HealthCheckResponse } from "../../gen/grpc/health/v1/health_pb.js";
import type { Server } from "../../server/server.js";
import type { ServiceImpl } from "../../service/typed.js";
import { Code, RpcError } from "../../status.js";
import type { HealthCheck } from "./check.js";

export { ServingStatus };

/** The service name that stands for the whole server (grpclib `OVERALL`). */
export const OVERALL = "";

/** A service by its full name (`helloworld.Greeter`) or its generated descriptor; `OVERALL` for the server. */
export type HealthServiceKey = string | DescService;

/** Services and their checks: a Map, an array of entries, or a plain object keyed by service name. */
export type HealthChecks = Iterable<readonly [HealthServiceKey, readonly HealthCheck[]]> | Readonly<Record<string, readonly HealthCheck[]>>;

/**
 * The health checking service.
 *
 * ```ts
 * const db = new ServiceCheck(pingDb, { ttlMs: 5000, timeoutMs: 1000 });
 * const redis = new ServiceStatus();
 * const health = new HealthService([[Greeter, [db]], [Billing, [db, redis]]]);
 * health.register(server); // or server.addService(Health, health.impl)
 * ```
 *
 * - No checks at all: every known service, and the server, are SERVING.
 * - A service with an empty list is always SERVING.
 * - Without an explicit `OVERALL` entry, the server is SERVING only when every check of every
 *   service passes.
 * - A service's status: all checks `true` SERVING, all `null` UNKNOWN, anything else NOT_SERVING.
 * - `Check` of a service not listed fails NOT_FOUND; `Watch` of one sends SERVICE_UNKNOWN and
 *   keeps watching (the service may be added later with `setChecks`).
 * - `setAllNotServing()` (for server shutdown) makes every service NOT_SERVING for good.
 */
export class HealthService {
  /** Context-style handlers for `server.addService(Health, health.impl)`. */
  readonly impl: ServiceImpl<typeof Health>;
  private readonly checks = new Map<string, readonly HealthCheck[]>();
  private overallExplicit = false;
  private notServing = false;
  /** Wake-ups of open Watch calls, for changes to the set of services or to the shutdown flag. */
  private readonly watchers = new Set<() => void>();

  constructor(checks?: HealthChecks) {
    for (const [key, list] of entries(checks)) this.setChecks(key, list, false);
    this.impl = {
      check: (request, ctx) => this.check(request, ctx),
      watch: (request, ctx) => this.watch(request, ctx),
    };
  }

  /** Registers grpc.health.v1.Health on `server` (same as `server.addService(Health, health.impl)`). */
  register(server: Pick<Server, "addService" | "onStop">): this {
    server.addService(Health, this.impl);
    // server.stop() flips everything to NOT_SERVING first, so watchers hear it before GOAWAY.
    server.onStop(() => this.setAllNotServing());
    return this;
  }

  /** Sets (replaces) the checks of a service, or of the server with `OVERALL`; open Watch calls see the change. */
  setChecks(service: HealthServiceKey, checks: readonly HealthCheck[], notify = true): void {
    const name = nameOf(service);
    for (const c of checks) {
      if (!c || typeof c.check !== "function" || typeof c.subscribe !== "function") {
        throw new TypeError(`health checks of ${JSON.stringify(name)} must be ServiceStatus, ServiceCheck or other HealthCheck objects`);
      }
    }
    this.checks.set(name, [...new Set(checks)]);
    if (name === OVERALL) this.overallExplicit = true;
    if (notify) this.notifyWatchers();
  }

  /** Forgets a service: Check fails NOT_FOUND and Watch reports SERVICE_UNKNOWN from now on. */
  removeService(service: HealthServiceKey): void {
    const name = nameOf(service);
    if (!this.checks.delete(name)) return;
    if (name === OVERALL) this.overallExplicit = false;
    this.notifyWatchers();
  }

  /** The service names known to the health service ("" for the server is always known). */
  services(): string[] {
    const names = new Set([OVERALL, ...this.checks.keys()]);
    return [...names];
  }

  /**
   * Marks every service, and the server, NOT_SERVING for good and tells every open Watch at
   * once. Meant for the start of a graceful shutdown (grpcio `enter_graceful_shutdown`), so
   * load balancers stop sending new calls while running ones finish.
   */
  setAllNotServing(): void {
    if (this.notServing) return;
    this.notServing = true;
    this.notifyWatchers();
  }

  /** Whether setAllNotServing() was called. */
  get shuttingDown(): boolean {
    return this.notServing;
  }

  /** The status Check would answer (running stale checks first); `undefined` for an unknown service. */
  async status(service: HealthServiceKey = OVERALL): Promise<ServingStatus | undefined> {
    const name = nameOf(service);
    const checks = this.checksOf(name);
    if (!checks) return undefined;
    await Promise.all(checks.map((c) => c.check()));
    const now = this.checksOf(name);
    return now ? this.evaluate(now) : undefined;
  }

  private async check(request: HealthCheckRequest, _ctx: ServerCallContext): Promise<HealthCheckResponse> {
    const status = await this.status(request.service);
    if (status === undefined) throw new RpcError(Code.NOT_FOUND, `unknown service ${JSON.stringify(request.service)}`);
    return create(HealthCheckResponseSchema, { status });
  }

  private async *watch(request: HealthCheckRequest, ctx: ServerCallContext): AsyncGenerator<HealthCheckResponse> {
    const name = request.service;
    let dirty = true;
    let resubscribe = true;
    let wake: (() => void) | undefined;
    const poke = () => {
      dirty = true;
      const w = wake;
      wake = undefined;
      w?.();
    };
    const onStructure = () => {
      resubscribe = true;
      poke();
    };
    let unsubscribe: (() => void)[] = [];
    const dropSubscriptions = () => {
      for (const u of unsubscribe) u();
      unsubscribe = [];
    };
    this.watchers.add(onStructure);
    ctx.signal.addEventListener("abort", poke, { once: true });
    let last: ServingStatus | undefined;
    try {
      while (!ctx.signal.aborted) {
        if (!dirty) {
          await new Promise<void>((resolve) => (wake = resolve));
          continue;
        }
        dirty = false;
        if (resubscribe) {
          resubscribe = false;
          dropSubscriptions();
          const checks = this.checksOf(name) ?? [];
          unsubscribe = checks.map((c) => c.subscribe(poke));
          // Fresh results before the first answer for this set of checks (bounded by their timeouts).
          await Promise.all(checks.map((c) => c.check()));
          if (ctx.signal.aborted) break;
        }
        const checks = this.checksOf(name);
        const status = checks ? this.evaluate(checks) : ServingStatus.SERVICE_UNKNOWN;
        if (status !== last) {
          last = status;
          yield create(HealthCheckResponseSchema, { status });
        }
      }
    } finally {
      dropSubscriptions();
      this.watchers.delete(onStructure);
      ctx.signal.removeEventListener("abort", poke);
    }
  }

  /** The checks deciding a service's status; `undefined` when the service is unknown. */
  private checksOf(name: string): readonly HealthCheck[] | undefined {
    if (name === OVERALL && !this.overallExplicit) {
      const all = new Set<HealthCheck>();
      for (const list of this.checks.values()) for (const c of list) all.add(c);
      return [...all];
    }
    return this.checks.get(name);
  }

  private evaluate(checks: readonly HealthCheck[] | undefined): ServingStatus {
    if (this.notServing) return ServingStatus.NOT_SERVING;
    if (!checks || checks.length === 0) return ServingStatus.SERVING;
    const verdicts = new Set(checks.map((c) => c.status));
    if (verdicts.size === 1 && verdicts.has(true)) return ServingStatus.SERVING;
    if (verdicts.size === 1 && verdicts.has(null)) return ServingStatus.UNKNOWN;
    return ServingStatus.NOT_SERVING;
  }

  private notifyWatchers(): void {
    for (const w of [...this.watchers]) w();
  }
}

function nameOf(service: HealthServiceKey): string {
  if (typeof service === "string") return service;
  if (service && typeof service === "object" && typeof service.typeName === "string") return service.typeName;
  throw new TypeError("a health service key is a service name or a generated DescService");
}

function entries(checks: HealthChecks | undefined): Iterable<readonly [HealthServiceKey, readonly HealthCheck[]]> {
  if (checks === undefined) return [];
  if (typeof (checks as Iterable<unknown>)[Symbol.iterator] === "function") return checks as Iterable<readonly [HealthServiceKey, readonly HealthCheck[]]>;
  return Object.entries(checks as Readonly<Record<string, readonly HealthCheck[]>>);
}
