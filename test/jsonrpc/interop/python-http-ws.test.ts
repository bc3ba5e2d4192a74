// Stock Debian python3-tinyrpc 0.6 clients (HttpPostClientTransport, and
// HttpWebSocketClientTransport with the import workaround from the facts file) call our
// RPCServer over HTTP and WebSocket: echo, positional and named add, a sub-dispatcher, error
// texts, and one-way notifications followed by a normal call (the empty transport reply is
// what keeps the stock client from hanging).
import { after, before, test } from "node:test";
import * as assert from "node:assert/strict";
import { JSONRPCProtocol, RPCServer } from "../../../src/jsonrpc/index.js";
import { HttpServerTransport } from "../../../src/jsonrpc/transports/http.js";
import { WebSocketServerTransport } from "../../../src/jsonrpc/transports/websocket.js";
import { DEBIAN_PYTHON, runClient } from "../../interop/peers.js";
import { pythonPeerSkip } from "./python-peer.js";
import { exampleDispatcher } from "../transports/http-ws-helpers.js";

const SCRIPT = "test/jsonrpc/interop/python/tinyrpc_http_ws_client.py";

const skip = pythonPeerSkip("python tinyrpc interop", "tinyrpc, websocket, requests", "python3-tinyrpc / python3-websocket / python3-requests");

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
];

let http: HttpServerTransport;
let ws: WebSocketServerTransport;
let serving: Promise<void>[] = [];

before(async () => {
  if (skip) return;
  const { dispatcher } = exampleDispatcher();
  // HTTP and WebSocket on different ports, as the example server runs them.
  http = await HttpServerTransport.listen({ port: 0 });
  ws = await WebSocketServerTransport.listen({ port: 0 });
  serving = [new RPCServer(http, new JSONRPCProtocol(), dispatcher).serveForever(), new RPCServer(ws, new JSONRPCProtocol(), dispatcher).serveForever()];
});

after(async () => {
  if (skip) return;
  await Promise.all([http.close(), ws.close()]);
  await Promise.all(serving);
});

test("stock tinyrpc 0.6 clients -> our server over HTTP and WebSocket: every case passes", { skip, timeout: 120_000 }, async (t) => {
  const run = await runClient(DEBIAN_PYTHON, [SCRIPT, "--http", http.url, "--ws", ws.url], 90_000);
  for (const transport of ["http", "ws"]) {
    for (const name of CASES) {
      await t.test(`${transport}_${name}`, () => {
        const r = run.cases.get(`${transport}_${name}`);
        assert.ok(r, `no result line for ${transport}_${name}:\n${run.output}`);
        assert.equal(r.verdict, "PASS", `${transport}_${name}: ${r.detail}`);
      });
    }
  }
  assert.match(run.output, new RegExp(`^${2 * CASES.length} passed, 0 failed`, "m"), run.output);
  assert.equal(run.status, 0, run.output);
});
