// The server's onError hook and exposeErrors: handler exceptions that are not RpcErrors,
// and session, socket, TLS and server errors are handed to onError (never swallowed), a
// throwing hook never stops the server, and exposeErrors: false sends a generic message.
import { afterEach, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as net from "node:net";
import { once } from "node:events";
import * as grpc from "@grpc/grpc-js";
import { setTimeout as sleep } from "node:timers/promises";
import {
  Code,
  ErrorCode,
  RpcError,
  Server,
  ServerCredentials,
  streamStreamRpcMethodHandler,
  SwitchboardError,
  unaryStreamRpcMethodHandler,
  unaryUnaryRpcMethodHandler,
  type ServerErrorContext,
  type ServerOptions,
} from "../../src/index.js";
import { FrameSocket, headersFrame, requestBlock } from "../reliability/frames.js";
import { bytesCodec, expectCode, Harness, serverStream, T, tls as fixtures, unary, until, within } from "./helpers.js";

const h = new Harness();
afterEach(() => h.close());

interface Seen {
  err: unknown;
  context: ServerErrorContext;
}

/** A server with raw methods that fail in each way, and the errors its onError saw. */
async function failing(options: ServerOptions = {}) {
  const seen: Seen[] = [];
  const started = await h.start(
    (s) =>
      s.addRegisteredMethodHandlers("test.Fail", {
        Sync: unaryUnaryRpcMethodHandler((): Uint8Array => {
          throw new Error("secret detail: db password rejected");
        }),
        Async: unaryUnaryRpcMethodHandler(async (): Promise<Uint8Array> => {
          await sleep(1);
          throw new TypeError("async secret");
        }),
        NotAnError: unaryUnaryRpcMethodHandler((): Uint8Array => {
          throw "a bare string";
        }),
        Rpc: unaryUnaryRpcMethodHandler((): Uint8Array => {
          throw new RpcError(Code.NOT_FOUND, "no such thing");
        }),
        Stream: unaryStreamRpcMethodHandler(async function* () {
          yield Buffer.from("first");
          throw new Error("stream secret");
        }),
        SetCode: unaryUnaryRpcMethodHandler((_req: Uint8Array, ctx): Uint8Array => {
          ctx.setCode(Code.FAILED_PRECONDITION);
          ctx.setDetails("chosen by the handler");
          throw new Error("after setCode");
        }),
        Ok: unaryUnaryRpcMethodHandler((req: Uint8Array) => req),
        Hold: streamStreamRpcMethodHandler(async function* (_reqs: AsyncIterable<Uint8Array>, ctx) {
          await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve, { once: true }));
        }),
      }),
    { ...options, onError: options.onError ?? ((err, context) => void seen.push({ err, context })) },
  );
  return { ...started, seen, client: h.client(started.target) };
}

describe("onError: handler exceptions", () => {
  it("a sync throw, an async rejection and a thrown non-Error reach onError with source 'handler', the method and the peer; the client gets UNKNOWN with the message (exposeErrors default)", T, async () => {
    const { client, seen } = await failing();
    await expectCode(unary(client, "/test.Fail/Sync", Buffer.alloc(0), bytesCodec, bytesCodec), grpc.status.UNKNOWN, "secret detail: db password rejected");
    await expectCode(unary(client, "/test.Fail/Async", Buffer.alloc(0), bytesCodec, bytesCodec), grpc.status.UNKNOWN, "async secret");
    await expectCode(unary(client, "/test.Fail/NotAnError", Buffer.alloc(0), bytesCodec, bytesCodec), grpc.status.UNKNOWN, "a bare string");
    assert.equal(seen.length, 3);
    assert.deepEqual(
      seen.map((s) => [s.context.source, s.context.method]),
      [
        ["handler", "/test.Fail/Sync"],
        ["handler", "/test.Fail/Async"],
        ["handler", "/test.Fail/NotAnError"],
      ],
    );
    assert.ok(seen[0]!.err instanceof Error && seen[0]!.err.message === "secret detail: db password rejected");
    assert.ok(seen[1]!.err instanceof TypeError);
    assert.equal(seen[2]!.err, "a bare string");
    for (const s of seen) assert.match(s.context.peer ?? "", /^ipv4:127\.0\.0\.1:\d+$/);
  });

  it("an RpcError (NOT_FOUND) is a status, not an error: onError is not called; a streaming handler's throw after its first message is", T, async () => {
    const { client, seen } = await failing();
    await expectCode(unary(client, "/test.Fail/Rpc", Buffer.alloc(0), bytesCodec, bytesCodec), grpc.status.NOT_FOUND, "no such thing");
    assert.equal(seen.length, 0);
    const err = await expectCode(serverStream(client, "/test.Fail/Stream", Buffer.alloc(0), bytesCodec, bytesCodec), grpc.status.UNKNOWN, "stream secret");
    assert.deepEqual(err.responses.map(String), ["first"]);
    assert.equal(seen.length, 1);
    assert.equal(seen[0]!.context.method, "/test.Fail/Stream");
  });

  it("exposeErrors: false -> UNKNOWN 'Internal error' instead of the exception text; onError still sees the real error; RpcErrors and setCode() statuses are unchanged", T, async () => {
    const { client, seen } = await failing({ exposeErrors: false });
    const a = await expectCode(unary(client, "/test.Fail/Sync", Buffer.alloc(0), bytesCodec, bytesCodec), grpc.status.UNKNOWN, "Internal error");
    assert.doesNotMatch(a.details, /secret/);
    await expectCode(unary(client, "/test.Fail/Async", Buffer.alloc(0), bytesCodec, bytesCodec), grpc.status.UNKNOWN, "Internal error");
    await expectCode(serverStream(client, "/test.Fail/Stream", Buffer.alloc(0), bytesCodec, bytesCodec), grpc.status.UNKNOWN, "Internal error");
    await expectCode(unary(client, "/test.Fail/Rpc", Buffer.alloc(0), bytesCodec, bytesCodec), grpc.status.NOT_FOUND, "no such thing");
    await expectCode(unary(client, "/test.Fail/SetCode", Buffer.alloc(0), bytesCodec, bytesCodec), grpc.status.FAILED_PRECONDITION, "chosen by the handler");
    assert.deepEqual(
      seen.map((s) => (s.err as Error).message),
      ["secret detail: db password rejected", "async secret", "stream secret", "after setCode"],
    );
  });

  it("a hook that throws (or rejects) becomes a process warning SB_ON_ERROR_FAILED; the call still gets its status and the server keeps serving", T, async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on("warning", onWarning);
    try {
      let calls = 0;
      const { client } = await failing({
        onError: () => {
          calls++;
          if (calls === 1) throw new Error("logger is broken");
          return Promise.reject(new Error("async logger is broken"));
        },
      });
      await expectCode(unary(client, "/test.Fail/Sync", Buffer.alloc(0), bytesCodec, bytesCodec), grpc.status.UNKNOWN);
      await expectCode(unary(client, "/test.Fail/Async", Buffer.alloc(0), bytesCodec, bytesCodec), grpc.status.UNKNOWN);
      const ok = await unary(client, "/test.Fail/Ok", Buffer.from("fine"), bytesCodec, bytesCodec);
      assert.equal(String(ok.responses[0]), "fine");
      await until(() => warnings.filter((w) => (w as { code?: string }).code === "SB_ON_ERROR_FAILED").length === 2, 2000, "two warnings");
      const mine = warnings.filter((w) => (w as { code?: string }).code === "SB_ON_ERROR_FAILED").map((w) => w.message);
      assert.match(mine[0]!, /logger is broken/);
      assert.match(mine[1]!, /async logger is broken/);
    } finally {
      process.off("warning", onWarning);
    }
  });

  it("onError must be a function: anything else -> ERR_SB_BAD_OPTION", () => {
    assert.throws(
      () => new Server({ onError: "log" as unknown as ServerOptions["onError"] }),
      (err: unknown) => err instanceof SwitchboardError && err.code === ErrorCode.BAD_OPTION,
    );
  });
});

describe("onError: connection errors", () => {
  it("a session destroyed by an unanswered keepalive ping -> source 'session' with the peer", T, async () => {
    const { port, seen } = await failing({ keepaliveTimeMs: 100, keepaliveTimeoutMs: 100 });
    const fs = await FrameSocket.connect(port, { answerPings: false });
    try {
      await fs.serverSettings();
      await within(fs.closed, 3000, "the server closes the connection");
      await until(() => seen.some((s) => s.context.source === "session"), 2000, "a session error");
      const e = seen.find((s) => s.context.source === "session")!;
      assert.match((e.err as Error).message, /keepalive ping not answered within 100 ms/);
      assert.match(e.context.peer ?? "", /^ipv4:127\.0\.0\.1:\d+$/);
    } finally {
      fs.destroy();
    }
  });

  it("a client that resets its TCP connection while a call runs -> source 'socket' (ECONNRESET)", T, async () => {
    const { port, seen, server } = await failing();
    const fs = await FrameSocket.connect(port);
    await fs.serverSettings();
    fs.write(headersFrame(1, requestBlock("/test.Fail/Hold")));
    await until(() => server.activeCalls === 1, 3000, "the call runs");
    fs.destroy(true);
    await until(() => seen.some((s) => s.context.source === "socket"), 3000, "a socket error");
    const e = seen.find((s) => s.context.source === "socket")!;
    assert.equal((e.err as NodeJS.ErrnoException).code, "ECONNRESET");
  });

  it("a plaintext client on a TLS port -> source 'tls'; a failing TLS handshake never stops the server", T, async () => {
    const seen: Seen[] = [];
    const server = h.track(new Server({ onError: (err, context) => void seen.push({ err, context }) }));
    server.addRegisteredMethodHandlers("test.Fail", { Ok: unaryUnaryRpcMethodHandler((req: Uint8Array) => req) });
    const port = await server.addSecurePort("127.0.0.1:0", ServerCredentials.ssl({ keyCertPairs: [{ privateKey: fixtures.serverKey, certChain: fixtures.serverCert }] }));
    server.start();
    const socket = net.connect({ host: "127.0.0.1", port });
    socket.on("error", () => {});
    await once(socket, "connect");
    socket.write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
    await until(() => seen.some((s) => s.context.source === "tls"), 3000, "a TLS error");
    socket.destroy();
    const e = seen.find((s) => s.context.source === "tls")!;
    assert.match(e.context.peer ?? "", /^ipv4:127\.0\.0\.1:\d+$/);
    // A proper TLS client is served.
    const ok = await unary(h.client(`localhost:${port}`, grpc.credentials.createSsl(fixtures.ca)), "/test.Fail/Ok", Buffer.from("tls"), bytesCodec, bytesCodec);
    assert.equal(String(ok.responses[0]), "tls");
  });

  it("a stop hook that throws -> source 'server'; the server still stops", T, async () => {
    const { server, seen } = await failing();
    server.onStop(() => {
      throw new Error("health flip failed");
    });
    await within(server.stop(), 3000, "stop()");
    assert.deepEqual(
      seen.map((s) => [s.context.source, (s.err as Error).message]),
      [["server", "health flip failed"]],
    );
  });
});
