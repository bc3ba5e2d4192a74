// server.start() in both forms: grpcio's `start()` after addInsecurePort, and grpclib's
// `await start(host, port, { sock, path, backlog, ssl, reuseAddress, reusePort })` that binds
// and starts in one step — including an inherited listening descriptor (systemd style),
// a listening net.Server, the listen backlog as the kernel reports it, and SO_REUSEPORT
// where this Node.js supports it.
import { after, afterEach, before, describe, it, type TestContext } from "node:test";
import * as assert from "node:assert/strict";
import * as net from "node:net";
import { execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { createInterface } from "node:readline";
import * as grpc from "@grpc/grpc-js";
import { ErrorCode, Server, ServerCredentials, SwitchboardError, type StartOptions } from "../../src/index.js";
import { reusePortSupported } from "../../src/server/listener.js";
import { Greeter } from "../../examples/gen/helloworld/helloworld_pb.js";
import { Harness, REPO_ROOT, T, tls, within } from "./helpers.js";

const h = new Harness();
afterEach(() => h.close());

let tmp = "";
before(() => {
  tmp = mkdtempSync(path.join(tmpdir(), "sb-start-"));
});
after(() => rmSync(tmp, { recursive: true, force: true }));

function greeterServer(name = "start"): Server {
  const server = h.track(new Server());
  server.addService(Greeter, { sayHello: (req) => ({ message: `${name} ${req.name}` }) });
  return server;
}

async function hello(target: string, credentials?: grpc.ChannelCredentials): Promise<string> {
  const r = await h.greeter(target, credentials).sayHello("x", { deadlineMs: 5000 });
  return r.responses[0]!.message;
}

function isCode(code: string, message?: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof SwitchboardError, `expected a SwitchboardError, got ${String(err)}`);
    assert.equal(err.code, code);
    if (message) assert.match(err.message, message);
    return true;
  };
}

function listening(server: net.Server, options: net.ListenOptions): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(options, () => resolve((server.address() as net.AddressInfo).port));
  });
}

describe("start(): the grpclib form binds and starts", () => {
  it('await start("127.0.0.1", 0) binds a free port, resolves to it, and serves; server.ports lists it', T, async () => {
    const server = greeterServer();
    const port = await server.start("127.0.0.1", 0);
    assert.ok(port > 0 && port < 65536);
    assert.deepEqual(server.ports, [port]);
    assert.equal(await hello(`127.0.0.1:${port}`), "start x");
  });

  it("await start({ path }) serves on a Unix socket (grpclib path=)", T, async () => {
    const server = greeterServer();
    const socket = path.join(tmp, "start.sock");
    assert.equal(await server.start({ path: socket }), 0);
    assert.equal(await hello(`unix:${socket}`), "start x");
  });

  it("await start(host, port, { ssl }) serves TLS (grpclib ssl=)", T, async () => {
    const server = greeterServer();
    const port = await server.start("127.0.0.1", 0, { ssl: ServerCredentials.ssl({ keyCertPairs: [{ privateKey: tls.serverKey, certChain: tls.serverCert }] }) });
    assert.equal(await hello(`localhost:${port}`, grpc.credentials.createSsl(tls.ca)), "start x");
  });

  it("await start({ sock: netServer }) takes over a listening net.Server's socket (grpclib sock=)", T, async () => {
    const plain = net.createServer();
    const port = await listening(plain, { host: "127.0.0.1", port: 0 });
    const server = greeterServer("sock");
    assert.equal(await server.start({ sock: plain }), port);
    assert.equal(await hello(`127.0.0.1:${port}`), "sock x");
  });

  it("await start({ sock: { fd } }) serves on an inherited listening descriptor (systemd socket activation style), in a child process", T, async () => {
    const plain = net.createServer();
    const port = await listening(plain, { host: "127.0.0.1", port: 0 });
    const fd = (plain as unknown as { _handle: { fd: number } })._handle.fd;
    const child = spawn(process.execPath, ["--import", "tsx", "test/server/fixtures/fd-server.ts", "3"], { cwd: REPO_ROOT, stdio: ["pipe", "pipe", "pipe", fd] });
    try {
      let stderr = "";
      child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
      const [line] = (await within(once(createInterface({ input: child.stdout! }), "line"), 20_000, `child start (${stderr})`)) as [string];
      assert.equal(line, `serving ${port}`);
      // Only the child holds the socket now.
      await new Promise<void>((resolve) => plain.close(() => resolve()));
      assert.equal(await hello(`127.0.0.1:${port}`), `fd x from ${child.pid}`);
      child.stdin!.end();
      const [code] = (await within(once(child, "exit"), 10_000, "child exit")) as [number];
      assert.equal(code, 0);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  });

  it("backlog reaches listen(2): the kernel reports it as the listening socket's Send-Q (ss -ltn)", T, async (t: TestContext) => {
    let ss = true;
    try {
      execFileSync("ss", ["-V"], { stdio: "ignore" });
    } catch {
      ss = false;
    }
    if (!ss) {
      if (process.env["CI"] === "true") assert.fail("ss (iproute2) is needed for this test");
      t.skip("ss (iproute2) is not installed: cannot read the backlog back");
      return;
    }
    const server = greeterServer();
    const port = await server.start("127.0.0.1", 0, { backlog: 7 });
    const line = execFileSync("ss", ["-Hltn", `sport = :${port}`]).toString().trim();
    const fields = line.split(/\s+/);
    assert.equal(fields[0], "LISTEN", line);
    assert.equal(fields[2], "7", `Send-Q of the listening socket is its backlog: ${line}`);
  });

  if (reusePortSupported()) {
    it(`reusePort: two servers bind the same port (SO_REUSEPORT, Node ${process.versions.node})`, T, async () => {
      const a = greeterServer("a");
      const port = await a.start("127.0.0.1", 0, { reusePort: true });
      const b = greeterServer("b");
      assert.equal(await b.start("127.0.0.1", port, { reusePort: true }), port);
      assert.match(await hello(`127.0.0.1:${port}`), /^[ab] x$/);
    });
  } else {
    it(`reusePort on Node ${process.versions.node} (before 22.12) -> ERR_SB_BAD_OPTION naming the version needed, nothing bound`, T, async () => {
      const server = greeterServer();
      await assert.rejects(server.start("127.0.0.1", 0, { reusePort: true }), isCode(ErrorCode.BAD_OPTION, /reusePort needs Node\.js >= 22\.12/));
      assert.deepEqual(server.ports, []);
      // Nothing was started: the same server can start without it.
      assert.ok((await server.start("127.0.0.1", 0)) > 0);
    });
  }

  it("reuseAddress: true is what Node.js always does (accepted); false -> ERR_SB_BAD_OPTION", T, async () => {
    const server = greeterServer();
    await assert.rejects(server.start("127.0.0.1", 0, { reuseAddress: false }), isCode(ErrorCode.BAD_OPTION, /SO_REUSEADDR/));
    assert.ok((await server.start("127.0.0.1", 0, { reuseAddress: true })) > 0);
  });

  const bad: [string, (s: Server) => Promise<number>, RegExp][] = [
    ["no port, path or sock", (s) => s.start("127.0.0.1", undefined), /needs a port/],
    ["path with a host", (s) => s.start("127.0.0.1", undefined, { path: path.join(tmp, "x.sock") }), /host and port must be omitted with path/],
    ["path and sock", (s) => s.start({ path: path.join(tmp, "x.sock"), sock: { fd: 3 } }), /path or sock, not both/],
    ["a net.Server that is not listening", (s) => s.start({ sock: net.createServer() }), /listening net\.Server/],
    ["a negative fd", (s) => s.start({ sock: { fd: -1 } }), /\{ fd \}/],
    ["port 70000", (s) => s.start("127.0.0.1", 70000), /bad port/],
    ["backlog 0", (s) => s.start("127.0.0.1", 0, { backlog: 0 }), /backlog must be a positive integer/],
    ["reusePort on a Unix socket", (s) => s.start({ path: path.join(tmp, "y.sock"), reusePort: true } as StartOptions), /TCP/],
  ];
  for (const [what, start, message] of bad) {
    it(`${what} -> ERR_SB_BAD_OPTION`, T, async () => {
      const server = greeterServer();
      await assert.rejects(start(server), isCode(ErrorCode.BAD_OPTION, message));
    });
  }

  it("a port in use -> ERR_SB_BIND_FAILED, and the server can start on another port afterwards", T, async () => {
    const first = greeterServer("first");
    const port = await first.start("127.0.0.1", 0);
    const second = greeterServer("second");
    await assert.rejects(second.start("127.0.0.1", port), isCode(ErrorCode.BIND_FAILED));
    const other = await second.start("127.0.0.1", 0);
    assert.equal(await hello(`127.0.0.1:${other}`), "second x");
  });
});

describe("start(): once only, in either form", () => {
  it("start() (grpcio form) still works after addInsecurePort and returns nothing", T, async () => {
    const server = greeterServer();
    const port = await server.addInsecurePort("127.0.0.1:0");
    const result: void = server.start();
    assert.equal(result, undefined);
    assert.equal(await hello(`127.0.0.1:${port}`), "start x");
  });

  it("after await start(host, port), start() and a second start(host, port) -> ERR_SB_ALREADY_STARTED", T, async () => {
    const server = greeterServer();
    await server.start("127.0.0.1", 0);
    assert.throws(() => server.start(), isCode(ErrorCode.ALREADY_STARTED));
    await assert.rejects(server.start("127.0.0.1", 0), isCode(ErrorCode.ALREADY_STARTED));
  });

  it("two start(host, port) calls at once: the second is refused while the first binds", T, async () => {
    const server = greeterServer();
    const first = server.start("127.0.0.1", 0);
    await assert.rejects(server.start("127.0.0.1", 0), isCode(ErrorCode.ALREADY_STARTED));
    assert.ok((await first) > 0);
    assert.equal(server.ports.length, 1);
  });

  it("after start() (grpcio form), start(host, port) -> ERR_SB_ALREADY_STARTED", T, async () => {
    const server = greeterServer();
    await server.addInsecurePort("127.0.0.1:0");
    server.start();
    await assert.rejects(server.start("127.0.0.1", 0), isCode(ErrorCode.ALREADY_STARTED));
  });
});
