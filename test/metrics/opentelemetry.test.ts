// OpenTelemetry through @opentelemetry/api: rpc.server.call.duration and
// rpc.client.call.duration in seconds, attributes per the RPC semantic conventions
// (rpc.system.name, rpc.method as pkg.Service/Method or _OTHER, rpc.response.status_code,
// error.type, server.address/port for clients), read back through @opentelemetry/sdk-metrics.
// Without an SDK the global meter is the API's no-op one and calls still succeed.
import { afterEach, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as http2 from "node:http2";
import type { Attributes } from "@opentelemetry/api";
import { DataPointType, MeterProvider, MetricReader, type HistogramMetricData } from "@opentelemetry/sdk-metrics";
import { Code, createClient } from "../../src/index.js";
import { attachClientOpenTelemetry, attachOpenTelemetry } from "../../src/metrics/otel.js";
import { targetAddress } from "../../src/metrics/target-address.js";
import { TestService } from "../../examples/gen/grpc/testing/test_pb.js";
import { expectRpcError, Scope } from "../client/helpers.js";
import { frame, rawRequest } from "../server/helpers.js";
import { T, testServer } from "./helpers.js";

const scope = new Scope();
afterEach(() => scope.close());

/** A reader the test collects from on demand. */
class TestReader extends MetricReader {
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

interface Point {
  attributes: Attributes;
  count: number;
  sum: number;
}

function sdk(): { provider: MeterProvider; read: (name: string) => Promise<{ unit: string; points: Point[] }> } {
  const reader = new TestReader();
  const provider = new MeterProvider({ readers: [reader] });
  scope.defer(() => provider.shutdown());
  return {
    provider,
    async read(name) {
      const { resourceMetrics, errors } = await reader.collect();
      assert.deepEqual(errors, []);
      const metric = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).find((m) => m.descriptor.name === name) as HistogramMetricData | undefined;
      if (!metric) return { unit: "", points: [] };
      assert.equal(metric.dataPointType, DataPointType.HISTOGRAM);
      return { unit: metric.descriptor.unit, points: metric.dataPoints.map((p) => ({ attributes: p.attributes, count: p.value.count, sum: p.value.sum ?? NaN })) };
    },
  };
}

/** Waits (bounded) until the server side has recorded `n` calls. */
async function recorded(read: () => Promise<{ points: Point[] }>, n: number): Promise<Point[]> {
  for (let i = 0; i < 500; i++) {
    const { points } = await read();
    if (points.reduce((a, p) => a + p.count, 0) >= n) return points;
    await new Promise((r) => setTimeout(r, 2));
  }
  assert.fail(`${n} calls were never recorded`);
}

const bytes = (s: string) => new TextEncoder().encode(s);
const byMethodAndCode = (points: Point[]) =>
  Object.fromEntries(points.map((p) => [`${String(p.attributes["rpc.method"])} ${String(p.attributes["rpc.response.status_code"])}`, p]));

describe("OpenTelemetry RPC metrics", () => {
  it("rpc.server.call.duration (s): 2 OK + 1 NOT_FOUND unary and one unknown path (_OTHER, UNIMPLEMENTED, error.type)", T, async () => {
    const { server, target, port } = await testServer(scope);
    const { provider, read } = sdk();
    attachOpenTelemetry(server, { meterProvider: provider });
    const client = createClient(TestService, scope.channel(target));
    await client.unaryCall({ payload: { body: bytes("a") } });
    await client.unaryCall({ payload: { body: bytes("b") } });
    await expectRpcError(client.unaryCall({ payload: { body: bytes("missing") } }), Code.NOT_FOUND);
    const s = http2.connect(`http://127.0.0.1:${port}`);
    s.on("error", () => {});
    scope.defer(() => void s.destroy());
    assert.equal((await rawRequest(s, "/no.Such/Thing", frame(new Uint8Array()))).headers["grpc-status"], "12");

    const points = await recorded(() => read("rpc.server.call.duration"), 4);
    assert.equal((await read("rpc.server.call.duration")).unit, "s");
    const got = byMethodAndCode(points);
    assert.deepEqual(Object.keys(got).sort(), ["_OTHER UNIMPLEMENTED", "grpc.testing.TestService/UnaryCall NOT_FOUND", "grpc.testing.TestService/UnaryCall OK"]);
    assert.deepEqual(got["grpc.testing.TestService/UnaryCall OK"]!.attributes, {
      "rpc.system.name": "grpc",
      "rpc.method": "grpc.testing.TestService/UnaryCall",
      "rpc.response.status_code": "OK",
    });
    assert.equal(got["grpc.testing.TestService/UnaryCall OK"]!.count, 2);
    // NOT_FOUND is the client's doing: no error.type on the server side; UNIMPLEMENTED is a server error.
    assert.equal(got["grpc.testing.TestService/UnaryCall NOT_FOUND"]!.attributes["error.type"], undefined);
    assert.equal(got["_OTHER UNIMPLEMENTED"]!.attributes["error.type"], "UNIMPLEMENTED");
    // Seconds: three in-process calls take far less than 10 s in all, and no negative time.
    const okSum = got["grpc.testing.TestService/UnaryCall OK"]!.sum;
    assert.ok(okSum >= 0 && okSum < 10, String(okSum));
    assert.equal(got["_OTHER UNIMPLEMENTED"]!.sum, 0);
  });

  it("rpc.client.call.duration (s): OK and NOT_FOUND with error.type, server.address and server.port from the target", T, async () => {
    const { target, port } = await testServer(scope);
    const { provider, read } = sdk();
    const channel = scope.channel(target);
    attachClientOpenTelemetry(channel, { meterProvider: provider });
    const client = createClient(TestService, channel);
    await client.unaryCall({});
    await expectRpcError(client.unaryCall({ payload: { body: bytes("missing") } }), Code.NOT_FOUND);
    const got = byMethodAndCode(await recorded(() => read("rpc.client.call.duration"), 2));
    assert.deepEqual(got["grpc.testing.TestService/UnaryCall NOT_FOUND"]!.attributes, {
      "rpc.system.name": "grpc",
      "rpc.method": "grpc.testing.TestService/UnaryCall",
      "rpc.response.status_code": "NOT_FOUND",
      "error.type": "NOT_FOUND",
      "server.address": "127.0.0.1",
      "server.port": port,
    });
    assert.equal(got["grpc.testing.TestService/UnaryCall OK"]!.attributes["error.type"], undefined);
    assert.equal(got["grpc.testing.TestService/UnaryCall OK"]!.count, 1);
  });

  it("without an SDK the global no-op meter records nothing and calls still succeed (OK); detaching removes the observer", T, async () => {
    const { server, target } = await testServer(scope);
    const detach = attachOpenTelemetry(server);
    const channel = scope.channel(target);
    const detachClient = attachClientOpenTelemetry(channel);
    const res = await createClient(TestService, channel).unaryCall({ payload: { body: bytes("x") } });
    assert.equal(Buffer.from(res.payload!.body).toString(), "x");
    detach();
    detachClient();
    assert.equal(server.observers.active, false);
    assert.equal(channel.observers.active, false);
  });

  it("server.address / server.port come from every target form (dns, ipv4, ipv6, unix, host:port)", () => {
    assert.deepEqual(targetAddress("127.0.0.1:50051"), { address: "127.0.0.1", port: 50051 });
    assert.deepEqual(targetAddress("localhost:8080"), { address: "localhost", port: 8080 });
    assert.deepEqual(targetAddress("dns:///example.com:443"), { address: "example.com", port: 443 });
    assert.deepEqual(targetAddress("dns://8.8.8.8/example.com"), { address: "example.com" });
    assert.deepEqual(targetAddress("dns:example.com:9"), { address: "example.com", port: 9 });
    assert.deepEqual(targetAddress("ipv4:10.0.0.1:1,10.0.0.2:2"), { address: "10.0.0.1", port: 1 });
    assert.deepEqual(targetAddress("ipv6:[::1]:7"), { address: "::1", port: 7 });
    assert.deepEqual(targetAddress("[::1]:7"), { address: "::1", port: 7 });
    assert.deepEqual(targetAddress("unix:/tmp/s.sock"), { address: "/tmp/s.sock" });
    assert.deepEqual(targetAddress("unix:///tmp/s.sock"), { address: "/tmp/s.sock" });
    assert.deepEqual(targetAddress("example.com"), { address: "example.com" });
    assert.equal(targetAddress("dns:///"), undefined);
  });
});
