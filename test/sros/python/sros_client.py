#!/usr/bin/python3
"""One gRPC call on python3-grpcio (C-core) with raw bytes, for test/sros.

  sros_client.py --port P --method /pkg.Svc/Rpc --kind KIND [--timeout S] HEX...

KIND is unary, server_streaming, client_streaming or bidi_streaming; each HEX is one request
message (exactly one for unary and server_streaming). No (de)serializers: grpcio sends and
returns the bytes as they are. Prints one JSON line:

  {"code": "OK" | status name, "details": str | null, "responses": [hex, ...]}
"""

import argparse
import json
import sys

import grpc


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--method", required=True)
    parser.add_argument("--kind", required=True)
    parser.add_argument("--timeout", type=float, default=10.0)
    parser.add_argument("requests", nargs="*")
    args = parser.parse_args()
    requests = [bytes.fromhex(r) for r in args.requests]
    responses = []
    code, details = "OK", None
    with grpc.insecure_channel("127.0.0.1:%d" % args.port) as channel:
        try:
            if args.kind == "unary":
                call = channel.unary_unary(args.method)
                response, state = call.with_call(requests[0], timeout=args.timeout)
                responses.append(response)
                details = state.details() or None
            elif args.kind == "server_streaming":
                call = channel.unary_stream(args.method)(requests[0], timeout=args.timeout)
                for response in call:
                    responses.append(response)
                details = call.details() or None
            elif args.kind == "client_streaming":
                call = channel.stream_unary(args.method)
                response, state = call.with_call(iter(requests), timeout=args.timeout)
                responses.append(response)
                details = state.details() or None
            else:
                call = channel.stream_stream(args.method)(iter(requests), timeout=args.timeout)
                for response in call:
                    responses.append(response)
                details = call.details() or None
        except grpc.RpcError as err:
            code, details = err.code().name, err.details()
    sys.stdout.write(json.dumps({"code": code, "details": details, "responses": [r.hex() for r in responses]}) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
