// switchboard health: grpc_health_probe's exit codes (0 SERVING, 1 invalid arguments,
// 2 connection failure, 3 RPC failure, 4 unhealthy) and messages.
import assert from "node:assert/strict";
import { createServer, type Server as NetServer } from "node:net";
import { after, before, describe, it } from "node:test";
import { refusingAddress, runCli, runMain, T } from "./helpers.js";
import { SICK, startOurServer, type Running } from "./servers.js";

describe("switchboard health (Switchboard server)", () => {
  let server: Running;
  before(async () => {
    server = await startOurServer();
  });
  after(() => server.close());

  it("0: the server is SERVING -> 'status: SERVING' on stdout", T, async () => {
    const r = await runMain(["health", server.target]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "status: SERVING\n");
  });

  it("0: a named service that is SERVING", T, async () => {
    const r = await runMain(["health", server.target, "clitest.Echo"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "status: SERVING\n");
  });

  it("4: a NOT_SERVING service is unhealthy", T, async () => {
    const r = await runMain(["health", server.target, SICK]);
    assert.equal(r.code, 4);
    assert.equal(r.stdout, "");
    assert.equal(r.stderr, 'switchboard: health: service unhealthy (responded with "NOT_SERVING")\n');
  });

  it("3: an unknown service is an RPC failure (NOT_FOUND)", T, async () => {
    const r = await runMain(["health", server.target, "no.Such"]);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /^switchboard: health: health rpc failed: NOT_FOUND: /);
  });

  it("1: invalid arguments, one line each", T, async () => {
    const extra = await runCli(["health", server.target, "a", "b"]);
    assert.equal(extra.code, 1);
    assert.equal(extra.stderr, `switchboard: health: unexpected argument "b" (health takes HOST:PORT and one SERVICE) (see 'switchboard health --help')\n`);
    const timeout = await runMain(["health", server.target, "--timeout=-1"]);
    assert.equal(timeout.code, 1);
    assert.match(timeout.stderr, /^switchboard: health: --timeout: "-1" is not a duration/);
    const dash = await runMain(["health", server.target, "--timeout", "-1"]);
    assert.equal(dash.stderr, "switchboard: health: option '--timeout' needs a value (one starting with '-' is written --timeout=-...) (see 'switchboard health --help')\n");
  });
});

describe("switchboard health: failures before a status", () => {
  it("3: a server without the health service", T, async () => {
    const bare = await startOurServer({ health: false });
    try {
      const r = await runMain(["health", bare.target]);
      assert.equal(r.code, 3);
      assert.match(r.stderr, /^switchboard: health: this server does not implement the grpc health protocol \(grpc\.health\.v1\.Health\)/);
    } finally {
      await bare.close();
    }
  });

  it("2: nothing listening (connection refused)", T, async () => {
    using refusing = await refusingAddress();
    const r = await runMain(["health", refusing.target]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^switchboard: health: failed to connect service at "unix:[^"]+": .*ECONNREFUSED/);
  });

  it("2: a peer that accepts TCP but never speaks HTTP/2 (bounded by --connect-timeout)", T, async () => {
    const silent: NetServer = createServer(() => {
      // Accepts and says nothing.
    });
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    try {
      const port = (silent.address() as { port: number }).port;
      const r = await runMain(["health", `127.0.0.1:${port}`, "--connect-timeout", "300ms"]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /^switchboard: health: failed to connect service "127\.0\.0\.1:\d+" within 300ms/);
    } finally {
      silent.close();
    }
  });

  it("2 over TLS without trusting the CA or in plaintext to a TLS port; 0 with --ca", T, async () => {
    const secure = await startOurServer({ tls: true });
    try {
      const ok = await runMain(["health", secure.target, "--ca", "test/fixtures/tls/ca.pem"]);
      assert.equal(ok.code, 0, ok.stderr);
      assert.equal(ok.stdout, "status: SERVING\n");
      const untrusted = await runMain(["health", secure.target, "--tls"]);
      assert.equal(untrusted.code, 2);
      assert.match(untrusted.stderr, /certificate/);
      const plaintext = await runMain(["health", secure.target]);
      assert.equal(plaintext.code, 2, plaintext.stderr);
    } finally {
      await secure.close();
    }
  });
});
