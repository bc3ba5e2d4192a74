#!/usr/bin/python3
"""grpc.testing.TestService interop server on grpcio (C-core).

Implements the server side of grpc/grpc doc/interop-test-descriptions.md.
UnimplementedCall is deliberately left out so that it answers UNIMPLEMENTED.

Usage: /usr/bin/python3 interop_server.py --port N [--use_tls] [--host 127.0.0.1]
Prints `listening on 127.0.0.1:<port>` once ready; stops on SIGTERM/SIGINT.
"""

import argparse
import os
import signal
import sys
import threading
import time
from concurrent import futures

import grpc

# Keep the source tree free of __pycache__ directories.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import interop_pb as pb  # noqa: E402
from interop_pb import empty_pb2, messages_pb2  # noqa: E402

TLS_DIR = os.path.normpath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "fixtures", "tls")
)
ECHO_INITIAL_KEY = "x-grpc-test-echo-initial"
ECHO_TRAILING_KEY = "x-grpc-test-echo-trailing-bin"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost")
# A client could ask for absurd sleeps; cap them so a handler cannot pin a
# worker thread for long after a test run is over.
MAX_INTERVAL_S = 30.0

_STATUS_BY_NUMBER = {sc.value[0]: sc for sc in grpc.StatusCode}


def _status_code(number):
    return _STATUS_BY_NUMBER.get(number, grpc.StatusCode.UNKNOWN)


def _zeros(size, context):
    if size < 0:
        context.abort(grpc.StatusCode.INVALID_ARGUMENT, "negative payload size %d" % size)
    return bytes(size)


def _check_response_type(response_type, context):
    # COMPRESSABLE is the only PayloadType left in messages.proto; anything
    # else is a type this server does not support, which the description
    # says must fail with INVALID_ARGUMENT.
    if response_type != messages_pb2.COMPRESSABLE:
        context.abort(
            grpc.StatusCode.INVALID_ARGUMENT, "unsupported response_type %d" % response_type
        )


def _check_expected_compression(received, context):
    """CompressedRequest feature.

    Only enforced when expect_compressed is present: true demands the
    compressed flag on this very message, false demands it be clear (as the
    C++ reference server does), so a client that compresses when told not to
    is caught as well.
    """
    request = received.message
    if not request.HasField("expect_compressed"):
        return
    expected = request.expect_compressed.value
    if expected != received.compressed:
        context.abort(
            grpc.StatusCode.INVALID_ARGUMENT,
            "Compressed request expectation not met: expected %s message, got %s"
            % (
                "compressed" if expected else "uncompressed",
                "compressed" if received.compressed else "uncompressed",
            ),
        )


def _echo(context):
    """Echo Metadata feature. Returns whether the response headers went out:
    echoing initial metadata sends them right away, so any call-level
    compression must already be chosen when this runs."""
    metadata = context.invocation_metadata()
    initial = [(k, v) for k, v in metadata if k == ECHO_INITIAL_KEY]
    trailing = [(k, v) for k, v in metadata if k == ECHO_TRAILING_KEY]
    if trailing:
        context.set_trailing_metadata(trailing)
    if initial:
        context.send_initial_metadata(initial)
        return True
    return False


def _maybe_echo_status(request, context):
    """Echo Status feature; returns True if the call must end now with OK."""
    if not request.HasField("response_status"):
        return False
    status = request.response_status
    if status.code != 0:
        context.abort(_status_code(status.code), status.message)
    return True


def _sleep_interval(interval_us, cancelled):
    if interval_us > 0:
        cancelled.wait(min(interval_us / 1e6, MAX_INTERVAL_S))
    return not cancelled.is_set()


def _cancel_event(context):
    event = threading.Event()
    context.add_callback(event.set)
    return event


class _Streamer:
    """Writes StreamingOutputCallResponses for ResponseParameters, honouring
    interval_us and per-message `compressed`.

    grpcio only lets a handler choose call compression before the response
    headers go out, and then opt single messages out of it. So a `compressed`
    parameter turns gzip on for the call (like the C++ server does), and
    messages with compressed=false or without the field are sent with the
    compressed flag cleared.
    """

    def __init__(self, context, headers_sent=False):
        self.context = context
        self.headers_sent = headers_sent
        self.compressing = False
        self.cancelled = _cancel_event(context)

    def prepare(self, parameters):
        wants = any(p.HasField("compressed") and p.compressed.value for p in parameters)
        if wants and not self.compressing:
            if self.headers_sent:
                self.context.abort(
                    grpc.StatusCode.INTERNAL,
                    "cannot enable response compression after response headers were sent",
                )
            self.context.set_compression(grpc.Compression.Gzip)
            self.compressing = True

    def responses(self, parameters):
        self.prepare(parameters)
        for params in parameters:
            body = _zeros(params.size, self.context)
            if not _sleep_interval(params.interval_us, self.cancelled):
                return
            if self.compressing and not (params.HasField("compressed") and params.compressed.value):
                self.context.disable_next_message_compression()
            self.headers_sent = True
            yield messages_pb2.StreamingOutputCallResponse(
                payload=messages_pb2.Payload(type=messages_pb2.COMPRESSABLE, body=body)
            )


class TestService:
    def EmptyCall(self, received, context):
        _echo(context)
        return empty_pb2.Empty()

    def UnaryCall(self, received, context):
        request = received.message
        if request.HasField("response_compressed"):
            context.set_compression(
                grpc.Compression.Gzip
                if request.response_compressed.value
                else grpc.Compression.NoCompression
            )
        _echo(context)
        _check_expected_compression(received, context)
        _check_response_type(request.response_type, context)
        body = _zeros(request.response_size, context)
        _maybe_echo_status(request, context)
        return messages_pb2.SimpleResponse(
            payload=messages_pb2.Payload(type=messages_pb2.COMPRESSABLE, body=body)
        )

    def CacheableUnaryCall(self, received, context):
        # The request is ignored by design; the body only has to differ per
        # call, and the header lets a caching proxy keep it.
        context.send_initial_metadata([("cache-control", "max-age=60, public")])
        stamp = str(time.time_ns()).encode("ascii")
        return messages_pb2.SimpleResponse(
            payload=messages_pb2.Payload(type=messages_pb2.COMPRESSABLE, body=stamp)
        )

    def StreamingOutputCall(self, received, context):
        request = received.message
        _check_response_type(request.response_type, context)
        streamer = _Streamer(context)
        streamer.prepare(request.response_parameters)
        streamer.headers_sent = _echo(context)
        yield from streamer.responses(request.response_parameters)
        _maybe_echo_status(request, context)

    def StreamingInputCall(self, request_iterator, context):
        _echo(context)
        total = 0
        for received in request_iterator:
            _check_expected_compression(received, context)
            total += len(received.message.payload.body)
        return messages_pb2.StreamingInputCallResponse(aggregated_payload_size=total)

    def FullDuplexCall(self, request_iterator, context):
        streamer = _Streamer(context, headers_sent=_echo(context))
        for received in request_iterator:
            request = received.message
            if _maybe_echo_status(request, context):
                return
            _check_response_type(request.response_type, context)
            yield from streamer.responses(request.response_parameters)
            if streamer.cancelled.is_set():
                return

    def HalfDuplexCall(self, request_iterator, context):
        streamer = _Streamer(context, headers_sent=_echo(context))
        requests = []
        for received in request_iterator:
            request = received.message
            if _maybe_echo_status(request, context):
                return
            _check_response_type(request.response_type, context)
            requests.append(request)
        streamer.prepare([p for r in requests for p in r.response_parameters])
        for request in requests:
            yield from streamer.responses(request.response_parameters)
            if streamer.cancelled.is_set():
                return


def _handlers(service):
    handlers = {}
    for name, (req_cls, resp_cls, client_streams, server_streams) in pb.METHODS.items():
        impl = getattr(service, name, None)
        if impl is None:
            continue
        if client_streams and server_streams:
            make = grpc.stream_stream_rpc_method_handler
        elif client_streams:
            make = grpc.stream_unary_rpc_method_handler
        elif server_streams:
            make = grpc.unary_stream_rpc_method_handler
        else:
            make = grpc.unary_unary_rpc_method_handler
        handlers[name] = make(
            impl,
            request_deserializer=pb.flagged_deserializer(req_cls),
            response_serializer=pb.serializer,
        )
    return grpc.method_handlers_generic_handler(pb.SERVICE, handlers)


def _read(path):
    with open(path, "rb") as f:
        return f.read()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    pb.add_bool_flag(parser, "--use_tls")
    parser.add_argument("--host", default="127.0.0.1", help="loopback only")
    parser.add_argument("--tls_dir", default=TLS_DIR, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.host not in LOOPBACK_HOSTS:
        parser.error("--host must be 127.0.0.1 (this test server never binds other interfaces)")
    if not 0 <= args.port <= 65535:
        parser.error("--port out of range")

    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=64),
        handlers=(_handlers(TestService()),),
        options=[pb.RAW_MESSAGES_OPTION, ("grpc.so_reuseport", 0)],
    )
    address = "127.0.0.1:%d" % args.port
    try:
        if args.use_tls:
            credentials = grpc.ssl_server_credentials(
                [
                    (
                        _read(os.path.join(args.tls_dir, "server.key")),
                        _read(os.path.join(args.tls_dir, "server.pem")),
                    )
                ],
                root_certificates=_read(os.path.join(args.tls_dir, "ca.pem")),
                require_client_auth=False,
            )
            port = server.add_secure_port(address, credentials)
        else:
            port = server.add_insecure_port(address)
    except RuntimeError as e:
        # grpcio raises (rather than returning 0) when the bind fails.
        port = 0
        print(e, file=sys.stderr)
    if port == 0:
        print("failed to bind %s" % address, file=sys.stderr)
        return 1

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())

    server.start()
    print("listening on 127.0.0.1:%d" % port, flush=True)
    while not stop.wait(0.5):
        pass
    server.stop(grace=1).wait(5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
