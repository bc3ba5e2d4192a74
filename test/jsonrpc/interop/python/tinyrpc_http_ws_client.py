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
from tinyrpc.exc import RPCError  # noqa: E402
from tinyrpc.protocols.jsonrpc import JSONRPCProtocol  # noqa: E402
from tinyrpc.transports.http import HttpPostClientTransport, HttpWebSocketClientTransport  # noqa: E402

TIMEOUT = 20  # seconds; a hang (e.g. a notification left unanswered) fails instead of blocking


def expect_error(call, message):
    try:
        result = call()
    except RPCError as e:
        if str(e) != message:
            raise AssertionError("error text %r, expected %r" % (str(e), message))
        return
    raise AssertionError("no error; got %r" % (result,))


def check(got, want):
    if got != want or type(got) is not type(want):
        raise AssertionError("got %r, expected %r" % (got, want))


def cases(client):
    proxy = client.get_proxy()
    math = client.get_proxy(prefix="math.")
    one_way = client.get_proxy(one_way=True)

    def one_way_then_call():
        before = proxy.notify_count()
        check(one_way.bump(), None)
        check(client.call("bump", [], {}, one_way=True), None)
        # Both notifications were answered with an empty transport reply, or we would hang here.
        check(proxy.echo("after"), "after")
        check(proxy.notify_count(), before + 2)

    return [
        ("echo", lambda: check(proxy.echo("héllo € 😀"), "héllo € 😀")),
        ("echo_structured", lambda: check(proxy.echo({"a": [1, 2.5, None, True], "b": {}}), {"a": [1, 2.5, None, True], "b": {}})),
        ("echo_lone_surrogate", lambda: check(proxy.echo("x\ud800y"), "x\ud800y")),
        ("add_positional", lambda: (check(proxy.add(2, 3), 5), check(proxy.add("ab", "cd"), "abcd"))),
        ("add_named", lambda: (check(proxy.add(a=2, b=3), 5), check(proxy.add(b="cd", a="ab"), "abcd"))),
        ("sub_dispatcher", lambda: check(math.mul(6, 7), 42)),
        ("application_error", lambda: expect_error(lambda: proxy.fail("boom"), "Error calling remote procedure: boom")),
        ("method_not_found", lambda: expect_error(lambda: proxy.no_such_method(), "Error calling remote procedure: Method not found")),
        ("invalid_params", lambda: expect_error(lambda: proxy.add(1), "Error calling remote procedure: Invalid params")),
        ("one_way_then_call", one_way_then_call),
    ]


def run(prefix, make_transport, results):
    try:
        transport = make_transport()
    except Exception as e:  # connect failure fails every case of this transport
        for name, _ in cases(RPCClient(JSONRPCProtocol(), None)):
            results.append((False, "%s_%s" % (prefix, name), "connect failed: %r" % (e,)))
        return
    client = RPCClient(JSONRPCProtocol(), transport)
    for name, case in cases(client):
        try:
            case()
            results.append((True, "%s_%s" % (prefix, name), ""))
        except Exception as e:
            results.append((False, "%s_%s" % (prefix, name), "%s: %s" % (type(e).__name__, e)))
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
    failed = 0
    for ok, name, why in results:
        if ok:
            print("PASS %s" % name)
        else:
            failed += 1
            print("FAIL %s: %s" % (name, why))
    print("%d passed, %d failed" % (len(results) - failed, failed))
    sys.stdout.flush()
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
