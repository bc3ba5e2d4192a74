// DashboardStats and its parts, driven with a test clock: percentiles of a known latency set,
// calls/s over the sliding window, and the "other" row that keeps the table bounded.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ObservedCall } from "../../src/call/observer.js";
import type { MethodInfo, MethodKind } from "../../src/service/method.js";
import { Code } from "../../src/status.js";
import { DashboardStats, OTHER_METHOD } from "../../src/admin/stats.js";
import { LatencyHistogram } from "../../src/admin/latency.js";
import { RateWindow } from "../../src/admin/rate.js";

function method(path: string, kind: MethodKind = "unary"): MethodInfo {
  const [, service, name] = /^\/([^/]+)\/([^/]+)$/.exec(path)!;
  return { path, service: service!, name: name!, kind };
}

function call(m: MethodInfo): ObservedCall {
  return { method: m, peer: "ipv4:127.0.0.1:1", session: undefined, protocol: "grpc", startedAt: 0, messagesReceived: 1, messagesSent: 1 };
}

/** Within `rel` of `expected` (the histogram's buckets are about 12 % wide). */
function near(actual: number | null | undefined, expected: number, rel: number): void {
  assert.ok(typeof actual === "number", `expected a number near ${expected}, got ${String(actual)}`);
  assert.ok(Math.abs(actual - expected) <= expected * rel, `${actual} is not within ${rel * 100} % of ${expected}`);
}

describe("LatencyHistogram percentiles", () => {
  it("1..1000 ms: p50 ≈ 500 ms and p99 ≈ 990 ms within a bucket's width", () => {
    const h = new LatencyHistogram();
    for (let v = 1; v <= 1000; v++) h.record(v);
    near(h.quantile(0.5), 500, 0.06);
    near(h.quantile(0.99), 990, 0.06);
    assert.equal(h.count, 1000);
    assert.equal(h.max, 1000);
    near(h.mean, 500.5, 1e-9);
  });

  it("a single value is every percentile exactly (clamped to min and max)", () => {
    const h = new LatencyHistogram();
    h.record(3.7);
    assert.equal(h.quantile(0.5), 3.7);
    assert.equal(h.quantile(0.99), 3.7);
  });

  it("99 fast calls and 1 slow one: p50 stays fast, p99 is still fast, p100 is the slow one", () => {
    const h = new LatencyHistogram();
    for (let i = 0; i < 99; i++) h.record(2);
    h.record(800);
    near(h.quantile(0.5), 2, 0.13);
    near(h.quantile(0.99), 2, 0.13);
    assert.equal(h.quantile(1), 800);
  });

  it("values beyond the range land in the end buckets and never exceed the largest seen", () => {
    const h = new LatencyHistogram();
    h.record(0);
    h.record(5e7);
    assert.equal(h.quantile(0), 0);
    assert.equal(h.quantile(1), 5e7);
    assert.equal(new LatencyHistogram().quantile(0.5), undefined);
  });
});

describe("RateWindow", () => {
  it("counts the last N seconds; older seconds fall out of the window", () => {
    const w = new RateWindow(10);
    for (let s = 0; s < 10; s++) w.add(s * 1000 + 500, 5);
    assert.equal(w.total(9_999), 50);
    assert.equal(w.rate(9_999), 5);
    // 3 s later the first 3 seconds have left the window.
    assert.equal(w.total(12_999), 35);
    assert.equal(w.rate(12_999), 3.5);
    // Long after, nothing is left.
    assert.equal(w.total(60_000), 0);
  });

  it("divides by the seconds since the first event while they are fewer than the window", () => {
    const w = new RateWindow(10);
    w.add(100_000, 20);
    w.add(101_500, 10);
    assert.equal(w.rate(102_000), 10); // 30 calls over the 3 seconds 100, 101 and 102
    assert.equal(w.rate(100_200), 20); // the first second alone
  });

  it("history lists each second oldest first, zero for silent ones", () => {
    const w = new RateWindow(5);
    w.add(1_000, 2);
    w.add(3_200, 1);
    w.add(3_900, 1);
    assert.deepEqual(w.history(4_000), [0, 2, 0, 2, 0]);
  });
});

describe("DashboardStats", () => {
  it("counts each status code per method, errors, totals and the calls/s window", () => {
    let now = 50_000;
    const stats = new DashboardStats({ now: () => now, windowSeconds: 10 });
    const hello = method("/helloworld.Greeter/SayHello");
    const stream = method("/helloworld.Greeter/SayHelloStream", "server_streaming");
    for (let i = 0; i < 12; i++) stats.callEnded(call(hello), Code.OK, 2);
    for (let i = 0; i < 3; i++) stats.callEnded(call(hello), Code.NOT_FOUND, 1);
    now += 1000;
    for (let i = 0; i < 2; i++) stats.callEnded(call(stream), Code.INVALID_ARGUMENT, 4);
    now += 1000;
    const s = stats.snapshot();
    assert.equal(s.calls, 17);
    assert.equal(s.errors, 5);
    assert.deepEqual(s.codes, { OK: 12, INVALID_ARGUMENT: 2, NOT_FOUND: 3 });
    assert.deepEqual(
      s.methods.map((m) => [m.method, m.calls, m.errors, m.codes]),
      [
        ["/helloworld.Greeter/SayHello", 15, 3, { OK: 12, NOT_FOUND: 3 }],
        ["/helloworld.Greeter/SayHelloStream", 2, 2, { INVALID_ARGUMENT: 2 }],
      ],
    );
    assert.equal(s.rate, 5.67); // 17 calls over the 3 seconds 50, 51 and 52
    assert.equal(s.methods[1]!.kind, "server_streaming");
    near(s.methods[1]!.p50Ms, 4, 1e-9);
  });

  it("counts streaming calls in progress from start to end", () => {
    const stats = new DashboardStats();
    const bidi = call(method("/a.B/Chat", "bidi_streaming"));
    const unary = call(method("/a.B/Get"));
    stats.callStarted(bidi);
    stats.callStarted(unary);
    assert.equal(stats.snapshot().activeStreams, 1);
    stats.callEnded(bidi, Code.CANCELLED, 10);
    stats.callEnded(unary, Code.OK, 1);
    assert.equal(stats.snapshot().activeStreams, 0);
  });

  it("refusals for unregistered paths collapse into one \"other\" row, listed last", () => {
    const stats = new DashboardStats();
    for (let i = 0; i < 5; i++) stats.callRefused(undefined, Code.UNIMPLEMENTED);
    stats.callRefused(method("/a.B/Get"), Code.RESOURCE_EXHAUSTED);
    const s = stats.snapshot();
    assert.deepEqual(s.methods.map((m) => [m.method, m.calls]), [["/a.B/Get", 1], [OTHER_METHOD, 5]]);
    // Refused before any handler ran: no latency.
    assert.equal(s.methods[0]!.p50Ms, null);
  });

  it("methods beyond maxMethods count under \"other\" (the table stays bounded)", () => {
    const stats = new DashboardStats({ maxMethods: 3 });
    for (let i = 0; i < 50; i++) stats.callEnded(call(method(`/a.B/M${i}`)), Code.OK, 1);
    const s = stats.snapshot();
    assert.equal(s.methods.length, 4);
    assert.equal(s.methods.at(-1)!.method, OTHER_METHOD);
    assert.equal(s.methods.at(-1)!.calls, 47);
    assert.equal(s.calls, 50);
  });

  it("a bad window is ERR_SB_BAD_OPTION", () => {
    assert.throws(() => new DashboardStats({ windowSeconds: 0 }), /ERR_SB_BAD_OPTION/);
  });
});
