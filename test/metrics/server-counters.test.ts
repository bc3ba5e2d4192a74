// ServerMetrics counts what real calls did, with the go-grpc-prometheus names and labels:
// started/handled (by grpc_code)/msg_received/msg_sent per method and call type, and a
// handling-seconds histogram whose count matches handled_total, over our client and grpc-js.
import { afterEach, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import { Code, createClient } from "../../src/index.js";
import { ServerMetrics } from "../../src/metrics/prometheus.js";
import { TestService } from "../../examples/gen/grpc/testing/test_pb.js";
import { Scope, expectRpcError } from "../client/helpers.js";
import { clientStream, expectCode, TS, unary } from "../server/helpers.js";
import { find, handled, parseExposition, T, testLabels, testServer, value, type Exposition } from "./helpers.js";

const scope = new Scope();
afterEach(() => scope.close());

const bytes = (s: string) => new TextEncoder().encode(s);
const UNARY = testLabels("unary", "UnaryCall");
const OUT = testLabels("server_stream", "StreamingOutputCall");
const IN = testLabels("client_stream", "StreamingInputCall");
const BIDI = testLabels("bidi_stream", "FullDuplexCall");

async function scrape(metrics: ServerMetrics): Promise<Exposition> {
  return parseExposition(await metrics.metrics());
}

describe("server metrics: counters", () => {
  it("3 OK + 2 NOT_FOUND unary, a server stream of 5, a client stream of 3 and a bidi of 2 give exact counts per method and grpc_code", T, async () => {
    const { server, target } = await testServer(scope);
    const metrics = new ServerMetrics();
    metrics.attach(server);
    const client = createClient(TestService, scope.channel(target));
    for (const name of ["a", "b", "c"]) await client.unaryCall({ payload: { body: bytes(name) } });
    for (let i = 0; i < 2; i++) await expectRpcError(client.unaryCall({ payload: { body: bytes("missing") } }), Code.NOT_FOUND);
    let got = 0;
    for await (const _ of client.streamingOutputCall({ responseParameters: [1, 2, 3, 4, 5].map((size) => ({ size })) })) got++;
    assert.equal(got, 5);
    await client.streamingInputCall([1, 2, 3].map((n) => ({ payload: { body: new Uint8Array(n) } })));
    let echoed = 0;
    for await (const _ of client.fullDuplexCall([{ payload: { body: bytes("x") } }, { payload: { body: bytes("y") } }])) echoed++;
    assert.equal(echoed, 2);

    const e = await handled(metrics, 8);
    assert.equal(value(e, "grpc_server_started_total", UNARY), 5);
    assert.equal(value(e, "grpc_server_handled_total", { ...UNARY, grpc_code: "OK" }), 3);
    assert.equal(value(e, "grpc_server_handled_total", { ...UNARY, grpc_code: "NOT_FOUND" }), 2);
    assert.equal(value(e, "grpc_server_msg_received_total", UNARY), 5);
    assert.equal(value(e, "grpc_server_msg_sent_total", UNARY), 3);

    assert.equal(value(e, "grpc_server_started_total", OUT), 1);
    assert.equal(value(e, "grpc_server_handled_total", { ...OUT, grpc_code: "OK" }), 1);
    assert.equal(value(e, "grpc_server_msg_received_total", OUT), 1);
    assert.equal(value(e, "grpc_server_msg_sent_total", OUT), 5);

    assert.equal(value(e, "grpc_server_started_total", IN), 1);
    assert.equal(value(e, "grpc_server_handled_total", { ...IN, grpc_code: "OK" }), 1);
    assert.equal(value(e, "grpc_server_msg_received_total", IN), 3);
    assert.equal(value(e, "grpc_server_msg_sent_total", IN), 1);

    assert.equal(value(e, "grpc_server_started_total", BIDI), 1);
    assert.equal(value(e, "grpc_server_msg_received_total", BIDI), 2);
    assert.equal(value(e, "grpc_server_msg_sent_total", BIDI), 2);
    // Only codes that happened have a series.
    assert.deepEqual(find(e, "grpc_server_handled_total", UNARY).map((s) => s.labels.grpc_code).sort(), ["NOT_FOUND", "OK"]);
  });

  it("the handling_seconds histogram: count equals handled_total, +Inf equals count, buckets never decrease, sum is finite and >= 0", T, async () => {
    const { server, target } = await testServer(scope);
    const metrics = new ServerMetrics({ buckets: [0.001, 0.01, 0.1, 1] });
    metrics.attach(server);
    const client = createClient(TestService, scope.channel(target));
    for (let i = 0; i < 4; i++) await client.unaryCall({ payload: { body: bytes("h") } });
    await expectRpcError(client.unaryCall({ payload: { body: bytes("missing") } }), Code.NOT_FOUND);
    const e = await handled(metrics, 5);
    const buckets = find(e, "grpc_server_handling_seconds_bucket", UNARY);
    assert.deepEqual(buckets.map((b) => b.labels.le), ["0.001", "0.01", "0.1", "1", "+Inf"]);
    for (let i = 1; i < buckets.length; i++) assert.ok(buckets[i]!.value >= buckets[i - 1]!.value, "cumulative buckets");
    assert.equal(value(e, "grpc_server_handling_seconds_count", UNARY), 5);
    assert.equal(buckets.at(-1)!.value, 5);
    const sum = value(e, "grpc_server_handling_seconds_sum", UNARY);
    assert.ok(Number.isFinite(sum) && sum >= 0);
    assert.equal(e.types.get("grpc_server_handling_seconds"), "histogram");
  });

  it("histogram: false leaves grpc_server_handling_seconds out; the counters still count (OK)", T, async () => {
    const { server, target } = await testServer(scope);
    const metrics = new ServerMetrics({ histogram: false });
    metrics.attach(server);
    await createClient(TestService, scope.channel(target)).unaryCall({});
    const e = await handled(metrics, 1);
    assert.equal(e.types.has("grpc_server_handling_seconds"), false);
    assert.equal(find(e, "grpc_server_handling_seconds_count").length, 0);
    assert.equal(value(e, "grpc_server_handled_total", { ...UNARY, grpc_code: "OK" }), 1);
  });

  it("grpc-js as the client: unary OK, NOT_FOUND and a client stream count the same way", T, async () => {
    const { server, target } = await testServer(scope);
    const metrics = new ServerMetrics();
    metrics.attach(server);
    const peer = new grpc.Client(target, grpc.credentials.createInsecure());
    scope.defer(() => peer.close());
    await unary(peer, TS.unaryCall, { payload: { body: bytes("ok") } }, TS.simpleRequest, TS.simpleResponse);
    await expectCode(unary(peer, TS.unaryCall, { payload: { body: bytes("missing") } }, TS.simpleRequest, TS.simpleResponse), grpc.status.NOT_FOUND);
    await clientStream(peer, TS.streamingInputCall, [{}, {}, {}, {}], TS.inputRequest, TS.inputResponse);
    const e = await handled(metrics, 3);
    assert.equal(value(e, "grpc_server_handled_total", { ...UNARY, grpc_code: "OK" }), 1);
    assert.equal(value(e, "grpc_server_handled_total", { ...UNARY, grpc_code: "NOT_FOUND" }), 1);
    assert.equal(value(e, "grpc_server_msg_received_total", IN), 4);
    assert.equal(value(e, "grpc_server_handled_total", { ...IN, grpc_code: "OK" }), 1);
  });

  it("two servers attached to one ServerMetrics add up; detaching one stops its counting (OK)", T, async () => {
    const a = await testServer(scope);
    const b = await testServer(scope);
    const metrics = new ServerMetrics();
    metrics.attach(a.server);
    const detachB = metrics.attach(b.server);
    await createClient(TestService, scope.channel(a.target)).unaryCall({});
    const clientB = createClient(TestService, scope.channel(b.target));
    await clientB.unaryCall({});
    let e = await handled(metrics, 2);
    assert.equal(value(e, "grpc_server_handled_total", { ...UNARY, grpc_code: "OK" }), 2);
    detachB();
    detachB(); // a second call is harmless
    await clientB.unaryCall({});
    e = await scrape(metrics);
    assert.equal(value(e, "grpc_server_started_total", UNARY), 2);
  });
});
