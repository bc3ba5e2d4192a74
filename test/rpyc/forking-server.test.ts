// ForkingServer with stock Python rpyc 5.3 clients: every connection is served by its own
// child process, values, exceptions and callbacks work there as on ThreadedServer, a crashing
// child ends only its own connection, an authenticator's extra bytes and credentials reach the
// child, and close() ends every child (none is left running).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import type net from "node:net";
import { after, before, describe, test } from "node:test";
import { ErrorCode, SwitchboardError } from "../../src/errors.js";
import { ForkingServer } from "../../src/rpyc/forking-server.js";
import { PooledService } from "./fixtures/pooled-service.js";
import { DEBIAN_PYTHON, rpycPeerSkip, runPythonAsync } from "./python-peer.js";

const MODULE = new URL("./fixtures/pooled-service.ts", import.meta.url);
const skip = process.platform === "win32" ? "ForkingServer is Unix only" : rpycPeerSkip();
const seenPids = new Set<number>();

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function python(body: string): Promise<string[]> {
  const r = await runPythonAsync(`import rpyc, json, sys\n${body}`);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim().split("\n");
}

describe("ForkingServer with stock Python clients", { skip }, () => {
  let server: ForkingServer;
  before(async () => {
    server = new ForkingServer(PooledService, { hostname: "127.0.0.1", serviceModule: MODULE });
    await server.start();
  });
  after(async () => {
    await server.close();
    for (const pid of seenPids) assert.equal(alive(pid), false, `child ${pid} still running`);
  });

  test("each connection is served by its own child process", async () => {
    const out = await python(`c = rpyc.connect("127.0.0.1", ${server.port})
d = rpyc.connect("127.0.0.1", ${server.port})
print(json.dumps([list(c.root.whoami()), list(d.root.whoami()), list(c.root.whoami())]))`);
    const [[, pidC], [, pidD], [, pidC2]] = JSON.parse(out[0]!) as Array<[number, number]>;
    for (const pid of [pidC!, pidD!]) {
      seenPids.add(pid);
      assert.notEqual(pid, process.pid);
    }
    assert.notEqual(pidC, pidD);
    assert.equal(pidC2, pidC);
  });

  test("values, keyword arguments, exceptions and callbacks work in the child", async () => {
    const out = await python(`c = rpyc.connect("127.0.0.1", ${server.port})
v = (1, 1.0, 2**70, b"\\x00", "s", None, frozenset([1]), 1j)
r = c.root.echo(v)
print(r == v and [type(x) for x in r] == [type(x) for x in v])
print(c.root.add(1, b=2), c.root.callback(lambda x: x * 2, 21))
try:
    c.root.fail("bad")
except ValueError as e:
    print("ValueError", e.args)
print(c.root.make_map()["a"])`);
    assert.deepEqual(out, ["True", "3 42", "ValueError ('bad',)", "1"]);
  });

  test("a crashing child ends only its own connection; the server keeps serving", async () => {
    const out = await python(`c = rpyc.connect("127.0.0.1", ${server.port})
d = rpyc.connect("127.0.0.1", ${server.port})
d.root.add(1)
try:
    c.root.crash()
except EOFError:
    print("EOFError")
print(d.root.add(2, b=2))
e = rpyc.connect("127.0.0.1", ${server.port})
print(e.root.add(3, b=3))`);
    assert.deepEqual(out, ["EOFError", "4", "6"]);
  });
});

describe("ForkingServer with an authenticator", { skip }, () => {
  // Reads the token plus at least one byte of the RPyC stream, then puts the extra back: the
  // handoff to the child must keep those bytes.
  const greedy = (token: string) => (socket: net.Socket) =>
    new Promise<{ stream: net.Socket; credentials: string }>((resolve, reject) => {
      let got = Buffer.alloc(0);
      const onData = (chunk: Buffer): void => {
        got = Buffer.concat([got, chunk]);
        if (got.length <= token.length) return;
        socket.off("data", onData);
        socket.pause();
        if (got.subarray(0, token.length).toString() !== token) return reject(new Error("wrong token"));
        socket.unshift(got.subarray(token.length));
        resolve({ stream: socket, credentials: token });
      };
      socket.on("data", onData);
      socket.resume();
    });

  test("bytes the authenticator read past its token and its credentials reach the child", async () => {
    const server = new ForkingServer(PooledService, { hostname: "127.0.0.1", serviceModule: MODULE, authenticator: greedy("s3cret") });
    await server.start();
    try {
      const out = await python(`import socket
from rpyc.core.stream import SocketStream
s = socket.create_connection(("127.0.0.1", ${server.port}))
s.sendall(b"s3cret")
c = rpyc.connect_stream(SocketStream(s))
print(c.root.credentials(), c.root.add(1, b=1), c.root.whoami()[1] != ${process.pid})`);
      assert.deepEqual(out, ["s3cret 2 True"]);
    } finally {
      await server.close();
    }
  });
});

describe("ForkingServer lifecycle", () => {
  test("close() kills the children of live connections and waits until they have exited", { skip }, async () => {
    const server = new ForkingServer(PooledService, { hostname: "127.0.0.1", serviceModule: MODULE });
    await server.start();
    // a client that holds its connection open until the server ends it
    const client = spawn(DEBIAN_PYTHON, [
      "-c",
      `import rpyc, sys
c = rpyc.connect("127.0.0.1", ${server.port})
print(c.root.whoami()[1], flush=True)
try:
    c.serve_all()
except EOFError:
    pass
print("closed", flush=True)`,
    ]);
    let stdout = "";
    const firstLine = new Promise<string>((resolve) =>
      client.stdout.setEncoding("utf8").on("data", (d: string) => {
        stdout += d;
        if (stdout.includes("\n")) resolve(stdout.split("\n")[0]!);
      }),
    );
    const clientExit = new Promise<number | null>((resolve) => client.on("exit", (code) => resolve(code)));
    try {
      const pid = Number(await firstLine);
      assert.deepEqual(server.childPids, [pid]);
      assert.equal(alive(pid), true);
      await server.close();
      assert.deepEqual(server.childPids, []);
      assert.equal(alive(pid), false, "the child still runs after close()");
      assert.equal(await clientExit, 0);
      assert.match(stdout, /closed/);
    } finally {
      client.kill();
      await server.close();
    }
  });

  test("serviceModule is required", () => {
    assert.throws(() => new ForkingServer(PooledService, {} as never), (err: unknown) => err instanceof SwitchboardError && err.code === ErrorCode.BAD_OPTION);
  });
});
