"""Shared support for the grpcio interop peers: generated protobuf modules,
method paths, and helpers for seeing the compressed flag of a message.

The interop protos live in package `grpc.testing`, and protoc would turn them
into a Python package named `grpc.testing`, which the installed `grpc` package
shadows. So they are staged into a temporary directory under another directory
name (`sbinterop/`); only the import paths change, the proto package stays
`grpc.testing`, so the wire method names stay `/grpc.testing.TestService/...`.
"""

import atexit
import gzip
import os
import shutil
import subprocess
import sys
import tempfile
import zlib

PROTO_SRC = os.environ.get("INTEROP_PROTO_DIR", "/usr/share/grpc-proto")
_FILES = ("empty.proto", "messages.proto", "test.proto")
_PKG = "sbinterop"


_WORKDIR = tempfile.mkdtemp(prefix="sb-interop-pb-")


def cleanup():
    """Removes the generated modules; for callers that leave via os._exit,
    which skips atexit handlers."""
    shutil.rmtree(_WORKDIR, ignore_errors=True)


atexit.register(cleanup)


def _generate():
    workdir = _WORKDIR
    pkgdir = os.path.join(workdir, _PKG)
    os.mkdir(pkgdir)
    for name in _FILES:
        with open(os.path.join(PROTO_SRC, "grpc", "testing", name), encoding="utf-8") as f:
            text = f.read()
        text = text.replace('import "grpc/testing/', 'import "%s/' % _PKG)
        with open(os.path.join(pkgdir, name), "w", encoding="utf-8") as f:
            f.write(text)
    open(os.path.join(pkgdir, "__init__.py"), "w").close()
    subprocess.run(
        ["protoc", "-I", workdir, "--python_out", workdir]
        + [os.path.join(_PKG, name) for name in _FILES],
        check=True,
        timeout=60,
    )
    sys.path.insert(0, workdir)


_generate()

from sbinterop import empty_pb2, messages_pb2  # noqa: E402

SERVICE = "grpc.testing.TestService"
UNIMPLEMENTED_SERVICE = "grpc.testing.UnimplementedService"


def method_path(name, service=SERVICE):
    return "/%s/%s" % (service, name)


# Method name -> (request class, response class, client streams, server streams)
METHODS = {
    "EmptyCall": (empty_pb2.Empty, empty_pb2.Empty, False, False),
    "UnaryCall": (messages_pb2.SimpleRequest, messages_pb2.SimpleResponse, False, False),
    "CacheableUnaryCall": (messages_pb2.SimpleRequest, messages_pb2.SimpleResponse, False, False),
    "StreamingOutputCall": (
        messages_pb2.StreamingOutputCallRequest,
        messages_pb2.StreamingOutputCallResponse,
        False,
        True,
    ),
    "StreamingInputCall": (
        messages_pb2.StreamingInputCallRequest,
        messages_pb2.StreamingInputCallResponse,
        True,
        False,
    ),
    "FullDuplexCall": (
        messages_pb2.StreamingOutputCallRequest,
        messages_pb2.StreamingOutputCallResponse,
        True,
        True,
    ),
    "HalfDuplexCall": (
        messages_pb2.StreamingOutputCallRequest,
        messages_pb2.StreamingOutputCallResponse,
        True,
        True,
    ),
    "UnimplementedCall": (empty_pb2.Empty, empty_pb2.Empty, False, False),
}

# Disables C-core's per-message decompression so that serialized messages
# reach the (de)serializer exactly as they were on the wire. That is the only
# way grpcio exposes whether a message carried the compressed flag.
RAW_MESSAGES_OPTION = ("grpc.per_message_decompression", 0)


def inflate(data):
    """Returns (payload, was_compressed) for a message handed over by C-core
    with per-message decompression disabled.

    A compressed message arrives as a gzip member or a zlib stream. None of
    the interop messages can start like that when uncompressed: their first
    byte is a protobuf tag (field 1..12), and neither 0x1f (wire type 7) nor
    0x78 (field 15) is a tag any of them uses.
    """
    if len(data) >= 2 and data[0] == 0x1F and data[1] == 0x8B:
        return gzip.decompress(data), True
    if len(data) >= 2 and data[0] == 0x78 and ((data[0] << 8) | data[1]) % 31 == 0:
        return zlib.decompress(data), True
    return data, False


class Received:
    """A deserialized message plus whether it arrived compressed."""

    __slots__ = ("message", "compressed", "size")

    def __init__(self, message, compressed, size):
        self.message = message
        self.compressed = compressed
        self.size = size


def flagged_deserializer(cls):
    """Deserializer for channels/servers using RAW_MESSAGES_OPTION."""

    def deserialize(data):
        payload, compressed = inflate(data)
        return Received(cls.FromString(payload), compressed, len(payload))

    return deserialize


def serializer(msg):
    return msg.SerializeToString()


def add_bool_flag(parser, name, help=None):
    """`--name` alone means true; `--name=true|false` (the form upstream
    interop runners pass) is accepted too."""

    def parse(text):
        value = text.strip().lower()
        if value in ("true", "1", "yes"):
            return True
        if value in ("false", "0", "no"):
            return False
        raise ValueError(text)

    parse.__name__ = "boolean"
    parser.add_argument(name, nargs="?", const=True, default=False, type=parse, help=help)
