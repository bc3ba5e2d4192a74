#!/usr/bin/python3
"""Server reflection round trip on python3-grpcio (C-core) for test/services/reflection.test.ts.

Over one ServerReflectionInfo stream of the given version it lists the services, fetches
the descriptors of each --call's service with file_containing_symbol, builds a
descriptor_pool.DescriptorPool from the returned FileDescriptorProtos, makes the
request/response classes from that pool, and calls the method with channel.unary_unary.
It also asks for an unknown symbol. One JSON object is printed at the end:

  {"version", "services", "files": {SERVICE: [file names as sent]}, "extra_fetches",
   "calls": {METHOD: {field: value}}, "not_found": {"code", "message"}}

Usage: reflection_client.py --port P --version v1|v1alpha
           --call pkg.Service.Method '{"field": "value"}' [--call ...]
"""

import argparse
import json
import os
import queue
import sys

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import services_pb as pb  # noqa: E402

TIMEOUT_S = 20.0


class Reflection:
    """Request/response in lockstep over one bidi ServerReflectionInfo call."""

    def __init__(self, channel, version):
        self.messages = pb.REFLECTION[version]
        method = channel.stream_stream(
            pb.reflection_path(version),
            self.messages.ServerReflectionRequest.SerializeToString,
            self.messages.ServerReflectionResponse.FromString,
        )
        self.requests = queue.Queue()
        self.responses = method(iter(self.requests.get, None), timeout=TIMEOUT_S)

    def ask(self, **fields):
        request = self.messages.ServerReflectionRequest(host="", **fields)
        self.requests.put(request)
        response = next(self.responses)
        if response.original_request != request:
            raise RuntimeError("original_request %r does not echo %r" % (response.original_request, request))
        return response

    def close(self):
        self.requests.put(None)
        for _ in self.responses:
            raise RuntimeError("unexpected response after the requests ended")


def message_class(descriptor):
    get = getattr(message_factory, "GetMessageClass", None)
    if get is not None:
        return get(descriptor)
    return message_factory.MessageFactory(descriptor.file.pool).GetPrototype(descriptor)


def build_pool(reflection, protos, counter):
    """Adds the FileDescriptorProtos to a new pool, imports first; fetches missing imports by name."""
    pool = descriptor_pool.DescriptorPool()
    pending = {p.name: p for p in protos}
    added = set()
    while pending:
        progress = False
        for name in list(pending):
            proto = pending[name]
            missing = [d for d in proto.dependency if d not in added]
            for dep in missing:
                if dep not in pending:
                    counter["extra_fetches"] += 1
                    progress = True
                    response = reflection.ask(file_by_filename=dep)
                    if response.HasField("error_response"):
                        raise RuntimeError("import %s of %s: %s" % (dep, name, response.error_response.error_message))
                    for raw in response.file_descriptor_response.file_descriptor_proto:
                        fdp = descriptor_pb2.FileDescriptorProto.FromString(raw)
                        if fdp.name not in added:
                            pending.setdefault(fdp.name, fdp)
            if not missing:
                pool.AddSerializedFile(proto.SerializeToString())
                added.add(name)
                del pending[name]
                progress = True
        if not progress:
            raise RuntimeError("import cycle among %s" % sorted(pending))
    return pool


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--version", choices=sorted(pb.REFLECTION), required=True)
    parser.add_argument("--call", nargs=2, action="append", default=[], metavar=("METHOD", "JSON"))
    args = parser.parse_args()

    out = {"version": args.version, "files": {}, "calls": {}}
    counter = {"extra_fetches": 0}
    with grpc.insecure_channel("%s:%d" % (args.host, args.port)) as channel:
        reflection = Reflection(channel, args.version)
        listed = reflection.ask(list_services="")
        out["services"] = [s.name for s in listed.list_services_response.service]

        for full_method, request_json in args.call:
            service_name, method_name = full_method.rsplit(".", 1)
            response = reflection.ask(file_containing_symbol=service_name)
            if response.HasField("error_response"):
                raise RuntimeError("%s: %s" % (service_name, response.error_response.error_message))
            protos = [descriptor_pb2.FileDescriptorProto.FromString(raw) for raw in response.file_descriptor_response.file_descriptor_proto]
            out["files"][service_name] = [p.name for p in protos]
            pool = build_pool(reflection, protos, counter)
            method = pool.FindServiceByName(service_name).FindMethodByName(method_name)
            request_class = message_class(method.input_type)
            response_class = message_class(method.output_type)
            call = channel.unary_unary(
                "/%s/%s" % (service_name, method_name),
                request_serializer=request_class.SerializeToString,
                response_deserializer=response_class.FromString,
            )
            reply = call(request_class(**json.loads(request_json)), timeout=TIMEOUT_S)
            out["calls"][full_method] = {
                "type": reply.DESCRIPTOR.full_name,
                "fields": {f.name: getattr(reply, f.name) for f in reply.DESCRIPTOR.fields if f.type != f.TYPE_MESSAGE},
            }

        missing = reflection.ask(file_containing_symbol="no.such.Symbol")
        out["not_found"] = {
            "code": missing.error_response.error_code,
            "message": missing.error_response.error_message,
        }
        reflection.close()
    out["extra_fetches"] = counter["extra_fetches"]
    sys.stdout.write(json.dumps(out) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
