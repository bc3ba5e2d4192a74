# One load process of the RPyC benchmark: a stock rpyc 5.3 client (/usr/bin/python3), one
# connection, sequential `root.echo(i)` round trips. Each `root.echo(i)` is what a user writes
# and costs, on the wire, a GETATTR (the bound method comes back by reference), a CALL on that
# reference, and an asynchronous HANDLE_DEL when the client drops the reference.
#   taskset -c 1 /usr/bin/python3 bench/rpyc/client.py --port N
# Connects, checks echo and add, prints `ready`; then for every stdin line
# {"count": n, "timeoutS": s} runs up to n calls (stopping at s seconds), checks every result, and
# prints one JSON line {calls, start, end, clientCpuUs} (start/end: epoch seconds). Exits when
# stdin closes.
import argparse
import json
import sys
import time

import rpyc


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    conn = rpyc.connect("127.0.0.1", args.port, config={"sync_request_timeout": 60})
    root = conn.root
    if root.echo(1.5) != 1.5 or root.echo("abc") != "abc" or root.add(2, 3) != 5 or root.add(a=2, b=40) != 42:
        raise SystemExit("wrong answer from echo/add")
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        cmd = json.loads(line)
        n = int(cmd["count"])
        limit = float(cmd.get("timeoutS", 60))
        error = None
        calls = 0
        cpu0 = time.process_time()
        start = time.time()
        t0 = time.perf_counter()
        try:
            for i in range(n):
                got = root.echo(i)
                if got != i:
                    error = f"echo({i}) returned {got!r}"
                    break
                calls += 1
                if (i & 255) == 255 and time.perf_counter() - t0 > limit:
                    error = f"time limit {limit}s reached after {calls} calls"
                    break
        except Exception as exc:  # report it; the harness fails the run
            error = f"{type(exc).__name__}: {exc}"
        end = time.time()
        cpu = time.process_time() - cpu0
        reply = {"calls": calls, "start": start, "end": end, "clientCpuUs": cpu * 1e6 / max(calls, 1)}
        if error:
            reply["error"] = error
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()
    conn.close()


if __name__ == "__main__":
    main()
