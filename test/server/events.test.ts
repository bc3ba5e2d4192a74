// Server events (grpclib `listen(server, Event, fn)`): RecvRequest with mutable metadata and
// handler (the seed's auth example), RecvMessage / SendMessage with mutable messages,
// SendInitialMetadata and SendTrailingMetadata with mutable metadata, registration order,
// interrupt(), and the plain fast path when nobody listens.
import { afterEach, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { Code, createClient, listen, Metadata, RpcError, type ServerStream } from "../../src/index.js";
import { Greeter, type HelloReply, type HelloRequest } from "../../examples/gen/helloworld/helloworld_pb.js";
import { expectRpcError, Scope, T, until } from "../client/helpers.js";

const scope = new Scope();
afterEach(() => scope.close());

const SECRET = "s3cret";

/** A Greeter whose handlers record what they saw. */
async function greeter(setup: (server: import("../../src/index.js").Server) => void) {
  const seen: { name: string; metadata: Metadata }[] = [];
  const started = await scope.server((s) => {
    s.addService(Greeter, {
      sayHello(req, ctx) {
        seen.push({ name: req.name, metadata: ctx.metadata });
        if (req.name === "fail") throw new RpcError(Code.NOT_FOUND, "no such greeting");
        ctx.setTrailingMetadata({ "x-handler-trailer": "h" });
        return { message: `hello ${req.name}` };
      },
      async *sayHelloStream(req) {
        for (let i = 0; i < 3; i++) yield { message: `${req.name}${i}` };
      },
    });
    setup(s);
  });
  const client = createClient(Greeter, scope.channel(started.target));
  return { ...started, client, seen };
}

describe("server events: RecvRequest", () => {
  it("the seed's auth check swaps in an UNAUTHENTICATED handler and interrupts later listeners (UNAUTHENTICATED)", T, async () => {
    const later: string[] = [];
    const { client, seen } = await greeter((s) => {
      listen(s, "recvRequest", (event) => {
        if (event.metadata.get("auth-token") !== SECRET) {
          event.handler = async () => {
            throw new RpcError(Code.UNAUTHENTICATED, "bad token");
          };
          event.interrupt();
        }
      });
      listen(s, "recvRequest", (event) => {
        later.push(event.method);
      });
    });
    await expectRpcError(client.sayHello({ name: "x" }, { timeout: 3000 }), Code.UNAUTHENTICATED, /bad token/);
    assert.equal(seen.length, 0, "the real handler never ran");
    assert.deepEqual(later, [], "interrupt() stopped the listeners after the first");
    const reply = await client.sayHello({ name: "y" }, { timeout: 3000, metadata: { "auth-token": SECRET } });
    assert.equal(reply.message, "hello y");
    assert.deepEqual(later, ["/helloworld.Greeter/SayHello"]);
  });

  it("sees method, deadline, content type, user agent and peer, and its metadata changes reach the handler (OK)", T, async () => {
    const events: { method: string; kind: string; deadline: boolean; contentType: string; userAgent?: string; peer: string }[] = [];
    const { client, seen } = await greeter((s) => {
      listen(s, "recvRequest", async (event) => {
        events.push({
          method: event.method,
          kind: event.methodInfo.kind,
          deadline: event.deadline !== undefined,
          contentType: event.contentType,
          userAgent: event.userAgent,
          peer: event.peer,
        });
        await sleep(1);
        event.metadata.set("x-added", "by-listener");
        event.metadata.delete("x-drop");
      });
    });
    await client.sayHello({ name: "m" }, { timeout: 3000, metadata: { "x-drop": "1", "x-keep": "2" } });
    assert.equal(events.length, 1);
    assert.equal(events[0]!.method, "/helloworld.Greeter/SayHello");
    assert.equal(events[0]!.kind, "unary");
    assert.equal(events[0]!.deadline, true);
    assert.match(events[0]!.contentType, /^application\/grpc/);
    assert.match(events[0]!.userAgent ?? "", /switchboard/i);
    assert.match(events[0]!.peer, /^ipv4:127\.0\.0\.1:\d+$/);
    assert.equal(seen[0]!.metadata.get("x-added"), "by-listener");
    assert.equal(seen[0]!.metadata.get("x-drop"), undefined);
    assert.equal(seen[0]!.metadata.get("x-keep"), "2");
  });

  it("a replaced metadata object is what the handler sees (OK)", T, async () => {
    const { client, seen } = await greeter((s) => {
      listen(s, "recvRequest", (event) => {
        event.metadata = new Metadata({ "x-only": "this" });
      });
    });
    await client.sayHello({ name: "r" }, { timeout: 3000, metadata: { "x-gone": "1" } });
    assert.deepEqual([...seen[0]!.metadata.keys()], ["x-only"]);
  });

  it("a listener that throws an RpcError ends the call with its status; a plain throw is UNKNOWN (PERMISSION_DENIED, UNKNOWN)", T, async () => {
    let mode = "rpc";
    const { client, seen } = await greeter((s) => {
      listen(s, "recvRequest", () => {
        if (mode === "rpc") throw new RpcError(Code.PERMISSION_DENIED, "not you");
        throw new Error("listener broke");
      });
    });
    await expectRpcError(client.sayHello({ name: "a" }, { timeout: 3000 }), Code.PERMISSION_DENIED, /not you/);
    mode = "plain";
    await expectRpcError(client.sayHello({ name: "b" }, { timeout: 3000 }), Code.UNKNOWN, /listener broke/);
    assert.equal(seen.length, 0);
  });

  it("a swapped-in stream handler may stream its own responses (OK)", T, async () => {
    const { client } = await greeter((s) => {
      listen(s, "recvRequest", (event) => {
        if (event.methodInfo.name !== "SayHelloStream") return;
        event.handler = async (stream: ServerStream<HelloRequest, HelloReply>) => {
          const req = await stream.recvMessage();
          await stream.sendMessage({ $typeName: "helloworld.HelloReply", message: `swapped ${req?.name}` });
        };
      });
    });
    const got: string[] = [];
    for await (const r of client.sayHelloStream({ name: "z" }, { timeout: 3000 })) got.push(r.message);
    assert.deepEqual(got, ["swapped z"]);
  });
});

describe("server events: messages and metadata", () => {
  it("RecvMessage and SendMessage listeners may replace messages, in registration order (OK)", T, async () => {
    const order: string[] = [];
    const { client, seen } = await greeter((s) => {
      listen(s, "recvMessage", (event) => {
        order.push("recv1");
        (event.message as HelloRequest).name += "+r1";
      });
      listen(s, "recvMessage", (event) => {
        order.push("recv2");
        event.message = { ...(event.message as HelloRequest), name: `${(event.message as HelloRequest).name}+r2` };
      });
      listen(s, "sendMessage", async (event) => {
        order.push("send");
        await sleep(1);
        event.message = { ...(event.message as HelloReply), message: `${(event.message as HelloReply).message}!` };
      });
    });
    const reply = await client.sayHello({ name: "n" }, { timeout: 3000 });
    assert.equal(seen[0]!.name, "n+r1+r2");
    assert.equal(reply.message, "hello n+r1+r2!");
    assert.deepEqual(order, ["recv1", "recv2", "send"]);
  });

  it("slow SendMessage listeners keep a stream's messages in order (OK)", T, async () => {
    const { client } = await greeter((s) => {
      listen(s, "sendMessage", async (event) => {
        const m = event.message as HelloReply;
        // The first message waits longest: order must still hold.
        await sleep(m.message.endsWith("0") ? 30 : 1);
        event.message = { ...m, message: `${m.message}.` };
      });
    });
    const got: string[] = [];
    for await (const r of client.sayHelloStream({ name: "s" }, { timeout: 3000 })) got.push(r.message);
    assert.deepEqual(got, ["s0.", "s1.", "s2."]);
  });

  it("SendInitialMetadata may add response headers once per call (OK)", T, async () => {
    let calls = 0;
    const { client } = await greeter((s) => {
      listen(s, "sendInitialMetadata", (event) => {
        calls++;
        event.metadata.set("x-server-version", "1.2.3");
      });
    });
    const call = client.sayHelloStream.open({ timeout: 3000 });
    await call.sendMessage({ name: "h" }, { end: true });
    const initial = await call.recvInitialMetadata();
    assert.equal(initial.get("x-server-version"), "1.2.3");
    let n = 0;
    while ((await call.recvMessage()) !== null) n++;
    assert.equal(n, 3);
    assert.equal(calls, 1);
  });

  it("SendTrailingMetadata sees the status read-only and may change trailers, for OK and errors (OK, NOT_FOUND)", T, async () => {
    const statuses: { status: Code; message: string }[] = [];
    const { client } = await greeter((s) => {
      listen(s, "sendTrailingMetadata", (event) => {
        statuses.push({ status: event.status, message: event.statusMessage });
        event.metadata.set("x-audit", `status-${event.status}`);
        assert.throws(() => {
          (event as { status: Code }).status = Code.OK;
        }, "status is read-only at runtime too");
      });
    });
    const call = client.sayHello.open({ timeout: 3000 });
    await call.sendMessage({ name: "ok" }, { end: true });
    while ((await call.recvMessage()) !== null);
    const trailers = await call.recvTrailingMetadata();
    assert.equal(trailers.get("x-audit"), "status-0");
    assert.equal(trailers.get("x-handler-trailer"), "h");
    const err = await expectRpcError(client.sayHello({ name: "fail" }, { timeout: 3000 }), Code.NOT_FOUND, /no such greeting/);
    assert.equal(err.metadata?.get("x-audit"), "status-5");
    assert.deepEqual(statuses, [
      { status: Code.OK, message: "" },
      { status: Code.NOT_FOUND, message: "no such greeting" },
    ]);
  });

  it("SendTrailingMetadata also announces a DEADLINE_EXCEEDED the server decided on its own (DEADLINE_EXCEEDED)", T, async () => {
    const statuses: Code[] = [];
    const started = await scope.server((s) => {
      s.addService(Greeter, {
        async sayHello(_req, ctx) {
          await new Promise((resolve) => ctx.onCancel(resolve));
          return { message: "late" };
        },
        async *sayHelloStream() {},
      });
      listen(s, "sendTrailingMetadata", (event) => {
        statuses.push(event.status);
      });
    }, { maxDeadlineMs: 100 });
    // The server's own cap (100 ms) ends the call, not the client's deadline.
    const client = createClient(Greeter, scope.channel(started.target));
    await expectRpcError(client.sayHello({ name: "slow" }, { timeout: 5000 }), Code.DEADLINE_EXCEEDED);
    await until(() => statuses.length > 0, 5000, "the server's SendTrailingMetadata event");
    assert.deepEqual(statuses, [Code.DEADLINE_EXCEEDED]);
  });

  it("a listener removed with its returned function no longer runs, and calls go back to the plain path (OK)", T, async () => {
    let runs = 0;
    let off: () => void = () => {};
    const { client, server } = await greeter((s) => {
      off = listen(s, "sendMessage", () => {
        runs++;
      });
    });
    await client.sayHello({ name: "1" }, { timeout: 3000 });
    off();
    assert.equal(server.events.active, false);
    await client.sayHello({ name: "2" }, { timeout: 3000 });
    assert.equal(runs, 1);
  });
});
