// The server family: listening (port 0, Unix socket, IPv6), closing (idempotent, ends every
// connection, `await using`, `done`), OneShotServer, a service per connection or shared,
// credentials and endpoints reaching the service, failures logged rather than thrown, auto
// registration; and stock Python rpyc 5.3 clients against Server, ThreadedServer,
// EventLoopServer and OneShotServer, where a slow call on one connection never delays another.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { tokenAuthenticator } from "../../src/rpyc/authenticators.js";
import { connect, connectStream, unixConnect, type Connection, type Logger } from "../../src/rpyc/index.js";
import { TCPRegistryClient, TCPRegistryServer, UDPRegistryClient, UDPRegistryServer } from "../../src/rpyc/registry.js";
import { EventLoopServer, OneShotServer, Server, ThreadedServer, type Authenticator } from "../../src/rpyc/server.js";
import { Service } from "../../src/rpyc/service.js";
import { rpycPeerSkip, runPythonAsync } from "./python-peer.js";

function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** A service class with its own gates: `slow` waits until `release` is called on any connection. */
function probeService() {
  const slowEntered = deferred();
  const release = deferred();
  return class ProbeService extends Service {
    static override ALIASES = ["PROBE"];
    count = 0;
    conn: Connection | undefined;
    override onConnect(conn: Connection): void {
      this.conn = conn;
    }
    exposed_echo(x: unknown): unknown {
      return x;
    }
    exposed_add(a: number, b: number): number {
      return a + b;
    }
    exposed_increment(): number {
      return ++this.count;
    }
    exposed_credentials(): unknown {
      return this.conn?.config.credentials ?? null;
    }
    exposed_endpoints(): unknown {
      return this.conn?.config.endpoints ? [...this.conn.config.endpoints] : null;
    }
    async exposed_slow(): Promise<string> {
      slowEntered.resolve();
      await release.promise;
      return "slow done";
    }
    async exposed_wait_slow_entered(): Promise<boolean> {
      await slowEntered.promise;
      return true;
    }
    exposed_fast(): string {
      return "fast";
    }
    exposed_release(): void {
      release.resolve();
    }
  };
}

/** Collects what the server logs. */
function collectingLogger(): Logger & { entries: string[] } {
  const entries: string[] = [];
  const put =
    (level: string) =>
    (message: string, ...rest: unknown[]): void => {
      entries.push(`${level}: ${message} ${rest.map((r) => (r instanceof Error ? r.message : String(r))).join(" ")}`);
    };
  return { entries, debug: put("debug"), info: put("info"), warn: put("warn"), error: put("error") };
}

async function call(conn: Connection, name: string, ...args: unknown[]): Promise<unknown> {
  const root = (await conn.root) as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
  return root[name]!(...args);
}

/** Resolves when a TCP connect to the port is refused. */
function refused(port: number, host = "127.0.0.1"): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    s.once("connect", () => {
      s.destroy();
      resolve(false);
    });
    s.once("error", (err: NodeJS.ErrnoException) => resolve(err.code === "ECONNREFUSED"));
  });
}

async function eventually(probe: () => boolean | Promise<boolean>, what: string, limitMs = 10_000): Promise<void> {
  const end = Date.now() + limitMs;
  while (!(await probe())) {
    if (Date.now() > end) assert.fail(`${what}: not reached in time`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function ipv6Loopback(): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once("error", () => resolve(false));
    s.listen(0, "::1", () => s.close(() => resolve(true)));
  });
}

const tmp = mkdtempSync(join(tmpdir(), "rpyc-servers-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe("listening", () => {
  test("port 0 is read back after start() and serves calls", async () => {
    await using server = new ThreadedServer(probeService(), { hostname: "127.0.0.1" });
    assert.equal(server.port, 0);
    await server.start();
    assert.ok(server.port > 0);
    await using conn = await connect("127.0.0.1", server.port);
    assert.equal(await call(conn, "add", 2, 3), 5);
  });

  test("socketPath listens on a Unix socket; the endpoints name it", async () => {
    const path = join(tmp, "probe.sock");
    await using server = new ThreadedServer(probeService(), { socketPath: path });
    await server.start();
    assert.equal(server.port, 0);
    await using conn = await unixConnect(path);
    assert.equal(await call(conn, "echo", "over unix"), "over unix");
    const endpoints = (await call(conn, "endpoints")) as string[];
    assert.equal(endpoints[0], path);
  });

  test("socketPath together with a port is refused at construction", () => {
    assert.throws(() => new Server(probeService(), { socketPath: join(tmp, "x.sock"), port: 1234 }), /socketPath/);
  });

  test("ipv6 on ::1 serves calls; endpoints put the address in brackets", async (t) => {
    if (!(await ipv6Loopback())) return t.skip("no IPv6 loopback here");
    await using server = new ThreadedServer(probeService(), { hostname: "::1", ipv6: true });
    await server.start();
    await using conn = await connect("::1", server.port);
    assert.equal(await call(conn, "add", 1, 1), 2);
    const endpoints = (await call(conn, "endpoints")) as string[];
    assert.equal(endpoints[0], `[::1]:${server.port}`);
    assert.match(endpoints[1]!, /^\[::1\]:\d+$/);
  });

  test("a port in use fails start() with BIND_FAILED", async () => {
    await using first = new Server(probeService(), { hostname: "127.0.0.1" });
    await first.start();
    const second = new Server(probeService(), { hostname: "127.0.0.1", port: first.port });
    await assert.rejects(second.start(), { code: "ERR_SB_BIND_FAILED" });
    await second.close();
  });
});

describe("closing", () => {
  test("close() is idempotent, ends every connection and the listener, and done resolves", async () => {
    const server = new ThreadedServer(probeService(), { hostname: "127.0.0.1" });
    await server.start();
    const port = server.port;
    const a = await connect("127.0.0.1", port);
    const b = await connect("127.0.0.1", port);
    assert.equal(await call(a, "fast"), "fast");
    assert.equal(await call(b, "fast"), "fast");
    assert.equal(server.connections.size, 2);
    let done = false;
    void server.done.then(() => (done = true));
    assert.equal(server.closed, false);
    const first = server.close();
    const second = server.close();
    assert.equal(server.closed, true);
    await Promise.all([first, second]);
    await server.done;
    assert.equal(done, true);
    assert.equal(server.connections.size, 0);
    await a.closed;
    await b.closed;
    assert.equal(await refused(port), true);
    await assert.rejects(server.start(), { code: "ERR_SB_STOPPED" });
  });

  test("close() before start() resolves done", async () => {
    const server = new Server(probeService());
    await server.close();
    await server.done;
    assert.equal(server.closed, true);
  });

  test("await using closes the server at the end of the block", async () => {
    let port: number;
    let conn: Connection;
    let server: Server;
    {
      await using s = new EventLoopServer(probeService(), { hostname: "127.0.0.1" });
      server = s;
      await s.start();
      port = s.port;
      conn = await connect("127.0.0.1", port);
      assert.equal(await call(conn, "fast"), "fast");
    }
    assert.equal(server.closed, true);
    await server.done;
    await conn.closed;
    assert.equal(await refused(port), true);
  });

  test("close() also ends a client still in authentication", async () => {
    const server = new Server(probeService(), { hostname: "127.0.0.1", authenticator: tokenAuthenticator("secret", { timeoutSeconds: 600 }) });
    await server.start();
    const silent = net.connect({ host: "127.0.0.1", port: server.port });
    const gone = new Promise<void>((resolve) => silent.once("close", () => resolve()));
    silent.on("error", () => {});
    await new Promise((resolve) => silent.once("connect", resolve));
    await server.close();
    await gone;
  });
});

describe("OneShotServer", () => {
  test("serves exactly one connection, refuses a second, and closes when the first ends", async () => {
    const server = new OneShotServer(probeService(), { hostname: "127.0.0.1" });
    await server.start();
    const port = server.port;
    const conn = await connect("127.0.0.1", port);
    assert.equal(await call(conn, "add", 20, 22), 42);
    assert.equal(await refused(port), true);
    assert.equal(server.closed, false);
    await conn.close();
    await server.done;
    assert.equal(server.closed, true);
  });
});

describe("the service of a connection", () => {
  test("a Service class gives every connection a fresh instance", async () => {
    await using server = new Server(probeService(), { hostname: "127.0.0.1" });
    await server.start();
    await using a = await connect("127.0.0.1", server.port);
    await using b = await connect("127.0.0.1", server.port);
    assert.equal(await call(a, "increment"), 1);
    assert.equal(await call(a, "increment"), 2);
    assert.equal(await call(b, "increment"), 1);
  });

  test("a service instance is shared by every connection", async () => {
    const Probe = probeService();
    await using server = new Server(new Probe(), { hostname: "127.0.0.1" });
    await server.start();
    await using a = await connect("127.0.0.1", server.port);
    await using b = await connect("127.0.0.1", server.port);
    assert.equal(await call(a, "increment"), 1);
    assert.equal(await call(b, "increment"), 2);
  });

  test("credentials from the authenticator and the endpoints reach conn.config", async () => {
    const auth: Authenticator = (socket) => ({ stream: socket, credentials: "ann" });
    await using server = new Server(probeService(), { hostname: "127.0.0.1", authenticator: auth });
    await server.start();
    await using conn = await connect("127.0.0.1", server.port);
    assert.equal(await call(conn, "credentials"), "ann");
    const socket = conn.stream as net.Socket;
    assert.deepEqual(await call(conn, "endpoints"), [`127.0.0.1:${server.port}`, `127.0.0.1:${socket.localPort}`]);
  });

  test("without an authenticator the credentials are null", async () => {
    await using server = new Server(probeService(), { hostname: "127.0.0.1" });
    await server.start();
    await using conn = await connect("127.0.0.1", server.port);
    assert.equal(await call(conn, "credentials"), null);
  });
});

describe("failures are logged, never thrown, and the server keeps serving", () => {
  test("an authenticator that throws, an onConnect and an onDisconnect that fail, a service constructor that throws", async () => {
    const logger = collectingLogger();
    let mode = "";
    const Probe = probeService();
    class Fragile extends Probe {
      constructor() {
        if (mode === "ctor") throw new Error("constructor broke");
        super();
      }
      override onConnect(conn: Connection): void {
        if (mode === "connect") throw new Error("onConnect broke");
        super.onConnect(conn);
      }
      override onDisconnect(): Promise<void> {
        return mode === "disconnect" ? Promise.reject(new Error("onDisconnect broke")) : Promise.resolve();
      }
    }
    const auth: Authenticator = (socket) => {
      if (mode === "auth") throw new Error("authenticator broke");
      return { stream: socket, credentials: null };
    };
    await using server = new ThreadedServer(Fragile, { hostname: "127.0.0.1", authenticator: auth, logger });
    await server.start();

    for (const m of ["auth", "ctor", "connect"]) {
      mode = m;
      const conn = await connect("127.0.0.1", server.port);
      // the server hangs up on this client
      await conn.closed;
    }
    mode = "disconnect";
    const conn = await connect("127.0.0.1", server.port);
    assert.equal(await call(conn, "fast"), "fast");
    await conn.close();
    await eventually(() => logger.entries.some((e) => e.includes("onDisconnect broke")), "onDisconnect failure logged");

    mode = "";
    await using ok = await connect("127.0.0.1", server.port);
    assert.equal(await call(ok, "add", 1, 2), 3);
    const log = logger.entries.join("\n");
    assert.match(log, /authenticator broke/);
    assert.match(log, /constructor broke/);
    assert.match(log, /onConnect broke/);
  });

  test("a client leaving ends its authentication even when the authenticator reading it never settles", async () => {
    const logger = collectingLogger();
    const started = deferred();
    const auth: Authenticator = (socket) => {
      // reads, but neither settles nor watches for the end (a paused socket would not see it)
      socket.on("data", () => {}).resume();
      started.resolve();
      return new Promise(() => {});
    };
    await using server = new ThreadedServer(probeService(), { hostname: "127.0.0.1", authenticator: auth, logger });
    await server.start();
    const client = net.connect({ host: "127.0.0.1", port: server.port });
    client.on("error", () => {});
    await started.promise;
    client.destroy();
    await eventually(() => logger.entries.some((e) => e.includes("closed the connection during authentication")), "the refusal logged");
  });

  test("a client silent during authentication does not delay another client", async () => {
    await using server = new ThreadedServer(probeService(), { hostname: "127.0.0.1", authenticator: tokenAuthenticator("secret", { timeoutSeconds: 600 }) });
    await server.start();
    const silent = net.connect({ host: "127.0.0.1", port: server.port });
    silent.on("error", () => {});
    await new Promise((resolve) => silent.once("connect", resolve));
    const socket = net.connect({ host: "127.0.0.1", port: server.port });
    await new Promise((resolve) => socket.once("connect", resolve));
    socket.write("secret");
    await using conn = await connectStream(socket);
    assert.equal(await call(conn, "credentials"), "secret");
    assert.equal(silent.destroyed, false);
    silent.destroy();
  });
});

describe("autoRegister", () => {
  for (const kind of ["UDP", "TCP"] as const) {
    test(`${kind}: the aliases are registered after start() and unregistered on close()`, async () => {
      await using registry = kind === "UDP" ? new UDPRegistryServer({ host: "127.0.0.1", port: 0 }) : new TCPRegistryServer({ host: "127.0.0.1", port: 0 });
      await registry.start();
      const registrar = kind === "UDP" ? new UDPRegistryClient({ ip: "127.0.0.1", port: registry.port }) : new TCPRegistryClient({ ip: "127.0.0.1", port: registry.port });
      const server = new ThreadedServer(probeService(), { hostname: "127.0.0.1", registrar });
      await server.start();
      const registered = (): boolean => registry.services().get("PROBE")?.some((e) => e.port === server.port) ?? false;
      await eventually(registered, "PROBE registered");
      await server.close();
      await eventually(() => !registered(), "PROBE unregistered");
    });
  }

  test("autoRegister: false leaves the registrar alone", async () => {
    const calls: string[] = [];
    const registrar = {
      reregisterInterval: 60,
      register: async () => (calls.push("register"), true),
      unregister: async () => void calls.push("unregister"),
      discover: async () => [],
    } as unknown as UDPRegistryClient;
    const server = new ThreadedServer(probeService(), { hostname: "127.0.0.1", registrar, autoRegister: false });
    await server.start();
    await server.close();
    assert.deepEqual(calls, []);
  });
});

// ---- stock Python clients ----

const skip = rpycPeerSkip();

// For each "Name=port" argument: calls work; on a multi-connection server a call parked on one
// connection (slow) does not hold up another connection's calls (wait_slow_entered, fast,
// release); on OneShotServer a second connection is refused. Prints one JSON object.
const PY_CLIENTS = String.raw`
import json, sys, threading, rpyc
cfg = {"sync_request_timeout": 30}
out = {}
for arg in sys.argv[1:]:
    name, port = arg.split("=")
    port = int(port)
    r = {}
    c1 = rpyc.connect("127.0.0.1", port, config=cfg)
    r["echo"] = c1.root.echo(1.5)
    r["add"] = c1.root.add(2, 3)
    r["name"] = c1.root.get_service_name()
    r["credentials"] = c1.root.credentials()
    if name == "OneShotServer":
        try:
            rpyc.connect("127.0.0.1", port)
            r["second"] = "connected"
        except Exception as e:
            r["second"] = type(e).__name__
        c1.close()
    else:
        c2 = rpyc.connect("127.0.0.1", port, config=cfg)
        res = []
        t = threading.Thread(target=lambda: res.append(c1.root.slow()))
        t.start()
        r["entered"] = c2.root.wait_slow_entered()
        r["fast"] = c2.root.fast()
        c2.root.release()
        t.join(30)
        r["slow"] = res
        c1.close()
        c2.close()
    out[name] = r
print(json.dumps(out))
`;

describe("stock Python rpyc clients against our servers", { skip }, () => {
  test("Server, ThreadedServer, EventLoopServer, OneShotServer: calls work; a slow call on one connection never delays another", async () => {
    const classes = { Server, ThreadedServer, EventLoopServer, OneShotServer };
    const servers = Object.entries(classes).map(([name, Cls]) => [name, new Cls(probeService(), { hostname: "127.0.0.1" })] as const);
    try {
      for (const [, s] of servers) await s.start();
      const r = await runPythonAsync(PY_CLIENTS, { args: servers.map(([name, s]) => `${name}=${s.port}`), timeoutMs: 90_000 });
      assert.equal(r.code, 0, r.stderr);
      const out = JSON.parse(r.stdout) as Record<string, Record<string, unknown>>;
      for (const [name] of servers) {
        const o = out[name]!;
        assert.equal(o["echo"], 1.5, name);
        assert.equal(o["add"], 5, name);
        assert.equal(o["name"], "PROBE", name);
        assert.equal(o["credentials"], null, name);
        if (name === "OneShotServer") assert.equal(o["second"], "ConnectionRefusedError");
        else {
          assert.equal(o["entered"], true, name);
          assert.equal(o["fast"], "fast", name);
          assert.deepEqual(o["slow"], ["slow done"], name);
        }
      }
      await servers.find(([n]) => n === "OneShotServer")![1].done;
    } finally {
      await Promise.all(servers.map(([, s]) => s.close()));
    }
  });

  test("rpyc.discover with a UDPRegistryClient finds our auto-registered server, and the call works", async () => {
    await using registry = new UDPRegistryServer({ host: "127.0.0.1", port: 0 });
    await registry.start();
    await using server = new ThreadedServer(probeService(), { hostname: "127.0.0.1", registrar: new UDPRegistryClient({ ip: "127.0.0.1", port: registry.port }) });
    await server.start();
    await eventually(() => registry.services().has("PROBE"), "PROBE registered");
    const code = String.raw`
import json, sys, rpyc
from rpyc.utils.registry import UDPRegistryClient
reg = UDPRegistryClient(ip="127.0.0.1", port=int(sys.argv[1]))
addrs = [list(a) for a in rpyc.discover("probe", registrar=reg)]
c = rpyc.connect(addrs[0][0], addrs[0][1])
print(json.dumps({"addrs": addrs, "add": c.root.add(40, 2)}))
`;
    const r = await runPythonAsync(code, { args: [String(registry.port)] });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { addrs: [["127.0.0.1", server.port]], add: 42 });
  });
});
