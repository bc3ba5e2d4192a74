// grpc.health.v1.Health: HealthService with ServiceStatus / ServiceCheck sources, checked through
// our client and through a python3-grpcio (C-core) client.
import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import {
  Code,
  createClient,
  Health,
  HealthService,
  OVERALL,
  RpcError,
  ServiceCheck,
  ServiceStatus,
  ServingStatus,
  type ClientCall,
  type HealthCheckRequest,
  type HealthCheckResponse,
} from "../../src/index.js";
import { Greeter } from "../../examples/gen/helloworld/helloworld_pb.js";
import { greeter } from "../../examples/helloworld/server.js";
import { pythonPeerMissing, requirePeer } from "../interop/peers.js";
import { Scope, T, until, within } from "./helpers.js";

const { SERVING, NOT_SERVING, UNKNOWN, SERVICE_UNKNOWN } = ServingStatus;

let scope = new Scope();
afterEach(async () => {
  await scope.close();
  scope = new Scope();
});

/** A server with `health` (and the Greeter) and a health client on our channel. */
async function serve(health: HealthService) {
  const { server, target, port } = await scope.server((s) => {
    s.addService(Greeter, greeter);
    health.register(s);
  });
  return { server, port, client: createClient(Health, scope.channel(target)) };
}

type Watch = ClientCall<HealthCheckRequest, HealthCheckResponse>;
type HealthClient = Awaited<ReturnType<typeof serve>>["client"];

/** The next Watch message's status (the bound only turns a hang into a failure). */
async function nextStatus(call: Watch, ms = 10_000): Promise<ServingStatus> {
  const m = await within(call.recvMessage(), ms, "the next Watch message");
  assert.ok(m, "the Watch ended");
  return m.status;
}

/**
 * Makes `change` and returns the Watch's next status, which must come at once: before the answer
 * to a Check sent after the change on the same connection. The server writes the Watch message
 * while `change` runs, before that Check even arrives; a change found by polling would come later.
 */
async function changeArrivesAtOnce(client: HealthClient, call: Watch, change: () => void): Promise<ServingStatus> {
  const order: string[] = [];
  const next = nextStatus(call).then((status) => (order.push("watch"), status));
  change();
  await client.check({ service: OVERALL });
  order.push("check");
  const status = await next;
  assert.deepEqual(order, ["watch", "check"], "the Watch message must not come after the answer to a later Check");
  return status;
}

async function checkCode(promise: Promise<unknown>): Promise<Code> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof RpcError, String(err));
    return err.code;
  }
  assert.fail("the call succeeded");
}

describe("Check through our client", () => {
  it("SERVING, NOT_SERVING, UNKNOWN and NOT_FOUND", T, async () => {
    const up = new ServiceStatus(true);
    const down = new ServiceStatus(false);
    const unknown = new ServiceStatus();
    const health = new HealthService({ "svc.Up": [up], "svc.Down": [down], "svc.Unknown": [unknown], "svc.Mixed": [up, unknown], "svc.Empty": [] });
    const { client } = await serve(health);
    assert.equal((await client.check({ service: "svc.Up" })).status, SERVING);
    assert.equal((await client.check({ service: "svc.Down" })).status, NOT_SERVING);
    assert.equal((await client.check({ service: "svc.Unknown" })).status, UNKNOWN);
    assert.equal((await client.check({ service: "svc.Mixed" })).status, NOT_SERVING, "one unknown check among passing ones is not SERVING");
    assert.equal((await client.check({ service: "svc.Empty" })).status, SERVING, "a service without checks is SERVING");
    assert.equal(await checkCode(client.check({ service: "svc.Nope" })), Code.NOT_FOUND);
    down.set(true);
    assert.equal((await client.check({ service: "svc.Down" })).status, SERVING);
  });

  it("without checks the server (OVERALL) is SERVING and nothing else is known", T, async () => {
    const { client } = await serve(new HealthService());
    assert.equal((await client.check({ service: OVERALL })).status, SERVING);
    assert.equal((await client.check({})).status, SERVING);
    assert.equal(await checkCode(client.check({ service: "helloworld.Greeter" })), Code.NOT_FOUND);
  });

  it("OVERALL is SERVING only when every check of every service passes; an explicit OVERALL list wins", T, async () => {
    const a = new ServiceStatus(true);
    const b = new ServiceStatus(true);
    const c = new ServiceStatus(true);
    const health = new HealthService([
      [Greeter, [a, b]],
      ["acme.Billing", [b, c]],
    ]);
    const { client } = await serve(health);
    assert.equal((await client.check({ service: "helloworld.Greeter" })).status, SERVING, "DescService keys use the full service name");
    assert.equal((await client.check({ service: "" })).status, SERVING);
    c.set(false);
    assert.equal((await client.check({ service: "helloworld.Greeter" })).status, SERVING);
    assert.equal((await client.check({ service: "acme.Billing" })).status, NOT_SERVING);
    assert.equal((await client.check({ service: "" })).status, NOT_SERVING);
    health.setChecks(OVERALL, [a]);
    assert.equal((await client.check({ service: "" })).status, SERVING, "the explicit OVERALL list only has `a`");
    a.set(false);
    assert.equal((await client.check({ service: "" })).status, NOT_SERVING);
  });

  it("register(server) and server.addService(Health, health.impl) are the same", T, async () => {
    const health = new HealthService({ x: [new ServiceStatus(true)] });
    const { target } = await scope.server((s) => s.addService(Health, health.impl));
    const client = createClient(Health, scope.channel(target));
    assert.equal((await client.check({ service: "x" })).status, SERVING);
  });
});

describe("ServiceCheck", () => {
  it("caches the result for the TTL, shares concurrent runs, and runs again after the TTL", T, async () => {
    const TTL = 2000;
    let runs = 0;
    let verdict = true;
    const check = new ServiceCheck(
      async () => {
        runs++;
        await sleep(20);
        return verdict;
      },
      // The cached answer below must come within the TTL (counted from the end of the run): a
      // TTL this long leaves a busy machine seconds for it.
      { ttlMs: TTL, timeoutMs: 10_000 },
    );
    const { client } = await serve(new HealthService({ db: [check] }));
    const first = await Promise.all([client.check({ service: "db" }), client.check({ service: "db" }), client.check({ service: "" })]);
    assert.deepEqual(
      first.map((r) => r.status),
      [SERVING, SERVING, SERVING],
    );
    assert.equal(runs, 1, "concurrent checks share one run");
    verdict = false;
    assert.equal((await client.check({ service: "db" })).status, SERVING, "within the TTL the cached result is used");
    assert.equal(runs, 1);
    await sleep(TTL + 100); // a timer never fires early: the TTL has passed
    assert.equal((await client.check({ service: "db" })).status, NOT_SERVING, "after the TTL the probe runs again");
    assert.equal(runs, 2);
  });

  it("a probe slower than timeoutMs counts as false, is logged, and its signal is aborted", T, async () => {
    const logged: string[] = [];
    let signal: AbortSignal | undefined;
    const slow = new ServiceCheck(
      (s) => {
        signal = s;
        return new Promise<boolean>(() => {}); // never answers: only the timeout can end the check
      },
      { ttlMs: 60_000, timeoutMs: 100, name: "slow", logger: (m) => logged.push(m) },
    );
    const { client } = await serve(new HealthService({ slow: [slow] }));
    const started = Date.now();
    assert.equal((await client.check({ service: "slow" })).status, NOT_SERVING);
    const took = Date.now() - started;
    assert.ok(took >= 90, `the check took ${took} ms, less than its 100 ms timeout`);
    assert.deepEqual(logged, ["health check slow timed out after 100 ms"]);
    assert.equal(signal?.aborted, true);
  });

  it("a probe that throws counts as false and the error goes to the logger", T, async () => {
    const logged: { message: string; error: unknown }[] = [];
    const boom = new Error("db down");
    const failing = new ServiceCheck(
      async () => {
        throw boom;
      },
      { name: "db", logger: (message, error) => logged.push({ message, error }) },
    );
    const nothing = new ServiceCheck(async () => undefined);
    const { client } = await serve(new HealthService({ db: [failing], maybe: [nothing] }));
    assert.equal((await client.check({ service: "db" })).status, NOT_SERVING);
    assert.equal((await client.check({ service: "maybe" })).status, UNKNOWN, "undefined counts as null (unknown)");
    assert.equal(logged.length, 1);
    assert.equal(logged[0]!.message, "health check db failed: db down");
    assert.equal(logged[0]!.error, boom);
  });

  it("rejects a non-positive TTL or timeout", () => {
    assert.throws(() => new ServiceCheck(async () => true, { ttlMs: 0 }), /ttlMs/);
    assert.throws(() => new ServiceCheck(async () => true, { timeoutMs: -1 }), /timeoutMs/);
  });
});

describe("Watch through our client", () => {
  it("sends the current status first, then each change as soon as set() is called", T, async () => {
    const status = new ServiceStatus(true);
    const { client } = await serve(new HealthService({ svc: [status] }));
    const call = client.watch({ service: "svc" });
    try {
      assert.equal(await nextStatus(call), SERVING);
      assert.equal(await changeArrivesAtOnce(client, call, () => status.set(false)), NOT_SERVING);
      status.set(false); // no change, no message: the next one is UNKNOWN
      status.set(null);
      assert.equal(await nextStatus(call), UNKNOWN);
      status.set(true);
      assert.equal(await nextStatus(call), SERVING);
      // Nothing more was sent: the next message is the next change.
      status.set(false);
      assert.equal(await nextStatus(call), NOT_SERVING);
    } finally {
      await call.cancel();
    }
  });

  it("every open Watch hears a change, and the overall status follows", T, async () => {
    const a = new ServiceStatus(true);
    const b = new ServiceStatus(true);
    const { client } = await serve(new HealthService({ "svc.A": [a], "svc.B": [b] }));
    const watches = [client.watch({ service: "svc.A" }), client.watch({ service: "svc.A" }), client.watch({ service: "" })];
    try {
      for (const w of watches) assert.equal(await nextStatus(w), SERVING);
      a.set(false);
      for (const w of watches) assert.equal(await nextStatus(w), NOT_SERVING);
      const bWatch = client.watch({ service: "svc.B" });
      watches.push(bWatch);
      assert.equal(await nextStatus(bWatch), SERVING);
      // A change of svc.A is not sent to the svc.B Watch: its next message is svc.B's own change.
      a.set(true);
      for (const w of watches.slice(0, 3)) assert.equal(await nextStatus(w), SERVING);
      b.set(false);
      assert.equal(await nextStatus(bWatch), NOT_SERVING);
    } finally {
      for (const w of watches) await w.cancel();
    }
  });

  it("an unknown service gets SERVICE_UNKNOWN, the call stays open, and a later setChecks() is sent", T, async () => {
    const health = new HealthService({ known: [] });
    const { client } = await serve(health);
    const call = client.watch({ service: "late.Service" });
    try {
      // The call stays open, and the next message is the one setChecks() causes.
      assert.equal(await nextStatus(call), SERVICE_UNKNOWN);
      const late = new ServiceStatus(false);
      health.setChecks("late.Service", [late]);
      assert.equal(await nextStatus(call), NOT_SERVING);
      late.set(true);
      assert.equal(await nextStatus(call), SERVING);
      health.removeService("late.Service");
      assert.equal(await nextStatus(call), SERVICE_UNKNOWN);
      // The removed check no longer speaks for the service: the next message is the new check's.
      late.set(false);
      health.setChecks("late.Service", [new ServiceStatus(true)]);
      assert.equal(await nextStatus(call), SERVING);
    } finally {
      await call.cancel();
    }
  });

  it("a watched ServiceCheck is polled every TTL and changes are sent; cancelling the Watch stops the polling", T, async () => {
    let runs = 0;
    let verdict = true;
    const check = new ServiceCheck(
      async () => {
        runs++;
        return verdict;
      },
      { ttlMs: 80, timeoutMs: 10_000 },
    );
    // A metronome: a second check with the same TTL, watched all along. Its runs measure how many
    // polling periods passed, in the same process and under the same load, instead of a sleep.
    let beats = 0;
    const metronome = new ServiceCheck(
      async () => {
        beats++;
        return true;
      },
      { ttlMs: 80, timeoutMs: 10_000 },
    );
    const { client, server } = await serve(new HealthService({ db: [check], metronome: [metronome] }));
    const ticking = client.watch({ service: "metronome" });
    const call = client.watch({ service: "db" });
    try {
      assert.equal(await nextStatus(ticking), SERVING);
      assert.equal(await nextStatus(call), SERVING, "the first answer comes after a fresh run, not UNKNOWN");
      verdict = false;
      assert.equal(await nextStatus(call), NOT_SERVING);
      verdict = true;
      assert.equal(await nextStatus(call), SERVING);
      await call.cancel();
      // The server has ended the db Watch (only the metronome's is left).
      await until(() => server.activeCalls === 1, 10_000, "the server to end the cancelled Watch");
      const after = runs;
      const from = beats;
      await until(() => beats >= from + 4, 10_000, "four more polling periods");
      // One run may already have been under way when the Watch ended.
      assert.ok(runs <= after + 1, `the probe kept running after the Watch ended (${after} -> ${runs} while the metronome ran ${beats - from} times)`);
    } finally {
      await call.cancel();
      await ticking.cancel();
    }
  });

  it("setAllNotServing() turns every Watch and Check NOT_SERVING at once, then server.stop ends the Watch", T, async () => {
    const status = new ServiceStatus(true);
    const health = new HealthService({ svc: [status] });
    const { client, server } = await serve(health);
    const svc = client.watch({ service: "svc" });
    const overall = client.watch({ service: "" });
    const unknown = client.watch({ service: "nope" });
    assert.equal(await nextStatus(svc), SERVING);
    assert.equal(await nextStatus(overall), SERVING);
    assert.equal(await nextStatus(unknown), SERVICE_UNKNOWN);
    // The hook the server's stop is to call first.
    health.setAllNotServing();
    assert.equal(health.shuttingDown, true);
    assert.equal(await nextStatus(svc), NOT_SERVING);
    assert.equal(await nextStatus(overall), NOT_SERVING);
    assert.equal((await client.check({ service: "svc" })).status, NOT_SERVING);
    assert.equal(await checkCode(client.check({ service: "nope" })), Code.NOT_FOUND, "unknown services stay unknown");
    // Shutting down wins over this change: the next thing each Watch sees is its end at stop
    // (a message would make checkCode fail with "the call succeeded").
    status.set(true);
    const stopped = server.stop(200);
    for (const w of [svc, overall, unknown]) {
      const code = await within(checkCode(w.recvMessage()), 10_000, "the Watch ending at stop");
      assert.equal(code, Code.UNAVAILABLE);
    }
    await within(stopped, 10_000, "server.stop");
  });
});

describe("Health through a python3-grpcio client", () => {
  const skip = requirePeer(pythonPeerMissing());
  if (skip) process.stderr.write(`# SKIP python3-grpcio health tests: ${skip}\n`);
  const opts = { ...T, timeout: 60_000, skip };

  it("Check: SERVING, NOT_SERVING, NOT_FOUND, OVERALL, a timed-out and a throwing ServiceCheck", opts, async () => {
    const logged: string[] = [];
    const health = new HealthService({
      "svc.Up": [new ServiceStatus(true)],
      "svc.Down": [new ServiceStatus(false)],
      "svc.Slow": [new ServiceCheck(() => new Promise<boolean>((r) => setTimeout(() => r(true), 5000).unref()), { timeoutMs: 100, logger: (m) => logged.push(m) })],
      "svc.Throws": [new ServiceCheck(() => Promise.reject(new Error("nope")), { logger: (m) => logged.push(m) })],
    });
    const { port } = await serve(health);
    const py = scope.python("health_client.py", ["--port", String(port), "check", "", "svc.Up", "svc.Down", "svc.Slow", "svc.Throws", "svc.Missing"]);
    const got = [];
    for (let i = 0; i < 6; i++) got.push(await py.next());
    assert.deepEqual(got.slice(0, 5), [
      { service: "", status: "NOT_SERVING" },
      { service: "svc.Up", status: "SERVING" },
      { service: "svc.Down", status: "NOT_SERVING" },
      { service: "svc.Slow", status: "NOT_SERVING" },
      { service: "svc.Throws", status: "NOT_SERVING" },
    ]);
    assert.equal(got[5]!["service"], "svc.Missing");
    assert.equal(got[5]!["error"], "NOT_FOUND");
    assert.equal((await py.finish()).code, 0, py.errors);
    assert.equal(logged.length, 2, logged.join("\n"));
  });

  it("Watch: the current status, then each set() at once", opts, async () => {
    const status = new ServiceStatus(true);
    const { port } = await serve(new HealthService({ svc: [status] }));
    const py = scope.python("health_client.py", ["--port", String(port), "--timeout", "20", "--count", "3", "watch", "svc"]);
    assert.deepEqual(await py.next(), { status: "SERVING" });
    // That a change is sent at once (not on a poll) is shown through our client above; here
    // the C-core client receives each change.
    status.set(false);
    assert.deepEqual(await py.next(), { status: "NOT_SERVING" });
    status.set(true);
    assert.deepEqual(await py.next(), { status: "SERVING" });
    assert.deepEqual(await py.next(), { done: true });
    assert.equal((await py.finish()).code, 0, py.errors);
  });

  it("Watch of an unknown service: SERVICE_UNKNOWN, then its status once it is added", opts, async () => {
    const health = new HealthService();
    const { port } = await serve(health);
    const py = scope.python("health_client.py", ["--port", String(port), "--timeout", "20", "--count", "2", "watch", "late.Service"]);
    assert.deepEqual(await py.next(), { status: "SERVICE_UNKNOWN" });
    health.setChecks("late.Service", [new ServiceStatus(true)]);
    assert.deepEqual(await py.next(), { status: "SERVING" });
    assert.deepEqual(await py.next(), { done: true });
    assert.equal((await py.finish()).code, 0, py.errors);
  });

  it("Watch of the overall status sees setAllNotServing()", opts, async () => {
    const health = new HealthService({ svc: [new ServiceStatus(true)] });
    const { port } = await serve(health);
    const py = scope.python("health_client.py", ["--port", String(port), "--timeout", "20", "--count", "2", "watch", ""]);
    assert.deepEqual(await py.next(), { status: "SERVING" });
    health.setAllNotServing();
    assert.deepEqual(await py.next(), { status: "NOT_SERVING" });
    assert.deepEqual(await py.next(), { done: true });
    assert.equal((await py.finish()).code, 0, py.errors);
  });
});

// A Watch that ends must unsubscribe from its checks and from the service.
describe("Watch bookkeeping", () => {
  it("a cancelled Watch leaves no subscription behind", T, async () => {
    const status = new ServiceStatus(true);
    const health = new HealthService({ svc: [status] });
    const { client, server } = await serve(health);
    const call = client.watch({ service: "svc" });
    assert.equal(await nextStatus(call), SERVING);
    assert.equal(server.activeCalls, 1);
    await call.cancel();
    await until(() => server.activeCalls === 0, 2000, "the Watch call ending on the server");
    assert.equal((status as unknown as { listeners: Set<unknown> }).listeners.size, 0);
    assert.equal((health as unknown as { watchers: Set<unknown> }).watchers.size, 0);
  });
});
