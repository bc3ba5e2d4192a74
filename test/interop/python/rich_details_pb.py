"""google.rpc.Status and the google.rpc error details for the python3-grpcio peer of
test/interop/rich-details.test.ts.

Debian's python3-grpcio ships neither grpcio-status nor googleapis-common-protos, so the
messages are compiled with Debian's protoc from Switchboard's own proto/google/rpc into a
temporary directory. They are staged under `sbrpc/`, not `google/rpc/`, so the generated
modules never mix with the installed `google` namespace package; the proto package stays
google.rpc, so type URLs are the real ones (type.googleapis.com/google.rpc.BadRequest).

That both peers compile the same .proto proves the wire format, not the field numbers: those
are checked against the public google.rpc model in test/unit/rich-details.test.ts.
"""

import atexit
import os
import shutil
import subprocess
import sys
import tempfile

PROTO_SRC = os.path.normpath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "proto", "google", "rpc")
)
_PKG = "sbrpc"
_FILES = ("status.proto", "error_details.proto")
_WORKDIR = tempfile.mkdtemp(prefix="sb-rich-details-pb-")
atexit.register(shutil.rmtree, _WORKDIR, True)


def _generate():
    pkgdir = os.path.join(_WORKDIR, _PKG)
    os.mkdir(pkgdir)
    open(os.path.join(pkgdir, "__init__.py"), "w").close()
    for name in _FILES:
        shutil.copyfile(os.path.join(PROTO_SRC, name), os.path.join(pkgdir, name))
    # Neither file imports the other; google/protobuf/*.proto come from protoc's own include path.
    subprocess.run(
        ["protoc", "-I", _WORKDIR, "--python_out", _WORKDIR] + [os.path.join(_PKG, n) for n in _FILES],
        check=True,
        timeout=60,
    )
    sys.path.insert(0, _WORKDIR)


_generate()

from sbrpc import error_details_pb2, status_pb2  # noqa: E402

STATUS_DETAILS_KEY = "grpc-status-details-bin"
SAY_HELLO = "/helloworld.Greeter/SayHello"
