#!/usr/bin/env bash
# Regenerates TypeScript from .proto with buf + protoc-gen-es (both from npm, offline).
# The gRPC interop protos come from Debian's grpc-proto package (/usr/share/grpc-proto).
set -euo pipefail
cd "$(dirname "$0")/.."
lib=$(mktemp -d)
stage=$(mktemp -d)
trap 'rm -rf "$lib" "$stage"' EXIT
# Library protos: ours (proto/) plus health and reflection from grpc-proto, and helloworld for
# `switchboard serve` (src/cli/example-server.ts ships in the package; the examples keep their own copy).
cp -r proto/. "$lib/"
mkdir -p "$lib/helloworld"
cp examples/helloworld/helloworld.proto "$lib/helloworld/"
mkdir -p "$lib/grpc/health/v1" "$lib/grpc/reflection/v1" "$lib/grpc/reflection/v1alpha" "$lib/grpc/channelz/v1"
cp /usr/share/grpc-proto/grpc/health/v1/health.proto "$lib/grpc/health/v1/"
cp /usr/share/grpc-proto/grpc/reflection/v1/reflection.proto "$lib/grpc/reflection/v1/"
cp /usr/share/grpc-proto/grpc/reflection/v1alpha/reflection.proto "$lib/grpc/reflection/v1alpha/"
cp /usr/share/grpc-proto/grpc/channelz/v1/channelz.proto "$lib/grpc/channelz/v1/"
npx buf generate "$lib" --template buf.gen.yaml
mkdir -p "$stage/grpc/testing" "$stage/helloworld"
cp /usr/share/grpc-proto/grpc/testing/{test,messages,empty}.proto "$stage/grpc/testing/"
cp examples/helloworld/helloworld.proto "$stage/helloworld/"
npx buf generate "$stage" --template buf.gen.examples.yaml
# The CLI tests' clitest.Echo (test/cli/fixtures, also loaded by the grpc-js peer) -> test/cli/gen
npx buf generate test/cli/fixtures --template '{"version":"v2","plugins":[{"local":"protoc-gen-es","out":"test/cli/gen","opt":["target=ts","import_extension=js"]}]}'
# The browser tests' webtest.Echo (test/web/fixtures) -> test/web/gen
npx buf generate test/web/fixtures --template '{"version":"v2","plugins":[{"local":"protoc-gen-es","out":"test/web/gen","opt":["target=ts","import_extension=js"]}]}'
