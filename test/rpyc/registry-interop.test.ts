// The registry against stock rpyc 5.3 (Debian python3-rpyc under /usr/bin/python3): Python's
// registry clients and rpyc.discover against our servers, and our clients against Python's
// UDPRegistryServer and TCPRegistryServer.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { after, before, describe, test } from "node:test";
import {
  discover,
  TCPRegistryClient,
  TCPRegistryServer,
  UDPRegistryClient,
  UDPRegistryServer,
  type RegistryClient,
} from "../../src/rpyc/registry.js";
import { DEBIAN_PYTHON, rpycPeerSkip } from "./python-peer.js";

const skip = rpycPeerSkip();

/**
 * Runs a Python snippet without blocking our event loop (our registry answers it from this
 * process), bounded by `timeoutMs`; resolves with its stdout and fails on a non-zero exit.
 */
function python(code: string, args: string[], timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(DEBIAN_PYTHON, ["-c", code, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (err += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`python exited with ${code}\n${err}`));
    });
  });
}

async function eventually(probe: () => Promise<boolean>, limitMs = 10_000): Promise<void> {
  const end = Date.now() + limitMs;
  while (!(await probe())) {
    if (Date.now() > end) assert.fail("condition not reached in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}

// Registers, discovers, checks rpyc.discover's DiscoveryError and what our client registered,
// unregisters; prints one JSON line.
const PY_CLIENT = `
import json, sys, rpyc
from rpyc.utils.registry import UDPRegistryClient, TCPRegistryClient
from rpyc.utils.factory import DiscoveryError
kind, port = sys.argv[1], int(sys.argv[2])
r = UDPRegistryClient(ip="127.0.0.1", port=port) if kind == "UDP" else TCPRegistryClient("127.0.0.1", port=port)
out = {}
out["register"] = r.register(("PyCalc", "alias"), 18871)
out["discover"] = [list(a) for a in r.discover("pycalc")]
out["alias"] = [list(a) for a in r.discover("ALIAS")]
out["fromts"] = [list(a) for a in rpyc.discover("fromts", registrar=r)]
try:
    rpyc.discover("absent", registrar=r)
    out["absent"] = "found"
except DiscoveryError:
    out["absent"] = "DiscoveryError"
out["list"] = r.list()
r.unregister(18871)
print(json.dumps(out))
`;

describe("stock rpyc registry clients against our servers", { skip }, () => {
  for (const kind of ["UDP", "TCP"] as const) {
    test(`${kind}: register, discover, rpyc.discover and unregister from Python`, async () => {
      const options = { host: "127.0.0.1", port: 0, allowListing: true };
      await using server = kind === "UDP" ? new UDPRegistryServer(options) : new TCPRegistryServer(options);
      await server.start();
      const ours: RegistryClient = kind === "UDP" ? new UDPRegistryClient({ ip: "127.0.0.1", port: server.port }) : new TCPRegistryClient({ ip: "127.0.0.1", port: server.port });
      assert.equal(await ours.register(["FromTS"], 18872), true);

      const out = JSON.parse(await python(PY_CLIENT, [kind, String(server.port)])) as Record<string, unknown>;
      assert.deepEqual(out, {
        register: true,
        discover: [["127.0.0.1", 18871]],
        alias: [["127.0.0.1", 18871]],
        fromts: [["127.0.0.1", 18872]],
        absent: "DiscoveryError",
        list: ["FROMTS", "PYCALC", "ALIAS"],
      });
      // Python's UNREGISTER is fire-and-forget over UDP: wait for it to land.
      await eventually(async () => (await ours.discover("pycalc")).length === 0);
      assert.deepEqual([...server.services().keys()], ["FROMTS"]);
    });
  }
});

// Starts a stock UDPRegistryServer (listing on) and TCPRegistryServer (listing off) on free
// loopback ports, prints them, and serves until killed.
const PY_SERVERS = `
import sys, threading
from rpyc.utils.registry import UDPRegistryServer, TCPRegistryServer
udp = UDPRegistryServer(host="127.0.0.1", port=0, allow_listing=True)
tcp = TCPRegistryServer(host="127.0.0.1", port=0, allow_listing=False)
for s in (udp, tcp):
    threading.Thread(target=s.start, daemon=True).start()
print("UDP", udp.port)
print("TCP", tcp.port, flush=True)
sys.stdin.read()
`;

describe("our registry clients against stock rpyc registry servers", { skip }, () => {
  let child: ChildProcess | undefined;
  const ports: Record<string, number> = {};

  before(async () => {
    const proc = spawn(DEBIAN_PYTHON, ["-c", PY_SERVERS], { stdio: ["pipe", "pipe", "pipe"] });
    child = proc;
    let err = "";
    proc.stderr.setEncoding("utf8").on("data", (d: string) => (err += d));
    await new Promise<void>((resolve, reject) => {
      let out = "";
      const timer = setTimeout(() => reject(new Error(`python registries did not start\n${err}`)), 30_000);
      proc.on("exit", (code) => reject(new Error(`python registries exited with ${code}\n${err}`)));
      proc.stdout.setEncoding("utf8").on("data", (d: string) => {
        out += d;
        for (const m of out.matchAll(/^(UDP|TCP) (\d+)$/gm)) ports[m[1]!] = Number(m[2]);
        if (ports["UDP"] && ports["TCP"]) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  });

  after(() => {
    // Killed by its own PID; its stdin closing would end it too.
    if (child?.pid !== undefined && child.exitCode === null) process.kill(child.pid, "SIGKILL");
    child?.stdin?.destroy();
    child?.stdout?.destroy();
    child?.stderr?.destroy();
  });

  for (const kind of ["UDP", "TCP"] as const) {
    test(`${kind}: register, discover, list and unregister against Python's ${kind}RegistryServer`, async () => {
      const port = ports[kind]!;
      const client: RegistryClient = kind === "UDP" ? new UDPRegistryClient({ ip: "127.0.0.1", port }) : new TCPRegistryClient({ ip: "127.0.0.1", port });
      const name = `ts-${kind}`;
      assert.equal(await client.register([name, `${name}-alias`], 19000), true);
      assert.deepEqual(await client.discover(name), [["127.0.0.1", 19000]]);
      assert.deepEqual(await discover(`${name}-ALIAS`, client), [["127.0.0.1", 19000]]);
      // The UDP registry lists (allow_listing=True); the TCP one answers None.
      assert.deepEqual(await client.list(), kind === "UDP" ? [name.toUpperCase(), `${name}-alias`.toUpperCase()] : null);
      await client.unregister(19000);
      await eventually(async () => (await client.discover(name)).length === 0);
    });
  }
});
