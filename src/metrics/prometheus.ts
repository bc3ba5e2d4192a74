// Prometheus metrics of servers and channels with the go-grpc-prometheus names, so the
// dashboards and alerts written for grpc-go services work unchanged.
import { collectDefaultMetrics, Gauge, type Registry } from "prom-client";
import type { ServerObserver } from "../call/observer.js";
import type { ClientObserver, ObservedClientCall } from "../client/observer.js";
import type { Channel } from "../client/channel.js";
import { ErrorCode, SwitchboardError } from "../errors.js";
import type { Server } from "../server/server.js";
import { registerRpcFamilies } from "./families.js";
import { resolveMetricsOptions, type MetricsOptions, type ServerMetricsOptions } from "./options.js";
import { RpcTable } from "./rpc-table.js";
import { RuntimeGauges } from "./runtime.js";

/**
 * Server metrics: `grpc_server_started_total`, `grpc_server_handled_total{grpc_code}`,
 * `grpc_server_msg_received_total`, `grpc_server_msg_sent_total`,
 * `grpc_server_handling_seconds` (labels grpc_type, grpc_service, grpc_method), gauges of
 * connections and calls, event-loop delay and memory. Requests for unregistered paths all
 * count under `grpc_type="unknown", grpc_service="other", grpc_method="other"`.
 * One ServerMetrics may observe several servers; their counts add up.
 */
export class ServerMetrics {
  /** The prom-client registry holding these metrics. */
  readonly registry: Registry;
  /** The Content-Type of metrics(): the Prometheus text format. */
  readonly contentType: string;
  private readonly table: RpcTable;
  private readonly servers = new Set<Server>();
  private readonly runtime: RuntimeGauges | undefined;
  private readonly observer: ServerObserver;

  constructor(options: ServerMetricsOptions = {}) {
    const o = resolveMetricsOptions(options);
    this.registry = o.registry;
    this.contentType = this.registry.contentType;
    const table = (this.table = new RpcTable(o.buckets, o.maxMethods));
    registerRpcFamilies(this.registry, table, "server", o.prefix, o.histogram);
    this.registerServerGauges(o.prefix);
    if (options.runtime ?? true) this.runtime = new RuntimeGauges(this.registry, o.prefix);
    if (options.defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: o.prefix });
    const histogram = o.histogram;
    // The hot path: one Map lookup by path and a few number increments per event.
    this.observer = {
      callStarted(call) {
        const m = call.method;
        table.method(m.path, m.kind, m.service, m.name).started++;
      },
      messageReceived(call) {
        const m = call.method;
        table.method(m.path, m.kind, m.service, m.name).received++;
      },
      messageSent(call) {
        const m = call.method;
        table.method(m.path, m.kind, m.service, m.name).sent++;
      },
      callEnded(call, code, durationMs) {
        const m = call.method;
        const row = table.method(m.path, m.kind, m.service, m.name);
        row.ended(code);
        if (histogram) row.observe(durationMs / 1000);
      },
      // Answered from the headers, before any handler: counted as started and handled at once
      // (duration 0), so started - handled stays the number of calls in flight.
      callRefused(method, code) {
        const row = method ? table.method(method.path, method.kind, method.service, method.name) : table.useOther();
        row.started++;
        row.ended(code);
        if (histogram) row.observe(0);
      },
    };
  }

  /**
   * Starts counting `server`'s calls and connections; returns a function that stops it (the
   * counts stay). Attaching the same server twice is a BAD_OPTION error (it would count twice).
   */
  attach(server: Server): () => void {
    if (this.servers.has(server)) throw new SwitchboardError(ErrorCode.BAD_OPTION, "this server is already attached to these metrics");
    this.servers.add(server);
    const unobserve = server.observe(this.observer);
    this.runtime?.ref();
    let attached = true;
    return () => {
      if (!attached) return;
      attached = false;
      unobserve();
      this.servers.delete(server);
      this.runtime?.unref();
    };
  }

  /** The Prometheus text exposition of every metric in the registry (serve it with `contentType`). */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  private registerServerGauges(prefix: string): void {
    const servers = this.servers;
    const sum = (read: (s: Server) => number): number => {
      let total = 0;
      for (const s of servers) total += read(s);
      return total;
    };
    new Gauge({
      name: `${prefix}switchboard_server_open_connections`,
      help: "Connections open on the observed servers (accepted sockets, before and after the HTTP/2 handshake).",
      registers: [this.registry],
      collect() {
        this.set(sum((s) => s.openConnections));
      },
    });
    new Gauge({
      name: `${prefix}switchboard_server_open_sessions`,
      help: "HTTP/2 sessions (connections past their handshake) open on the observed servers.",
      registers: [this.registry],
      collect() {
        this.set(sum((s) => s.openSessions));
      },
    });
    new Gauge({
      name: `${prefix}switchboard_server_active_calls`,
      help: "Calls (streams) in progress on the observed servers.",
      registers: [this.registry],
      collect() {
        this.set(sum((s) => s.activeCalls));
      },
    });
  }
}

/**
 * Client metrics of channels: `grpc_client_started_total`, `grpc_client_handled_total{grpc_code}`,
 * `grpc_client_msg_received_total`, `grpc_client_msg_sent_total`, `grpc_client_handling_seconds`
 * with the server's labels. Paths that are not `/pkg.Service/Method` count under the "other" pair.
 */
export class ClientMetrics {
  /** The prom-client registry holding these metrics. */
  readonly registry: Registry;
  /** The Content-Type of metrics(): the Prometheus text format. */
  readonly contentType: string;
  /** Each attached channel with its calls in progress (counted here: a detached channel leaves no residue). */
  private readonly channels = new Map<Channel, { active: number }>();
  private readonly table: RpcTable;
  private readonly histogram: boolean;

  constructor(options: MetricsOptions = {}) {
    const o = resolveMetricsOptions(options);
    this.registry = o.registry;
    this.contentType = this.registry.contentType;
    this.table = new RpcTable(o.buckets, o.maxMethods);
    this.histogram = o.histogram;
    registerRpcFamilies(this.registry, this.table, "client", o.prefix, o.histogram);
    this.registerClientGauges(o.prefix);
  }

  /** Starts counting `channel`'s calls; returns a function that stops it. Twice is a BAD_OPTION error. */
  attach(channel: Channel): () => void {
    if (this.channels.has(channel)) throw new SwitchboardError(ErrorCode.BAD_OPTION, "this channel is already attached to these metrics");
    const calls = { active: 0 };
    this.channels.set(channel, calls);
    const unobserve = channel.observe(this.observer(calls));
    let attached = true;
    return () => {
      if (!attached) return;
      attached = false;
      unobserve();
      this.channels.delete(channel);
    };
  }

  private observer(calls: { active: number }): ClientObserver {
    const table = this.table;
    const histogram = this.histogram;
    // The calls this attachment saw start: a call already running when the channel was attached
    // (another observer, channelz, made it report) ends without having been counted as active,
    // and must not take the gauge below zero.
    const running = new WeakSet<ObservedClientCall>();
    return {
      callStarted(call) {
        running.add(call);
        calls.active++;
        table.path(call.method.path, call.method.kind).started++;
      },
      messageSent(call) {
        table.path(call.method.path, call.method.kind).sent++;
      },
      messageReceived(call) {
        table.path(call.method.path, call.method.kind).received++;
      },
      callEnded(call, code, durationMs) {
        if (running.delete(call)) calls.active--;
        const row = table.path(call.method.path, call.method.kind);
        row.ended(code);
        if (histogram) row.observe(durationMs / 1000);
      },
    };
  }

  /** The Prometheus text exposition of every metric in the registry. */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  private registerClientGauges(prefix: string): void {
    const channels = this.channels;
    new Gauge({
      name: `${prefix}switchboard_client_open_connections`,
      help: "HTTP/2 connections open on the observed channels (over every subchannel, draining ones included).",
      registers: [this.registry],
      collect() {
        let total = 0;
        for (const c of channels.keys()) total += c.openConnections;
        this.set(total);
      },
    });
    new Gauge({
      name: `${prefix}switchboard_client_active_calls`,
      help: "Calls (streams) in progress on the observed channels.",
      registers: [this.registry],
      collect() {
        let total = 0;
        for (const c of channels.values()) total += c.active;
        this.set(total);
      },
    });
  }
}
