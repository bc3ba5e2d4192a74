"""grpc.channelz.v1 messages for the python3-grpcio channelz peer of test/services.

Debian's python3-grpcio ships no grpc_channelz, so the client is written by hand on
protoc-generated messages of Debian's grpc-proto channelz.proto, compiled at import time into a
temporary directory. The file is staged under a directory not named `grpc` (protoc would make a
Python package `grpc.channelz`, which the installed `grpc` package shadows; see services_pb.py);
the proto package stays grpc.channelz.v1, so the wire method names are the real ones.

Debian's protoc (protobuf-compiler) is used when it is installed; otherwise the protoc bundled
with Debian's python3-grpc-tools (`python3 -m grpc_tools.protoc`) with its well-known types.
"""

import atexit
import os
import shutil
import subprocess
import sys
import tempfile

PROTO_SRC = os.environ.get("GRPC_PROTO_DIR", "/usr/share/grpc-proto")
_PKG = "sbchannelz"
_WORKDIR = tempfile.mkdtemp(prefix="sb-channelz-pb-")
atexit.register(shutil.rmtree, _WORKDIR, True)


def _protoc():
    """The protoc command line: Debian's protoc, or grpc_tools' with its google/protobuf includes."""
    if shutil.which("protoc"):
        return ["protoc"]
    import grpc_tools

    includes = os.path.join(os.path.dirname(grpc_tools.__file__), "_proto")
    return [sys.executable, "-m", "grpc_tools.protoc", "-I", includes]


def _generate():
    os.mkdir(os.path.join(_WORKDIR, _PKG))
    open(os.path.join(_WORKDIR, _PKG, "__init__.py"), "w").close()
    shutil.copy(os.path.join(PROTO_SRC, "grpc/channelz/v1/channelz.proto"), os.path.join(_WORKDIR, _PKG, "channelz.proto"))
    subprocess.run(_protoc() + ["-I", _WORKDIR, "--python_out", _WORKDIR, os.path.join(_PKG, "channelz.proto")], check=True, timeout=60)
    sys.path.insert(0, _WORKDIR)


_generate()

from sbchannelz import channelz_pb2  # noqa: E402


def method(name):
    return "/grpc.channelz.v1.Channelz/%s" % name
