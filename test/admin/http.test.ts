// The admin server's endpoints: /metrics (Prometheus text), /health (JSON with the status code
// load balancers read), /api/snapshot, the dashboard page, and its separate loopback port.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { startAdmin } from "../../src/admin/index.js";
import { ServerMetrics } from "../../src/metrics/prometheus.js";
import { get, greeterServer, SAY_HELLO, SAY_HELLO_STREAM, traffic, withAdmin } from "./helpers.js";

const T = { timeout: 30_000 };

describe("admin HTTP endpoints", () => {
  it("listens on 127.0.0.1 by default, on a port of its own (200 on the admin port)", T, async () => {
    const f = await withAdmin();
    try {
      assert.equal(f.admin.host, "127.0.0.1");
      assert.notEqual(f.admin.port, f.port);
      assert.equal(f.admin.url, `http://127.0.0.1:${f.admin.port}/`);
      assert.equal((await get(f.admin.url)).status, 200);
    } finally {
      await f.close();
    }
  });

  it("GET /metrics: 200, the Prometheus text format, go-grpc-prometheus names with the calls made", T, async () => {
    const f = await withAdmin();
    try {
      await traffic(f.client, { ok: 2, notFound: 1 });
      const res = await get(`${f.admin.url}metrics`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get("content-type")!, /^text\/plain; version=0\.0\.4/);
      assert.match(res.body, /^# TYPE grpc_server_handled_total counter$/m);
      assert.match(res.body, /^grpc_server_handled_total\{[^}]*grpc_method="SayHello"[^}]*grpc_code="OK"[^}]*\} 2$/m);
      assert.match(res.body, /^grpc_server_handled_total\{[^}]*grpc_method="SayHello"[^}]*grpc_code="NOT_FOUND"[^}]*\} 1$/m);
      assert.match(res.body, /^switchboard_server_open_connections \d+$/m);
    } finally {
      await f.close();
    }
  });

  it("GET /metrics serves the ServerMetrics it is given (attached by the caller)", T, async () => {
    const f = await greeterServer();
    const metrics = new ServerMetrics({ prefix: "app_" });
    const detach = metrics.attach(f.server);
    const admin = await startAdmin(f.server, { port: 0, metrics });
    try {
      await traffic(f.client, { ok: 1 });
      const res = await get(`${admin.url}metrics`);
      assert.equal(res.status, 200);
      assert.match(res.body, /^app_grpc_server_handled_total\{[^}]*grpc_code="OK"[^}]*\} 1$/m);
    } finally {
      detach();
      await admin.close();
      await f.close();
    }
  });

  it("GET /health: 200 with every service SERVING, the server state and connections; 503 once stopping", T, async () => {
    const f = await withAdmin();
    try {
      await traffic(f.client, { ok: 1 });
      const res = await get(`${f.admin.url}health`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get("content-type")!, /^application\/json/);
      const body = JSON.parse(res.body) as { status: string; server: { state: string; ports: number[]; connections: number; uptimeSeconds: number }; services: Record<string, string> };
      assert.equal(body.status, "SERVING");
      assert.deepEqual(body.services, { "": "SERVING", "helloworld.Greeter": "SERVING" });
      assert.equal(body.server.state, "serving");
      assert.deepEqual(body.server.ports, [f.port]);
      assert.ok(body.server.connections >= 1, `connections ${body.server.connections}`);
      assert.ok(body.server.uptimeSeconds >= 0);
      // stop() turns health NOT_SERVING first; the admin server of startAdmin outlives it.
      f.channel.close();
      await f.server.stop();
      const after = await get(`${f.admin.url}health`);
      assert.equal(after.status, 503);
      const stopped = JSON.parse(after.body) as { status: string; server: { state: string }; services: Record<string, string> };
      assert.equal(stopped.status, "NOT_SERVING");
      assert.equal(stopped.server.state, "stopped");
      assert.equal(stopped.services["helloworld.Greeter"], "NOT_SERVING");
    } finally {
      await f.close();
    }
  });

  it("GET /health without a health service: 200 SERVING from the server state alone, services null", T, async () => {
    const f = await greeterServer();
    const admin = await startAdmin(f.server, { port: 0 });
    try {
      const body = JSON.parse((await get(`${admin.url}health`)).body) as { status: string; services: unknown };
      assert.equal(body.status, "SERVING");
      assert.equal(body.services, null);
    } finally {
      await admin.close();
      await f.close();
    }
  });

  it("GET /api/snapshot: 200 JSON with counts per method and code, latency, connections, runtime", T, async () => {
    const f = await withAdmin();
    try {
      await traffic(f.client, { ok: 4, notFound: 2, invalid: 1 });
      const res = await get(`${f.admin.url}api/snapshot`);
      assert.equal(res.status, 200);
      const s = JSON.parse(res.body) as import("../../src/admin/index.js").DashboardSnapshot;
      assert.equal(s.calls.calls, 7);
      assert.equal(s.calls.errors, 3);
      const rows = Object.fromEntries(s.calls.methods.map((m) => [m.method, m.codes]));
      assert.deepEqual(rows, { [SAY_HELLO]: { OK: 4, NOT_FOUND: 2 }, [SAY_HELLO_STREAM]: { INVALID_ARGUMENT: 1 } });
      assert.ok(s.calls.p50Ms !== null && s.calls.p99Ms !== null && s.calls.p50Ms <= s.calls.p99Ms);
      assert.ok(s.calls.rate > 0);
      assert.ok(s.server.connections >= 1);
      assert.equal(s.health, "SERVING");
      assert.ok(s.runtime.memory.rssBytes > 0 && s.runtime.memory.heapUsedBytes > 0);
      assert.equal(typeof s.runtime.eventLoop.p99Ms, "number");
      const next = JSON.parse((await get(`${f.admin.url}api/snapshot`)).body) as { seq: number };
      assert.ok(next.seq > s.seq);
    } finally {
      await f.close();
    }
  });

  it("GET /: 200, one self-contained HTML page (no outside URLs) with a strict CSP", T, async () => {
    const f = await withAdmin();
    try {
      const res = await get(f.admin.url);
      assert.equal(res.status, 200);
      assert.match(res.headers.get("content-type")!, /^text\/html/);
      assert.match(res.headers.get("content-security-policy")!, /default-src 'none'/);
      assert.match(res.body, /<title>Switchboard dashboard<\/title>/);
      assert.doesNotMatch(res.body, /(src|href)="(https?:)?\/\//);
      assert.match(res.body, /new EventSource\(/);
    } finally {
      await f.close();
    }
  });
});
