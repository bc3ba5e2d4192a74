#!/usr/bin/python3
"""gRPC interop test client on grpcio (C-core).

Runs the cases of grpc/grpc doc/interop-test-descriptions.md against a
grpc.testing.TestService server and prints one `PASS <name>` or
`FAIL <name>: <reason>` line per case, then `N passed, M failed`.
Exit status is 0 iff nothing failed.

Usage: /usr/bin/python3 interop_client.py --server_host H --server_port P
           --test_case all|NAME[,NAME...] [--use_tls]
           [--server_host_override NAME] [--ca_file PATH]
"""

import argparse
import copy
import gzip
import os
import queue
import socket
import ssl
import sys
import threading
import time
import traceback
import urllib.parse
import zlib

import grpc
import h2.config
import h2.connection
import h2.events

# Keep the source tree free of __pycache__ directories.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import interop_pb as pb  # noqa: E402
from interop_pb import empty_pb2, messages_pb2  # noqa: E402

DEFAULT_CA = os.path.normpath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "fixtures", "tls", "ca.pem")
)
DEFAULT_HOST_OVERRIDE = "foo.test.google.fr"
CASE_TIMEOUT_S = 20.0
RPC_TIMEOUT_S = 10.0

ECHO_INITIAL = ("x-grpc-test-echo-initial", "test_initial_metadata_value")
ECHO_TRAILING = ("x-grpc-test-echo-trailing-bin", b"\xab\xab\xab")


class CaseFailure(Exception):
    pass


def expect(condition, message):
    if not condition:
        raise CaseFailure(message)


def zeros(n):
    return bytes(n)


def check_payload(payload, size, what):
    body = payload.body
    expect(len(body) == size, "%s: payload body is %d bytes, want %d" % (what, len(body), size))
    expect(body.count(0) == size, "%s: payload body is not all zeros" % what)
    expect(
        payload.type == messages_pb2.COMPRESSABLE,
        "%s: payload type %d, want COMPRESSABLE" % (what, payload.type),
    )


def expect_status(error, code, what):
    """`error` is the RpcError raised by the call, or None if it succeeded."""
    expect(error is not None, "%s: call succeeded, want status %s" % (what, code.name))
    expect(
        error.code() == code,
        "%s: status %s (%r), want %s" % (what, error.code().name, error.details(), code.name),
    )


def capture(fn):
    """Runs fn; returns (result, None) or (None, RpcError)."""
    try:
        return fn(), None
    except grpc.RpcError as e:
        return None, e


def check_echoed(metadata, key, value, where, what):
    values = [v for k, v in (metadata or ()) if k == key]
    expect(values, "%s: no %s in %s metadata" % (what, key, where))
    expect(
        values == [value],
        "%s: %s in %s metadata is %r, want %r" % (what, key, where, values, value),
    )


class RequestPipe:
    """Request iterator the test feeds one message at a time; close() is the
    half-close. grpcio pulls from it on its own thread."""

    _END = object()

    def __init__(self):
        self._queue = queue.Queue()

    def send(self, message):
        self._queue.put(message)

    def close(self):
        self._queue.put(self._END)

    def __iter__(self):
        return self

    def __next__(self):
        item = self._queue.get()
        if item is self._END:
            raise StopIteration
        return item


def next_response(call, what):
    try:
        return next(call)
    except StopIteration:
        raise CaseFailure("%s: stream ended early with %s" % (what, call.code().name))
    except grpc.RpcError as e:
        raise CaseFailure("%s: failed with %s: %r" % (what, e.code().name, e.details()))


class Env:
    def __init__(self, args):
        self.host = args.server_host
        self.port = args.server_port
        self.use_tls = args.use_tls
        self.ca_file = args.ca_file
        if args.use_tls:
            self.override = args.server_host_override or DEFAULT_HOST_OVERRIDE
        else:
            self.override = args.server_host_override
        self._ca = None
        self._channels = []
        self._lock = threading.Lock()

    def for_case(self):
        """A copy with its own channel list: a timed-out case that finishes
        late must not close the channels of the case running after it."""
        env = copy.copy(self)
        env._channels = []
        env._lock = threading.Lock()
        return env

    def close_channels(self):
        with self._lock:
            channels, self._channels = self._channels, []
        for ch in channels:
            ch.close()

    def authority(self):
        if self.override:
            return self.override
        host = self.host
        if ":" in host and not host.startswith("["):
            host = "[%s]" % host
        return "%s:%d" % (host, self.port)

    def channel(self):
        target = "%s:%d" % (self.host, self.port)
        options = [pb.RAW_MESSAGES_OPTION]
        if self.use_tls:
            if self._ca is None:
                with open(self.ca_file, "rb") as f:
                    self._ca = f.read()
            if self.override:
                options.append(("grpc.ssl_target_name_override", self.override))
            ch = grpc.secure_channel(target, grpc.ssl_channel_credentials(self._ca), options)
        else:
            if self.override:
                options.append(("grpc.default_authority", self.override))
            ch = grpc.insecure_channel(target, options)
        with self._lock:
            self._channels.append(ch)
        return ch


class Stub:
    """Multi-callables for TestService, with deserializers that also report
    the compressed flag of every response."""

    def __init__(self, channel):
        self.channel = channel

    def _callable(self, name, service=pb.SERVICE):
        req_cls, resp_cls, client_streams, server_streams = pb.METHODS[name]
        if client_streams and server_streams:
            make = self.channel.stream_stream
        elif client_streams:
            make = self.channel.stream_unary
        elif server_streams:
            make = self.channel.unary_stream
        else:
            make = self.channel.unary_unary
        return make(
            pb.method_path(name, service),
            request_serializer=pb.serializer,
            response_deserializer=pb.flagged_deserializer(resp_cls),
        )

    def __getattr__(self, name):
        if name in pb.METHODS:
            return self._callable(name)
        raise AttributeError(name)

    def unimplemented_service(self):
        return self._callable("UnimplementedCall", pb.UNIMPLEMENTED_SERVICE)


def large_request(**extra):
    return messages_pb2.SimpleRequest(
        response_size=314159, payload=messages_pb2.Payload(body=zeros(271828)), **extra
    )


# --------------------------------------------------------------------------
# Test cases


def empty_unary(env):
    r = Stub(env.channel()).EmptyCall(empty_pb2.Empty(), timeout=RPC_TIMEOUT_S)
    expect(r is not None and isinstance(r.message, empty_pb2.Empty), "no Empty response")
    expect(r.size == 0, "response serialized to %d bytes, want 0" % r.size)


def large_unary(env):
    r = Stub(env.channel()).UnaryCall(large_request(), timeout=RPC_TIMEOUT_S)
    check_payload(r.message.payload, 314159, "response")


def client_compressed_unary(env):
    unary = Stub(env.channel()).UnaryCall
    _, err = capture(
        lambda: unary(
            large_request(expect_compressed=messages_pb2.BoolValue(value=True)),
            compression=grpc.Compression.NoCompression,
            timeout=RPC_TIMEOUT_S,
        )
    )
    expect_status(err, grpc.StatusCode.INVALID_ARGUMENT, "probe (uncompressed, expect_compressed=true)")

    for compressed in (True, False):
        what = "%s request" % ("compressed" if compressed else "uncompressed")
        r, err = capture(
            lambda: unary(
                large_request(expect_compressed=messages_pb2.BoolValue(value=compressed)),
                compression=grpc.Compression.Gzip if compressed else grpc.Compression.NoCompression,
                timeout=RPC_TIMEOUT_S,
            )
        )
        expect(err is None, "%s: failed with %s: %r" % (what, err and err.code().name, err and err.details()))
        check_payload(r.message.payload, 314159, what)


def server_compressed_unary(env):
    unary = Stub(env.channel()).UnaryCall
    for compressed in (True, False):
        what = "response_compressed=%s" % str(compressed).lower()
        r, err = capture(
            lambda: unary(
                large_request(response_compressed=messages_pb2.BoolValue(value=compressed)),
                timeout=RPC_TIMEOUT_S,
            )
        )
        expect(err is None, "%s: failed with %s: %r" % (what, err and err.code().name, err and err.details()))
        expect(
            r.compressed == compressed,
            "%s: response compressed flag is %s" % (what, "set" if r.compressed else "clear"),
        )
        check_payload(r.message.payload, 314159, what)


def client_streaming(env):
    sizes = (27182, 8, 1828, 45904)
    requests = [
        messages_pb2.StreamingInputCallRequest(payload=messages_pb2.Payload(body=zeros(n)))
        for n in sizes
    ]
    r = Stub(env.channel()).StreamingInputCall(iter(requests), timeout=RPC_TIMEOUT_S)
    expect(
        r.message.aggregated_payload_size == 74922,
        "aggregated_payload_size %d, want 74922" % r.message.aggregated_payload_size,
    )


def client_compressed_streaming(env):
    probe = messages_pb2.StreamingInputCallRequest(
        expect_compressed=messages_pb2.BoolValue(value=True),
        payload=messages_pb2.Payload(body=zeros(27182)),
    )
    _, err = capture(
        lambda: Stub(env.channel()).StreamingInputCall(
            iter([probe]), compression=grpc.Compression.NoCompression, timeout=RPC_TIMEOUT_S
        )
    )
    expect_status(err, grpc.StatusCode.INVALID_ARGUMENT, "probe (uncompressed, expect_compressed=true)")

    # grpcio has no way to send one message of a compressed stream without
    # compression, so this call is made by hand over HTTP/2.
    first = messages_pb2.StreamingInputCallRequest(
        expect_compressed=messages_pb2.BoolValue(value=True),
        payload=messages_pb2.Payload(body=zeros(27182)),
    )
    second = messages_pb2.StreamingInputCallRequest(
        expect_compressed=messages_pb2.BoolValue(value=False),
        payload=messages_pb2.Payload(body=zeros(45904)),
    )
    result = raw_grpc_call(
        env,
        pb.method_path("StreamingInputCall"),
        [(True, first.SerializeToString()), (False, second.SerializeToString())],
        encoding="gzip",
    )
    expect(
        result.status == 0,
        "streaming call: status %s %r, want 0 (OK)" % (result.status, result.message),
    )
    expect(len(result.messages) == 1, "streaming call: %d response messages, want 1" % len(result.messages))
    response = messages_pb2.StreamingInputCallResponse.FromString(result.messages[0])
    expect(
        response.aggregated_payload_size == 73086,
        "aggregated_payload_size %d, want 73086" % response.aggregated_payload_size,
    )


def _streaming_output(env, parameters):
    request = messages_pb2.StreamingOutputCallRequest(response_parameters=parameters)
    call = Stub(env.channel()).StreamingOutputCall(request, timeout=RPC_TIMEOUT_S)
    responses = list(call)
    expect(call.code() == grpc.StatusCode.OK, "status %s" % call.code().name)
    return responses


def server_streaming(env):
    sizes = [31415, 9, 2653, 58979]
    responses = _streaming_output(env, [messages_pb2.ResponseParameters(size=n) for n in sizes])
    expect(len(responses) == 4, "%d responses, want 4" % len(responses))
    for i, (r, n) in enumerate(zip(responses, sizes)):
        check_payload(r.message.payload, n, "response %d" % i)


def server_compressed_streaming(env):
    wanted = [(True, 31415), (False, 92653)]
    responses = _streaming_output(
        env,
        [
            messages_pb2.ResponseParameters(size=n, compressed=messages_pb2.BoolValue(value=c))
            for c, n in wanted
        ],
    )
    expect(len(responses) == 2, "%d responses, want 2" % len(responses))
    for i, (r, (c, n)) in enumerate(zip(responses, wanted)):
        expect(
            r.compressed == c,
            "response %d (compressed=%s): compressed flag is %s"
            % (i, str(c).lower(), "set" if r.compressed else "clear"),
        )
        check_payload(r.message.payload, n, "response %d" % i)


def ping_pong(env):
    steps = [(27182, 31415), (8, 9), (1828, 2653), (45904, 58979)]
    pipe = RequestPipe()
    try:
        call = Stub(env.channel()).FullDuplexCall(pipe, timeout=RPC_TIMEOUT_S)
        for i, (request_size, response_size) in enumerate(steps):
            pipe.send(
                messages_pb2.StreamingOutputCallRequest(
                    response_parameters=[messages_pb2.ResponseParameters(size=response_size)],
                    payload=messages_pb2.Payload(body=zeros(request_size)),
                )
            )
            r = next_response(call, "response %d" % i)
            check_payload(r.message.payload, response_size, "response %d" % i)
        pipe.close()
        extra, err = capture(lambda: list(call))
        expect(err is None, "after half-close: %s %r" % (err and err.code().name, err and err.details()))
        expect(not extra, "%d responses after the 4th, want none" % len(extra))
        expect(call.code() == grpc.StatusCode.OK, "status %s" % call.code().name)
    finally:
        pipe.close()


def empty_stream(env):
    call = Stub(env.channel()).FullDuplexCall(iter(()), timeout=RPC_TIMEOUT_S)
    responses = list(call)
    expect(call.code() == grpc.StatusCode.OK, "status %s" % call.code().name)
    expect(not responses, "%d responses, want 0" % len(responses))


def timeout_on_sleeping_server(env):
    pipe = RequestPipe()
    try:
        call = Stub(env.channel()).FullDuplexCall(pipe, timeout=0.001)
        pipe.send(messages_pb2.StreamingOutputCallRequest(payload=messages_pb2.Payload(body=zeros(27182))))
        _, err = capture(lambda: list(call))
        expect_status(err, grpc.StatusCode.DEADLINE_EXCEEDED, "call")
    finally:
        pipe.close()


def cancel_after_begin(env):
    pipe = RequestPipe()
    try:
        future = Stub(env.channel()).StreamingInputCall.future(pipe, timeout=RPC_TIMEOUT_S)
        future.cancel()
        code = future.code()
        expect(code == grpc.StatusCode.CANCELLED, "status %s, want CANCELLED" % code.name)
    finally:
        pipe.close()


def cancel_after_first_response(env):
    pipe = RequestPipe()
    try:
        call = Stub(env.channel()).FullDuplexCall(pipe, timeout=RPC_TIMEOUT_S)
        pipe.send(
            messages_pb2.StreamingOutputCallRequest(
                response_parameters=[messages_pb2.ResponseParameters(size=31415)],
                payload=messages_pb2.Payload(body=zeros(27182)),
            )
        )
        r = next_response(call, "first response")
        check_payload(r.message.payload, 31415, "first response")
        call.cancel()
        _, err = capture(lambda: list(call))
        expect_status(err, grpc.StatusCode.CANCELLED, "call")
        expect(call.code() == grpc.StatusCode.CANCELLED, "status %s, want CANCELLED" % call.code().name)
    finally:
        pipe.close()


def _echo_status_checks(env, code, message, with_duplex):
    stub = Stub(env.channel())
    status = messages_pb2.EchoStatus(code=code, message=message)
    _, err = capture(
        lambda: stub.UnaryCall(messages_pb2.SimpleRequest(response_status=status), timeout=RPC_TIMEOUT_S)
    )
    expect(err is not None, "UnaryCall succeeded, want status %d" % code)
    expect(err.code().value[0] == code, "UnaryCall: status %s, want %d" % (err.code().name, code))
    expect(err.details() == message, "UnaryCall: status message %r, want %r" % (err.details(), message))
    if not with_duplex:
        return
    call = stub.FullDuplexCall(
        iter([messages_pb2.StreamingOutputCallRequest(response_status=status)]), timeout=RPC_TIMEOUT_S
    )
    _, err = capture(lambda: list(call))
    expect(err is not None, "FullDuplexCall succeeded, want status %d" % code)
    expect(err.code().value[0] == code, "FullDuplexCall: status %s, want %d" % (err.code().name, code))
    expect(
        err.details() == message, "FullDuplexCall: status message %r, want %r" % (err.details(), message)
    )


def status_code_and_message(env):
    _echo_status_checks(env, 2, "test status message", with_duplex=True)


def special_status_message(env):
    _echo_status_checks(
        env, 2, "\t\ntest with whitespace\r\nand Unicode BMP \u263a and non-BMP \U0001f608\t\n", with_duplex=False
    )


def custom_metadata(env):
    stub = Stub(env.channel())
    metadata = (ECHO_INITIAL, ECHO_TRAILING)

    r, call = stub.UnaryCall.with_call(large_request(), metadata=metadata, timeout=RPC_TIMEOUT_S)
    check_payload(r.message.payload, 314159, "UnaryCall response")
    check_echoed(call.initial_metadata(), *ECHO_INITIAL, "initial", "UnaryCall")
    check_echoed(call.trailing_metadata(), *ECHO_TRAILING, "trailing", "UnaryCall")

    request = messages_pb2.StreamingOutputCallRequest(
        response_parameters=[messages_pb2.ResponseParameters(size=314159)],
        payload=messages_pb2.Payload(body=zeros(271828)),
    )
    call = stub.FullDuplexCall(iter([request]), metadata=metadata, timeout=RPC_TIMEOUT_S)
    responses, err = capture(lambda: list(call))
    expect(err is None, "FullDuplexCall: failed with %s: %r" % (err and err.code().name, err and err.details()))
    expect(len(responses) == 1, "FullDuplexCall: %d responses, want 1" % len(responses))
    check_payload(responses[0].message.payload, 314159, "FullDuplexCall response")
    check_echoed(call.initial_metadata(), *ECHO_INITIAL, "initial", "FullDuplexCall")
    check_echoed(call.trailing_metadata(), *ECHO_TRAILING, "trailing", "FullDuplexCall")


def unimplemented_method(env):
    stub = Stub(env.channel())
    _, err = capture(lambda: stub.UnimplementedCall(empty_pb2.Empty(), timeout=RPC_TIMEOUT_S))
    expect_status(err, grpc.StatusCode.UNIMPLEMENTED, "TestService/UnimplementedCall")


def unimplemented_service(env):
    stub = Stub(env.channel())
    call = stub.unimplemented_service()
    _, err = capture(lambda: call(empty_pb2.Empty(), timeout=RPC_TIMEOUT_S))
    expect_status(err, grpc.StatusCode.UNIMPLEMENTED, "UnimplementedService/UnimplementedCall")


CASES = {
    f.__name__: f
    for f in (
        empty_unary,
        large_unary,
        client_streaming,
        server_streaming,
        ping_pong,
        empty_stream,
        timeout_on_sleeping_server,
        cancel_after_begin,
        cancel_after_first_response,
        status_code_and_message,
        special_status_message,
        custom_metadata,
        unimplemented_method,
        unimplemented_service,
        client_compressed_unary,
        server_compressed_unary,
        client_compressed_streaming,
        server_compressed_streaming,
    )
}


# --------------------------------------------------------------------------
# Hand-made gRPC call over HTTP/2 (python3-h2), for what grpcio cannot send.


class RawResult:
    def __init__(self):
        self.http_status = None
        self.headers = []
        self.trailers = []
        self.messages = []
        self.status = None
        self.message = ""


def _frame(compressed, data, encoding):
    if compressed:
        data = gzip.compress(data) if encoding == "gzip" else zlib.compress(data)
    return bytes([1 if compressed else 0]) + len(data).to_bytes(4, "big") + data


def _unframe(buf, encoding):
    messages = []
    while buf:
        expect(len(buf) >= 5, "truncated gRPC message prefix in response")
        flag, length = buf[0], int.from_bytes(buf[1:5], "big")
        expect(len(buf) >= 5 + length, "truncated gRPC message in response")
        data = bytes(buf[5 : 5 + length])
        buf = buf[5 + length :]
        if flag & 1:
            if encoding == "gzip":
                data = gzip.decompress(data)
            elif encoding == "deflate":
                data = zlib.decompress(data)
            else:
                raise CaseFailure("compressed response message with grpc-encoding %r" % encoding)
        messages.append(data)
    return messages


def raw_grpc_call(env, path, messages, encoding):
    """One gRPC call: sends `messages` ([(compress, serialized)]) with the
    given grpc-encoding, half-closes, and collects the response."""
    deadline = time.monotonic() + RPC_TIMEOUT_S
    sock = socket.create_connection((env.host, env.port), timeout=RPC_TIMEOUT_S)
    try:
        if env.use_tls:
            context = ssl.create_default_context(cafile=env.ca_file)
            context.set_alpn_protocols(["h2"])
            sock = context.wrap_socket(sock, server_hostname=env.override or env.host)
            expect(
                sock.selected_alpn_protocol() == "h2",
                "TLS: server selected ALPN %r, want h2" % sock.selected_alpn_protocol(),
            )
        conn = h2.connection.H2Connection(
            config=h2.config.H2Configuration(client_side=True, header_encoding="utf-8")
        )
        conn.initiate_connection()
        sock.sendall(conn.data_to_send())

        stream_id = conn.get_next_available_stream_id()
        conn.send_headers(
            stream_id,
            [
                (":method", "POST"),
                (":scheme", "https" if env.use_tls else "http"),
                (":path", path),
                (":authority", env.authority()),
                ("content-type", "application/grpc"),
                ("te", "trailers"),
                ("grpc-encoding", encoding),
                ("grpc-accept-encoding", "identity,deflate,gzip"),
                ("grpc-timeout", "%dm" % int(RPC_TIMEOUT_S * 1000)),
                ("user-agent", "switchboard-interop-python-h2"),
            ],
        )
        pending = b"".join(_frame(c, data, encoding) for c, data in messages)
        result = RawResult()
        body = bytearray()
        ended = False
        response_encoding = "identity"

        def pump():
            nonlocal ended, response_encoding
            sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                data = sock.recv(65536)
            except socket.timeout:
                raise CaseFailure("raw HTTP/2 call timed out")
            if not data:
                raise CaseFailure("server closed the connection")
            for event in conn.receive_data(data):
                if isinstance(event, h2.events.ResponseReceived) and event.stream_id == stream_id:
                    result.headers = list(event.headers)
                    hdrs = dict(result.headers)
                    result.http_status = hdrs.get(":status")
                    response_encoding = hdrs.get("grpc-encoding", "identity")
                    if event.stream_ended:
                        ended = True
                elif isinstance(event, h2.events.DataReceived) and event.stream_id == stream_id:
                    body.extend(event.data)
                    conn.acknowledge_received_data(event.flow_controlled_length, stream_id)
                elif isinstance(event, h2.events.TrailersReceived) and event.stream_id == stream_id:
                    result.trailers = list(event.headers)
                elif isinstance(event, h2.events.StreamEnded) and event.stream_id == stream_id:
                    ended = True
                elif isinstance(event, h2.events.StreamReset) and event.stream_id == stream_id:
                    raise CaseFailure("server reset the stream (error code %s)" % event.error_code)
                elif isinstance(event, h2.events.ConnectionTerminated):
                    raise CaseFailure("server sent GOAWAY (error code %s)" % event.error_code)
            out = conn.data_to_send()
            if out:
                sock.sendall(out)

        while pending and not ended:
            window = min(conn.local_flow_control_window(stream_id), conn.max_outbound_frame_size)
            if window <= 0:
                pump()
                continue
            chunk, pending = pending[:window], pending[window:]
            conn.send_data(stream_id, chunk, end_stream=not pending)
            sock.sendall(conn.data_to_send())
        if not ended and not messages:
            conn.end_stream(stream_id)
            sock.sendall(conn.data_to_send())
        while not ended:
            pump()

        expect(result.http_status == "200", "HTTP status %r, want 200" % result.http_status)
        # A trailers-only response carries the status in its headers.
        status_fields = dict(result.trailers or result.headers)
        expect("grpc-status" in status_fields, "response has no grpc-status")
        result.status = int(status_fields["grpc-status"])
        result.message = urllib.parse.unquote(status_fields.get("grpc-message", ""), errors="replace")
        result.messages = _unframe(bytes(body), response_encoding)
        return result
    finally:
        sock.close()


# --------------------------------------------------------------------------


def run_case(fn, env):
    """Runs one case on a worker thread so a hung call cannot stall the run;
    returns None on success or the failure reason."""
    outcome = {}
    env = env.for_case()

    def target():
        try:
            try:
                fn(env)
            finally:
                env.close_channels()
        except CaseFailure as e:
            outcome["error"] = str(e)
        except grpc.RpcError as e:
            outcome["error"] = "unexpected RPC failure %s: %r" % (e.code().name, e.details())
        except Exception as e:
            frames = traceback.extract_tb(e.__traceback__)
            where = "%s:%d" % (os.path.basename(frames[-1].filename), frames[-1].lineno) if frames else "?"
            outcome["error"] = "%s: %s (at %s)" % (type(e).__name__, e, where)
        else:
            outcome["ok"] = True

    worker = threading.Thread(target=target, name=fn.__name__, daemon=True)
    worker.start()
    worker.join(CASE_TIMEOUT_S)
    if worker.is_alive():
        return "timed out after %gs" % CASE_TIMEOUT_S
    return None if outcome.get("ok") else outcome.get("error", "unknown error")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server_host", default="127.0.0.1")
    parser.add_argument("--server_port", type=int, required=True)
    parser.add_argument("--test_case", default="all", help="all, or a comma-separated list of: " + ", ".join(CASES))
    pb.add_bool_flag(parser, "--use_tls")
    parser.add_argument(
        "--server_host_override",
        default=None,
        help="TLS name to verify and :authority to send (default with --use_tls: %s)" % DEFAULT_HOST_OVERRIDE,
    )
    parser.add_argument("--ca_file", default=DEFAULT_CA)
    args = parser.parse_args(argv)

    if args.test_case == "all":
        names = list(CASES)
    else:
        names = [n.strip() for n in args.test_case.split(",") if n.strip()]
        unknown = [n for n in names if n not in CASES]
        if unknown or not names:
            parser.error("unknown test case(s): %s" % ", ".join(unknown or ["<none>"]))

    env = Env(args)
    failed = 0
    for name in names:
        reason = run_case(CASES[name], env)
        if reason is None:
            print("PASS %s" % name, flush=True)
        else:
            failed += 1
            print("FAIL %s: %s" % (name, reason.replace("\r", "\\r").replace("\n", "\\n")), flush=True)
    print("%d passed, %d failed" % (len(names) - failed, failed), flush=True)
    # A timed-out case may have left a call hanging on a daemon thread; skip
    # grpcio's interpreter-exit cleanup so the process always ends promptly.
    sys.stdout.flush()
    sys.stderr.flush()
    pb.cleanup()
    os._exit(0 if failed == 0 else 1)


if __name__ == "__main__":
    main()
