// Ports: TCP on IPv4 and IPv6 loopback, Unix sockets, several ports per server, bad
// addresses, TLS and mTLS with the peer's identity visible to handlers.
import { after, afterEach, before, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as net from "node:net";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import * as grpc from "@grpc/grpc-js";
import { ErrorCode, Server, ServerCredentials, SwitchboardError, type ServerCallContext, type ServiceImpl } from "../../src/index.js";
import { Greeter } from "../../examples/gen/helloworld/helloworld_pb.js";
import { expectCode, Harness, T, tls, within } from "./helpers.js";

const h = new Harness();
afterEach(() => h.close());

/** Greeter that answers with the peer it saw, and remembers the last context. */
function peerGreeter(seen: { ctx?: ServerCallContext }): ServiceImpl<typeof Greeter> {
  return {
    sayHello(req, ctx) {
      seen.ctx = ctx;
      return { message: `${req.name}@${ctx.peer}` };
    },
  };
}

async function ipv6LoopbackAvailable(): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once("error", () => resolve(false));
    s.listen({ host: "::1", port: 0 }, () => s.close(() => resolve(true)));
  });
}

let tmp = "";
before(() => {
  tmp = mkdtempSync(path.join(tmpdir(), "sb-ports-"));
});
after(() => rmSync(tmp, { recursive: true, force: true }));

describe("ports", () => {
  it('"127.0.0.1:0" returns the bound port, and ctx.peer looks like ipv4:127.0.0.1:<port>', T, async () => {
    const seen: { ctx?: ServerCallContext } = {};
    const server = h.track(new Server());
    server.addService(Greeter, peerGreeter(seen));
    const port = await server.addInsecurePort("127.0.0.1:0");
    assert.ok(Number.isInteger(port) && port > 0 && port < 65536, `port ${port}`);
    assert.deepEqual(server.ports, [port]);
    server.start();
    const ok = await h.greeter(`127.0.0.1:${port}`).sayHello("a", { deadlineMs: 3000 });
    assert.match(ok.responses[0]!.message, /^a@ipv4:127\.0\.0\.1:\d+$/);
    assert.match(seen.ctx!.peer, /^ipv4:127\.0\.0\.1:\d+$/);
    // The peer port is the client's ephemeral port, not the server's.
    assert.notEqual(Number(seen.ctx!.peer.split(":").pop()), 0);
  });

  it('"[::1]:0" binds IPv6 loopback and ctx.peer looks like ipv6:[::1]:<port>', T, async (t) => {
    if (!(await ipv6LoopbackAvailable())) {
      t.skip("IPv6 loopback (::1) is not available on this host");
      return;
    }
    const seen: { ctx?: ServerCallContext } = {};
    const server = h.track(new Server());
    server.addService(Greeter, peerGreeter(seen));
    const port = await server.addInsecurePort("[::1]:0");
    assert.ok(port > 0);
    server.start();
    const ok = await h.greeter(`[::1]:${port}`).sayHello("six", { deadlineMs: 3000 });
    assert.match(ok.responses[0]!.message, /^six@ipv6:\[::1\]:\d+$/);
  });

  it('"unix:/path" serves on a Unix socket (grpc-js target unix:/path) and ctx.peer starts with unix:', T, async () => {
    const socket = path.join(tmp, "greeter.sock");
    const seen: { ctx?: ServerCallContext } = {};
    const server = h.track(new Server());
    server.addService(Greeter, peerGreeter(seen));
    const port = await server.addInsecurePort(`unix:${socket}`);
    assert.equal(port, 0, "a Unix socket has no TCP port");
    assert.ok(existsSync(socket));
    server.start();
    const ok = await h.greeter(`unix:${socket}`).sayHello("u", { deadlineMs: 3000 });
    assert.match(ok.responses[0]!.message, /^u@unix:/);
    assert.match(seen.ctx!.peer, /^unix:/);
  });

  it('"unix:///path" form works too, and a stale socket file left by a killed process is replaced', T, async () => {
    const socket = path.join(tmp, "stale.sock");
    // A process that dies without closing its listener leaves the socket file behind.
    const child = spawn(process.execPath, ["-e", `require("net").createServer().listen(${JSON.stringify(socket)}, () => process.kill(process.pid, "SIGKILL"))`]);
    await within(once(child, "exit"), 5000, "child exit");
    assert.ok(existsSync(socket), "the stale socket file must exist before the test");
    const server = h.track(new Server());
    server.addService(Greeter, { sayHello: (r) => ({ message: r.name }) });
    await server.addInsecurePort(`unix://${socket}`);
    server.start();
    const ok = await h.greeter(`unix:${socket}`).sayHello("again", { deadlineMs: 3000 });
    assert.equal(ok.responses[0]!.message, "again");
  });

  it("a live Unix socket of another server is never removed: ERR_SB_BIND_FAILED 'another server is listening', and that server keeps its socket and serves", T, async () => {
    const socket = path.join(tmp, "live.sock");
    const first = h.track(new Server());
    first.addService(Greeter, { sayHello: (r) => ({ message: `first ${r.name}` }) });
    await first.addInsecurePort(`unix:${socket}`);
    first.start();
    const second = h.track(new Server());
    await assert.rejects(second.addInsecurePort(`unix:${socket}`), (err: unknown) => {
      assert.ok(err instanceof SwitchboardError && err.code === ErrorCode.BIND_FAILED, String(err));
      assert.match(err.message, /another server is listening on it/);
      return true;
    });
    assert.ok(existsSync(socket), "the live socket file is still there");
    const ok = await h.greeter(`unix:${socket}`).sayHello("still", { deadlineMs: 3000 });
    assert.equal(ok.responses[0]!.message, "first still");
  });

  it("a path that is a regular file is left alone: ERR_SB_BIND_FAILED 'not a socket', the file keeps its content", T, async () => {
    const file = path.join(tmp, "not-a-socket");
    writeFileSync(file, "precious");
    const server = h.track(new Server());
    await assert.rejects(server.addInsecurePort(`unix:${file}`), (err: unknown) => {
      assert.ok(err instanceof SwitchboardError && err.code === ErrorCode.BIND_FAILED, String(err));
      assert.match(err.message, /exists and is not a socket/);
      return true;
    });
    assert.equal(readFileSync(file, "utf8"), "precious");
  });

  it("two servers racing for one stale socket path: exactly one binds, the other gets ERR_SB_BIND_FAILED; the winner serves and its socket file stays", T, async () => {
    const socket = path.join(tmp, "race.sock");
    const child = spawn(process.execPath, ["-e", `require("net").createServer().listen(${JSON.stringify(socket)}, () => process.kill(process.pid, "SIGKILL"))`]);
    await within(once(child, "exit"), 5000, "child exit");
    assert.ok(existsSync(socket), "the stale socket file must exist before the test");
    const servers = [0, 1].map((i) => {
      const s = h.track(new Server());
      s.addService(Greeter, { sayHello: (r) => ({ message: `server ${i} ${r.name}` }) });
      return s;
    });
    const results = await Promise.allSettled(servers.map((s) => s.addInsecurePort(`unix:${socket}`)));
    const won = results.flatMap((r, i) => (r.status === "fulfilled" ? [i] : []));
    assert.equal(won.length, 1, `exactly one server binds (${results.map((r) => r.status).join(", ")})`);
    const lost = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
    assert.ok(lost.reason instanceof SwitchboardError && lost.reason.code === ErrorCode.BIND_FAILED, String(lost.reason));
    servers[won[0]!]!.start();
    const ok = await h.greeter(`unix:${socket}`).sayHello("race", { deadlineMs: 3000 });
    assert.equal(ok.responses[0]!.message, `server ${won[0]} race`);
  });

  it("several ports on one server all answer", T, async () => {
    const server = h.track(new Server());
    server.addService(Greeter, { sayHello: (r) => ({ message: `hi ${r.name}` }) });
    const a = await server.addInsecurePort("127.0.0.1:0");
    const b = await server.addInsecurePort("127.0.0.1:0");
    const socket = path.join(tmp, "multi.sock");
    await server.addInsecurePort(`unix:${socket}`);
    const c = await server.addSecurePort("127.0.0.1:0", ServerCredentials.ssl({ keyCertPairs: [{ privateKey: tls.serverKey, certChain: tls.serverCert }] }));
    assert.equal(new Set([a, b, c]).size, 3);
    assert.deepEqual(server.ports, [a, b, 0, c]);
    server.start();
    const replies = await Promise.all([
      h.greeter(`127.0.0.1:${a}`).sayHello("a", { deadlineMs: 3000 }),
      h.greeter(`127.0.0.1:${b}`).sayHello("b", { deadlineMs: 3000 }),
      h.greeter(`unix:${socket}`).sayHello("u", { deadlineMs: 3000 }),
      h.greeter(`localhost:${c}`, grpc.credentials.createSsl(tls.ca)).sayHello("tls", { deadlineMs: 3000 }),
    ]);
    assert.deepEqual(
      replies.map((r) => r.responses[0]!.message),
      ["hi a", "hi b", "hi u", "hi tls"],
    );
  });

  it("a port added after start() serves at once", T, async () => {
    const { server } = await h.start((s) => s.addService(Greeter, { sayHello: (r) => ({ message: `late ${r.name}` }) }));
    const later = await server.addInsecurePort("127.0.0.1:0");
    const ok = await h.greeter(`127.0.0.1:${later}`).sayHello("port", { deadlineMs: 3000 });
    assert.equal(ok.responses[0]!.message, "late port");
    assert.equal(server.ports.length, 2);
  });

  for (const bad of ["127.0.0.1", "localhost:http", "127.0.0.1:65536", "127.0.0.1:-1", "[::1", "[::1]5000", "::1:", "unix:", "unix://", "host:1.5"]) {
    it(`bad address ${JSON.stringify(bad)} throws SwitchboardError ERR_SB_BAD_ADDRESS`, T, async () => {
      const server = h.track(new Server());
      await assert.rejects(server.addInsecurePort(bad), (err: unknown) => {
        assert.ok(err instanceof SwitchboardError, `got ${String(err)}`);
        assert.equal(err.code, ErrorCode.BAD_ADDRESS);
        return true;
      });
      assert.deepEqual(server.ports, []);
    });
  }

  it("an address already in use throws ERR_SB_BIND_FAILED", T, async () => {
    const first = h.track(new Server());
    const port = await first.addInsecurePort("127.0.0.1:0");
    const second = h.track(new Server());
    await assert.rejects(second.addInsecurePort(`127.0.0.1:${port}`), (err: unknown) => err instanceof SwitchboardError && err.code === ErrorCode.BIND_FAILED);
  });

  it("TLS port answers a grpc-js TLS client that trusts the fixture CA; the context reports transport_security_type ssl", T, async () => {
    const seen: { ctx?: ServerCallContext } = {};
    const server = h.track(new Server());
    server.addService(Greeter, peerGreeter(seen));
    const port = await server.addSecurePort("127.0.0.1:0", ServerCredentials.ssl({ keyCertPairs: [{ privateKey: tls.serverKey, certChain: tls.serverCert }] }));
    server.start();
    const ok = await h.greeter(`localhost:${port}`, grpc.credentials.createSsl(tls.ca)).sayHello("secure", { deadlineMs: 5000 });
    assert.match(ok.responses[0]!.message, /^secure@ipv4:127\.0\.0\.1:\d+$/);
    const auth = seen.ctx!.authContext();
    assert.deepEqual(auth["transport_security_type"]?.map(String), ["ssl"]);
    // No client certificate: no identity.
    assert.equal(seen.ctx!.peerIdentities(), null);
    assert.equal(seen.ctx!.peerIdentityKey(), null);
  });

  it("a plaintext client on a TLS port fails with UNAVAILABLE and the server keeps serving", T, async () => {
    const server = h.track(new Server());
    server.addService(Greeter, { sayHello: () => ({ message: "ok" }) });
    const port = await server.addSecurePort("127.0.0.1:0", ServerCredentials.ssl({ keyCertPairs: [{ privateKey: tls.serverKey, certChain: tls.serverCert }] }));
    server.start();
    await expectCode(h.greeter(`localhost:${port}`).sayHello("plain", { deadlineMs: 3000 }), grpc.status.UNAVAILABLE);
    const ok = await h.greeter(`localhost:${port}`, grpc.credentials.createSsl(tls.ca)).sayHello("tls", { deadlineMs: 5000 });
    assert.equal(ok.responses[0]!.message, "ok");
  });

  it("a plain ServerCallContext on an insecure port has an empty auth context and no peer identity", T, async () => {
    const seen: { ctx?: ServerCallContext } = {};
    const { target } = await h.start((s) => s.addService(Greeter, peerGreeter(seen)));
    await h.greeter(target).sayHello("x", { deadlineMs: 3000 });
    assert.deepEqual(seen.ctx!.authContext(), {});
    assert.equal(seen.ctx!.peerIdentities(), null);
    assert.equal(seen.ctx!.peerIdentityKey(), null);
  });

  describe("mTLS with requireClientAuth", () => {
    async function mtlsServer(seen: { ctx?: ServerCallContext }): Promise<number> {
      const server = h.track(new Server());
      server.addService(Greeter, peerGreeter(seen));
      const port = await server.addSecurePort(
        "127.0.0.1:0",
        ServerCredentials.ssl({ keyCertPairs: [{ privateKey: tls.serverKey, certChain: tls.serverCert }], rootCerts: tls.ca, requireClientAuth: true }),
      );
      server.start();
      return port;
    }

    it("a client without a certificate fails (UNAVAILABLE)", T, async () => {
      const seen: { ctx?: ServerCallContext } = {};
      const port = await mtlsServer(seen);
      await expectCode(h.greeter(`localhost:${port}`, grpc.credentials.createSsl(tls.ca)).sayHello("anon", { deadlineMs: 3000 }), grpc.status.UNAVAILABLE);
      assert.equal(seen.ctx, undefined, "the handler must not run");
    });

    it("a client with the fixture certificate succeeds; ctx sees peerIdentities (SANs), peerIdentityKey and authContext", T, async () => {
      const seen: { ctx?: ServerCallContext } = {};
      const port = await mtlsServer(seen);
      const creds = grpc.credentials.createSsl(tls.ca, tls.clientKey, tls.clientCert);
      const ok = await h.greeter(`localhost:${port}`, creds).sayHello("me", { deadlineMs: 5000 });
      assert.match(ok.responses[0]!.message, /^me@ipv4:127\.0\.0\.1:\d+$/);
      const ctx = seen.ctx!;
      assert.deepEqual(ctx.peerIdentities()?.map(String), ["test-client.example", "spiffe://switchboard.test/client"]);
      assert.equal(ctx.peerIdentityKey(), "x509_subject_alternative_name");
      const auth = ctx.authContext();
      assert.deepEqual(auth["transport_security_type"]?.map(String), ["ssl"]);
      assert.deepEqual(auth["x509_common_name"]?.map(String), ["test-client"]);
      assert.deepEqual(auth["x509_subject_alternative_name"]?.map(String), ["test-client.example", "spiffe://switchboard.test/client"]);
      assert.match(String(auth["x509_pem_cert"]?.[0]), /^-----BEGIN CERTIFICATE-----\n[\s\S]+-----END CERTIFICATE-----\n$/);
    });

    it("optional client auth (rootCerts without requireClientAuth): a client without a certificate is served with no identity; one with it is identified", T, async () => {
      const seen: { ctx?: ServerCallContext } = {};
      const server = h.track(new Server());
      server.addService(Greeter, peerGreeter(seen));
      const port = await server.addSecurePort(
        "127.0.0.1:0",
        ServerCredentials.ssl({ keyCertPairs: [{ privateKey: tls.serverKey, certChain: tls.serverCert }], rootCerts: tls.ca }),
      );
      server.start();
      await h.greeter(`localhost:${port}`, grpc.credentials.createSsl(tls.ca)).sayHello("anon", { deadlineMs: 5000 });
      assert.equal(seen.ctx!.peerIdentities(), null);
      assert.equal(seen.ctx!.authContext()["x509_common_name"], undefined);
      await h.greeter(`localhost:${port}`, grpc.credentials.createSsl(tls.ca, tls.clientKey, tls.clientCert)).sayHello("me", { deadlineMs: 5000 });
      assert.equal(seen.ctx!.peerIdentityKey(), "x509_subject_alternative_name");
      assert.deepEqual(seen.ctx!.authContext()["x509_common_name"]?.map(String), ["test-client"]);
    });
  });
});
