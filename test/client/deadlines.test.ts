// Deadlines and cancellation: grpc-timeout on the wire, DEADLINE_EXCEEDED raised by the client
// itself, deadline and cancellation propagation through `parent: ctx` across three servers,
// and the AbortSignal option (CANCELLED locally, RST_STREAM(CANCEL) to the server).
import { afterEach, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import { constants } from "node:http2";
import { Code, createClient, Deadline, formatTimeout, parseTimeout, type Channel, type ServerCallContext } from "../../src/index.js";
import { Greeter } from "../../examples/gen/helloworld/helloworld_pb.js";
import { deferred, expectRpcError, helloReplyBytes, readBody, respondGrpc, Scope, since, T, until, within } from "./helpers.js";

const scope = new Scope();
afterEach(() => scope.close());

/** Resolves when the call's signal aborts. */
const aborted = (ctx: ServerCallContext) => new Promise<void>((r) => (ctx.signal.aborted ? r() : ctx.signal.addEventListener("abort", () => r())));

/**
 * A bare server that answers every call OK and lists the `x-name` of each stream that arrives.
 * All calls share one connection, and HTTP/2 delivers streams in the order they were opened:
 * once the reply to a later call is in, any earlier call that was sent has been listed.
 */
async function streamCounter() {
  const arrived: string[] = [];
  const bare = await scope.bare((stream, headers) => {
    arrived.push(String(headers["x-name"]));
    stream.on("data", () => {});
    stream.on("end", () => respondGrpc(stream, [helloReplyBytes("ok")]));
  });
  return { client: createClient(Greeter, scope.channel(bare.target)), arrived };
}

describe("deadlines", () => {
  it("grpc-timeout is sent: the server's ctx.deadline matches the call's timeout (OK)", T, async () => {
    const seen: number[] = [];
    const { target } = await scope.server((s) =>
      s.addService(Greeter, {
        sayHello: (_req, ctx) => {
          seen.push(ctx.deadline ? ctx.timeRemaining() : -1);
          return {};
        },
      }),
    );
    const client = createClient(Greeter, scope.channel(target));
    // Long deadlines in ranges that do not overlap: a call may take up to 10 s to arrive (the
    // first one also connects) and still show which deadline the server got.
    await client.sayHello({}, { timeout: 60_000 });
    await client.sayHello({}, { deadline: new Date(Date.now() + 120_000) });
    await client.sayHello({}, { timeout: 600_000, deadline: Deadline.after(30_000) }); // the earlier one wins
    await client.sayHello({});
    assert.ok(seen[0]! > 50_000 && seen[0]! <= 60_000, `server saw ${seen[0]} ms left of 60000`);
    assert.ok(seen[1]! > 110_000 && seen[1]! <= 120_000, `server saw ${seen[1]} ms left of 120000`);
    assert.ok(seen[2]! > 20_000 && seen[2]! <= 30_000, `server saw ${seen[2]} ms left of 30000`);
    assert.equal(seen[3], -1, "no timeout -> no deadline on the server");
  });

  it("grpc-timeout on the wire is a well-formed value (<= 8 digits and a unit) close to the timeout; absent without a timeout", T, async () => {
    const headers: (string | undefined)[] = [];
    const bare = await scope.bare((stream, h) => {
      headers.push(h["grpc-timeout"] as string | undefined);
      stream.on("data", () => {});
      stream.on("end", () => respondGrpc(stream, [helloReplyBytes("ok")]));
    });
    const client = createClient(Greeter, scope.channel(bare.target));
    await client.sayHello({}, { timeout: 60_000 });
    await client.sayHello({}, { timeout: 3 * 86_400_000 }); // three days: more than 8 digits of milliseconds
    await client.sayHello({});
    for (const h of headers.slice(0, 2)) assert.match(h ?? "", /^\d{1,8}[HMSmun]$/);
    const first = parseTimeout(headers[0]!).ms!;
    assert.ok(first > 50_000 && first <= 60_000, `grpc-timeout ${headers[0]} is ${first} ms`);
    const second = parseTimeout(headers[1]!).ms!;
    assert.ok(second >= 3 * 86_400_000 - 1000 && second <= 3 * 86_400_000 + 1000, `grpc-timeout ${headers[1]} is ${second} ms`);
    assert.equal(headers[2], undefined);
  });

  // Regression: this once failed — formatTimeout (used for every call's grpc-timeout) picks the unit before rounding up,
  // so a time just below a unit boundary rounds up to 100000000 — 9 digits, which the spec
  // forbids and Switchboard's own server rejects (parseTimeout: "must be 1-8 digits").
  // A call with timeout 100_000_000 (~27.8 h) sends "100000000m" whenever less than 1 ms passes
  // between creating the call and sending its headers.
  // Fix: round first, then compare: `const n = Math.ceil(t * 1e6); if (n < 1e8) return `${n}n`;`
  // and likewise for u, m, S and M.
  it("grpc-timeout never has more than 8 digits, even just below a unit boundary", T, () => {
    for (const ms of [99.9999999, 99_999.9999999, 99_999_999.5, 99_999_999_999.5, 5_999_999_999_999]) {
      const value = formatTimeout(ms);
      assert.match(value, /^\d{1,8}[HMSmun]$/, `formatTimeout(${ms}) = ${value}`);
      assert.ok(parseTimeout(value).ms! >= ms, `formatTimeout(${ms}) = ${value} must not shorten the deadline`);
    }
  });

  it("DEADLINE_EXCEEDED is raised locally when the server is silent (bare server that never answers), and RST_STREAM(CANCEL) is sent", T, async () => {
    const rst: (number | undefined)[] = [];
    const bare = await scope.bare((stream) => {
      stream.on("close", () => rst.push(stream.rstCode));
      void readBody(stream); // never answers
    });
    const client = createClient(Greeter, scope.channel(bare.target));
    const started = performance.now();
    // The server never answers: DEADLINE_EXCEEDED can only come from the client's own timer.
    const err = await expectRpcError(within(client.sayHello({}, { timeout: 300 }), 10_000, "call to a silent server"), Code.DEADLINE_EXCEEDED);
    const took = since(started);
    assert.ok(took >= 280, `failed after ${took} ms, before its 300 ms timeout: ${err.message}`);
    await until(() => rst.length === 1, 5000, "server stream to close");
    assert.equal(rst[0], constants.NGHTTP2_CANCEL);
  });

  it("DEADLINE_EXCEEDED after response headers when the server then goes silent", T, async () => {
    const bare = await scope.bare((stream) => {
      stream.on("data", () => {});
      stream.respond({ ":status": 200, "content-type": "application/grpc" });
    });
    // Connected first, so the deadline is spent after the response headers, not in dialing.
    const ch = scope.channel(bare.target);
    await ch.connect();
    const call = createClient(Greeter, ch).sayHelloStream({}, { timeout: 1000 });
    await call.recvInitialMetadata();
    await expectRpcError(
      within(
        (async () => {
          for await (const _ of call);
        })(),
        3000,
        "stream to a silent server",
      ),
      Code.DEADLINE_EXCEEDED,
    );
  });

  it("DEADLINE_EXCEEDED against our server whose handler never answers and ignores its signal", T, async () => {
    const { target } = await scope.server((s) =>
      s.addService(Greeter, {
        async sayHello() {
          await new Promise(() => {});
          return {};
        },
      }),
    );
    await expectRpcError(within(createClient(Greeter, scope.channel(target)).sayHello({}, { timeout: 300 }), 10_000, "call"), Code.DEADLINE_EXCEEDED);
  });

  it("a deadline already past -> DEADLINE_EXCEEDED without the call reaching the server", T, async () => {
    const { client, arrived } = await streamCounter();
    await client.sayHello({}, { metadata: { "x-name": "first" }, timeout: 10_000 }); // connected, so nothing waits on a dial
    await expectRpcError(client.sayHello({}, { metadata: { "x-name": "zero" }, timeout: 0 }), Code.DEADLINE_EXCEEDED);
    await expectRpcError(client.sayHello({}, { metadata: { "x-name": "past" }, deadline: new Date(Date.now() - 1000) }), Code.DEADLINE_EXCEEDED);
    await client.sayHello({}, { metadata: { "x-name": "last" }, timeout: 10_000 });
    assert.deepEqual(arrived, ["first", "last"]);
  });

  /** Three Greeter servers A -> B -> C; each forwards to the next with {parent: ctx}. */
  async function chain(cBehaviour: (ctx: ServerCallContext) => Promise<void>) {
    const remaining: Record<"A" | "B" | "C", number> = { A: NaN, B: NaN, C: NaN };
    const ctxs: Partial<Record<"A" | "B" | "C", ServerCallContext>> = {};
    const c = await scope.server((s) =>
      s.addService(Greeter, {
        async sayHello(_req, ctx) {
          remaining.C = ctx.timeRemaining();
          ctxs.C = ctx;
          await cBehaviour(ctx);
          return { message: `C=${remaining.C}` };
        },
      }),
    );
    const forwarder = (name: "A" | "B", next: Channel) => (s: import("../../src/index.js").Server) =>
      s.addService(Greeter, {
        async sayHello(req, ctx) {
          remaining[name] = ctx.timeRemaining();
          ctxs[name] = ctx;
          const reply = await createClient(Greeter, next).sayHello(req, { parent: ctx });
          return { message: `${name}=${remaining[name]} ${reply.message}` };
        },
      });
    const b = await scope.server(forwarder("B", scope.channel(c.target)));
    const a = await scope.server(forwarder("A", scope.channel(b.target)));
    return { remaining, ctxs, client: createClient(Greeter, scope.channel(a.target)) };
  }

  it("deadline propagation A -> B -> C with {parent: ctx}: C's time remaining < B's < A's < the call's timeout (OK)", T, async () => {
    const { remaining, client } = await chain(async () => {});
    // A long deadline: three hops (each opening a connection) may take seconds on a busy machine.
    const reply = await client.sayHello({ name: "x" }, { timeout: 60_000 });
    assert.match(reply.message, /^A=.* B=.* C=/);
    const { A, B, C } = remaining;
    assert.ok(A < 60_000 && A > 30_000, `A had ${A} ms`);
    assert.ok(B < A, `B ${B} must be < A ${A}`);
    assert.ok(C < B, `C ${C} must be < B ${B}`);
    assert.ok(C > 30_000, `C had ${C} ms`);
  });

  it("cancellation propagation: aborting the client's signal at A reaches C (C's ctx.signal aborts); the client sees CANCELLED", T, async () => {
    const cEntered = deferred();
    const cAborted = deferred();
    const { ctxs, client } = await chain(async (ctx) => {
      cEntered.resolve();
      await aborted(ctx);
      cAborted.resolve();
    });
    const controller = new AbortController();
    // The deadline is far beyond the test's bound: only the cancel can abort C's signal.
    const call = client.sayHello({ name: "x" }, { timeout: 600_000, signal: controller.signal });
    call.catch(() => {});
    await within(cEntered.promise, 10_000, "call to reach C");
    controller.abort();
    await expectRpcError(call, Code.CANCELLED);
    await within(cAborted.promise, 10_000, "C's ctx.signal to abort");
    assert.equal((ctxs.C!.signal.reason as { code?: Code }).code, Code.CANCELLED);
    assert.ok(ctxs.A!.signal.aborted && ctxs.B!.signal.aborted);
  });

  it("deadline propagation: when A's deadline passes while C is silent, the client gets DEADLINE_EXCEEDED and C's signal aborts", T, async () => {
    const cEntered = deferred();
    const cAborted = deferred();
    let calls = 0;
    const { client } = await chain(async (ctx) => {
      if (++calls === 1) return; // the warm-up call
      cEntered.resolve();
      await aborted(ctx);
      cAborted.resolve();
    });
    // Connect every hop first, so the short deadline below is spent waiting on C, not dialing.
    await client.sayHello({ name: "warm" }, { timeout: 60_000 });
    await expectRpcError(within(client.sayHello({ name: "x" }, { timeout: 2000 }), 10_000, "chain call"), Code.DEADLINE_EXCEEDED);
    await within(cEntered.promise, 10_000, "the call to have reached C");
    await within(cAborted.promise, 10_000, "C's ctx.signal to abort");
  });

  it("signal option: aborting cancels the call with CANCELLED and sends RST_STREAM(CANCEL): the server's ctx.signal aborts", T, async () => {
    const entered = deferred<ServerCallContext>();
    const { target } = await scope.server((s) =>
      s.addService(Greeter, {
        async sayHello(_req, ctx) {
          entered.resolve(ctx);
          await aborted(ctx);
          return {};
        },
      }),
    );
    const controller = new AbortController();
    const call = createClient(Greeter, scope.channel(target)).sayHello({}, { timeout: 8000, signal: controller.signal });
    call.catch(() => {});
    const ctx = await within(entered.promise, 3000, "handler start");
    // The handler only returns once its signal aborts, so CANCELLED is the client's own.
    controller.abort(new Error("user gave up"));
    await expectRpcError(within(call, 10_000, "the cancelled call"), Code.CANCELLED);
    await within(aborted(ctx), 10_000, "server's ctx.signal");
    assert.equal((ctx.signal.reason as { code?: Code }).code, Code.CANCELLED);
  });

  it("signal option: the server observes RST_STREAM with the CANCEL error code (bare server)", T, async () => {
    const closed = deferred<number | undefined>();
    const arrived = deferred();
    const bare = await scope.bare((stream) => {
      stream.on("data", () => {});
      stream.respond({ ":status": 200, "content-type": "application/grpc" });
      arrived.resolve();
      stream.on("close", () => closed.resolve(stream.rstCode));
    });
    const controller = new AbortController();
    const call = createClient(Greeter, scope.channel(bare.target)).sayHelloStream({}, { signal: controller.signal });
    await within(arrived.promise, 3000, "request");
    controller.abort();
    await expectRpcError(call.recvMessage(), Code.CANCELLED);
    assert.equal(await within(closed.promise, 2000, "server stream close"), constants.NGHTTP2_CANCEL);
  });

  it("an already-aborted signal -> CANCELLED and the call never reaches the server", T, async () => {
    const { client, arrived } = await streamCounter();
    await client.sayHello({}, { metadata: { "x-name": "first" }, timeout: 10_000 });
    await expectRpcError(client.sayHello({}, { metadata: { "x-name": "aborted" }, signal: AbortSignal.abort() }), Code.CANCELLED);
    await client.sayHello({}, { metadata: { "x-name": "last" }, timeout: 10_000 });
    assert.deepEqual(arrived, ["first", "last"]);
  });
});
