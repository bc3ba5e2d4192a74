"""Stock tinyrpc 0.6 clients (HttpPostClientTransport, HttpWebSocketClientTransport) calling
a Switchboard JSON-RPC server. Prints one `PASS name` / `FAIL name: why` line per case and a
summary; exits 1 if any case failed.

Usage: tinyrpc_http_ws_client.py --http http://127.0.0.1:PORT/ --ws ws://127.0.0.1:PORT/ws
"""
import argparse
import sys

# tinyrpc 0.6's transports/http.py imports gevent-websocket under the name `websocket` but
# calls websocket-client's create_connection; alias websocket-client so the module imports
# and the WebSocket client works as intended (the server is not involved).
import websocket

sys.modules.setdefault("geventwebsocket", websocket)

from tinyrpc import RPCClient  # noqa: E402
from tinyrpc.protocols.jsonrpc import JSONRPCProtocol  # noqa: E402
from tinyrpc.transports.http import HttpPostClientTransport, HttpWebSocketClientTransport  # noqa: E402

from tinyrpc_cases import common_cases, report, run_cases  # noqa: E402

TIMEOUT = 20  # seconds; a hang (e.g. a notification left unanswered) fails instead of blocking


def run(prefix, make_transport, results):
    try:
        transport = make_transport()
    except Exception as e:  # connect failure fails every case of this transport
        for name, _ in common_cases(RPCClient(JSONRPCProtocol(), None)):
            results.append((False, "%s_%s" % (prefix, name), "connect failed: %r" % (e,)))
        return
    run_cases(prefix + "_", common_cases(RPCClient(JSONRPCProtocol(), transport)), results)
    close = getattr(transport, "close", None)
    if close:
        close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--http", required=True)
    parser.add_argument("--ws", required=True)
    args = parser.parse_args()
    results = []
    run("http", lambda: HttpPostClientTransport(args.http, timeout=TIMEOUT), results)
    run("ws", lambda: HttpWebSocketClientTransport(args.ws, timeout=TIMEOUT), results)
    sys.exit(report(results))


if __name__ == "__main__":
    main()
