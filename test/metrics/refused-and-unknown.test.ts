// Requests answered before they became calls. Unknown paths must not create label sets: every
// one counts under the fixed grpc_type="unknown", grpc_service="other", grpc_method="other"
// (1,000 distinct paths -> one series, UNIMPLEMENTED). Refusals of registered methods (bad
// grpc-timeout INTERNAL, overload RESOURCE_EXHAUSTED, not started UNAVAILABLE) count under
// their method. maxMethods bounds the per-method series a catch-all handler could create.
import { afterEach, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import { once } from "node:events";
import * as http2 from "node:http2";
import { Server, unaryUnaryRpcMethodHandler } from "../../src/index.js";
import { ServerMetrics } from "../../src/metrics/prometheus.js";
import { Scope } from "../client/helpers.js";
import { frame, rawRequest } from "../server/helpers.js";
import { addTestService, deferred, find, handled, T, testLabels, testServer, UNARY, BIDI, value } from "./helpers.js";

const scope = new Scope();
afterEach(() => scope.close());

const OTHER = { grpc_type: "unknown", grpc_service: "other", grpc_method: "other" };
const UNARY_LABELS = testLabels("unary", "UnaryCall");

function session(port: number): http2.ClientHttp2Session {
  const s = http2.connect(`http://127.0.0.1:${port}`);
  s.on("error", () => {});
  scope.defer(() => void s.destroy());
  return s;
}

describe("server metrics: refused requests and unknown methods", () => {
  it("1,000 distinct unknown paths produce exactly one label set (grpc_service=other, grpc_method=other) with 1,000 UNIMPLEMENTED", T, async () => {
    const { server, port } = await testServer(scope);
    const metrics = new ServerMetrics();
    metrics.attach(server);
    const s = session(port);
    for (let batch = 0; batch < 20; batch++) {
      const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => rawRequest(s, `/scan.Probe${batch}/Path${i}`, frame(new Uint8Array()))));
      for (const a of answers) assert.equal(a.headers["grpc-status"], "12");
    }
    const e = await handled(metrics, 1000);
    for (const name of ["grpc_server_started_total", "grpc_server_handling_seconds_count"]) {
      assert.equal(find(e, name).length, 1, `${name} has one series`);
      assert.equal(value(e, name, OTHER), 1000);
    }
    assert.deepEqual(find(e, "grpc_server_handled_total").map((x) => [x.labels, x.value]), [[{ ...OTHER, grpc_code: "UNIMPLEMENTED" }, 1000]]);
    // Refused requests never exchanged messages: the message counters have no "other" series.
    assert.equal(find(e, "grpc_server_msg_received_total", OTHER).length, 0);
    assert.ok(!(await metrics.metrics()).includes("scan.Probe"), "no unknown path reaches the exposition");
  });

  it("a bad grpc-timeout is refused with INTERNAL and counted under its registered method", T, async () => {
    const { server, port } = await testServer(scope);
    const metrics = new ServerMetrics();
    metrics.attach(server);
    const a = await rawRequest(session(port), UNARY, frame(new Uint8Array()), { "grpc-timeout": "soon" });
    assert.equal(a.headers["grpc-status"], "13");
    const e = await handled(metrics, 1);
    assert.equal(value(e, "grpc_server_started_total", UNARY_LABELS), 1);
    assert.equal(value(e, "grpc_server_handled_total", { ...UNARY_LABELS, grpc_code: "INTERNAL" }), 1);
    assert.equal(value(e, "grpc_server_msg_received_total", UNARY_LABELS), 0);
    assert.equal(find(e, "grpc_server_started_total", OTHER).length, 0);
  });

  it("overload (maximumConcurrentRpcs) refuses with RESOURCE_EXHAUSTED counted under the method", T, async () => {
    const { server, port } = await scope.server(addTestService, { maximumConcurrentRpcs: 1 });
    const metrics = new ServerMetrics();
    metrics.attach(server);
    const s = session(port);
    // A bidi call holds the one slot until we end it.
    const held = s.request({ ":method": "POST", ":path": BIDI, "content-type": "application/grpc", te: "trailers" });
    held.on("error", () => {});
    held.write(frame(new Uint8Array()));
    const first = deferred();
    held.once("data", () => first.resolve());
    await first.promise;
    const refused = await rawRequest(s, UNARY, frame(new Uint8Array()));
    assert.equal(refused.headers["grpc-status"], "8");
    const e = await handled(metrics, 1);
    assert.equal(value(e, "grpc_server_handled_total", { ...UNARY_LABELS, grpc_code: "RESOURCE_EXHAUSTED" }), 1);
    held.end();
    await once(held, "close");
  });

  it("a server bound but not started refuses with UNAVAILABLE, counted under the method", T, async () => {
    const server = scope.trackServer(new Server());
    addTestService(server);
    const port = await server.addInsecurePort("127.0.0.1:0");
    const metrics = new ServerMetrics();
    metrics.attach(server);
    const a = await rawRequest(session(port), UNARY, frame(new Uint8Array()));
    assert.equal(a.headers["grpc-status"], "14");
    const e = await handled(metrics, 1);
    assert.equal(value(e, "grpc_server_handled_total", { ...UNARY_LABELS, grpc_code: "UNAVAILABLE" }), 1);
  });

  it("a catch-all generic handler answering any path: past maxMethods, new paths count under other (OK)", T, async () => {
    const { server, port } = await scope.server((s) =>
      s.addGenericRpcHandlers([() => unaryUnaryRpcMethodHandler((req: Uint8Array) => req)]),
    );
    const metrics = new ServerMetrics({ maxMethods: 3 });
    metrics.attach(server);
    const s = session(port);
    for (let i = 0; i < 10; i++) assert.equal((await rawRequest(s, `/any.Svc/M${i}`, frame(new Uint8Array([1])))).trailers?.["grpc-status"], "0");
    const e = await handled(metrics, 10);
    const series = find(e, "grpc_server_started_total");
    assert.equal(series.length, 4);
    assert.equal(value(e, "grpc_server_started_total", OTHER), 7);
  });
});
