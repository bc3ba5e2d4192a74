// MessagePack-RPC interop with a real peer: Debian's python3-msgpack encodes the requests and
// decodes the replies of test/jsonrpc/interop/python/msgpack_rpc_client.py, which calls our
// RPCServer + MSGPACKRPCProtocol over TCP (length framing) and over WebSocket binary frames
// (python3-websocket): calls, named params, notifications, errors, bigint, bytes, extensions,
// malformed input, pipelining and an oversized message.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { after, before, test } from "node:test";
import { MSGPACKRPCProtocol, msgpackTooLargeReply, RPCServer, TcpServerTransport, WebSocketServerTransport } from "../../src/jsonrpc/index.js";
import { DEBIAN_PYTHON, requirePeer, runClient } from "../interop/peers.js";
import { exampleDispatcher } from "./helpers.js";

const CLIENT_SCRIPT = "test/jsonrpc/interop/python/msgpack_rpc_client.py";
const MAX_BYTES = 64 * 1024;
const CASES = [
  "echo",
  "add_positional_and_named",
  "sub_dispatcher",
  "notification",
  "application_error",
  "method_not_found",
  "invalid_params",
  "bigint",
  "binary",
  "floats",
  "extensions",
  "parse_error",
  "invalid_requests",
  "pipelined",
  "oversized",
];

/** Whether python3-msgpack and python3-websocket import under Debian's python3. */
function pythonMsgpackMissing(): string | undefined {
  const r = spawnSync(DEBIAN_PYTHON, ["-c", "import msgpack, websocket"], { encoding: "utf8", timeout: 20_000 });
  if (r.error) return `${DEBIAN_PYTHON} not runnable: ${r.error.message}`;
  if (r.status !== 0) return `python3-msgpack / python3-websocket missing under ${DEBIAN_PYTHON}: ${r.stderr.trim().split("\n").pop()}`;
  return undefined;
}

const skip = requirePeer(pythonMsgpackMissing());
if (skip) console.log(`# SKIP python msgpack MessagePack-RPC interop: ${skip}`);

let tcp: TcpServerTransport;
let ws: WebSocketServerTransport;
let serving: Promise<void>[] = [];

before(async () => {
  if (skip) return;
  const { dispatcher } = exampleDispatcher();
  tcp = await TcpServerTransport.listen({ host: "127.0.0.1", port: 0 }, { framing: "length", maxMessageBytes: MAX_BYTES, tooLargeReply: msgpackTooLargeReply });
  ws = await WebSocketServerTransport.listen({ replyFrame: "binary", maxMessageBytes: MAX_BYTES });
  serving = [new RPCServer(tcp, new MSGPACKRPCProtocol(), dispatcher).serveForever(), new RPCServer(ws, new MSGPACKRPCProtocol(), dispatcher).serveForever()];
});

after(async () => {
  if (skip) return;
  await Promise.all([tcp.close(), ws.close()]);
  await Promise.all(serving);
});

for (const transport of ["tcp", "ws"] as const) {
  test(`python3-msgpack MessagePack-RPC client -> our server over ${transport === "tcp" ? "TCP length framing" : "WebSocket binary frames"}: every case passes`, { skip, timeout: 120_000 }, async (t) => {
    const where = transport === "tcp" ? ["--tcp", `127.0.0.1:${"port" in tcp.address ? tcp.address.port : 0}`] : ["--ws", ws.url];
    const run = await runClient(DEBIAN_PYTHON, [CLIENT_SCRIPT, ...where, "--max-bytes", String(MAX_BYTES)], 90_000);
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
}
