// Channel targets (gRPC naming doc): dns:, ipv4:/ipv6: lists, unix:, host:port, registered and
// per-channel schemes; the default :authority of each; an unknown scheme is refused at once.
import { afterEach, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import { Channel, createClient, ErrorCode, SwitchboardError } from "../../src/index.js";
import { registerResolver, type ResolvedAddress, type ResolverListener } from "../../src/client/resolver.js";
import { Greeter } from "../../examples/gen/helloworld/helloworld_pb.js";
import { helloReplyBytes, idServer, respondGrpc, Scope, T } from "./helpers.js";

const scope = new Scope();
afterEach(() => scope.close());

/** A bare gRPC responder that replies with the :authority it received. */
async function authorityServer() {
  return scope.bare((stream, headers) => respondGrpc(stream, [helloReplyBytes(String(headers[":authority"]))]));
}

describe("targets", () => {
  it("dns:///localhost:<port> resolves and calls succeed (OK); authority is localhost:<port>", T, async () => {
    const a = await idServer(scope, "a");
    const ch = scope.channel(`dns:///localhost:${a.port}`);
    assert.equal(ch.authority, `localhost:${a.port}`);
    // localhost may resolve to ::1 first, where nothing listens: pick_first moves on to 127.0.0.1.
    const reply = await createClient(Greeter, ch).sayHello({ name: "x" }, { timeout: 5000 });
    assert.equal(reply.message, "a");
    assert.ok(ch.addresses.includes(`127.0.0.1:${a.port}`), `resolved ${ch.addresses.join(", ")}`);
  });

  it("dns:127.0.0.1:<port> (no //) works too (OK)", T, async () => {
    const a = await idServer(scope, "a");
    const ch = scope.channel(`dns:127.0.0.1:${a.port}`);
    assert.equal((await createClient(Greeter, ch).sayHello({ name: "x" }, { timeout: 5000 })).message, "a");
    assert.deepEqual(ch.addresses, [`127.0.0.1:${a.port}`]);
  });

  it("ipv4:a:p,b:p parses to both addresses in order; authority is the first entry (OK)", T, async () => {
    const a = await idServer(scope, "a");
    const b = await idServer(scope, "b");
    const ch = scope.channel(`ipv4:127.0.0.1:${a.port},127.0.0.1:${b.port}`);
    assert.deepEqual(ch.addresses, [`127.0.0.1:${a.port}`, `127.0.0.1:${b.port}`]);
    assert.equal(ch.authority, `127.0.0.1:${a.port}`);
    assert.equal((await createClient(Greeter, ch).sayHello({ name: "x" }, { timeout: 5000 })).message, "a");
  });

  it("ipv6:[a]:p,[b]:p and dns: without a port parse (default port 443)", () => {
    const ch = new Channel("ipv6:[::1]:50051,[::2]:50052");
    assert.deepEqual(ch.addresses, ["[::1]:50051", "[::2]:50052"]);
    assert.equal(ch.authority, "[::1]:50051");
    const v4 = new Channel("ipv4:10.0.0.1");
    assert.deepEqual(v4.addresses, ["10.0.0.1:443"]);
    assert.equal(new Channel("dns:///example.test").authority, "example.test");
    for (const c of [ch, v4]) c.close();
  });

  it("host:port and unix: keep their addresses and authority", () => {
    const hp = new Channel("localhost:50051");
    assert.deepEqual(hp.addresses, ["localhost:50051"]);
    assert.equal(hp.authority, "localhost:50051");
    const ux = new Channel("unix:///tmp/x.sock");
    assert.deepEqual(ux.addresses, ["unix:/tmp/x.sock"]);
    assert.equal(ux.authority, "localhost");
    hp.close();
    ux.close();
  });

  it("an unknown scheme -> SwitchboardError ERR_SB_BAD_ADDRESS at construction", () => {
    assert.throws(
      () => new Channel("nosuchscheme:///service"),
      (err: unknown) => err instanceof SwitchboardError && err.code === ErrorCode.BAD_ADDRESS && /unknown scheme "nosuchscheme"/.test(err.message),
    );
    for (const bad of ["ipv4:not-an-ip:1", "ipv6:127.0.0.1:80", "ipv4:1.2.3.4:99999", "dns:///"]) {
      assert.throws(() => new Channel(bad), (err: unknown) => err instanceof SwitchboardError && err.code === ErrorCode.BAD_ADDRESS, bad);
    }
  });

  it("a scheme given to registerResolver resolves through it; the authority is the endpoint (OK)", T, async () => {
    const a = await idServer(scope, "a");
    let listener: ResolverListener | undefined;
    registerResolver("test-registered", (target) => {
      assert.equal(target.endpoint, "my-service");
      return { start: (l) => ((listener = l), queueMicrotask(() => l.onAddresses([{ host: "127.0.0.1", port: a.port }]))), refresh() {}, close() {} };
    });
    const ch = scope.channel("test-registered:///my-service");
    assert.equal(ch.authority, "my-service");
    assert.equal((await createClient(Greeter, ch).sayHello({ name: "x" }, { timeout: 5000 })).message, "a");
    assert.ok(listener);
  });

  it("ChannelOptions.resolvers serves a scheme for that channel only; others still refuse it (BAD_ADDRESS)", T, async () => {
    const a = await idServer(scope, "a");
    const addresses: ResolvedAddress[] = [{ host: "127.0.0.1", port: a.port }];
    const ch = scope.channel("mine:svc", { resolvers: { mine: () => ({ start: (l) => queueMicrotask(() => l.onAddresses(addresses)), refresh() {}, close() {} }) } });
    assert.equal((await createClient(Greeter, ch).sayHello({ name: "x" }, { timeout: 5000 })).message, "a");
    assert.throws(() => new Channel("mine:svc"), (err: unknown) => err instanceof SwitchboardError && err.code === ErrorCode.BAD_ADDRESS);
  });

  it("a resolver that fails before any result -> calls fail UNAVAILABLE naming the resolution error", T, async () => {
    const ch = scope.channel("broken:svc", { resolvers: { broken: () => ({ start: (l) => queueMicrotask(() => l.onError(new Error("registry down"))), refresh() {}, close() {} }) } });
    await assert.rejects(createClient(Greeter, ch).sayHello({ name: "x" }, { timeout: 5000 }), /UNAVAILABLE.*registry down/);
  });

  it("calls carry the target's default :authority (dns: host:port)", T, async () => {
    const { port } = await authorityServer();
    const ch = scope.channel(`dns:///127.0.0.1:${port}`);
    const reply = await createClient(Greeter, ch).sayHello({ name: "x" }, { timeout: 5000 });
    assert.equal(reply.message, `127.0.0.1:${port}`);
  });
});
