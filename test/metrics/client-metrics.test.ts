// ClientMetrics counts a channel's calls with the grpc_client_* names and the server's labels:
// started/handled by grpc_code (OK, NOT_FOUND, and UNAVAILABLE for a target nobody serves),
// messages both ways, and the handling-seconds histogram.
import { afterEach, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import { Code, createClient } from "../../src/index.js";
import { ClientMetrics } from "../../src/metrics/prometheus.js";
import { TestService } from "../../examples/gen/grpc/testing/test_pb.js";
import { expectRpcError, refusingUnixPath, Scope } from "../client/helpers.js";
import { deferred, find, handled, parseExposition, scrapeUntil, T, testLabels, testServer, value } from "./helpers.js";

const scope = new Scope();
afterEach(() => scope.close());

const bytes = (s: string) => new TextEncoder().encode(s);
const UNARY = testLabels("unary", "UnaryCall");
const OUT = testLabels("server_stream", "StreamingOutputCall");
const IN = testLabels("client_stream", "StreamingInputCall");

describe("client metrics", () => {
  it("3 OK + 2 NOT_FOUND unary, a server stream of 5 and a client stream of 3: exact grpc_client_* counts", T, async () => {
    const { target } = await testServer(scope);
    const metrics = new ClientMetrics();
    const channel = scope.channel(target);
    metrics.attach(channel);
    const client = createClient(TestService, channel);
    for (let i = 0; i < 3; i++) await client.unaryCall({ payload: { body: bytes("ok") } });
    for (let i = 0; i < 2; i++) await expectRpcError(client.unaryCall({ payload: { body: bytes("missing") } }), Code.NOT_FOUND);
    let n = 0;
    for await (const _ of client.streamingOutputCall({ responseParameters: [1, 1, 1, 1, 1].map((size) => ({ size })) })) n++;
    assert.equal(n, 5);
    await client.streamingInputCall([{}, {}, {}]);
    const e = await handled(metrics, 7, "client");
    assert.equal(value(e, "grpc_client_started_total", UNARY), 5);
    assert.equal(value(e, "grpc_client_handled_total", { ...UNARY, grpc_code: "OK" }), 3);
    assert.equal(value(e, "grpc_client_handled_total", { ...UNARY, grpc_code: "NOT_FOUND" }), 2);
    assert.equal(value(e, "grpc_client_msg_sent_total", UNARY), 5);
    assert.equal(value(e, "grpc_client_msg_received_total", UNARY), 3);
    assert.equal(value(e, "grpc_client_msg_received_total", OUT), 5);
    assert.equal(value(e, "grpc_client_msg_sent_total", OUT), 1);
    assert.equal(value(e, "grpc_client_msg_sent_total", IN), 3);
    assert.equal(value(e, "grpc_client_msg_received_total", IN), 1);
    assert.equal(value(e, "grpc_client_handling_seconds_count", UNARY), 5);
    assert.equal(e.types.get("grpc_client_handling_seconds"), "histogram");
    // The server side's names are not on a client registry.
    assert.equal(find(e, "grpc_server_started_total").length, 0);
  });

  it("a call to a target nobody serves counts as handled with UNAVAILABLE", T, async () => {
    const { target } = await refusingUnixPath(scope);
    const metrics = new ClientMetrics();
    const channel = scope.channel(target);
    metrics.attach(channel);
    await expectRpcError(createClient(TestService, channel).unaryCall({}, { timeout: 2000 }), Code.UNAVAILABLE);
    const e = await handled(metrics, 1, "client");
    assert.equal(value(e, "grpc_client_handled_total", { ...UNARY, grpc_code: "UNAVAILABLE" }), 1);
  });

  it("attaching a channel twice is refused (ERR_SB_BAD_OPTION); after detach the channel's calls are not counted", T, async () => {
    const { target } = await testServer(scope);
    const metrics = new ClientMetrics();
    const channel = scope.channel(target);
    const detach = metrics.attach(channel);
    assert.throws(() => metrics.attach(channel), { code: "ERR_SB_BAD_OPTION" });
    const client = createClient(TestService, channel);
    await client.unaryCall({});
    await handled(metrics, 1, "client");
    detach();
    await client.unaryCall({});
    assert.equal(value(parseExposition(await metrics.metrics()), "grpc_client_started_total", UNARY), 1);
    assert.equal(channel.observers.active, false);
  });

  it("gauges: an open bidi call is switchboard_client_active_calls 1 on 1 open connection; after it ends 0 calls, after close() 0 connections", T, async () => {
    const { target } = await testServer(scope);
    const metrics = new ClientMetrics();
    const channel = scope.channel(target);
    metrics.attach(channel);
    const client = createClient(TestService, channel);
    const done = deferred();
    async function* requests() {
      yield { payload: { body: bytes("a") } };
      await done.promise;
    }
    const replies = client.fullDuplexCall(requests(), { timeout: 10_000 })[Symbol.asyncIterator]();
    assert.equal((await replies.next()).done, false); // the echo of "a": the call is running
    let e = parseExposition(await metrics.metrics());
    assert.equal(value(e, "switchboard_client_active_calls"), 1);
    assert.equal(value(e, "switchboard_client_open_connections"), 1);
    done.resolve();
    assert.equal((await replies.next()).done, true);
    e = await scrapeUntil(metrics, (x) => value(x, "switchboard_client_active_calls") === 0, "no active calls");
    assert.equal(value(e, "switchboard_client_open_connections"), 1);
    channel.close();
    await scrapeUntil(metrics, (x) => value(x, "switchboard_client_open_connections") === 0, "no open connections");
  });

  it("a call already running when the channel is attached ends without taking switchboard_client_active_calls below 0", T, async () => {
    const { target } = await testServer(scope);
    // channelz observes from the start, so the call reports its end to observers attached later.
    const channel = scope.channel(target, { channelz: true });
    const client = createClient(TestService, channel);
    const done = deferred();
    async function* requests() {
      yield { payload: { body: bytes("a") } };
      await done.promise;
    }
    const replies = client.fullDuplexCall(requests(), { timeout: 10_000 })[Symbol.asyncIterator]();
    assert.equal((await replies.next()).done, false); // running
    const metrics = new ClientMetrics();
    metrics.attach(channel);
    done.resolve();
    assert.equal((await replies.next()).done, true);
    const e = await handled(metrics, 1, "client");
    assert.equal(value(e, "switchboard_client_active_calls"), 0);
  });
});
