# The reference server of the RPyC benchmark: stock rpyc's ThreadedServer (a thread per
# connection) serving the same service as bench/rpyc/server.ts, written the way rpyc's docs show.
#   taskset -c 0 /usr/bin/python3 bench/rpyc/server.py --port 0
# Prints `listening on 127.0.0.1:<port>` once connections are accepted and exits when its stdin
# closes, so a dying harness never leaves it behind. Its CPU time is read by the harness from
# /proc/<pid>/stat, the same way as for our server.
import argparse
import os
import sys
import threading

import rpyc
from rpyc.utils.server import ThreadedServer


class BenchService(rpyc.Service):
    def exposed_echo(self, x):
        return x

    def exposed_add(self, a, b):
        return a + b


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    server = ThreadedServer(BenchService, hostname="127.0.0.1", port=args.port)
    # start() listens and then blocks accepting; listen first so the line below is true.
    server._listen()
    sys.stdout.write(f"listening on 127.0.0.1:{server.port}\n")
    sys.stdout.flush()

    def watch_stdin():
        for _ in sys.stdin:
            pass
        # stdin closed: the harness is done with us (or gone).
        os._exit(0)

    threading.Thread(target=watch_stdin, daemon=True).start()
    server.start()


if __name__ == "__main__":
    main()
