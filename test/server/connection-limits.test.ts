// maxConnections, maxConnectionsPerIp and requestIdleTimeoutMs as options: defaults,
// validation, what a refused client sees (node:http2's GOAWAY event, a TLS client closed
// before its handshake), and that in-memory connections are not counted. The attack-sized
// versions are test/reliability/connections.test.ts and half-open.test.ts.
import { afterEach, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as http2 from "node:http2";
import { once } from "node:events";
import * as grpc from "@grpc/grpc-js";
import { channelFor, createClient, ErrorCode, Server, ServerCredentials, SwitchboardError, type ServerErrorContext } from "../../src/index.js";
import { resolveOptions } from "../../src/server/options.js";
import { Greeter } from "../../examples/gen/helloworld/helloworld_pb.js";
import { expectCode, Harness, T, tls, until, within } from "./helpers.js";

const h = new Harness();
afterEach(() => h.close());

function greeter(s: Server): void {
  s.addService(Greeter, { sayHello: (req) => ({ message: `hi ${req.name}` }) });
}

describe("connection limits and the request idle timeout: options", () => {
  it("defaults: maxConnections 10,000, maxConnectionsPerIp unlimited, requestIdleTimeoutMs 30 s, keepaliveMaxPingsWithoutData 0, exposeErrors true", () => {
    const o = resolveOptions({});
    assert.equal(o.maxConnections, 10_000);
    assert.equal(o.maxConnectionsPerIp, Infinity);
    assert.equal(o.requestIdleTimeoutMs, 30_000);
    assert.equal(o.keepaliveMaxPingsWithoutData, 0);
    assert.equal(o.exposeErrors, true);
    assert.equal(resolveOptions({ requestIdleTimeoutMs: Infinity }).requestIdleTimeoutMs, Infinity);
  });

  for (const [name, value] of [
    ["maxConnections", 0],
    ["maxConnections", -5],
    ["maxConnectionsPerIp", Number.NaN],
    ["requestIdleTimeoutMs", 0],
    ["requestIdleTimeoutMs", "30s"],
  ] as const) {
    it(`${name}: ${String(value)} -> ERR_SB_BAD_OPTION`, () => {
      assert.throws(
        () => new Server({ [name]: value } as never),
        (err: unknown) => err instanceof SwitchboardError && err.code === ErrorCode.BAD_OPTION && err.message.includes(name),
      );
    });
  }
});

describe("connection limits: what a refused client sees", () => {
  it("plaintext, maxConnections 1: the second connection gets GOAWAY ENHANCE_YOUR_CALM 'too_many_connections' (last stream 0) and is closed; refusedConnections counts it; onError is not bothered", T, async () => {
    const errors: ServerErrorContext[] = [];
    const { server, port } = await h.start(greeter, { maxConnections: 1, onError: (_e, c) => void errors.push(c) });
    const first = h.h2(`http://127.0.0.1:${port}`);
    await within(once(first, "remoteSettings"), 3000, "first connection");
    assert.equal(server.openConnections, 1);
    const second = h.h2(`http://127.0.0.1:${port}`);
    // (events.once would reject on the session's 'error': node reports the GOAWAY's code as one.)
    const closed = new Promise<void>((resolve) => second.once("close", () => resolve()));
    const goaway = new Promise<[number, number, Buffer]>((resolve) => second.once("goaway", (...args: [number, number, Buffer]) => resolve(args)));
    const [code, lastStreamId, debug] = await within(goaway, 3000, "GOAWAY");
    assert.equal(code, http2.constants.NGHTTP2_ENHANCE_YOUR_CALM);
    assert.equal(lastStreamId, 0);
    assert.equal(debug.toString(), "too_many_connections");
    await within(closed, 3000, "the refused connection closes");
    assert.equal(server.refusedConnections, 1);
    assert.equal(server.openConnections, 1);
    assert.deepEqual(errors, []);
    // The first connection is untouched, and once it goes a new one is admitted.
    first.destroy();
    await until(() => server.openConnections === 0, 3000, "the first connection to be released");
    const ok = await h.greeter(`127.0.0.1:${port}`).sayHello("next", { deadlineMs: 3000 });
    assert.equal(ok.responses[0]!.message, "hi next");
  });

  it("TLS, maxConnections 1: a second client is closed before any TLS handshake (grpc-js: UNAVAILABLE); the first keeps being served", T, async () => {
    const server = h.track(new Server({ maxConnections: 1 }));
    greeter(server);
    const port = await server.addSecurePort("127.0.0.1:0", ServerCredentials.ssl({ keyCertPairs: [{ privateKey: tls.serverKey, certChain: tls.serverCert }] }));
    server.start();
    const first = h.greeter(`localhost:${port}`, grpc.credentials.createSsl(tls.ca));
    assert.equal((await first.sayHello("one", { deadlineMs: 5000 })).responses[0]!.message, "hi one");
    await expectCode(h.greeter(`localhost:${port}`, grpc.credentials.createSsl(tls.ca)).sayHello("two", { deadlineMs: 3000 }), grpc.status.UNAVAILABLE);
    assert.ok(server.refusedConnections >= 1);
    assert.equal((await first.sayHello("again", { deadlineMs: 5000 })).responses[0]!.message, "hi again");
  });

  it("in-memory connections (channelFor) are not counted against maxConnections", T, async () => {
    const server = new Server({ maxConnections: 1 });
    greeter(server);
    await using channel = channelFor(server);
    await using other = channelFor(server);
    const a = await createClient(Greeter, channel).sayHello({ name: "a" });
    const b = await createClient(Greeter, other).sayHello({ name: "b" });
    assert.deepEqual([a.message, b.message], ["hi a", "hi b"]);
    assert.equal(server.openConnections, 0);
    assert.equal(server.refusedConnections, 0);
  });
});
