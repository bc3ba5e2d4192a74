// Authenticators: readExactly leaves what follows for RPyC, tokenAuthenticator refuses a wrong
// token without a byte, SSLAuthenticator verifies client certificates against its CAs (and
// refuses missing, foreign and silent clients); stock Python rpyc 5.3 clients connect with
// rpyc.ssl_connect and with a token sent on their own socket before rpyc.connect_stream.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import tls from "node:tls";
import { after, before, describe, test } from "node:test";
import { AuthenticationError, readExactly, SSLAuthenticator, tokenAuthenticator } from "../../src/rpyc/authenticators.js";
import { connect, connectStream, sslConnect, type Connection } from "../../src/rpyc/index.js";
import { ThreadedServer } from "../../src/rpyc/server.js";
import { Service } from "../../src/rpyc/service.js";
import { requirePeer } from "../interop/peers.js";
import { rpycPeerSkip, runPythonAsync } from "./python-peer.js";

class WhoService extends Service {
  conn: Connection | undefined;
  override onConnect(conn: Connection): void {
    this.conn = conn;
  }
  /** The credentials when they are a plain value (a token), else null. */
  exposed_credentials(): unknown {
    const c = this.conn?.config.credentials;
    return typeof c === "object" ? null : c;
  }
  /** The CN of the client certificate, or null without one. */
  exposed_peer_cn(): string | null {
    const c = this.conn?.config.credentials as tls.PeerCertificate | null | undefined;
    const cn = c?.subject?.CN;
    return cn === undefined ? null : String(cn);
  }
  exposed_add(a: number, b: number): number {
    return a + b;
  }
}

async function call(conn: Connection, name: string, ...args: unknown[]): Promise<unknown> {
  const root = (await conn.root) as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
  return root[name]!(...args);
}

/** Connects, writes `data`, and resolves with everything received until the server closes. */
function sendAndCollect(port: number, data: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: "127.0.0.1", port }, () => s.write(data));
    const chunks: Buffer[] = [];
    s.on("data", (d: Buffer) => chunks.push(d));
    s.on("error", (err: NodeJS.ErrnoException) => (err.code === "ECONNRESET" ? undefined : reject(err)));
    s.on("close", () => resolve(Buffer.concat(chunks)));
  });
}

// ---- test certificates: a CA, a server certificate for 127.0.0.1/localhost, a client
// certificate from the CA, and a self-signed client certificate the CA never issued ----

const dir = mkdtempSync(join(tmpdir(), "rpyc-auth-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string): string => join(dir, name);

function openssl(...args: string[]): void {
  const r = spawnSync("openssl", args, { cwd: dir, encoding: "utf8", timeout: 60_000 });
  if (r.error || r.status !== 0) throw new Error(`openssl ${args.join(" ")} failed: ${r.error?.message ?? r.stderr}`);
}

const opensslMissing = ((): string | undefined => {
  const r = spawnSync("openssl", ["version"], { encoding: "utf8" });
  return requirePeer(r.error || r.status !== 0 ? "openssl not runnable" : undefined);
})();
if (opensslMissing) console.log(`# SKIP TLS tests: ${opensslMissing}`);

let certificatesMade = false;
function makeCertificates(): void {
  if (certificatesMade) return;
  certificatesMade = true;
  const days = ["-days", "2"];
  openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", ...days, "-subj", "/CN=Test CA");
  writeFileSync(file("server.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n");
  writeFileSync(file("client.ext"), "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n");
  for (const [who, cn] of [["server", "localhost"], ["client", "client1"]] as const) {
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", `${who}.key`, "-out", `${who}.csr`, "-subj", `/CN=${cn}`);
    openssl("x509", "-req", "-in", `${who}.csr`, "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", `${who}.crt`, ...days, "-extfile", `${who}.ext`);
  }
  openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "rogue.key", "-out", "rogue.crt", ...days, "-subj", "/CN=rogue");
}

describe("readExactly", () => {
  test("reads exactly n bytes across chunks and leaves the rest for the next reader", async () => {
    const stream = new PassThrough();
    stream.write("ab");
    const got = readExactly(stream, 3);
    stream.write("cdef");
    assert.equal((await got).toString(), "abc");
    const rest: Buffer[] = [];
    stream.on("data", (d: Buffer) => rest.push(d));
    stream.end("gh");
    await new Promise((resolve) => stream.once("end", resolve));
    assert.equal(Buffer.concat(rest).toString(), "defgh");
  });

  test("a stream ending early rejects with AuthenticationError", async () => {
    const stream = new PassThrough();
    const got = readExactly(stream, 4);
    stream.end("ab");
    await assert.rejects(got, AuthenticationError);
  });

  test("a silent stream rejects with AuthenticationError after the timeout", async () => {
    await assert.rejects(readExactly(new PassThrough(), 4, 0.05), (err: Error) => err instanceof AuthenticationError && /within/.test(err.message));
  });
});

describe("tokenAuthenticator", () => {
  test("the right token starts RPyC with the token as credentials; a wrong one is closed with nothing sent", async () => {
    await using server = new ThreadedServer(WhoService, { hostname: "127.0.0.1", authenticator: tokenAuthenticator("s3cret") });
    await server.start();
    const socket = net.connect({ host: "127.0.0.1", port: server.port });
    await new Promise((resolve) => socket.once("connect", resolve));
    // the token and the first RPyC frame may arrive together: the frame must survive
    socket.cork();
    socket.write("s3cret");
    await using conn = await connectStream(socket);
    const root = conn.root; // its request is written behind the token, in one write
    socket.uncork();
    await root;
    assert.equal(await call(conn, "credentials"), "s3cret");
    assert.equal(await call(conn, "add", 2, 3), 5);
    assert.equal((await sendAndCollect(server.port, "wrong!")).length, 0);
    // A plain RPyC client without the token: its first frame is taken for a token, and refused.
    const plain = await connect("127.0.0.1", server.port);
    await assert.rejects(call(plain, "add", 1, 2), { code: "ERR_SB_RPYC_CLOSED" });
  });

  test("an empty token is refused at construction", () => {
    assert.throws(() => tokenAuthenticator(""), { code: "ERR_SB_BAD_OPTION" });
  });
});

describe("SSLAuthenticator", { skip: opensslMissing }, () => {
  before(makeCertificates);

  test("with caCerts: a client certificate from the CA is accepted and reaches the service; none or a foreign one is refused", async () => {
    const auth = SSLAuthenticator({ keyfile: file("server.key"), certfile: file("server.crt"), caCerts: file("ca.crt") });
    await using server = new ThreadedServer(WhoService, { hostname: "127.0.0.1", authenticator: auth });
    await server.start();
    const ca = readFileSync(file("ca.crt"));
    await using good = await sslConnect("127.0.0.1", server.port, { ca, key: readFileSync(file("client.key")), cert: readFileSync(file("client.crt")) });
    assert.equal(await call(good, "peer_cn"), "client1");
    for (const who of ["none", "rogue"]) {
      const creds = who === "rogue" ? { key: readFileSync(file("rogue.key")), cert: readFileSync(file("rogue.crt")) } : {};
      // TLS 1.3 completes the client's side before the server judges its certificate: the
      // refusal shows as a failed connect or a connection that closes unanswered.
      try {
        const conn = await sslConnect("127.0.0.1", server.port, { ca, ...creds });
        await assert.rejects(call(conn, "add", 1, 2), { code: "ERR_SB_RPYC_CLOSED" }, who);
      } catch (err) {
        assert.equal((err as { code?: string }).code, "ERR_SB_RPYC_CLOSED", who);
      }
    }
  });

  test("without caCerts no client certificate is asked for; credentials are null", async () => {
    const auth = SSLAuthenticator({ key: readFileSync(file("server.key")), cert: readFileSync(file("server.crt")) });
    await using server = new ThreadedServer(WhoService, { hostname: "127.0.0.1", authenticator: auth });
    await server.start();
    await using conn = await sslConnect("127.0.0.1", server.port, { ca: readFileSync(file("ca.crt")), servername: "localhost" });
    assert.equal(await call(conn, "add", 2, 2), 4);
    assert.equal(await call(conn, "peer_cn"), null);
  });

  test("certReqs optional: no certificate is fine, a foreign one is refused", async () => {
    const auth = SSLAuthenticator({ keyfile: file("server.key"), certfile: file("server.crt"), caCerts: file("ca.crt"), certReqs: "optional" });
    await using server = new ThreadedServer(WhoService, { hostname: "127.0.0.1", authenticator: auth });
    await server.start();
    const ca = readFileSync(file("ca.crt"));
    await using anonymous = await sslConnect("127.0.0.1", server.port, { ca });
    assert.equal(await call(anonymous, "peer_cn"), null);
    try {
      const rogue = await sslConnect("127.0.0.1", server.port, { ca, key: readFileSync(file("rogue.key")), cert: readFileSync(file("rogue.crt")) });
      await assert.rejects(call(rogue, "add", 1, 2), { code: "ERR_SB_RPYC_CLOSED" });
    } catch (err) {
      assert.equal((err as { code?: string }).code, "ERR_SB_RPYC_CLOSED");
    }
  });

  test("a client that never starts the handshake is closed after handshakeTimeout, without a byte", async () => {
    const auth = SSLAuthenticator({ keyfile: file("server.key"), certfile: file("server.crt"), handshakeTimeout: 0.2 });
    await using server = new ThreadedServer(WhoService, { hostname: "127.0.0.1", authenticator: auth });
    await server.start();
    assert.equal((await sendAndCollect(server.port, "")).length, 0);
  });

  test("plain RPyC against a TLS server is closed without an answer", async () => {
    const auth = SSLAuthenticator({ keyfile: file("server.key"), certfile: file("server.crt") });
    await using server = new ThreadedServer(WhoService, { hostname: "127.0.0.1", authenticator: auth });
    await server.start();
    const plain = await connect("127.0.0.1", server.port);
    await assert.rejects(call(plain, "add", 1, 2), { code: "ERR_SB_RPYC_CLOSED" });
  });

  test("a missing key or certificate is refused at construction", () => {
    assert.throws(() => SSLAuthenticator({ certfile: file("server.crt") }), { code: "ERR_SB_BAD_OPTION" });
    assert.throws(() => SSLAuthenticator({ keyfile: file("absent.key"), certfile: file("server.crt") }), { code: "ERR_SB_BAD_OPTION" });
  });
});

// ---- stock Python clients ----

const skip = rpycPeerSkip() ?? opensslMissing;

// argv: verifying TLS port, non-verifying TLS port, token port, cert dir. Prints one JSON object.
const PY_CLIENTS = String.raw`
import json, os, socket, sys, rpyc
vport, pport, tport, d = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
f = lambda n: os.path.join(d, n)
out = {}

def refused(fn):
    try:
        c = fn()
        c.root.add(1, 2)
        return "served"
    except Exception as e:
        return "refused"

c = rpyc.ssl_connect("127.0.0.1", vport, keyfile=f("client.key"), certfile=f("client.crt"), ca_certs=f("ca.crt"))
out["verified_cn"] = c.root.peer_cn()
out["verified_add"] = c.root.add(20, 22)
c.close()
out["no_cert"] = refused(lambda: rpyc.ssl_connect("127.0.0.1", vport, ca_certs=f("ca.crt")))
out["rogue_cert"] = refused(lambda: rpyc.ssl_connect("127.0.0.1", vport, keyfile=f("rogue.key"), certfile=f("rogue.crt"), ca_certs=f("ca.crt")))

c = rpyc.ssl_connect("127.0.0.1", pport, ca_certs=f("ca.crt"))
out["plain_cn"] = c.root.peer_cn()
out["plain_add"] = c.root.add(1, 1)
c.close()

sock = socket.create_connection(("127.0.0.1", tport))
sock.sendall(b"s3cret")
c = rpyc.connect_stream(rpyc.SocketStream(sock))
out["token_credentials"] = c.root.credentials()
out["token_add"] = c.root.add(3, 4)
c.close()

sock = socket.create_connection(("127.0.0.1", tport))
sock.sendall(b"wrong!")
try:
    out["wrong_token_reply"] = sock.recv(100).decode()
except ConnectionResetError:
    out["wrong_token_reply"] = ""
sock.close()
print(json.dumps(out))
`;

describe("stock Python rpyc clients against our authenticators", { skip }, () => {
  before(() => {
    if (!opensslMissing) makeCertificates();
  });

  test("rpyc.ssl_connect with and without client verification, refused without or with a foreign certificate; a token before connect_stream", async () => {
    await using verifying = new ThreadedServer(WhoService, {
      hostname: "127.0.0.1",
      authenticator: SSLAuthenticator({ keyfile: file("server.key"), certfile: file("server.crt"), caCerts: file("ca.crt") }),
    });
    await using plain = new ThreadedServer(WhoService, { hostname: "127.0.0.1", authenticator: SSLAuthenticator({ keyfile: file("server.key"), certfile: file("server.crt") }) });
    await using token = new ThreadedServer(WhoService, { hostname: "127.0.0.1", authenticator: tokenAuthenticator("s3cret") });
    await Promise.all([verifying.start(), plain.start(), token.start()]);
    const r = await runPythonAsync(PY_CLIENTS, { args: [String(verifying.port), String(plain.port), String(token.port), dir], timeoutMs: 90_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), {
      verified_cn: "client1",
      verified_add: 42,
      no_cert: "refused",
      rogue_cert: "refused",
      plain_cn: null,
      plain_add: 2,
      token_credentials: "s3cret",
      token_add: 7,
      wrong_token_reply: "",
    });
  });
});
