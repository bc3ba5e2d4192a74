"""A stock tinyrpc 0.6 server: RPCServer + ZmqServerTransport (a ROUTER socket) +
the RPCDispatcher of tinyrpc_methods.py. Binds a free port on 127.0.0.1 and prints
`listening on 127.0.0.1:PORT`. tinyrpc 0.6 never answers notifications, so callers must not
send any. Stops on SIGTERM (default action).
"""
import sys

import zmq
from tinyrpc.protocols.jsonrpc import JSONRPCProtocol
from tinyrpc.server import RPCServer
from tinyrpc.transports.zmq import ZmqServerTransport

from tinyrpc_methods import dispatcher


def main():
    ctx = zmq.Context()
    transport = ZmqServerTransport.create(ctx, "tcp://127.0.0.1:*")
    endpoint = transport.socket.getsockopt(zmq.LAST_ENDPOINT).decode()
    print("listening on 127.0.0.1:%s" % endpoint.rsplit(":", 1)[1])
    sys.stdout.flush()
    RPCServer(transport, JSONRPCProtocol(), dispatcher).serve_forever()


if __name__ == "__main__":
    main()
