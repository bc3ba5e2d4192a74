// The text Prometheus scrapes: it parses line by line, the # TYPE lines carry exactly the
// go-grpc-prometheus names, the Content-Type is the text format, a prefix and a shared
// registry work, bad options are ERR_SB_BAD_OPTION, and an unattached server pays nothing.
import { afterEach, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import { Counter, Registry } from "prom-client";
import { createClient } from "../../src/index.js";
import { ClientMetrics, ServerMetrics } from "../../src/metrics/prometheus.js";
import { TestService } from "../../examples/gen/grpc/testing/test_pb.js";
import { Scope } from "../client/helpers.js";
import { handled, parseExposition, scrapeUntil, T, testLabels, testServer, total, value } from "./helpers.js";

const scope = new Scope();
afterEach(() => scope.close());

describe("exposition", () => {
  it("# TYPE lines name exactly the grpc_server_* families and the switchboard gauges; every line parses", T, async () => {
    const { server, target } = await testServer(scope);
    const metrics = new ServerMetrics();
    metrics.attach(server);
    await createClient(TestService, scope.channel(target)).unaryCall({});
    const e = await handled(metrics, 1);
    assert.deepEqual(Object.fromEntries(e.types), {
      grpc_server_started_total: "counter",
      grpc_server_handled_total: "counter",
      grpc_server_msg_received_total: "counter",
      grpc_server_msg_sent_total: "counter",
      grpc_server_handling_seconds: "histogram",
      switchboard_server_open_connections: "gauge",
      switchboard_server_open_sessions: "gauge",
      switchboard_server_active_calls: "gauge",
      switchboard_event_loop_delay_seconds: "gauge",
      switchboard_process_memory_bytes: "gauge",
    });
    const body = await metrics.metrics();
    assert.match(body, /^grpc_server_handled_total\{grpc_type="unary",grpc_service="grpc\.testing\.TestService",grpc_method="UnaryCall",grpc_code="OK"\} 1$/m);
    assert.match(body, /^# HELP grpc_server_started_total /m);
    assert.equal(metrics.contentType, "text/plain; version=0.0.4; charset=utf-8");
  });

  it("client families are named grpc_client_*, the client gauges switchboard_client_*", async () => {
    const e = parseExposition(await new ClientMetrics().metrics());
    assert.deepEqual([...e.types.keys()].sort(), [
      "grpc_client_handled_total",
      "grpc_client_handling_seconds",
      "grpc_client_msg_received_total",
      "grpc_client_msg_sent_total",
      "grpc_client_started_total",
      "switchboard_client_active_calls",
      "switchboard_client_open_connections",
    ]);
  });

  it("prefix is prepended to every name; a shared registry keeps the application's own metrics beside ours (OK)", T, async () => {
    const { server, target } = await testServer(scope);
    const registry = new Registry();
    const mine = new Counter({ name: "app_jobs_total", help: "jobs", registers: [registry] });
    mine.inc(2);
    const metrics = new ServerMetrics({ registry, prefix: "edge_" });
    assert.equal(metrics.registry, registry);
    metrics.attach(server);
    await createClient(TestService, scope.channel(target)).unaryCall({});
    const e = await scrapeUntil(metrics, (x) => total(x, "edge_grpc_server_handled_total") === 1, "the call to be handled");
    assert.equal(value(e, "app_jobs_total"), 2);
    assert.equal(value(e, "edge_grpc_server_started_total", testLabels("unary", "UnaryCall")), 1);
    assert.ok([...e.types.keys()].every((n) => n === "app_jobs_total" || n.startsWith("edge_")));
    // registry.resetMetrics() zeroes our families too.
    registry.resetMetrics();
    assert.equal(value(parseExposition(await registry.metrics()), "edge_grpc_server_started_total", testLabels("unary", "UnaryCall")), 0);
  });

  it("bad options are ERR_SB_BAD_OPTION: unsorted or empty buckets, a prefix that is no metric name, a negative maxMethods", () => {
    assert.throws(() => new ServerMetrics({ buckets: [1, 0.5] }), { code: "ERR_SB_BAD_OPTION" });
    assert.throws(() => new ServerMetrics({ buckets: [] }), { code: "ERR_SB_BAD_OPTION" });
    assert.throws(() => new ServerMetrics({ buckets: [0.1, Infinity] }), { code: "ERR_SB_BAD_OPTION" });
    assert.throws(() => new ClientMetrics({ prefix: "9lives-" }), { code: "ERR_SB_BAD_OPTION" });
    assert.throws(() => new ServerMetrics({ maxMethods: -1 }), { code: "ERR_SB_BAD_OPTION" });
  });

  it("two ServerMetrics in one registry collide with prom-client's duplicate-name error; attaching a server twice is ERR_SB_BAD_OPTION", T, async () => {
    const registry = new Registry();
    new ServerMetrics({ registry });
    assert.throws(() => new ServerMetrics({ registry }), /already been registered/);
    const { server } = await testServer(scope);
    const metrics = new ServerMetrics();
    metrics.attach(server);
    assert.throws(() => metrics.attach(server), { code: "ERR_SB_BAD_OPTION" });
  });

  it("cheap when unobserved: a server without metrics has no observer, and detaching restores that", T, async () => {
    const { server } = await testServer(scope);
    assert.equal(server.observers.active, false);
    const detach = new ServerMetrics().attach(server);
    assert.equal(server.observers.active, true);
    detach();
    assert.equal(server.observers.active, false);
  });
});
