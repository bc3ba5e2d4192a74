#!/usr/bin/python3
"""grpc.health.v1 client on python3-grpcio (C-core) for test/services/health.test.ts.

Prints one JSON object per line (flushed), so the test can react to each:

  health_client.py --port P check SERVICE...
      {"service": S, "status": "SERVING"} or {"service": S, "error": "NOT_FOUND", "details": ...}
  health_client.py --port P watch SERVICE --count N [--timeout SECONDS]
      {"status": "SERVING"} per message; after N messages the call is cancelled and
      {"done": true} printed; a failed call prints {"error": CODE, "details": ...}.

An empty SERVICE ("") is the overall server status.
"""

import argparse
import json
import os
import sys

import grpc

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import services_pb as pb  # noqa: E402
from services_pb import health_pb2  # noqa: E402


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--timeout", type=float, default=10.0)
    parser.add_argument("--count", type=int, default=1)
    parser.add_argument("mode", choices=["check", "watch"])
    parser.add_argument("services", nargs="+")
    args = parser.parse_args()

    with grpc.insecure_channel("%s:%d" % (args.host, args.port)) as channel:
        request_serializer = health_pb2.HealthCheckRequest.SerializeToString
        response_deserializer = health_pb2.HealthCheckResponse.FromString
        if args.mode == "check":
            check = channel.unary_unary(pb.HEALTH_CHECK, request_serializer, response_deserializer)
            for service in args.services:
                try:
                    response = check(health_pb2.HealthCheckRequest(service=service), timeout=args.timeout)
                    emit({"service": service, "status": pb.status_name(response.status)})
                except grpc.RpcError as err:
                    emit({"service": service, "error": err.code().name, "details": err.details()})
            return 0
        watch = channel.unary_stream(pb.HEALTH_WATCH, request_serializer, response_deserializer)
        call = watch(health_pb2.HealthCheckRequest(service=args.services[0]), timeout=args.timeout)
        seen = 0
        try:
            for response in call:
                emit({"status": pb.status_name(response.status)})
                seen += 1
                if seen >= args.count:
                    call.cancel()
                    emit({"done": True})
                    return 0
            emit({"error": "OK", "details": "the watch ended"})
        except grpc.RpcError as err:
            emit({"error": err.code().name, "details": err.details()})
        return 1


if __name__ == "__main__":
    sys.exit(main())
