#!/usr/bin/python3
"""Rich error details (google.rpc.Status in grpc-status-details-bin) on python3-grpcio
(C-core), for test/interop/rich-details.test.ts.

  rich_details_peer.py server --port 0
      Serves /helloworld.Greeter/SayHello (raw bytes): every call fails INVALID_ARGUMENT
      with a google.rpc.Status of google.rpc details, a StringValue and an opaque Any, sent
      the way grpcio-status does it (abort_with_status + the trailer). Prints
      `listening on 127.0.0.1:<port>`; stops on SIGTERM.
  rich_details_peer.py client --port P
      Calls SayHello with an empty HelloRequest, decodes the trailer like grpcio-status's
      rpc_status.from_call, and prints one JSON object: the status from grpc-status /
      grpc-message, the google.rpc.Status, and each detail decoded (or its type URL and
      bytes when the type is unknown here).
"""

import argparse
import collections
import json
import os
import signal
import sys
import threading
from concurrent import futures

import grpc
from google.protobuf import any_pb2, duration_pb2, json_format, wrappers_pb2

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rich_details_pb as pb  # noqa: E402
from rich_details_pb import error_details_pb2, status_pb2  # noqa: E402

MESSAGE = "invalid greeting from python"

# The types this peer can decode: the google.rpc error model plus StringValue.
KNOWN = {
    cls.DESCRIPTOR.full_name: cls
    for cls in (
        error_details_pb2.ErrorInfo,
        error_details_pb2.RetryInfo,
        error_details_pb2.DebugInfo,
        error_details_pb2.QuotaFailure,
        error_details_pb2.PreconditionFailure,
        error_details_pb2.BadRequest,
        error_details_pb2.RequestInfo,
        error_details_pb2.ResourceInfo,
        error_details_pb2.Help,
        error_details_pb2.LocalizedMessage,
        wrappers_pb2.StringValue,
    )
}


class _Status(collections.namedtuple("_Status", ("code", "details", "trailing_metadata")), grpc.Status):
    """grpc.Status is an interface with attributes only; abort_with_status takes any such object."""


def _packed(message):
    any_message = any_pb2.Any()
    any_message.Pack(message)
    return any_message


def _details():
    bad = error_details_pb2.BadRequest()
    violation = bad.field_violations.add(field="name", description="must not be empty", reason="EMPTY")
    violation.localized_message.CopyFrom(error_details_pb2.LocalizedMessage(locale="de-DE", message="darf nicht leer sein"))
    quota = error_details_pb2.QuotaFailure()
    quota.violations.add(
        subject="project:7",
        quota_metric="greetings",
        quota_dimensions={"region": "eu"},
        quota_value=9007199254740993,  # 2**53 + 1: exact only as a 64-bit integer
        future_quota_value=20,
    )
    retry = error_details_pb2.RetryInfo(retry_delay=duration_pb2.Duration(seconds=2, nanos=500000000))
    return [
        _packed(bad),
        _packed(quota),
        _packed(retry),
        _packed(wrappers_pb2.StringValue(value="from python")),
        any_pb2.Any(type_url="type.example.com/python.Opaque", value=b"\x08\x2a"),
    ]


def _fail(_request, context):
    status = status_pb2.Status(code=grpc.StatusCode.INVALID_ARGUMENT.value[0], message=MESSAGE, details=_details())
    context.abort_with_status(
        _Status(grpc.StatusCode.INVALID_ARGUMENT, MESSAGE, ((pb.STATUS_DETAILS_KEY, status.SerializeToString()),))
    )


def serve(port):
    handler = grpc.method_handlers_generic_handler("helloworld.Greeter", {"SayHello": grpc.unary_unary_rpc_method_handler(_fail)})
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4), handlers=(handler,), options=[("grpc.so_reuseport", 0)])
    bound = server.add_insecure_port("127.0.0.1:%d" % port)
    if bound == 0:
        print("failed to bind 127.0.0.1:%d" % port, file=sys.stderr)
        return 1
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    server.start()
    print("listening on 127.0.0.1:%d" % bound, flush=True)
    while not stop.wait(0.5):
        pass
    server.stop(grace=1).wait(5)
    return 0


def _describe(any_message):
    name = any_message.type_url.rsplit("/", 1)[-1]
    cls = KNOWN.get(name)
    if cls is None:
        return {"typeUrl": any_message.type_url, "valueHex": any_message.value.hex()}
    message = cls()
    if not any_message.Unpack(message):
        return {"typeUrl": any_message.type_url, "undecodable": True}
    return {"type": name, "message": json_format.MessageToDict(message, preserving_proto_field_name=True)}


def call(port, timeout):
    with grpc.insecure_channel("127.0.0.1:%d" % port) as channel:
        say_hello = channel.unary_unary(pb.SAY_HELLO)  # no serializers: bytes in, bytes out
        try:
            say_hello(b"", timeout=timeout)
        except grpc.RpcError as err:
            out = {"code": err.code().name, "message": err.details()}
            raw = dict(err.trailing_metadata() or ()).get(pb.STATUS_DETAILS_KEY)
            if raw is not None:
                status = status_pb2.Status.FromString(raw)
                out["status"] = {"code": status.code, "message": status.message}
                out["details"] = [_describe(d) for d in status.details]
            print(json.dumps(out), flush=True)
            return 0
    print(json.dumps({"code": "OK"}), flush=True)
    return 1


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["server", "client"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--timeout", type=float, default=10.0)
    args = parser.parse_args()
    return serve(args.port) if args.mode == "server" else call(args.port, args.timeout)


if __name__ == "__main__":
    sys.exit(main())
