"""Stock tinyrpc 0.6 ZmqClientTransport (a REQ socket) calling a Switchboard JSON-RPC server
over ZeroMQ. Prints one `PASS name` / `FAIL name: why` line per case and a summary; exits 1
if any case failed.

Usage: tinyrpc_zmq_client.py --endpoint tcp://127.0.0.1:PORT --max-bytes N
"""
import argparse
import json
import sys

import zmq
from tinyrpc import RPCClient
from tinyrpc.exc import RPCError
from tinyrpc.protocols.jsonrpc import JSONRPCProtocol
from tinyrpc.transports.zmq import ZmqClientTransport

TIMEOUT_MS = 20000  # a hang (e.g. a notification left unanswered) fails instead of blocking


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


def raw_request(ctx, endpoint, frames):
    """Sends raw frames on a fresh socket of the given type and returns the reply frames."""
    kind, parts = frames
    sock = ctx.socket(kind)
    sock.setsockopt(zmq.RCVTIMEO, TIMEOUT_MS)
    sock.setsockopt(zmq.LINGER, 0)
    sock.connect(endpoint)
    try:
        sock.send_multipart(parts)
        return sock.recv_multipart()
    finally:
        sock.close()


def cases(ctx, endpoint, max_bytes, client):
    proxy = client.get_proxy()
    math = client.get_proxy(prefix="math.")
    one_way = client.get_proxy(one_way=True)

    def one_way_then_call():
        before = proxy.notify_count()
        check(one_way.bump(), None)
        check(client.call("bump", [], {}, one_way=True), None)
        # Both notifications were answered with an empty frame, or REQ would block here.
        check(proxy.echo("after"), "after")
        check(proxy.notify_count(), before + 2)

    def oversized():
        body = b'"' + b"x" * max_bytes + b'"'
        [reply] = raw_request(ctx, endpoint, (zmq.REQ, [body]))
        error = json.loads(reply)
        check(error["id"], None)
        check(error["error"]["code"], -32600)
        # the server keeps serving
        check(proxy.echo("still here"), "still here")

    def dealer_envelope():
        # bare DEALER: [body] in, [reply] out; DEALER with delimiter: ['', body] -> ['', reply]
        req = b'{"jsonrpc": "2.0", "id": 7, "method": "echo", "params": ["d"]}'
        [bare] = raw_request(ctx, endpoint, (zmq.DEALER, [req]))
        check(json.loads(bare), {"jsonrpc": "2.0", "id": 7, "result": "d"})
        delimited = raw_request(ctx, endpoint, (zmq.DEALER, [b"", req]))
        check(delimited[0], b"")
        check(json.loads(delimited[1])["result"], "d")
        note = raw_request(ctx, endpoint, (zmq.DEALER, [b"", b'{"jsonrpc": "2.0", "method": "bump"}']))
        check(note, [b"", b""])

    return [
        ("echo", lambda: check(proxy.echo("héllo € 😀"), "héllo € 😀")),
        ("echo_structured", lambda: check(proxy.echo({"a": [1, 2.5, None, True], "b": {}}), {"a": [1, 2.5, None, True], "b": {}})),
        ("add_positional", lambda: (check(proxy.add(2, 3), 5), check(proxy.add("ab", "cd"), "abcd"))),
        ("add_named", lambda: (check(proxy.add(a=2, b=3), 5), check(proxy.add(b="cd", a="ab"), "abcd"))),
        ("sub_dispatcher", lambda: check(math.mul(6, 7), 42)),
        ("application_error", lambda: expect_error(lambda: proxy.fail("boom"), "Error calling remote procedure: boom")),
        ("method_not_found", lambda: expect_error(lambda: proxy.no_such_method(), "Error calling remote procedure: Method not found")),
        ("invalid_params", lambda: expect_error(lambda: proxy.add(1), "Error calling remote procedure: Invalid params")),
        ("one_way_then_call", one_way_then_call),
        ("dealer_envelope", dealer_envelope),
        ("oversized", oversized),
    ]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--max-bytes", type=int, required=True)
    args = parser.parse_args()
    ctx = zmq.Context()
    transport = ZmqClientTransport.create(ctx, args.endpoint)
    transport.socket.setsockopt(zmq.RCVTIMEO, TIMEOUT_MS)
    transport.socket.setsockopt(zmq.LINGER, 0)
    client = RPCClient(JSONRPCProtocol(), transport)
    results = []
    for name, case in cases(ctx, args.endpoint, args.max_bytes, client):
        try:
            case()
            results.append((True, name, ""))
        except Exception as e:
            results.append((False, name, "%s: %s" % (type(e).__name__, e)))
    failed = 0
    for ok, name, why in results:
        if ok:
            print("PASS %s" % name)
        else:
            failed += 1
            print("FAIL %s: %s" % (name, why))
    print("%d passed, %d failed" % (len(results) - failed, failed))
    sys.stdout.flush()
    transport.socket.close()
    ctx.term()
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
