// ChannelCredentials.ssl() option merging: TLS options given in `extra` (ca, key, cert and
// anything else node:tls takes) survive when the named settings (rootCerts, privateKey,
// certChain, serverNameOverride) are left out; a named setting wins only when it is defined.
import { afterEach, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import { ChannelCredentials, Code, createClient, ServerCredentials, type Server } from "../../src/index.js";
import { tlsConnectOptions } from "../../src/client/credentials.js";
import { Greeter } from "../../examples/gen/helloworld/helloworld_pb.js";
import { expectRpcError, Scope, T, tls } from "./helpers.js";

const scope = new Scope();
afterEach(() => scope.close());

/** Greeter answering with the peer's certificate identities (none without mTLS). */
function identityGreeter(s: Server): void {
  s.addService(Greeter, { sayHello: (req, ctx) => ({ message: `${req.name}:${(ctx.peerIdentities() ?? []).map(String).join(",")}` }) });
}

const serverTls = (requireClientAuth = false) =>
  ServerCredentials.ssl({ keyCertPairs: [{ privateKey: tls.serverKey, certChain: tls.serverCert }], rootCerts: requireClientAuth ? tls.ca : undefined, requireClientAuth });

describe("ChannelCredentials.ssl: extra TLS options", () => {
  it("extra.ca alone verifies the server (not replaced by the system CAs) (OK)", T, async () => {
    const { port } = await scope.server(identityGreeter, {}, "127.0.0.1:0", serverTls());
    const ch = scope.channel(`127.0.0.1:${port}`, { credentials: ChannelCredentials.ssl({ extra: { ca: tls.ca } }) });
    const reply = await createClient(Greeter, ch).sayHello({ name: "extra-ca" }, { timeout: 5000 });
    assert.equal(reply.message, "extra-ca:");
  });

  it("extra.key and extra.cert present the client certificate for mTLS (OK)", T, async () => {
    const { port } = await scope.server(identityGreeter, {}, "127.0.0.1:0", serverTls(true));
    const ch = scope.channel(`127.0.0.1:${port}`, { credentials: ChannelCredentials.ssl({ extra: { ca: tls.ca, key: tls.clientKey, cert: tls.clientCert } }) });
    const reply = await createClient(Greeter, ch).sayHello({ name: "mtls" }, { timeout: 5000 });
    assert.equal(reply.message, "mtls:test-client.example,spiffe://switchboard.test/client");
  });

  it("a defined rootCerts wins over extra.ca (OK), and a wrong rootCerts is not rescued by extra.ca (UNAVAILABLE)", T, async () => {
    const { port } = await scope.server(identityGreeter, {}, "127.0.0.1:0", serverTls());
    const wins = scope.channel(`127.0.0.1:${port}`, { credentials: ChannelCredentials.ssl({ rootCerts: tls.ca, extra: { ca: tls.clientCert } }) });
    assert.equal((await createClient(Greeter, wins).sayHello({ name: "named" }, { timeout: 5000 })).message, "named:");
    const wrong = scope.channel(`127.0.0.1:${port}`, { credentials: ChannelCredentials.ssl({ rootCerts: tls.clientCert, extra: { ca: tls.ca } }), backoff: { initialMs: 10 } });
    await expectRpcError(createClient(Greeter, wrong).sayHello({ name: "x" }, { timeout: 5000 }), Code.UNAVAILABLE);
  });

  it("without extra.ca and rootCerts the system CAs are used: the test CA is not trusted (UNAVAILABLE)", T, async () => {
    const { port } = await scope.server(identityGreeter, {}, "127.0.0.1:0", serverTls());
    const ch = scope.channel(`127.0.0.1:${port}`, { credentials: ChannelCredentials.ssl({ extra: { minVersion: "TLSv1.2" } }), backoff: { initialMs: 10 } });
    await expectRpcError(createClient(Greeter, ch).sayHello({ name: "x" }, { timeout: 5000 }), Code.UNAVAILABLE);
  });
});

describe("tlsConnectOptions (what the channel hands to tls.connect)", () => {
  it("keeps every extra option; undefined named settings add no keys", () => {
    const o = tlsConnectOptions({ extra: { ca: "CA", key: "K", cert: "C", ciphers: "TLS_AES_128_GCM_SHA256", minVersion: "TLSv1.3" } }, { host: "10.0.0.1", port: 443 }, undefined);
    assert.equal(o.ca, "CA");
    assert.equal(o.key, "K");
    assert.equal(o.cert, "C");
    assert.equal(o.ciphers, "TLS_AES_128_GCM_SHA256");
    assert.equal(o.minVersion, "TLSv1.3");
    assert.equal(Object.hasOwn(o, "servername"), false, "no servername key for an IP target");
    assert.deepEqual(o.ALPNProtocols, ["h2"]);
    assert.equal(o.host, "10.0.0.1");
    assert.equal(o.port, 443);
  });

  it("defined named settings win over extra; the servername is the override, else extra's, else the target host", () => {
    const o = tlsConnectOptions({ rootCerts: "R", privateKey: "PK", certChain: "CC", serverNameOverride: "over.example", extra: { ca: "CA", key: "K", cert: "C" } }, { host: "h.example", port: 1 }, "h.example");
    assert.deepEqual([o.ca, o.key, o.cert, o.servername], ["R", "PK", "CC", "over.example"]);
    const fromExtra = tlsConnectOptions({ extra: { servername: "x.example" } as object }, { host: "h.example", port: 1 }, "h.example");
    assert.equal(fromExtra.servername, "x.example");
    assert.equal(tlsConnectOptions({}, { host: "h.example", port: 1 }, "h.example").servername, "h.example");
    assert.equal(tlsConnectOptions({}, { path: "/tmp/s.sock" }, undefined).path, "/tmp/s.sock");
  });

  it("does not change the caller's extra object", () => {
    const extra = { ca: "CA" };
    tlsConnectOptions({ rootCerts: "R", extra }, { host: "h", port: 1 }, "h");
    assert.deepEqual(extra, { ca: "CA" });
  });
});
