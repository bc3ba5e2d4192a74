"""A MessagePack-RPC client built on Debian's python3-msgpack (and python3-websocket for the
WebSocket run), calling a Switchboard RPCServer with MSGPACKRPCProtocol. Python's msgpack
encodes every request and decodes every reply, so passing cases show our bytes are standard
MessagePack-RPC: [0, msgid, method, params] / [1, msgid, error, result] / [2, method, params],
errors as [code, message(, data)].

Transports: --tcp HOST:PORT (our length framing: a 4-byte big-endian size, then the message)
or --ws URL (one binary frame per message). Prints one `PASS name` / `FAIL name: why` line per
case and a summary; exits 1 if any case failed.

Usage: msgpack_rpc_client.py (--tcp HOST:PORT | --ws URL) --max-bytes N
"""
import argparse
import socket
import struct
import sys

import msgpack

TIMEOUT = 20  # seconds; a missing reply fails the case instead of hanging


class TcpPeer:
    def __init__(self, address):
        host, port = address.rsplit(":", 1)
        self.sock = socket.create_connection((host, int(port)), timeout=TIMEOUT)

    def send(self, body):
        self.sock.sendall(struct.pack(">I", len(body)) + body)

    def _read(self, n):
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise EOFError("connection closed after %d of %d bytes" % (len(data), n))
            data += chunk
        return data

    def recv(self):
        (size,) = struct.unpack(">I", self._read(4))
        return self._read(size)

    def at_eof(self):
        return self.sock.recv(1) == b""

    def close(self):
        self.sock.close()


class WsPeer:
    def __init__(self, url):
        import websocket

        self.websocket = websocket
        self.ws = websocket.create_connection(url, timeout=TIMEOUT)

    def send(self, body):
        self.ws.send_binary(body)

    def recv(self):
        opcode, data = self.ws.recv_data()
        if opcode != self.websocket.ABNF.OPCODE_BINARY:
            raise AssertionError("reply frame opcode %r, expected binary" % (opcode,))
        return data

    def close_code(self):
        opcode, data = self.ws.recv_data(control_frame=True)
        if opcode != self.websocket.ABNF.OPCODE_CLOSE:
            raise AssertionError("expected a close frame, got opcode %r" % (opcode,))
        return struct.unpack(">H", data[:2])[0]

    def close(self):
        self.ws.close()


def pack(value):
    return msgpack.packb(value, use_bin_type=True)


def unpack(data):
    # Python msgpack's defaults: str must be valid UTF-8, map keys must be str or bytes
    return msgpack.unpackb(data, raw=False, strict_map_key=True)


def check(got, want):
    if got != want or type(got) is not type(want):
        raise AssertionError("got %r, expected %r" % (got, want))


class Client:
    def __init__(self, connect):
        self.connect = connect
        self.peer = connect()
        self.next_id = 1

    def exchange(self, body):
        self.peer.send(body)
        return self.peer.recv()

    def call_raw(self, method, params):
        msgid = self.next_id
        self.next_id += 1
        reply = unpack(self.exchange(pack([0, msgid, method, params])))
        if not isinstance(reply, list) or len(reply) != 4 or reply[0] != 1 or reply[1] != msgid:
            raise AssertionError("bad response envelope %r for msgid %d" % (reply, msgid))
        return reply

    def call(self, method, params):
        reply = self.call_raw(method, params)
        if reply[2] is not None:
            raise AssertionError("unexpected error %r" % (reply[2],))
        return reply[3]

    def error(self, method, params):
        reply = self.call_raw(method, params)
        if reply[2] is None or reply[3] is not None:
            raise AssertionError("expected an error with result nil, got %r" % (reply,))
        return reply[2]


def cases(client, transport, max_bytes):
    def echo():
        check(client.call("echo", ["h\u00e9llo \u20ac \U0001f600"]), "h\u00e9llo \u20ac \U0001f600")
        check(client.call("echo", [{"a": [1, 2.5, None, True], "b": {}}]), {"a": [1, 2.5, None, True], "b": {}})

    def add_positional_and_named():
        check(client.call("add", [2, 3]), 5)
        check(client.call("add", ["ab", "cd"]), "abcd")
        # a map as params: Switchboard's extension, bound by parameter name
        check(client.call("add", {"b": 3, "a": 2}), 5)

    def sub_dispatcher():
        check(client.call("math.mul", [6, 7]), 42)

    def notification():
        before = client.call("notify_count", [])
        client.peer.send(pack([2, "bump", []]))
        # every message gets one transport reply: an empty one for a notification
        check(client.peer.recv(), b"")
        check(client.call("notify_count", []), before + 1)

    def application_error():
        check(client.error("fail", ["boom"]), [-32000, "boom"])

    def method_not_found():
        err = client.error("no_such_method", [])
        check(err[:2], [-32601, "Method not found"])
        if len(err) != 3 or "no_such_method" not in err[2]:
            raise AssertionError("data should name the method: %r" % (err,))

    def invalid_params():
        check(client.error("add", [1])[:2], [-32602, "Invalid params"])

    def bigint():
        values = [2**63 - 1, -(2**63), 2**64 - 1, 2**53 + 1, 2**40, -(2**40), 0]
        check(client.call("echo", [values]), values)

    def binary():
        check(client.call("echo", [b"\x00\x01\xff"]), b"\x00\x01\xff")
        check(client.call("echo", [{"blob": b""}]), {"blob": b""})

    def floats():
        check(client.call("echo", [1.5]), 1.5)
        check(client.call("echo", [-0.25]), -0.25)

    def extensions():
        stamp = msgpack.Timestamp(1700000000, 123000000)
        check(client.call("echo", [stamp]), stamp)
        check(client.call("echo", [msgpack.ExtType(5, b"ab")]), msgpack.ExtType(5, b"ab"))

    def parse_error():
        reply = unpack(client.exchange(b"\xc1"))
        check(reply[:2], [1, None])
        check(reply[2][:2], [-32700, "Parse error"])
        check(reply[3], None)

    def invalid_requests():
        check(unpack(client.exchange(pack([0, -1, "echo", []])))[2][:2], [-32600, "Invalid Request"])
        check(unpack(client.exchange(pack([0, 5, 7, []])))[:2], [1, 5])
        check(unpack(client.exchange(pack([[0, 6, "echo", []]])))[2][:2], [-32600, "Invalid Request"])
        check(unpack(client.exchange(pack([0, 7, "echo", None])))[2][:2], [-32600, "Invalid Request"])
        check(client.call("echo", ["still serving"]), "still serving")

    def pipelined():
        first = client.next_id
        for i in range(20):
            client.peer.send(pack([0, first + i, "add", [i, i]]))
        client.next_id += 20
        for i in range(20):
            check(unpack(client.peer.recv()), [1, first + i, None, 2 * i])

    def oversized():
        client.peer.send(pack([0, 99, "echo", ["x" * max_bytes]]))
        if transport == "tcp":
            reply = unpack(client.peer.recv())
            check(reply[:2], [1, None])
            check(reply[2][0], -32600)
            if not reply[2][1].startswith("Message too large"):
                raise AssertionError("message %r" % (reply[2][1],))
            check(client.peer.at_eof(), True)
        else:
            check(client.peer.close_code(), 1009)
        client.peer.close()
        # a new connection is served
        client.peer = client.connect()
        check(client.call("echo", ["after"]), "after")

    return [
        ("echo", echo),
        ("add_positional_and_named", add_positional_and_named),
        ("sub_dispatcher", sub_dispatcher),
        ("notification", notification),
        ("application_error", application_error),
        ("method_not_found", method_not_found),
        ("invalid_params", invalid_params),
        ("bigint", bigint),
        ("binary", binary),
        ("floats", floats),
        ("extensions", extensions),
        ("parse_error", parse_error),
        ("invalid_requests", invalid_requests),
        ("pipelined", pipelined),
        ("oversized", oversized),
    ]


def main():
    parser = argparse.ArgumentParser()
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--tcp")
    where.add_argument("--ws")
    parser.add_argument("--max-bytes", type=int, required=True)
    args = parser.parse_args()
    transport = "tcp" if args.tcp else "ws"
    connect = (lambda: TcpPeer(args.tcp)) if args.tcp else (lambda: WsPeer(args.ws))
    client = Client(connect)
    passed = failed = 0
    for name, case in cases(client, transport, args.max_bytes):
        try:
            case()
            print("PASS %s" % name, flush=True)
            passed += 1
        except Exception as e:  # report and go on: one broken case must not hide the others
            print("FAIL %s: %s: %s" % (name, type(e).__name__, e), flush=True)
            failed += 1
            # the stream may be out of step after a failure: start the next case on a fresh one
            try:
                client.peer.close()
            finally:
                client.peer = connect()
    client.peer.close()
    print("%d passed, %d failed" % (passed, failed), flush=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
