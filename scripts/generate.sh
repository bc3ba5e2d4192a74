#!/usr/bin/env bash
# Regenerates TypeScript from .proto with buf + protoc-gen-es (both from npm, offline).
# The gRPC interop protos come from Debian's grpc-proto package (/usr/share/grpc-proto).
set -euo pipefail
cd "$(dirname "$0")/.."
npx buf generate proto --template buf.gen.yaml
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/grpc/testing" "$stage/helloworld"
cp /usr/share/grpc-proto/grpc/testing/{test,messages,empty}.proto "$stage/grpc/testing/"
cp examples/helloworld/helloworld.proto "$stage/helloworld/"
npx buf generate "$stage" --template buf.gen.examples.yaml
