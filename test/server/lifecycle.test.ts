// Server lifecycle: start once, refuse calls before start and during stop, graceful
// stop with a grace period, waitForTermination, and async disposal.
import { after, afterEach, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as net from "node:net";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { Metadata as grpcMetadata, status, type StatusObject } from "@grpc/grpc-js";
import { Code, ErrorCode, RpcError, Server, ServerCredentials, SwitchboardError, type ServerCallContext } from "../../src/index.js";
import { Greeter } from "../../examples/gen/helloworld/helloworld_pb.js";
import { TestService } from "../../examples/gen/grpc/testing/test_pb.js";
import { deferred, expectCode, Harness, T, tls, TS, until, within } from "./helpers.js";

const h = new Harness();
afterEach(() => h.close());

// Tests that connect after stop() (to see the refusal) serve on a Unix socket in this private
// directory: a released TCP port could be bound by another process before the client connects.
const tmp = mkdtempSync(path.join(tmpdir(), "sb-lifecycle-"));
after(() => rmSync(tmp, { recursive: true, force: true }));
let sockets = 0;
const privateAddress = () => `unix:${path.join(tmp, `s${++sockets}.sock`)}`;

describe("lifecycle", () => {
  it("second start() throws ERR_SB_ALREADY_STARTED", T, async () => {
    const { server } = await h.start((s) => s.addService(Greeter, { sayHello: () => ({ message: "hi" }) }));
    assert.throws(
      () => server.start(),
      (err: unknown) => err instanceof SwitchboardError && err.code === ErrorCode.ALREADY_STARTED && err.code === "ERR_SB_ALREADY_STARTED",
    );
  });

  it("calls before start() -> UNAVAILABLE, and succeed once started", T, async () => {
    const server = h.track(new Server());
    server.addService(Greeter, { sayHello: (req) => ({ message: `hello ${req.name}` }) });
    const port = await server.addInsecurePort("127.0.0.1:0");
    const greeter = h.greeter(`127.0.0.1:${port}`);
    await expectCode(greeter.sayHello("early", { deadlineMs: 3000 }), status.UNAVAILABLE, /not started/);
    server.start();
    const ok = await greeter.sayHello("late", { deadlineMs: 3000 });
    assert.equal(ok.responses[0]!.message, "hello late");
  });

  it("stop(grace) refuses new calls at once with UNAVAILABLE while an in-flight call finishes OK within grace", T, async () => {
    const entered = deferred();
    const release = deferred();
    const { server, target } = await h.start(
      (s) =>
        s.addService(Greeter, {
          async sayHello(req) {
            if (req.name === "slow") {
              entered.resolve();
              await release.promise;
            }
            return { message: `hello ${req.name}` };
          },
        }),
      {},
      privateAddress(),
    );
    const greeter = h.greeter(target);
    const inFlight = greeter.sayHello("slow", { deadlineMs: 8000 });
    await within(entered.promise, 3000, "slow handler start");

    // A grace far beyond the test's bound: stop() resolving at all shows it did not wait it out.
    const stopped = server.stop(600_000);
    // A new call, on the same channel or a fresh one, is refused (UNAVAILABLE, not its deadline)
    // while the in-flight call is still held.
    const refusedSame = expectCode(greeter.sayHello("new", { deadlineMs: 10_000 }), status.UNAVAILABLE);
    const refusedFresh = expectCode(h.greeter(target).sayHello("fresh", { deadlineMs: 10_000 }), status.UNAVAILABLE);
    await Promise.all([refusedSame, refusedFresh]);

    // The in-flight call still completes normally, and stop() resolves without waiting out the grace.
    release.resolve();
    const done = await inFlight;
    assert.equal(done.responses[0]!.message, "hello slow");
    assert.equal(done.status.code, status.OK);
    await within(stopped, 10_000, "stop() after the last call finished");
  });

  it("a call outlasting grace is cancelled at grace: client gets an error (UNAVAILABLE), ctx.signal aborts, stop() resolves soon after", T, async () => {
    const entered = deferred<ServerCallContext>();
    let abortedAt = 0;
    let reason: unknown;
    const { server, target } = await h.start((s) =>
      s.addService(Greeter, {
        async sayHello(_req, ctx) {
          entered.resolve(ctx);
          await new Promise<void>((resolve) => {
            ctx.signal.addEventListener("abort", () => {
              abortedAt = Date.now();
              reason = ctx.signal.reason;
              resolve();
            });
          });
          return { message: "too late" };
        },
      }),
    );
    const greeter = h.greeter(target);
    // The deadline is beyond the test's bound: only the grace can end this call.
    const call = greeter.sayHello("stuck", { deadlineMs: 600_000 });
    call.catch(() => {});
    const ctx = await within(entered.promise, 5000, "handler start");

    const grace = 400;
    const started = Date.now();
    await within(server.stop(grace), 10_000, "stop(grace)");
    const stopTook = Date.now() - started;

    const err = await expectCode(call, status.UNAVAILABLE);
    assert.match(err.details, /shutting down/);
    assert.ok(ctx.signal.aborted, "handler's ctx.signal must be aborted");
    assert.ok(reason instanceof RpcError);
    assert.equal((reason as RpcError).code, Code.UNAVAILABLE);
    assert.ok(abortedAt - started >= grace - 20, `signal aborted after ${abortedAt - started} ms, before the ${grace} ms grace`);
    assert.ok(stopTook >= grace - 20, `stop() took ${stopTook} ms, less than its ${grace} ms grace`);
  });

  it("stop(grace) ends a handler that ignores its signal at grace: client UNAVAILABLE, stop() resolves", T, async () => {
    const entered = deferred();
    const { server, target } = await h.start((s) =>
      s.addService(Greeter, {
        async sayHello() {
          entered.resolve();
          await new Promise(() => {});
          return {};
        },
      }),
    );
    // The deadline is beyond the test's bound: only the grace can end this call.
    const call = h.greeter(target).sayHello("deaf", { deadlineMs: 600_000 });
    call.catch(() => {});
    await within(entered.promise, 5000, "handler start");
    await within(server.stop(200), 10_000, "stop(200)");
    await expectCode(call, status.UNAVAILABLE);
    assert.equal(server.activeCalls, 0);
  });

  // Grace expiry sends UNAVAILABLE before stopping the client's upload.
  it("a streaming call (headers sent, client still sending) outlasting grace -> client sees UNAVAILABLE", T, async () => {
    const entered = deferred();
    const { server, target } = await h.start((s) =>
      s.addService(TestService, {
        async *fullDuplexCall(requests, ctx) {
          for await (const r of requests) {
            yield { payload: r.payload };
            entered.resolve();
          }
          await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve));
        },
      }),
    );
    const call = h
      .client(target)
      .makeBidiStreamRequest(TS.fullDuplexCall, TS.outputRequest.serialize, TS.outputResponse.deserialize, new grpcMetadata(), { deadline: Date.now() + 600_000 });
    call.on("data", () => {});
    call.on("error", () => {});
    const statusP = new Promise<StatusObject>((resolve) => call.on("status", resolve));
    call.write({ payload: { body: Buffer.from("hi") } });
    await within(entered.promise, 5000, "first response");
    await within(server.stop(200), 10_000, "stop(200)");
    const st = await within(statusP, 5000, "client status");
    assert.equal(st.code, status.UNAVAILABLE, `got ${status[st.code]}: ${st.details}`);
  });

  for (const secure of [false, true]) {
    // Connections that never finish the TLS or HTTP/2 handshake must not hold stop() open.
    it(`stop() resolves soon even while a ${secure ? "TLS" : "plaintext"} client holds a connection without speaking HTTP/2`, T, async () => {
      const server = h.track(new Server());
      server.addService(Greeter, { sayHello: () => ({}) });
      const port = secure
        ? await server.addSecurePort("127.0.0.1:0", ServerCredentials.ssl({ keyCertPairs: [{ privateKey: tls.serverKey, certChain: tls.serverCert }] }))
        : await server.addInsecurePort("127.0.0.1:0");
      server.start();
      const socket = net.connect(port, "127.0.0.1");
      socket.on("error", () => {});
      try {
        await within(once(socket, "connect"), 5000, "raw connect");
        // The server has taken the connection (not just the kernel): stop() must deal with it.
        await until(() => server.openConnections === 1, 5000, "the server to accept the raw connection");
        // The socket stays open and silent; a stop() it held open would never resolve.
        await within(server.stop(0), 10_000, "stop(0) with a silent connection open");
      } finally {
        socket.destroy();
      }
    });
  }

  it("stop() with no calls resolves promptly; a second stop() returns the same promise", T, async () => {
    const { server } = await h.start((s) => s.addService(Greeter, { sayHello: () => ({}) }));
    // A grace far beyond the test's bound: resolving at all shows stop() did not wait it out.
    const first = server.stop(600_000);
    assert.equal(server.stop(), first);
    await within(first, 10_000, "stop() of an idle server");
  });

  it("waitForTermination(timeout) resolves false before stop and true after", T, async () => {
    const { server } = await h.start((s) => s.addService(Greeter, { sayHello: () => ({}) }));
    const t0 = Date.now();
    assert.equal(await server.waitForTermination(100), false);
    assert.ok(Date.now() - t0 >= 90);
    const waiting = server.waitForTermination(600_000);
    const forever = server.waitForTermination();
    await server.stop();
    assert.equal(await within(waiting, 10_000, "waitForTermination"), true);
    assert.equal(await within(forever, 10_000, "waitForTermination()"), true);
    assert.equal(await server.waitForTermination(10), true);
  });

  it("await using disposal (Symbol.asyncDispose) stops the server", T, async () => {
    let target = "";
    let server!: Server;
    {
      await using s = new Server();
      server = s;
      s.addService(Greeter, { sayHello: (req) => ({ message: `hello ${req.name}` }) });
      target = privateAddress();
      await s.addInsecurePort(target);
      s.start();
      const ok = await h.greeter(target).sayHello("inside", { deadlineMs: 3000 });
      assert.equal(ok.responses[0]!.message, "hello inside");
    }
    assert.equal(await server.waitForTermination(1000), true, "leaving the block must stop the server");
    await expectCode(h.greeter(target).sayHello("after", { deadlineMs: 3000 }), status.UNAVAILABLE);
  });

  it("addInsecurePort after stop throws ERR_SB_STOPPED", T, async () => {
    const { server } = await h.start((s) => s.addService(Greeter, { sayHello: () => ({}) }));
    await server.stop();
    await assert.rejects(server.addInsecurePort("127.0.0.1:0"), (err: unknown) => err instanceof SwitchboardError && err.code === ErrorCode.STOPPED);
  });

  it("activeCalls counts running calls and returns to 0", T, async () => {
    const entered = deferred();
    const release = deferred();
    const { server, target } = await h.start((s) =>
      s.addService(Greeter, {
        async sayHello() {
          entered.resolve();
          await release.promise;
          return {};
        },
      }),
    );
    const call = h.greeter(target).sayHello("x", { deadlineMs: 5000 });
    await within(entered.promise, 3000, "handler start");
    assert.equal(server.activeCalls, 1);
    release.resolve();
    await call;
    await until(() => server.activeCalls === 0, 2000, "activeCalls back to 0");
  });
});
