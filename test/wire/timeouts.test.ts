// grpc-timeout on the wire: malformed values, zero, the largest legal value, every unit,
// and a deadline that passes while the handler runs.
import { after, before, describe, it, mock } from "node:test";
import * as assert from "node:assert/strict";
import { Code, RpcError, unaryUnaryRpcMethodHandler } from "../../src/index.js";
import { assertAnswersNormalCall, deferred, startServer, within, type WireServer } from "./fixture.js";
import { callOnce, grpcFrame, RawH2Connection, startCall } from "./raw-h2.js";

const REMAINING = "/wire.Time/Remaining";
const HANG = "/wire.Time/Hang";
const GATED = "/wire.Time/Gated";
const BODY = grpcFrame(Buffer.from("t"));

/** Captured before any test mocks timers, so bounded waits keep working under mock.timers. */
const realSetTimeout = globalThis.setTimeout;
const realClearTimeout = globalThis.clearTimeout;

function realWithin<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = realSetTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
    }),
  ]).finally(() => realClearTimeout(timer));
}

let ws: WireServer;
let handlerRuns = 0;

/** What the Hang handler saw: its signal's abort and the reason. */
let hang = deferred<{ reason: unknown }>();
let hangStarted = deferred();
/** The Gated handler waits for this before answering OK. */
let gate = deferred();
let gatedStarted = deferred();

before(async () => {
  ws = await startServer((server) => {
    server.addRegisteredMethodHandlers("wire.Time", {
      Remaining: unaryUnaryRpcMethodHandler((_req: Uint8Array, ctx) => {
        handlerRuns++;
        return Buffer.from(JSON.stringify({ remaining: ctx.timeRemaining(), hasDeadline: ctx.deadline !== undefined }));
      }),
      Hang: unaryUnaryRpcMethodHandler(async (_req: Uint8Array, ctx) => {
        handlerRuns++;
        hangStarted.resolve();
        const signal = ctx.signal;
        await new Promise<void>((resolve) => {
          if (signal.aborted) resolve();
          else signal.addEventListener("abort", () => resolve(), { once: true });
          // Never hang the suite if the abort does not come.
          realSetTimeout(resolve, 5000).unref();
        });
        hang.resolve({ reason: signal.aborted ? signal.reason : undefined });
        return Buffer.from("late");
      }),
      Gated: unaryUnaryRpcMethodHandler(async () => {
        handlerRuns++;
        gatedStarted.resolve();
        await gate.promise;
        return Buffer.from("gated");
      }),
    });
  });
});

after(async () => {
  await ws.stop();
});

async function remainingWith(timeout: string): Promise<{ remaining: number | null; hasDeadline: boolean }> {
  const res = await callOnce(ws.port, REMAINING, { extra: [["grpc-timeout", timeout]], body: BODY });
  assert.equal(res.grpcStatus, 0, res.describe());
  return JSON.parse(res.messages[0]!.data.toString());
}

describe("malformed grpc-timeout", () => {
  // 9 digits, unknown unit, sign, empty, no digits, no unit, fraction, lower-case 's', hex digits.
  for (const value of ["123456789S", "1X", "-1S", "", "S", "1", "1.5S", "+1S", "1s", "0x1S", "1 S"]) {
    it(`grpc-timeout ${JSON.stringify(value)} -> INTERNAL, handler not run`, async () => {
      const runs = handlerRuns;
      const res = await callOnce(ws.port, REMAINING, { extra: [["grpc-timeout", value]], body: BODY });
      assert.ok(res.trailersOnly, res.describe());
      assert.equal(res.grpcStatus, Code.INTERNAL, res.describe());
      assert.equal(handlerRuns, runs);
    });
  }
});

describe("zero and huge timeouts", () => {
  for (const value of ["0n", "0S", "00000000H"]) {
    it(`grpc-timeout ${JSON.stringify(value)} -> DEADLINE_EXCEEDED at once, handler not run`, async () => {
      const runs = handlerRuns;
      const dispatched = ws.dispatched;
      const res = await callOnce(ws.port, REMAINING, { extra: [["grpc-timeout", value]], body: BODY });
      assert.ok(res.trailersOnly, res.describe());
      assert.equal(res.grpcStatus, Code.DEADLINE_EXCEEDED, res.describe());
      assert.equal(handlerRuns, runs);
      assert.equal(ws.dispatched, dispatched);
    });
  }

  it("grpc-timeout 99999999H (the largest legal value) is accepted and the call is OK (no overflow)", async () => {
    const { remaining, hasDeadline } = await remainingWith("99999999H");
    assert.ok(hasDeadline);
    assert.ok(remaining !== null && remaining > 99_999_998 * 3_600_000, `remaining ${remaining}`);
  });

  it("grpc-timeout 99999999n is parsed as ~100 ms (OK with timeRemaining() <= 100, or expired no earlier)", async () => {
    // 100 ms is the whole budget of the call, so a slow machine may legitimately hit it.
    const sent = performance.now();
    const res = await callOnce(ws.port, REMAINING, { extra: [["grpc-timeout", "99999999n"]], body: BODY });
    if (res.grpcStatus === Code.DEADLINE_EXCEEDED) {
      assert.ok(performance.now() - sent >= 90, "expired before ~100 ms");
      return;
    }
    assert.equal(res.grpcStatus, Code.OK, res.describe());
    const { remaining } = JSON.parse(res.messages[0]!.data.toString());
    assert.ok(remaining > 0 && remaining <= 100, `remaining ${remaining}`);
  });

  // Node timers cap at 2^31-1 ms (~24.8 days); clamping a longer deadline to that cap and
  // expiring when it fires would end a 99999999H call some 11,000 years early.
  it("a deadline beyond the 2^31-1 ms timer limit is not expired after 2^31-1 ms", async () => {
    gate = deferred();
    gatedStarted = deferred();
    const conn = await RawH2Connection.connect(ws.port);
    mock.timers.enable({ apis: ["setTimeout"] });
    let id: number;
    try {
      id = startCall(conn, GATED, { extra: [["grpc-timeout", "99999999H"]], body: BODY });
      await realWithin(gatedStarted.promise, 5000, "handler start");
      // Simulates ~24.8 days passing for the server's timers; the deadline is still ~11,000 years away.
      mock.timers.tick(2 ** 31 - 1);
    } finally {
      mock.timers.reset();
    }
    try {
      gate.resolve();
      const res = await conn.response(id);
      assert.equal(res.grpcStatus, Code.OK, res.describe());
      assert.deepEqual(res.messages[0]?.data, Buffer.from("gated"));
    } finally {
      gate.resolve();
      conn.close();
    }
  });
});

describe("grpc-timeout units", () => {
  const units: [value: string, ms: number][] = [
    ["2H", 2 * 3_600_000],
    ["3M", 3 * 60_000],
    ["4S", 4_000],
    ["5000m", 5_000],
    ["6000000u", 6_000],
    ["12345678m", 12_345_678],
  ];
  for (const [value, ms] of units) {
    it(`grpc-timeout ${value} is parsed as ${ms} ms (ctx.timeRemaining() just under it)`, async () => {
      const { remaining, hasDeadline } = await remainingWith(value);
      assert.ok(hasDeadline);
      assert.ok(remaining !== null && remaining <= ms && remaining > ms - Math.min(ms, 2000), `remaining ${remaining} for ${value}`);
    });
  }

  it("without grpc-timeout there is no deadline (timeRemaining() is Infinity)", async () => {
    const res = await callOnce(ws.port, REMAINING, { body: BODY });
    const body = JSON.parse(res.messages[0]!.data.toString());
    assert.equal(body.hasDeadline, false);
    assert.equal(body.remaining, null, "Infinity serialises as null");
  });
});

describe("deadline expiry", () => {
  it("a deadline passing mid-call -> DEADLINE_EXCEEDED, and the handler's ctx.signal is aborted", async () => {
    hang = deferred();
    hangStarted = deferred();
    const started = Date.now();
    const res = await callOnce(ws.port, HANG, { extra: [["grpc-timeout", "200m"]], body: BODY });
    assert.equal(res.grpcStatus, Code.DEADLINE_EXCEEDED, res.describe());
    assert.ok(Date.now() - started >= 150, "not before the deadline");
    const { reason } = await within(hang.promise, 2000, "handler signal abort");
    assert.ok(reason instanceof RpcError, `abort reason ${String(reason)}`);
    assert.equal(reason.code, Code.DEADLINE_EXCEEDED);
    // The late return of the handler must not add a message after the status.
    assert.equal(res.data.length, 0);
  });

  it("a deadline passing while the request is still open -> DEADLINE_EXCEEDED", async () => {
    hang = deferred();
    hangStarted = deferred();
    const conn = await RawH2Connection.connect(ws.port);
    try {
      // Headers only: the handler is waiting for the request message when the deadline passes.
      const id = startCall(conn, REMAINING, { extra: [["grpc-timeout", "100m"]], keepOpen: true });
      const res = await conn.response(id, 3000);
      assert.equal(res.grpcStatus, Code.DEADLINE_EXCEEDED, res.describe());
    } finally {
      conn.close();
    }
  });
});

describe("after the timeout tests", () => {
  it("the server is still alive and answers a normal call", async () => {
    await assertAnswersNormalCall(ws.port);
  });
});
