// Channel: lazy connection, one shared HTTP/2 connection, targets (host:port, unix),
// TLS (custom CA, serverNameOverride, mTLS), reconnect after a lost server, GOAWAY,
// backoff and waitForReady, close()/dispose, keepalive, and not holding the process open.
import { afterEach, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as http2 from "node:http2";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import { Channel, ChannelCredentials, Code, createClient, ErrorCode, RpcError, Server, SwitchboardError, ServerCredentials, type ServerCallContext } from "../../src/index.js";
import { Greeter } from "../../examples/gen/helloworld/helloworld_pb.js";
import { deferred, expectRpcError, helloReplyBytes, recordDials, respondGrpc, Scope, T, tls, unusedUnixPath, until, within } from "./helpers.js";

const scope = new Scope();
afterEach(() => scope.close());

const here = path.dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = path.resolve(here, "..", "..");

/** A Greeter whose reply names the caller's connection (ctx.peer holds the client's port). */
function peerGreeter(s: Server): void {
  s.addService(Greeter, { sayHello: (req, ctx) => ({ message: `${req.name}@${ctx.peer}` }) });
}

const serverTls = () => ServerCredentials.ssl({ keyCertPairs: [{ privateKey: tls.serverKey, certChain: tls.serverCert }] });

describe("channel", () => {
  it("connects lazily: state idle and no connection until the first call, then ready (OK)", T, async () => {
    const { port } = await scope.server(peerGreeter);
    const proxy = await scope.proxy(port);
    const ch = scope.channel(proxy.target);
    assert.equal(ch.state, "idle");
    // A probe channel, created after `ch`, makes a whole call through the same proxy. Had `ch`
    // connected when it was created, its connection would be ahead of the probe's in the
    // proxy's accept queue (accepted in order), so it would be counted by the probe's reply.
    await createClient(Greeter, scope.channel(proxy.target)).sayHello({ name: "probe" }, { timeout: 3000 });
    assert.equal(proxy.accepted, 1, "only the probe's TCP connection: none from `ch` before its first call");
    assert.equal(ch.state, "idle");
    const reply = await createClient(Greeter, ch).sayHello({ name: "first" }, { timeout: 3000 });
    assert.match(reply.message, /^first@ipv4:127\.0\.0\.1:\d+$/);
    assert.equal(ch.state, "ready");
    assert.equal(proxy.accepted, 2);
  });

  it("many concurrent calls share one HTTP/2 connection (host:port target, all OK)", T, async () => {
    const N = 25;
    const arrived: ServerCallContext[] = [];
    const all = deferred();
    const { port } = await scope.server((s) =>
      s.addService(Greeter, {
        async sayHello(req, ctx) {
          arrived.push(ctx);
          if (arrived.length === N) all.resolve();
          // Every call is held until all N are running at once on the server.
          await within(all.promise, 5000, "all calls concurrently on the server");
          return { message: `${req.name}@${ctx.peer}` };
        },
      }),
    );
    const proxy = await scope.proxy(port);
    const client = createClient(Greeter, scope.channel(proxy.target));
    const replies = await Promise.all(Array.from({ length: N }, (_, i) => client.sayHello({ name: `c${i}` }, { timeout: 8000 })));
    assert.equal(replies.length, N);
    const peers = new Set(arrived.map((c) => c.peer));
    assert.equal(peers.size, 1, `calls arrived from ${[...peers].join(", ")}`);
    // More calls later still reuse the same connection.
    for (let i = 0; i < 5; i++) await client.sayHello({ name: "again" }, { timeout: 3000 });
    assert.equal(new Set(arrived.map((c) => c.peer)).size, 1);
    assert.equal(proxy.accepted, 1, "one TCP connection for every call");
  });

  it("unix:/path and unix:///path targets reach a server on a Unix socket (OK)", T, async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "sb-client-"));
    scope.defer(() => rmSync(dir, { recursive: true, force: true }));
    const socket = path.join(dir, "greeter.sock");
    await scope.server((s) => s.addService(Greeter, { sayHello: (req, ctx) => ({ message: `${req.name}@${ctx.peer}` }) }), {}, `unix:${socket}`);
    for (const target of [`unix:${socket}`, `unix://${socket}`]) {
      const ch = scope.channel(target);
      const reply = await createClient(Greeter, ch).sayHello({ name: "u" }, { timeout: 3000 });
      assert.match(reply.message, /^u@unix:/, target);
      assert.equal(ch.authority, "localhost");
    }
  });

  it("TLS with a custom CA (rootCerts) verifies the server and calls succeed (OK)", T, async () => {
    const { port } = await scope.server(peerGreeter, {}, "127.0.0.1:0", serverTls());
    const ch = scope.channel(`127.0.0.1:${port}`, { credentials: ChannelCredentials.ssl({ rootCerts: tls.ca }) });
    assert.equal(ch.scheme, "https");
    const call = createClient(Greeter, ch).sayHello.open({ timeout: 3000 });
    await call.sendMessage({ name: "tls" }, { end: true });
    const reply = await call.recvMessage();
    await call.recvTrailingMetadata();
    assert.match(reply!.message, /^tls@ipv4:/);
    assert.equal(call.peer, `ipv4:127.0.0.1:${port}`);
  });

  it("a server certificate not signed by the trusted roots -> UNAVAILABLE", T, async () => {
    const { port } = await scope.server(peerGreeter, {}, "127.0.0.1:0", serverTls());
    // The client certificate is no CA of the server's certificate.
    const ch = scope.channel(`127.0.0.1:${port}`, { credentials: ChannelCredentials.ssl({ rootCerts: tls.clientCert }), backoff: { initialMs: 10 } });
    // UNAVAILABLE, not DEADLINE_EXCEEDED: the failed handshake ends the call, not its deadline.
    await expectRpcError(createClient(Greeter, ch).sayHello({ name: "x" }, { timeout: 5000 }), Code.UNAVAILABLE);
  });

  it("serverNameOverride connects to 127.0.0.1 but verifies, sends SNI and :authority as foo.test.google.fr (OK)", T, async () => {
    let sni: string | false | undefined;
    let authority: string | undefined;
    const server = http2.createSecureServer({ key: tls.serverKey, cert: tls.serverCert, ALPNProtocols: ["h2"] });
    server.on("error", () => {});
    const sessions: http2.ServerHttp2Session[] = [];
    server.on("session", (session) => {
      sessions.push(session);
      session.on("error", () => {});
    });
    server.on("stream", (stream, headers) => {
      stream.on("error", () => {});
      authority = headers[":authority"];
      sni = (stream.session?.socket as unknown as { servername?: string | false }).servername;
      stream.on("data", () => {});
      stream.on("end", () => respondGrpc(stream, [helloReplyBytes("hi")]));
    });
    const port = await new Promise<number>((r) => server.listen(0, "127.0.0.1", () => r((server.address() as { port: number }).port)));
    scope.defer(async () => {
      for (const session of sessions) session.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    });
    const ch = scope.channel(`127.0.0.1:${port}`, { credentials: ChannelCredentials.ssl({ rootCerts: tls.ca, serverNameOverride: "foo.test.google.fr" }) });
    assert.equal(ch.authority, `foo.test.google.fr:${port}`);
    const reply = await createClient(Greeter, ch).sayHello({ name: "o" }, { timeout: 3000 });
    assert.equal(reply.message, "hi");
    assert.equal(sni, "foo.test.google.fr");
    assert.equal(authority, `foo.test.google.fr:${port}`);
    ch.close();
  });

  it("a serverNameOverride the certificate does not cover -> UNAVAILABLE", T, async () => {
    const { port } = await scope.server(peerGreeter, {}, "127.0.0.1:0", serverTls());
    const ch = scope.channel(`127.0.0.1:${port}`, { credentials: ChannelCredentials.ssl({ rootCerts: tls.ca, serverNameOverride: "wrong.example.com" }) });
    await expectRpcError(createClient(Greeter, ch).sayHello({ name: "x" }, { timeout: 3000 }), Code.UNAVAILABLE);
  });

  it("mTLS: the client certificate is presented and the server sees ctx.peerIdentities() (OK)", T, async () => {
    const creds = ServerCredentials.ssl({ keyCertPairs: [{ privateKey: tls.serverKey, certChain: tls.serverCert }], rootCerts: tls.ca, requireClientAuth: true });
    const { port } = await scope.server(
      (s) => s.addService(Greeter, { sayHello: (_req, ctx) => ({ message: `${ctx.peerIdentityKey()}=${(ctx.peerIdentities() ?? []).map(String).join(",")}` }) }),
      {},
      "127.0.0.1:0",
      creds,
    );
    const ch = scope.channel(`localhost:${port}`, {
      credentials: ChannelCredentials.ssl({ rootCerts: tls.ca, privateKey: tls.clientKey, certChain: tls.clientCert, serverNameOverride: "foo.test.google.fr" }),
    });
    const reply = await createClient(Greeter, ch).sayHello({ name: "m" }, { timeout: 3000 });
    const [key, ids] = reply.message.split("=");
    assert.ok(key === "x509_subject_alternative_name" || key === "x509_common_name", reply.message);
    assert.ok(ids!.length > 0, `no peer identities: ${reply.message}`);
  });

  // Regression: this once failed — fails INTERNAL ("stream reset by the server with INTERNAL_ERROR"): the server's TLS
  // alert destroys the session with an error after the (TLS 1.3) handshake, and ClientCall.onClose
  // maps the rstCode node:http2 assigns to the destroyed stream. Same root cause and fix as the
  // "connection lost mid-call" bug: a destroyed session must mean UNAVAILABLE.
  it("mTLS required but the channel has no client certificate -> UNAVAILABLE", T, async () => {
    const creds = ServerCredentials.ssl({ keyCertPairs: [{ privateKey: tls.serverKey, certChain: tls.serverCert }], rootCerts: tls.ca, requireClientAuth: true });
    const { port } = await scope.server(peerGreeter, {}, "127.0.0.1:0", creds);
    const ch = scope.channel(`127.0.0.1:${port}`, { credentials: ChannelCredentials.ssl({ rootCerts: tls.ca }) });
    await expectRpcError(createClient(Greeter, ch).sayHello({ name: "x" }, { timeout: 3000 }), Code.UNAVAILABLE);
  });

  // A private Unix socket path, not a TCP port: a released port could be taken by another
  // process before the restart; this path cannot.
  it("server stopped -> the in-flight call fails UNAVAILABLE; after a restart at the same address the next call succeeds (reconnect, OK)", T, async () => {
    const entered = deferred();
    const address = unusedUnixPath(scope).target;
    const first = await scope.server(
      (s) =>
        s.addService(Greeter, {
          async sayHello() {
            entered.resolve();
            await new Promise(() => {});
            return {};
          },
        }),
      {},
      address,
    );
    const ch = scope.channel(first.target, { backoff: { initialMs: 20, maxMs: 50, jitter: 0 } });
    const client = createClient(Greeter, ch);
    const inFlight = client.sayHello({ name: "stuck" }, { timeout: 8000 });
    inFlight.catch(() => {});
    await within(entered.promise, 3000, "handler start");
    await first.server.stop(0);
    await expectRpcError(within(inFlight, 3000, "in-flight call"), Code.UNAVAILABLE);
    // Nothing listens now: a call fails (fast) with UNAVAILABLE.
    await expectRpcError(client.sayHello({ name: "down" }, { timeout: 3000 }), Code.UNAVAILABLE);

    await scope.server(peerGreeter, {}, address);
    await sleep(60); // let the short backoff pass
    const reply = await client.sayHello({ name: "back" }, { timeout: 3000 });
    assert.match(reply.message, /^back@/);
    assert.equal(ch.state, "ready");
  });

  /** A Greeter behind a counting proxy whose "hold" calls wait until the client goes away. */
  async function heldGreeterBehindProxy() {
    const entered = deferred();
    const { port } = await scope.server((s) =>
      s.addService(Greeter, {
        async sayHello(req, ctx) {
          if (req.name === "hold") {
            entered.resolve();
            await new Promise((r) => ctx.signal.addEventListener("abort", r));
          }
          return { message: `${req.name}@${ctx.peer}` };
        },
      }),
    );
    return { entered, proxy: await scope.proxy(port) };
  }

  it("after the connection is lost mid-call (TCP cut) the call fails and the next call reconnects (OK)", T, async () => {
    const { entered, proxy } = await heldGreeterBehindProxy();
    const client = createClient(Greeter, scope.channel(proxy.target));
    const held = client.sayHello({ name: "hold" }, { timeout: 8000 });
    held.catch(() => {});
    await within(entered.promise, 3000, "handler start");
    proxy.dropAll();
    await assert.rejects(within(held, 3000, "held call"), RpcError);
    const reply = await client.sayHello({ name: "after" }, { timeout: 3000 });
    assert.match(reply.message, /^after@/);
    assert.equal(proxy.accepted, 2);
  });

  // Regression: this once failed — a lost connection is reported as "stream reset by the server with CANCEL" -> CANCELLED.
  // node:http2 gives every stream of a destroyed session an rstCode (CANCEL, or INTERNAL_ERROR
  // when destroyed with an error), and ClientCall.onClose maps stream.rstCode before it checks
  // whether the session is gone. The gRPC spec wants UNAVAILABLE for a broken transport.
  // Fix: in onClose, test `this.session?.destroyed` (connection lost -> UNAVAILABLE) before
  // mapping rstCode, or only map rstCode when an RST_STREAM frame was actually received.
  it("a connection lost mid-call (TCP cut) -> the call fails UNAVAILABLE", T, async () => {
    const { entered, proxy } = await heldGreeterBehindProxy();
    const client = createClient(Greeter, scope.channel(proxy.target));
    const held = client.sayHello({ name: "hold" }, { timeout: 8000 });
    held.catch(() => {});
    await within(entered.promise, 3000, "handler start");
    proxy.dropAll();
    await expectRpcError(within(held, 3000, "held call"), Code.UNAVAILABLE);
  });

  // "The same address" is a proxy that stays up while the server behind it is replaced (a
  // released port could be taken by another process before the second server binds it).
  it("GOAWAY while idle (server.stop(grace)), then a new server at the same address -> new calls use a new connection (OK)", T, async () => {
    const first = await scope.server(peerGreeter);
    const proxy = await scope.proxy(first.port);
    const ch = scope.channel(proxy.target);
    const client = createClient(Greeter, ch);
    const a = await client.sayHello({ name: "a" }, { timeout: 3000 });
    assert.equal(ch.state, "ready");
    await within(first.server.stop(1000), 3000, "stop(grace) of an idle server");
    await until(() => ch.state !== "ready", 2000, "channel to drop the drained connection");
    proxy.retarget((await scope.server(peerGreeter)).port);
    const b = await client.sayHello({ name: "b" }, { timeout: 3000 });
    const peerA = a.message.split("@")[1];
    const peerB = b.message.split("@")[1];
    assert.notEqual(peerA, peerB, "the second call must come from a new connection (new client port)");
    assert.equal(proxy.accepted, 2, "one connection per server");
  });

  it("GOAWAY with a call in flight: that call still finishes OK on the old connection, new calls go to a new one (OK)", T, async () => {
    const entered = deferred();
    const release = deferred();
    const first = await scope.server((s) =>
      s.addService(Greeter, {
        async sayHello(req, ctx) {
          entered.resolve();
          await release.promise;
          return { message: `${req.name}@${ctx.peer}` };
        },
      }),
    );
    const proxy = await scope.proxy(first.port);
    const ch = scope.channel(proxy.target);
    const client = createClient(Greeter, ch);
    const old = client.sayHello({ name: "old" }, { timeout: 8000 });
    old.catch(() => {});
    await within(entered.promise, 3000, "handler start");
    const stopped = first.server.stop(5000);
    await until(() => ch.state !== "ready", 2000, "channel to see GOAWAY");
    proxy.retarget((await scope.server(peerGreeter)).port);
    const fresh = await client.sayHello({ name: "new" }, { timeout: 3000 });
    release.resolve();
    const done = await within(old, 3000, "old call");
    assert.notEqual(done.message.split("@")[1], fresh.message.split("@")[1]);
    assert.equal(proxy.accepted, 2, "the old call kept its connection; the new one got another");
    await within(stopped, 3000, "first server stop");
  });

  // Nothing listening is a Unix socket path no server has bound yet, in a private directory:
  // the server that appears later binds exactly it, and no other process can take it first.
  // Connection attempts are counted (recordDials), not timed: "fails fast" means "without
  // dialing", and the waitForReady call must dial only once the backoff is over.
  it("nothing listening -> UNAVAILABLE (ENOENT); while backing off calls fail without dialing; a waitForReady call waits out the backoff and succeeds (OK)", T, async () => {
    const dials = recordDials(scope);
    // A backoff far longer than the test: every call after the refusal is inside it.
    const backingOff = scope.channel(unusedUnixPath(scope).target, { backoff: { initialMs: 600_000, jitter: 0 } });
    const failing = createClient(Greeter, backingOff);
    await expectRpcError(failing.sayHello({ name: "refused" }, { timeout: 5000 }), Code.UNAVAILABLE, /failed to connect to localhost: connect ENOENT/);
    assert.equal(backingOff.state, "transient_failure");
    assert.equal(dials.length, 1);
    await expectRpcError(failing.sayHello({ name: "backing off" }, { timeout: 5000 }), Code.UNAVAILABLE, /connect ENOENT/);
    assert.equal(dials.length, 1, "a call during the backoff must fail without a connection attempt");
    assert.equal(backingOff.state, "transient_failure");

    const BACKOFF = 600;
    const address = unusedUnixPath(scope).target;
    const ch = scope.channel(address, { backoff: { initialMs: BACKOFF, jitter: 0 } });
    const client = createClient(Greeter, ch);
    await expectRpcError(client.sayHello({ name: "refused" }, { timeout: 5000 }), Code.UNAVAILABLE, /connect ENOENT/);
    const refusedAt = Date.now();
    assert.equal(dials.length, 2);
    // The server is up at once; the channel must still wait out its backoff before dialing.
    await scope.server(peerGreeter, {}, address);
    const reply = await within(client.sayHello({ name: "patient" }, { timeout: 10_000, waitForReady: true }), 9000, "waitForReady call");
    assert.match(reply.message, /^patient@/);
    assert.equal(dials.length, 3, "one connection attempt for the waitForReady call");
    // The backoff runs from the refusal, which came just before refusedAt; the slack covers
    // a timer that fires up to one event-loop turn early, never a dial at once.
    assert.ok(dials[2]! - refusedAt >= BACKOFF - 200, `the waitForReady call dialed ${dials[2]! - refusedAt} ms after the refusal, inside the ${BACKOFF} ms backoff`);
  });

  // Regression: this once failed — waitForReady only waits out the current backoff and then makes one attempt; if that
  // attempt is refused too, the call fails UNAVAILABLE at once. gRPC wait-for-ready calls keep
  // waiting through TRANSIENT_FAILURE until the channel is READY or the deadline passes.
  // (Channel.getSession: `this.connecting = (async () => { ...; return this.dial(); })()`
  // has no retry loop.)
  it("waitForReady keeps waiting across failed connection attempts until the server is up (OK, not UNAVAILABLE)", T, async () => {
    const dials = recordDials(scope);
    const address = unusedUnixPath(scope).target;
    const ch = scope.channel(address, { backoff: { initialMs: 100, maxMs: 200, jitter: 0 } });
    const client = createClient(Greeter, ch);
    const waiting = client.sayHello({ name: "patient" }, { timeout: 12_000, waitForReady: true });
    waiting.catch(() => {});
    await until(() => dials.length >= 3, 10_000, "three refused connection attempts with nothing listening");
    await scope.server(peerGreeter, {}, address);
    const reply = await within(waiting, 10_000, "waitForReady call");
    assert.match(reply.message, /^patient@/);
  });

  it("close(): new calls fail UNAVAILABLE, a running call still finishes OK, then the connection closes and state is shutdown", T, async () => {
    const entered = deferred();
    const release = deferred();
    const { port } = await scope.server((s) =>
      s.addService(Greeter, {
        async sayHello(req) {
          if (req.name === "running") {
            entered.resolve();
            await release.promise;
          }
          return { message: req.name };
        },
      }),
    );
    const proxy = await scope.proxy(port);
    const ch = scope.channel(proxy.target);
    const client = createClient(Greeter, ch);
    const running = client.sayHello({ name: "running" }, { timeout: 5000 });
    running.catch(() => {});
    await within(entered.promise, 3000, "handler start");
    ch.close();
    assert.equal(ch.state, "shutdown");
    await expectRpcError(client.sayHello({ name: "new" }, { timeout: 3000 }), Code.UNAVAILABLE, /closed/);
    release.resolve();
    assert.equal((await within(running, 3000, "running call")).message, "running");
    await until(() => proxy.open === 0, 3000, "connection to close after the last call");
  });

  it("`await using` (Symbol.asyncDispose) closes the channel and waits for its connection to close", T, async () => {
    const { port } = await scope.server(peerGreeter);
    const proxy = await scope.proxy(port);
    let outer: Channel | undefined;
    {
      await using ch = new Channel(proxy.target);
      outer = ch;
      await createClient(Greeter, ch).sayHello({ name: "x" }, { timeout: 3000 });
      assert.equal(proxy.open, 1);
    }
    assert.equal(outer.state, "shutdown");
    await until(() => proxy.open === 0, 2000, "TCP connection to close");
    await expectRpcError(createClient(Greeter, outer).sayHello({ name: "y" }, { timeout: 3000 }), Code.UNAVAILABLE);
  });

  it("keepalive: with keepaliveTimeMs the channel pings the server repeatedly (OK)", T, async () => {
    let pings = 0;
    const bare = await scope.bare((stream) => {
      stream.on("data", () => {});
      stream.on("end", () => respondGrpc(stream, [helloReplyBytes("pong")]));
    });
    bare.server.on("session", (s) => s.on("ping", () => pings++));
    const ch = scope.channel(bare.target, { keepaliveTimeMs: 50, keepaliveTimeoutMs: 1000 });
    assert.equal((await createClient(Greeter, ch).sayHello({ name: "x" }, { timeout: 3000 })).message, "pong");
    await until(() => pings >= 3, 2000, "three keepalive pings");
    assert.equal(ch.state, "ready", "answered pings keep the connection up");
  });

  it("keepalive: a server that never answers pings -> the channel closes the connection and the in-flight call fails before its deadline", T, async () => {
    // A TCP peer that accepts and then says nothing at all: no SETTINGS, no PING ACK, no response.
    const silent = await scope.rawTcp((socket) => socket.resume());
    // Control: without keepalive the call just waits on the silent peer.
    const plain = createClient(Greeter, scope.channel(silent.target)).sayHello({ name: "x" }, { timeout: 8000 });
    plain.catch(() => {});
    const ch = scope.channel(silent.target, { keepaliveTimeMs: 100, keepaliveTimeoutMs: 200 });
    // UNAVAILABLE (the connection was closed under it), not DEADLINE_EXCEEDED.
    await expectRpcError(within(createClient(Greeter, ch).sayHello({ name: "x" }, { timeout: 8000 }), 10_000, "call on a dead connection"), Code.UNAVAILABLE);
    await until(() => silent.sockets.length === 2 && silent.sockets.some((s) => s.destroyed), 5000, "the keepalive channel to close its socket");
    assert.notEqual(ch.state, "ready");
    assert.equal(silent.sockets.filter((s) => s.destroyed).length, 1, "the channel without keepalive keeps its connection");
  });

  // Regression: this once failed — fails INTERNAL ("stream reset by the server with INTERNAL_ERROR"): keepAlive() destroys
  // the session with an Error, node:http2 then closes its streams with INTERNAL_ERROR, and
  // ClientCall.onClose reports that as a server reset. Same fix as for "connection lost
  // mid-call" (destroyed session -> UNAVAILABLE); the connection itself is closed correctly.
  it("keepalive: a call on a connection whose pings go unanswered fails UNAVAILABLE", T, async () => {
    const silent = await scope.rawTcp((socket) => socket.resume());
    const ch = scope.channel(silent.target, { keepaliveTimeMs: 100, keepaliveTimeoutMs: 200 });
    await expectRpcError(within(createClient(Greeter, ch).sayHello({ name: "x" }, { timeout: 8000 }), 5000, "call on a dead connection"), Code.UNAVAILABLE);
  });

  // A child that is held open never exits: the bound only turns that hang into a failure, so it
  // is generous (a loaded machine starts a tsx child slowly). How soon it exits is not asserted.
  const CHILD_MS = 40_000;

  /** Spawns the idle-exit fixture; resolves with its exit and output, and waits for stdout lines. */
  function spawnChild(args: string[]) {
    const script = path.join(here, "fixtures", "idle-exit.ts");
    const child = spawn(process.execPath, ["--import", "tsx", script, ...args], { cwd: REPO_ROOT, stdio: ["pipe", "pipe", "pipe"] });
    scope.defer(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    });
    let out = "";
    let stdout = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d;
      stdout += d;
    });
    child.stderr.on("data", (d: Buffer) => (out += d));
    const exited = new Promise<{ code: number | null }>((resolve) => child.on("exit", (code) => resolve({ code })));
    const line = (re: RegExp) => until(() => stdout.split("\n").some((l) => re.test(l)), CHILD_MS, `child line ${re}`);
    return { child, exited, line, output: () => out };
  }

  it("an idle channel does not keep the process alive: a script making one call without close() exits on its own", { timeout: 2 * CHILD_MS + 10_000 }, async () => {
    const { target } = await scope.server(peerGreeter);
    for (const keepalive of ["0", "100"]) {
      const c = spawnChild(["simple", target, keepalive]);
      const exit = await within(c.exited, CHILD_MS, `child (keepalive ${keepalive}) to exit without channel.close()`);
      assert.equal(exit.code, 0, `child output: ${c.output()}`);
      assert.match(c.output(), /^reply hi@/m);
    }
  });

  // Regression: this once failed — the child stays alive (killed at the bound): Channel counts active calls across all of
  // its sessions but refs/unrefs per session. When a call on the new connection (after GOAWAY)
  // ends first, its session is not unref'd (count still 1); when the old call ends, only the
  // old, draining session is unref'd, so the new idle connection holds the process open.
  // Fix: count active calls per session (e.g. a Map<session, number>) and unref a session when
  // its own count drops to 0; unref a new session at connect when it has no calls.
  it("an idle channel does not keep the process alive after a GOAWAY moved it to a new connection", { timeout: 2 * CHILD_MS + 10_000 }, async () => {
    const entered = deferred();
    const release = deferred();
    const first = await scope.server((s) =>
      s.addService(Greeter, {
        async sayHello(req) {
          entered.resolve();
          await release.promise;
          return { message: req.name };
        },
      }),
    );
    const proxy = await scope.proxy(first.port);
    const c = spawnChild(["goaway", proxy.target]);
    await within(entered.promise, CHILD_MS, "the child's first call to arrive");
    const stopped = first.server.stop(CHILD_MS);
    proxy.retarget((await scope.server(peerGreeter)).port);
    // The child waits until it has seen the GOAWAY before its second call.
    c.child.stdin.end("go\n");
    await c.line(/^second done/);
    release.resolve();
    await c.line(/^held done/);
    await within(stopped, 10_000, "first server stop");
    const exit = await within(c.exited, CHILD_MS, "child to exit once its last call ended");
    assert.equal(exit.code, 0, c.output());
  });

  it("rejects a malformed target with ERR_SB_BAD_ADDRESS", T, () => {
    for (const bad of ["localhost", "http://x:1", "host:99999", "unix:"]) {
      assert.throws(() => new Channel(bad), (err: unknown) => err instanceof SwitchboardError && err.code === ErrorCode.BAD_ADDRESS, bad);
    }
  });
});
