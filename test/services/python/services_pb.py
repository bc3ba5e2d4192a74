"""grpc.health.v1 and grpc.reflection.v1 / v1alpha messages for the python3-grpcio peers
of test/services.

Debian's python3-grpcio ships neither grpc_health nor grpc_reflection, so these clients
are written by hand on protoc-generated messages. The protos come from Debian's
grpc-proto (/usr/share/grpc-proto) and are compiled with Debian's protoc into a
temporary directory, staged under a directory not named `grpc` (protoc would make a
Python package `grpc.health`, which the installed `grpc` package shadows; see
test/interop/python/interop_pb.py). Only the import paths change: the proto packages
stay, so the wire method names are the real ones.

grpc-proto has no v1alpha reflection.proto; v1alpha is the v1 file with its package
renamed. The two are the same on the wire (same messages, same field numbers), and the
package gives the /grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo path.
"""

import atexit
import os
import shutil
import subprocess
import sys
import tempfile

PROTO_SRC = os.environ.get("GRPC_PROTO_DIR", "/usr/share/grpc-proto")
_PKG = "sbservices"
_WORKDIR = tempfile.mkdtemp(prefix="sb-services-pb-")
atexit.register(shutil.rmtree, _WORKDIR, True)


def _stage(source, target, package=None):
    with open(os.path.join(PROTO_SRC, source), encoding="utf-8") as f:
        text = f.read()
    if package is not None:
        old = "package grpc.reflection.v1;"
        if old not in text:
            raise RuntimeError("unexpected %s: no %r" % (source, old))
        text = text.replace(old, "package %s;" % package)
    with open(os.path.join(_WORKDIR, _PKG, target), "w", encoding="utf-8") as f:
        f.write(text)
    return os.path.join(_PKG, target)


def _generate():
    os.mkdir(os.path.join(_WORKDIR, _PKG))
    open(os.path.join(_WORKDIR, _PKG, "__init__.py"), "w").close()
    files = [
        _stage("grpc/health/v1/health.proto", "health.proto"),
        _stage("grpc/reflection/v1/reflection.proto", "reflection_v1.proto"),
        _stage("grpc/reflection/v1/reflection.proto", "reflection_v1alpha.proto", "grpc.reflection.v1alpha"),
    ]
    subprocess.run(["protoc", "-I", _WORKDIR, "--python_out", _WORKDIR] + files, check=True, timeout=60)
    sys.path.insert(0, _WORKDIR)


_generate()

from sbservices import health_pb2, reflection_v1_pb2, reflection_v1alpha_pb2  # noqa: E402

REFLECTION = {"v1": reflection_v1_pb2, "v1alpha": reflection_v1alpha_pb2}


def reflection_path(version):
    return "/grpc.reflection.%s.ServerReflection/ServerReflectionInfo" % version


HEALTH_CHECK = "/grpc.health.v1.Health/Check"
HEALTH_WATCH = "/grpc.health.v1.Health/Watch"


def status_name(value):
    return health_pb2.HealthCheckResponse.ServingStatus.Name(value)
