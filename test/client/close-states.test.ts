// Channel close() and `await using` settle in every state a channel can be in: never
// connected, connecting, backing off, idle, calls in flight, and server gone (stopped, or its
// process killed). Each case runs a real script (fixtures/close-states.ts) that must exit 0 on
// its own: the test runner's own handles would hide a close that leaves the process hanging
// or ends it with an unsettled top-level await (exit 13). Closing is graceful (grpc-js): a
// running call still finishes, and `await using` resolves after it.
import { afterEach, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as net from "node:net";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { Server } from "../../src/index.js";
import { Greeter } from "../../examples/gen/helloworld/helloworld_pb.js";
import { greeter as exampleGreeter } from "../../examples/helloworld/serve.js";
import { deferred, refusingUnixPath, Scope, until, within } from "./helpers.js";

const scope = new Scope();
afterEach(() => scope.close());

const here = path.dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = path.resolve(here, "..", "..");
const CLIENT = path.join(here, "fixtures", "close-states.ts");
const SERVER = path.join(here, "fixtures", "greeter-server.ts");
/** Generous: a child that has not exited by then hangs (a healthy one needs well under 5 s). */
const CHILD_MS = 40_000;
const SLOW = { timeout: 120_000 };

type How = "using" | "close";

/** A `node --import tsx` child process, killed at cleanup if it still runs. */
function spawnScript(script: string, args: string[], env: NodeJS.ProcessEnv = process.env) {
  const child = spawn(process.execPath, ["--import", "tsx", script, ...args], { cwd: REPO_ROOT, env, stdio: ["pipe", "pipe", "pipe"] });
  scope.defer(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d));
  child.stderr.on("data", (d: Buffer) => (stderr += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on("close", (code, signal) => resolve({ code, signal })));
  const lines = () => stdout.split("\n").filter(Boolean);
  const output = () => `stdout:\n${stdout}\nstderr:\n${stderr}`;
  const line = async (re: RegExp) => {
    await until(() => lines().some((l) => re.test(l)) || child.exitCode !== null, CHILD_MS, `line ${re} from ${path.basename(script)}`);
    const found = lines().find((l) => re.test(l));
    assert.ok(found, `${path.basename(script)} exited before printing ${re}\n${output()}`);
    return found;
  };
  return { child, exited, lines, line, output };
}

/** The killable Greeter process (fixtures/greeter-server.ts) and its port. */
async function serverProcess() {
  const s = spawnScript(SERVER, []);
  const port = Number((await s.line(/^port \d+$/)).slice("port ".length));
  const kill = async () => {
    s.child.kill("SIGKILL");
    assert.equal((await within(s.exited, CHILD_MS, "killed server to exit")).signal, "SIGKILL");
  };
  return { ...s, target: `127.0.0.1:${port}`, kill };
}

/**
 * A peer that answers the HTTP/2 preface with SETTINGS and a GOAWAY (NO_ERROR) and then never
 * closes its side, not even after the client's FIN (allowHalfOpen): after a GOAWAY node:http2
 * closes the session gracefully and waits for the peer to close, which this one never does.
 */
async function goawayPeer() {
  const SETTINGS = Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]);
  const GOAWAY = Buffer.from([0, 0, 8, 7, 0, 0, 0, 0, 0, /* last stream */ 0, 0, 0, 0, /* NO_ERROR */ 0, 0, 0, 0]);
  const sockets: net.Socket[] = [];
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    sockets.push(socket);
    socket.on("error", () => {});
    socket.resume();
    socket.write(Buffer.concat([SETTINGS, GOAWAY]));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  scope.defer(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  });
  return { target: `127.0.0.1:${(server.address() as net.AddressInfo).port}` };
}

/** An in-process Greeter; a call named "hold" waits for `release`. */
async function heldGreeter() {
  const entered = deferred();
  const release = deferred();
  const started = await scope.server((s: Server) =>
    s.addService(Greeter, {
      async sayHello(req) {
        if (req.name === "hold") {
          entered.resolve();
          await release.promise;
        }
        return { message: `hi ${req.name}` };
      },
    }),
  );
  return { ...started, entered, release };
}

interface Hooks {
  /** Runs once the script reports "ready" (its state is reached), before it is told to close. */
  beforeClose?: (client: ReturnType<typeof spawnScript>) => Promise<void>;
  /** Runs after the script was told to close. */
  afterClose?: (client: ReturnType<typeof spawnScript>) => Promise<void>;
}

/** Runs the client script in `state`, lets it close (`how`), and returns its exit and lines. */
async function closeIn(state: string, how: How, target: string, hooks: Hooks = {}) {
  const c = spawnScript(CLIENT, [state, how, target]);
  await c.line(/^ready$/);
  await hooks.beforeClose?.(c);
  c.child.stdin.end("go\n");
  await hooks.afterClose?.(c);
  const exit = await within(c.exited, CHILD_MS, `the ${state}/${how} script to exit on its own`);
  assert.deepEqual(exit, { code: 0, signal: null }, `${state}/${how} did not exit 0 on its own\n${c.output()}`);
  return { lines: c.lines(), output: c.output() };
}

/** The lines after closing that both variants print, in order. */
const closing = (how: How) => (how === "using" ? ["closing", "closed"] : ["close returned", "new call UNAVAILABLE"]);

/** Same lines regardless of order (for outcomes that race each other by design, e.g. a failing call and the end of disposal). */
function assertSameLines(actual: string[], expected: string[], output: string): void {
  assert.deepEqual([...actual].sort(), [...expected].sort(), output);
}

describe("Channel close() and `await using` settle in every state (the script exits 0 on its own)", () => {
  for (const how of ["using", "close"] as const) {
    it(`never connected: ${how} settles at once, new calls fail UNAVAILABLE`, SLOW, async () => {
      // Nothing is dialed, so any address will do; a refusing one proves no attempt is needed.
      const { target } = await refusingUnixPath(scope);
      const r = await closeIn("never", how, target);
      assert.deepEqual(r.lines, ["ready", "state idle", ...closing(how)], r.output);
    });

    it(`idle (connected, no calls): ${how} closes the connection and the script ends (OK)`, SLOW, async () => {
      const { target } = await heldGreeter();
      const r = await closeIn("idle", how, target);
      assert.deepEqual(r.lines, ["reply hi idle", "ready", "state ready", ...closing(how)], r.output);
    });

    it(`a call in flight: ${how} lets it finish OK (graceful), then the connection closes`, SLOW, async () => {
      const { target, entered, release } = await heldGreeter();
      const r = await closeIn("inflight", how, target, {
        beforeClose: () => within(entered.promise, CHILD_MS, "the held call to reach the server"),
        // The call is released only once closing has begun, so it was in flight throughout.
        afterClose: async (c) => {
          await c.line(how === "using" ? /^closing$/ : /^new call /);
          release.resolve();
        },
      });
      const expected = how === "using" ? ["ready", "state ready", "closing", "call OK hi hold", "closed"] : ["ready", "state ready", ...closing(how), "call OK hi hold"];
      assert.deepEqual(r.lines, expected, r.output);
    });

    it(`connecting (TLS handshake with a peer that never answers): ${how} abandons the attempt; the call fails UNAVAILABLE`, SLOW, async () => {
      const silent = await scope.rawTcp((socket) => socket.resume());
      const r = await closeIn("connecting", how, silent.target, {
        // connectTimeoutMs is 120 s in the script: only close() can end this attempt in time.
        beforeClose: () => until(() => silent.sockets.length === 1, CHILD_MS, "the script's connection attempt"),
      });
      assert.equal(r.lines[0], "ready", r.output);
      assertSameLines(r.lines, ["ready", "state connecting", ...closing(how), "call UNAVAILABLE"], r.output);
      if (how === "using") assert.equal(r.lines.indexOf("closing"), 2, r.output);
    });

    it(`backing off (refused, then a waitForReady call waits out a 120 s backoff): ${how} ends the wait; the call fails UNAVAILABLE`, SLOW, async () => {
      const { target } = await refusingUnixPath(scope);
      const r = await closeIn("backoff", how, target);
      assert.deepEqual(r.lines.slice(0, 3), ["probe UNAVAILABLE", "ready", "state transient_failure"], r.output);
      assertSameLines(r.lines, ["probe UNAVAILABLE", "ready", "state transient_failure", ...closing(how), "call UNAVAILABLE"], r.output);
    });

    it(`server gone (its GOAWAY arrived; it never closes the connection): ${how} settles`, SLOW, async () => {
      const { target } = await goawayPeer();
      const r = await closeIn("goaway", how, target);
      assert.deepEqual(r.lines, ["ready", "state idle", ...closing(how)], r.output);
    });

    it(`server gone (stopped) while idle: ${how} settles`, SLOW, async () => {
      const { server, target } = await heldGreeter();
      const r = await closeIn("idle", how, target, { beforeClose: () => server.stop() });
      assert.deepEqual(r.lines.slice(0, 2), ["reply hi idle", "ready"], r.output);
      assert.match(r.lines[2]!, /^state (ready|idle)$/, "ready if the script has not yet seen the server go");
      assert.deepEqual(r.lines.slice(3), closing(how), r.output);
    });

    it(`server process killed while idle: ${how} settles`, SLOW, async () => {
      const server = await serverProcess();
      const r = await closeIn("idle", how, server.target, { beforeClose: () => server.kill() });
      assert.deepEqual(r.lines.slice(0, 2), ["reply hello idle", "ready"], r.output);
      assert.match(r.lines[2]!, /^state (ready|idle)$/);
      assert.deepEqual(r.lines.slice(3), closing(how), r.output);
    });

    it(`server process killed with a call in flight, before close: ${how} settles; the call fails UNAVAILABLE`, SLOW, async () => {
      const server = await serverProcess();
      const r = await closeIn("inflight", how, server.target, {
        beforeClose: async () => {
          await server.line(/^entered$/);
          await server.kill();
        },
      });
      assert.equal(r.lines[0], "ready", r.output);
      const state = r.lines.find((l) => l.startsWith("state "));
      assert.match(state ?? "", /^state (ready|idle)$/, r.output);
      assertSameLines(r.lines, ["ready", state!, ...closing(how), "call UNAVAILABLE"], r.output);
    });
  }

  it("server process killed while `await using` waits for a call in flight: disposal settles; the call fails UNAVAILABLE", SLOW, async () => {
    const server = await serverProcess();
    const r = await closeIn("inflight", "using", server.target, {
      beforeClose: async () => void (await server.line(/^entered$/)),
      afterClose: async (c) => {
        await c.line(/^closing$/);
        await server.kill();
      },
    });
    assert.deepEqual(r.lines.slice(0, 3), ["ready", "state ready", "closing"], r.output);
    assertSameLines(r.lines.slice(3), ["call UNAVAILABLE", "closed"], r.output);
  });

  it("examples/helloworld/client.ts (top-level `await using`) prints its replies and exits 0 on its own", SLOW, async () => {
    const { target } = await scope.server((s: Server) => s.addService(Greeter, exampleGreeter));
    const c = spawnScript(path.join(REPO_ROOT, "examples", "helloworld", "client.ts"), ["Ada"], { ...process.env, TARGET: target });
    const exit = await within(c.exited, CHILD_MS, "the example client to exit on its own");
    assert.deepEqual(exit, { code: 0, signal: null }, c.output());
    assert.deepEqual(c.lines().slice(0, 4), ["Hello, Ada!", "Hello #1, Ada!", "Hello #2, Ada!", "Hello #3, Ada!"], c.output());
    assert.match(c.lines()[4] ?? "", /^Hello, Ada! from ipv4:127\.0\.0\.1:\d+ /, c.output());
  });
});
