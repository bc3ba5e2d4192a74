// Server.observe(): the synchronous seam metrics, channelz and the dashboard stand on. Each call
// is started and ended exactly once with the status it sent, messages are counted both ways,
// requests refused before they became calls are told apart, sessions open and close, and a
// throwing observer costs a warning, never the call.
import { afterEach, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import { once } from "node:events";
import { status } from "@grpc/grpc-js";
import { Code, RpcError, type ObservedCall, type ServerObserver } from "../../src/index.js";
import type { MethodInfo } from "../../src/service/method.js";
import { Greeter } from "../../examples/gen/helloworld/helloworld_pb.js";
import { bytesCodec, expectCode, GREETER_SAY_HELLO, Harness, T, unary, until } from "./helpers.js";

const h = new Harness();
afterEach(() => h.close());

interface Seen {
  started: string[];
  ended: { path: string; code: Code; received: number; sent: number; ms: number; protocol: string }[];
  refused: { method: string | undefined; code: Code }[];
  received: number;
  sent: number;
  opened: number;
  closed: number;
}

function recorder(): { seen: Seen; observer: ServerObserver } {
  const seen: Seen = { started: [], ended: [], refused: [], received: 0, sent: 0, opened: 0, closed: 0 };
  const observer: ServerObserver = {
    callStarted: (call: ObservedCall) => void seen.started.push(call.method.path),
    messageReceived: () => void seen.received++,
    messageSent: () => void seen.sent++,
    callEnded: (call, code, ms) =>
      void seen.ended.push({ path: call.method.path, code, received: call.messagesReceived, sent: call.messagesSent, ms, protocol: call.protocol }),
    callRefused: (method: MethodInfo | undefined, code) => void seen.refused.push({ method: method?.path, code }),
    sessionOpened: () => void seen.opened++,
    sessionClosed: () => void seen.closed++,
  };
  return { seen, observer };
}

async function greeterServer() {
  return h.start((s) =>
    s.addService(Greeter, {
      sayHello: (req) => {
        if (req.name === "missing") throw new RpcError(Code.NOT_FOUND, "no such name");
        return { message: `hello ${req.name}` };
      },
      async *sayHelloStream(req) {
        for (let i = 0; i < 3; i++) yield { message: `${req.name} ${i}` };
      },
    }),
  );
}

describe("server observers", () => {
  it("each call starts and ends once with the status it sent (OK and NOT_FOUND)", T, async () => {
    const { server, target } = await greeterServer();
    const { seen, observer } = recorder();
    server.observe(observer);
    const greeter = h.greeter(target);
    await greeter.sayHello("a");
    await greeter.sayHello("b");
    await expectCode(greeter.sayHello("missing"), status.NOT_FOUND);
    await until(() => seen.ended.length === 3);
    assert.deepEqual(seen.started, [GREETER_SAY_HELLO, GREETER_SAY_HELLO, GREETER_SAY_HELLO]);
    assert.deepEqual(
      seen.ended.map((e) => [e.code, e.received, e.sent, e.protocol]),
      [
        [Code.OK, 1, 1, "grpc"],
        [Code.OK, 1, 1, "grpc"],
        [Code.NOT_FOUND, 1, 0, "grpc"],
      ],
    );
    assert.ok(seen.ended.every((e) => e.ms >= 0 && Number.isFinite(e.ms)));
    assert.equal(seen.received, 3);
    assert.equal(seen.sent, 2);
  });

  it("server streaming counts every message sent (3) and ends OK", T, async () => {
    const { server, target } = await greeterServer();
    const { seen, observer } = recorder();
    server.observe(observer);
    const r = await h.greeter(target).sayHelloStream("s");
    assert.equal(r.responses.length, 3);
    await until(() => seen.ended.length === 1);
    assert.deepEqual(seen.ended.map((e) => [e.code, e.sent]), [[Code.OK, 3]]);
  });

  it("an unknown method is refused with UNIMPLEMENTED and no method; it never becomes a call", T, async () => {
    const { server, target } = await greeterServer();
    const { seen, observer } = recorder();
    server.observe(observer);
    await expectCode(unary(h.client(target), "/no.Such/Method", Buffer.alloc(0), bytesCodec, bytesCodec), status.UNIMPLEMENTED);
    await until(() => seen.refused.length === 1);
    assert.deepEqual(seen.refused, [{ method: undefined, code: Code.UNIMPLEMENTED }]);
    assert.deepEqual(seen.started, []);
  });

  it("sessions are told when they open and close", T, async () => {
    const { server, port } = await greeterServer();
    const { seen, observer } = recorder();
    server.observe(observer);
    const session = h.h2(`http://127.0.0.1:${port}`);
    await once(session, "connect");
    await until(() => seen.opened === 1);
    session.close();
    await until(() => seen.closed === 1);
  });

  it("an observer that throws costs a warning (ERR_SB_OBSERVER), the call still succeeds; unsubscribing stops it", T, async () => {
    const { server, target } = await greeterServer();
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on("warning", onWarning);
    try {
      let calls = 0;
      const stop = server.observe({
        callStarted: () => {
          calls++;
          throw new Error("observer bug");
        },
      });
      const greeter = h.greeter(target);
      assert.equal((await greeter.sayHello("x")).responses[0]!.message, "hello x");
      await until(() => warnings.some((w) => (w as Error & { code?: string }).code === "ERR_SB_OBSERVER"));
      stop();
      await greeter.sayHello("y");
      assert.equal(calls, 1);
    } finally {
      process.off("warning", onWarning);
    }
  });
});
