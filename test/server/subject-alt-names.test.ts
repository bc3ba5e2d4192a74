// Subject alternative names of a client certificate, as ctx.peerIdentities() and
// authContext().x509_subject_alternative_name report them (grpcio semantics: DNS, URI, email
// and IP entries, in order). Node's `subjectaltname` string quotes a value containing a comma,
// quote, backslash or control character as a JSON string (CVE-2021-44532); such a value is one
// identity, never split at its commas. A real certificate with such names is made with openssl
// at test time, signed by the fixture CA, and presented over mTLS.
import { after, before, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { ChannelCredentials, createClient, ServerCredentials } from "../../src/index.js";
import { parseSubjectAltNames } from "../../src/server/session-info.js";
import { Greeter } from "../../examples/gen/helloworld/helloworld_pb.js";
import { REPO_ROOT, T, tls } from "./helpers.js";
import { Scope } from "../client/helpers.js";

describe("parseSubjectAltNames (Node's subjectaltname format)", () => {
  it("plain entries: the value after the type, IPv6 in grpcio's short form", () => {
    assert.deepEqual(parseSubjectAltNames("DNS:foo.test.google.fr, DNS:*.test.google.fr, DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1"), [
      "foo.test.google.fr",
      "*.test.google.fr",
      "localhost",
      "127.0.0.1",
      "::1",
    ]);
    assert.deepEqual(parseSubjectAltNames("DNS:test-client.example, URI:spiffe://switchboard.test/client"), ["test-client.example", "spiffe://switchboard.test/client"]);
    assert.deepEqual(parseSubjectAltNames("IP Address:2001:DB8:0:0:0:0:0:1"), ["2001:db8::1"]);
  });

  it("JSON-quoted values are unquoted and kept whole, commas and quotes included", () => {
    assert.deepEqual(parseSubjectAltNames('DNS:"a\\u002cb.example", DNS:"it\'s.example", URI:"spiffe://x/a\\u002cb?q=\\"x\\"", email:"odd\\u002cname@example.com"'), [
      "a,b.example",
      "it's.example",
      'spiffe://x/a,b?q="x"',
      "odd,name@example.com",
    ]);
    // A quoted value containing the separator ", " itself.
    assert.deepEqual(parseSubjectAltNames('DNS:"a, DNS:b.example", DNS:c.example'), ["a, DNS:b.example", "c.example"]);
  });

  it("types grpcio does not report (DirName, othername, Registered ID) are skipped", () => {
    assert.deepEqual(parseSubjectAltNames('DNS:a.example, DirName:"CN=dir\\\\\\u002c name", othername:<unsupported>, Registered ID:1.2.3.4, email:e@example.com'), ["a.example", "e@example.com"]);
  });

  it("empty or missing input gives no names; broken quoting ends the list instead of guessing", () => {
    assert.deepEqual(parseSubjectAltNames(undefined), []);
    assert.deepEqual(parseSubjectAltNames(""), []);
    assert.deepEqual(parseSubjectAltNames('DNS:a.example, DNS:"unterminated, DNS:b.example'), ["a.example"]);
    assert.deepEqual(parseSubjectAltNames("DNS:, URI:"), []);
  });
});

/** Whether openssl can be run; with CI=true its absence is a failure, locally a visible skip. */
function haveOpenssl(): boolean {
  try {
    execFileSync("openssl", ["version"], { stdio: "ignore" });
    return true;
  } catch {
    if (process.env["CI"] === "true") throw new Error("openssl is required with CI=true (certificates for this test are made at test time)");
    return false;
  }
}

const OPENSSL = haveOpenssl();

describe("a real client certificate with quoted SANs over mTLS", { skip: OPENSSL ? false : "openssl not found: the test certificate cannot be made" }, () => {
  const scope = new Scope();
  let dir = "";
  let key: Buffer;
  let cert: Buffer;

  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), "sb-san-"));
    writeFileSync(
      path.join(dir, "ext.cnf"),
      [
        "subjectAltName = @alt",
        "extendedKeyUsage = clientAuth",
        "[alt]",
        "DNS.1 = plain.example",
        "DNS.2 = a,b.example",
        "DNS.3 = it\\'s.example",
        'URI.1 = spiffe://switchboard.test/a,b?q=\\"x\\"',
        "email.1 = user@example.com",
        "IP.1 = 10.0.0.1",
        "IP.2 = ::1",
        "dirName.1 = dir_sect",
        "[dir_sect]",
        "CN = dir, name",
        "",
      ].join("\n"),
    );
    const run = (args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
    run(["req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=odd-client", "-keyout", "client.key", "-out", "client.csr"]);
    const fixtures = path.join(REPO_ROOT, "test", "fixtures", "tls");
    run(["x509", "-req", "-in", "client.csr", "-CA", path.join(fixtures, "ca.pem"), "-CAkey", path.join(fixtures, "ca.key"), "-days", "1", "-extfile", "ext.cnf", "-out", "client.pem"]);
    key = readFileSync(path.join(dir, "client.key"));
    cert = readFileSync(path.join(dir, "client.pem"));
  });

  after(async () => {
    await scope.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const EXPECTED = ["plain.example", "a,b.example", "it's.example", 'spiffe://switchboard.test/a,b?q="x"', "user@example.com", "10.0.0.1", "::1"];

  it("Node quotes the names with commas and quotes in the certificate's subjectaltname", () => {
    const san = new X509Certificate(cert).subjectAltName ?? "";
    assert.match(san, /DNS:"a\\u002cb\.example"/);
    assert.match(san, /URI:"spiffe:/);
    assert.deepEqual(parseSubjectAltNames(san), EXPECTED);
  });

  it("ctx.peerIdentities() and authContext() report each SAN whole, in order (OK)", T, async () => {
    const seen: { identities?: string[]; key?: string | null; sans?: string[]; cn?: string[] } = {};
    const { port } = await scope.server(
      (s) =>
        s.addService(Greeter, {
          sayHello: (req, ctx) => {
            seen.identities = (ctx.peerIdentities() ?? []).map(String);
            seen.key = ctx.peerIdentityKey();
            seen.sans = (ctx.authContext()["x509_subject_alternative_name"] ?? []).map(String);
            seen.cn = (ctx.authContext()["x509_common_name"] ?? []).map(String);
            return { message: req.name };
          },
        }),
      {},
      "127.0.0.1:0",
      ServerCredentials.ssl({ keyCertPairs: [{ privateKey: tls.serverKey, certChain: tls.serverCert }], rootCerts: tls.ca, requireClientAuth: true }),
    );
    const ch = scope.channel(`127.0.0.1:${port}`, { credentials: ChannelCredentials.ssl({ rootCerts: tls.ca, privateKey: key, certChain: cert }) });
    assert.equal((await createClient(Greeter, ch).sayHello({ name: "odd" }, { timeout: 5000 })).message, "odd");
    assert.equal(seen.key, "x509_subject_alternative_name");
    assert.deepEqual(seen.identities, EXPECTED);
    assert.deepEqual(seen.sans, EXPECTED);
    assert.deepEqual(seen.cn, ["odd-client"]);
  });
});
