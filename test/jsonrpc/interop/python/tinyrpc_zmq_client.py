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
from tinyrpc.protocols.jsonrpc import JSONRPCProtocol
from tinyrpc.transports.zmq import ZmqClientTransport

from tinyrpc_cases import check, common_cases, report, run_cases

TIMEOUT_MS = 20000  # a hang (e.g. a notification left unanswered) fails instead of blocking


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

    return common_cases(client) + [
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
    run_cases("", cases(ctx, args.endpoint, args.max_bytes, client), results)
    code = report(results)
    transport.socket.close()
    ctx.term()
    sys.exit(code)


if __name__ == "__main__":
    main()
