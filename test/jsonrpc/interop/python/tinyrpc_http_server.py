"""A stock tinyrpc 0.6 server over HTTP: RPCServer + WsgiServerTransport on werkzeug's threaded
WSGI server (each request's thread waits for its reply while RPCServer runs in the main
thread), serving the dispatcher of tinyrpc_methods.py. Binds a free port on 127.0.0.1 and
prints `listening on 127.0.0.1:PORT`. tinyrpc 0.6 never answers notifications (the HTTP request
would hang), so callers must not send any. Stops on SIGTERM (default action).
"""
import sys
import threading

from tinyrpc.protocols.jsonrpc import JSONRPCProtocol
from tinyrpc.server import RPCServer
from tinyrpc.transports.wsgi import WsgiServerTransport
from werkzeug.serving import make_server

from tinyrpc_methods import dispatcher


def main():
    transport = WsgiServerTransport(max_content_length=4 * 1024 * 1024)
    http = make_server("127.0.0.1", 0, transport.handle, threaded=True)
    print("listening on 127.0.0.1:%d" % http.server_port)
    sys.stdout.flush()
    threading.Thread(target=http.serve_forever, daemon=True).start()
    RPCServer(transport, JSONRPCProtocol(), dispatcher).serve_forever()


if __name__ == "__main__":
    main()
