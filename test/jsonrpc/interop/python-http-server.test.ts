// Our RPCClient over HttpClientTransport calls a stock Debian python3-tinyrpc 0.6 server:
// RPCServer + WsgiServerTransport on werkzeug's threaded WSGI server (python3-werkzeug), the
// pairing tinyrpc documents for HTTP. tinyrpc 0.6 never answers notifications (the HTTP
// request would hang), so none are sent to it.
import { test } from "node:test";
import { HttpClientTransport, JSONRPCProtocol, RPCClient } from "../../../src/jsonrpc/index.js";
import { DEBIAN_PYTHON, startServer, type RunningServer } from "../../interop/peers.js";
import { pythonPeerSkip } from "./python-peer.js";
import { tinyrpcServerCases } from "./tinyrpc-server-cases.js";

const SERVER_SCRIPT = "test/jsonrpc/interop/python/tinyrpc_http_server.py";

const skip = pythonPeerSkip("python tinyrpc HTTP server interop", "tinyrpc.transports.wsgi, werkzeug.serving", "python3-tinyrpc / python3-werkzeug");

test("our RPCClient over HttpClientTransport -> stock tinyrpc 0.6 WSGI server on werkzeug", { skip, timeout: 120_000 }, async (t) => {
  let python: RunningServer | undefined;
  let client: RPCClient | undefined;
  try {
    python = await startServer(DEBIAN_PYTHON, [SERVER_SCRIPT]);
    client = new RPCClient(new JSONRPCProtocol(), new HttpClientTransport(`http://127.0.0.1:${python.port}/`, { timeoutMs: 20_000 }));
    await tinyrpcServerCases(t, client);
  } finally {
    await client?.close();
    await python?.stop();
  }
});
