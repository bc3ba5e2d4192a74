// The other fronts in workers, called by stock Python peers: tinyrpc's HTTP client against
// a JSON-RPC RPCServer and rpyc.connect against an RPyC ThreadedServer, both in 2 workers on
// one port. Each peer connects anew per call until both worker pids answered.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { afterEach, describe, it } from "node:test";
import { promisify } from "node:util";
import { DEBIAN_PYTHON } from "../interop/peers.js";
import { pythonPeerSkip } from "../jsonrpc/interop/python-peer.js";
import { rpycPeerSkip } from "../rpyc/python-peer.js";
import { startCluster, stopClusters, T } from "./helpers.js";

const run = promisify(execFile);
afterEach(stopClusters);

const TINYRPC = `
import json, sys, websocket
# tinyrpc 0.6's transports/http.py imports gevent-websocket as "websocket" (see test/jsonrpc/interop).
sys.modules.setdefault("geventwebsocket", websocket)
from tinyrpc import RPCClient
from tinyrpc.protocols.jsonrpc import JSONRPCProtocol
from tinyrpc.transports.http import HttpPostClientTransport
def proxy():
    return RPCClient(JSONRPCProtocol(), HttpPostClientTransport(sys.argv[1], timeout=20)).get_proxy()
assert proxy().add(2, 3) == 5
pids = set()
# One call per iteration: requests.post without a Session opens a new connection per call, and
# the primary deals connections round robin, so two calls per iteration would pin each to one worker.
for i in range(200):
    pids.add(proxy().pid())
    if len(pids) == 2:
        break
print(json.dumps(sorted(pids)))
`;

const RPYC = `
import json, sys, rpyc
pids = set()
for i in range(200):
    conn = rpyc.connect("127.0.0.1", int(sys.argv[1]), config={"sync_request_timeout": 20})
    pids.add(conn.root.pid())
    assert conn.root.add(i, 1) == i + 1
    conn.close()
    if len(pids) == 2:
        break
print(json.dumps(sorted(pids)))
`;

async function python(code: string, arg: string): Promise<number[]> {
  const { stdout } = await run(DEBIAN_PYTHON, ["-c", code, arg], { timeout: 60_000 });
  return JSON.parse(stdout.trim().split("\n").pop()!) as number[];
}

describe("fronts in workers, stock Python peers", () => {
  it("JSON-RPC over HTTP in 2 workers -> tinyrpc HttpPostClientTransport gets answers from both pids", T, async (t) => {
    const skip = pythonPeerSkip("cluster JSON-RPC", "tinyrpc, websocket, requests", "python3-tinyrpc");
    if (skip) return t.skip(skip);
    // HttpServerTransport.listen has no reusePort: these workers share node:cluster's handle.
    const c = await startCluster("jsonrpc", { portSharing: "shared-handle" });
    const pids = await python(TINYRPC, `http://127.0.0.1:${c.port}/`);
    assert.deepEqual(pids, c.workers.map((w) => w.pid!).sort());
  });

  it("RPyC ThreadedServer in 2 workers -> rpyc.connect gets answers from both pids", T, async (t) => {
    const skip = rpycPeerSkip();
    if (skip) return t.skip(skip);
    const c = await startCluster("rpyc", { portSharing: "shared-handle" });
    const pids = await python(RPYC, String(c.port));
    assert.deepEqual(pids, c.workers.map((w) => w.pid!).sort());
  });
});
