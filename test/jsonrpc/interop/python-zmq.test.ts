// ZeroMQ interop with stock Debian python3-tinyrpc 0.6 + python3-zmq, both directions:
// (a) tinyrpc's RPCClient over its ZmqClientTransport (REQ) calls our RPCServer over our
//     ZmqServerTransport (ROUTER): echo, positional and named add, a sub-dispatcher, error
//     texts, one-way notifications then a call (the empty frame unblocks REQ), raw DEALER
//     envelopes and an oversized message;
// (b) our RPCClient over our ZmqClientTransport (REQ, correlated) calls a stock tinyrpc
//     RPCServer over its ZmqServerTransport. tinyrpc 0.6 never answers notifications, so none
//     are sent to it.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { JSONRPCProtocol, RPCClient, RPCServer } from "../../../src/jsonrpc/index.js";
import { DEFAULT_MAX_MESSAGE_BYTES } from "../../../src/jsonrpc/transport.js";
import { ZmqClientTransport, ZmqServerTransport } from "../../../src/jsonrpc/transports/zmq.js";
import { DEBIAN_PYTHON, runClient, startServer, type RunningServer } from "../../interop/peers.js";
import { pythonPeerSkip } from "./python-peer.js";
import { tinyrpcServerCases } from "./tinyrpc-server-cases.js";
import { exampleDispatcher } from "../helpers.js";

const CLIENT_SCRIPT = "test/jsonrpc/interop/python/tinyrpc_zmq_client.py";
const SERVER_SCRIPT = "test/jsonrpc/interop/python/tinyrpc_zmq_server.py";

const skip = pythonPeerSkip("python tinyrpc ZeroMQ interop", "tinyrpc.transports.zmq, zmq", "python3-tinyrpc / python3-zmq");

const CASES = [
  "echo",
  "echo_structured",
  "echo_lone_surrogate",
  "add_positional",
  "add_named",
  "sub_dispatcher",
  "application_error",
  "method_not_found",
  "invalid_params",
  "one_way_then_call",
  "dealer_envelope",
  "oversized",
];

let zmqServer: ZmqServerTransport;
let serving: Promise<void>;

before(async () => {
  if (skip) return;
  const { dispatcher } = exampleDispatcher();
  zmqServer = await ZmqServerTransport.bind("tcp://127.0.0.1:0");
  serving = new RPCServer(zmqServer, new JSONRPCProtocol(), dispatcher).serveForever();
});

after(async () => {
  if (skip) return;
  await zmqServer.close();
  await serving;
});

test("stock tinyrpc 0.6 ZmqClientTransport (REQ) -> our ZeroMQ server: every case passes", { skip, timeout: 120_000 }, async (t) => {
  const run = await runClient(DEBIAN_PYTHON, [CLIENT_SCRIPT, "--endpoint", zmqServer.endpoint, "--max-bytes", String(DEFAULT_MAX_MESSAGE_BYTES)], 90_000);
  for (const name of CASES) {
    await t.test(name, () => {
      const r = run.cases.get(name);
      assert.ok(r, `no result line for ${name}:\n${run.output}`);
      assert.equal(r.verdict, "PASS", `${name}: ${r.detail}`);
    });
  }
  assert.match(run.output, new RegExp(`^${CASES.length} passed, 0 failed`, "m"), run.output);
  assert.equal(run.status, 0, run.output);
});

test("our RPCClient over ZmqClientTransport -> stock tinyrpc 0.6 ZeroMQ server", { skip, timeout: 120_000 }, async (t) => {
  let python: RunningServer | undefined;
  let client: RPCClient | undefined;
  try {
    python = await startServer(DEBIAN_PYTHON, [SERVER_SCRIPT]);
    client = new RPCClient(new JSONRPCProtocol(), await ZmqClientTransport.connect(`tcp://127.0.0.1:${python.port}`, { timeoutMs: 20_000 }));
    await tinyrpcServerCases(t, client);
  } finally {
    await client?.close();
    await python?.stop();
  }
});
