// The gauges are read when Prometheus scrapes: open connections, HTTP/2 sessions and active
// calls while a stream is held open (and back to 0 after), event-loop delay p50/p99/max in
// seconds, and process memory. collectDefaultMetrics is opt-in.
import { afterEach, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import { createClient } from "../../src/index.js";
import { ServerMetrics } from "../../src/metrics/prometheus.js";
import { TestService } from "../../examples/gen/grpc/testing/test_pb.js";
import { Scope } from "../client/helpers.js";
import { find, parseExposition, scrapeUntil, T, testServer, value, type Exposition } from "./helpers.js";

const scope = new Scope();
afterEach(() => scope.close());

describe("server metrics: gauges", () => {
  it("a held bidi stream shows 1 open connection, 1 session and 1 active call; after it ends active calls is 0 (OK)", T, async () => {
    const { server, target } = await testServer(scope);
    const metrics = new ServerMetrics();
    metrics.attach(server);
    const channel = scope.channel(target);
    const call = createClient(TestService, channel).fullDuplexCall.open();
    await call.sendMessage({ payload: { body: new Uint8Array([1]) } });
    assert.ok(await call.recvMessage());
    const e = parseExposition(await metrics.metrics());
    assert.equal(value(e, "switchboard_server_open_connections"), 1);
    assert.equal(value(e, "switchboard_server_open_sessions"), 1);
    assert.equal(value(e, "switchboard_server_active_calls"), 1);
    assert.equal(e.types.get("switchboard_server_active_calls"), "gauge");
    await call.end();
    for await (const _ of call) void _;
    await scrapeUntil(metrics, (x) => value(x, "switchboard_server_active_calls") === 0, "the call to end");
    channel.close();
    await scrapeUntil(metrics, (x) => value(x, "switchboard_server_open_connections") === 0, "the connection to close");
  });

  it("event-loop delay has p50, p99 and max in seconds (a 30 ms block shows as >= 15 ms); memory areas are positive", T, async () => {
    const { server } = await testServer(scope);
    const metrics = new ServerMetrics();
    metrics.attach(server);
    // Let the monitor tick (it skips its first interval), then block the loop for 30 ms.
    await new Promise((r) => setTimeout(r, 30));
    const until30 = Date.now() + 30;
    while (Date.now() < until30);
    // A scrape resets the monitor; the first must come after its timer has run past the block.
    await new Promise((r) => setTimeout(r, 20));
    const maxDelay = (x: Exposition) => value(x, "switchboard_event_loop_delay_seconds", { stat: "max" });
    const e = await scrapeUntil(metrics, (x) => maxDelay(x) >= 0.015, "the 30 ms block in the delay gauge");
    const stats = Object.fromEntries(find(e, "switchboard_event_loop_delay_seconds").map((s) => [s.labels.stat, s.value]));
    assert.deepEqual(Object.keys(stats).sort(), ["max", "p50", "p99"]);
    assert.ok(stats.p50! >= 0 && stats.p50! <= stats.p99! && stats.p99! <= stats.max!, JSON.stringify(stats));
    // Seconds, not nanoseconds, and without the 10 ms sampling period: a test process that
    // blocks its loop for 30 ms shows a max of at least 0.015 s and well under a minute.
    assert.ok(stats.max! >= 0.015 && stats.max! < 60, JSON.stringify(stats));
    for (const area of ["rss", "heap_used", "heap_total", "external"]) assert.ok(value(e, "switchboard_process_memory_bytes", { area }) > 0, area);
  });

  it("runtime: false leaves the event-loop and memory gauges out; defaultMetrics: true adds prom-client's process metrics", T, async () => {
    const { server } = await testServer(scope);
    const lean = new ServerMetrics({ runtime: false });
    lean.attach(server);
    const e = parseExposition(await lean.metrics());
    assert.equal(e.types.has("switchboard_event_loop_delay_seconds"), false);
    assert.equal(e.types.has("switchboard_process_memory_bytes"), false);
    assert.equal(e.types.has("process_cpu_user_seconds_total"), false);
    const full = new ServerMetrics({ defaultMetrics: true });
    const f = parseExposition(await full.metrics());
    assert.equal(f.types.get("process_cpu_user_seconds_total"), "counter");
    assert.equal(f.types.get("nodejs_heap_size_used_bytes"), "gauge");
  });

  it("gauges follow the attached servers only: after detach they read 0 while the server still has a connection", T, async () => {
    const { server, target } = await testServer(scope);
    const metrics = new ServerMetrics();
    const detach = metrics.attach(server);
    await createClient(TestService, scope.channel(target)).unaryCall({});
    assert.equal(value(parseExposition(await metrics.metrics()), "switchboard_server_open_connections"), 1);
    detach();
    assert.equal(server.openConnections, 1);
    assert.equal(value(parseExposition(await metrics.metrics()), "switchboard_server_open_connections"), 0);
  });
});
