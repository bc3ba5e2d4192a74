import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fromGrpcChannelArgs, Server, SwitchboardError } from "../../src/index.js";
import { parseAddress } from "../../src/server/address.js";

describe("grpcio channel arguments", () => {
  it("map onto ServerOptions (list of pairs or record)", () => {
    const o = fromGrpcChannelArgs([
      ["grpc.max_receive_message_length", 1024],
      ["grpc.max_send_message_length", -1],
      ["grpc.max_concurrent_streams", 10],
      ["grpc.default_compression_algorithm", 2],
    ]);
    assert.equal(o.maxReceiveMessageLength, 1024);
    assert.equal(o.maxSendMessageLength, Number.MAX_SAFE_INTEGER);
    assert.equal(o.maxConcurrentStreams, 10);
    assert.equal(o.compression, "gzip");
    assert.equal(fromGrpcChannelArgs({ "grpc.keepalive_time_ms": "5000" }).keepaliveTimeMs, 5000);
  });
  it("an unknown argument throws ERR_SB_BAD_OPTION instead of being ignored", () => {
    assert.throws(() => new Server({ grpcOptions: [["grpc.no_such_thing", 1]] }), (e: unknown) => e instanceof SwitchboardError && e.code === "ERR_SB_BAD_OPTION");
  });
});

describe("listen addresses", () => {
  it("parses host:port, [v6]:port, :port and unix paths", () => {
    assert.deepEqual(parseAddress("127.0.0.1:50051"), { kind: "tcp", host: "127.0.0.1", port: 50051 });
    assert.deepEqual(parseAddress("[::]:0"), { kind: "tcp", host: "::", port: 0 });
    assert.deepEqual(parseAddress(":8080"), { kind: "tcp", host: undefined, port: 8080 });
    assert.deepEqual(parseAddress("unix:/tmp/a.sock"), { kind: "unix", path: "/tmp/a.sock" });
    assert.deepEqual(parseAddress("unix:///tmp/a.sock"), { kind: "unix", path: "/tmp/a.sock" });
  });
  it("bad addresses throw ERR_SB_BAD_ADDRESS", () => {
    for (const bad of ["localhost", "1.2.3.4:99999", "[::1]50051", "host:x", "unix:"]) {
      assert.throws(() => parseAddress(bad), (e: unknown) => e instanceof SwitchboardError && e.code === "ERR_SB_BAD_ADDRESS", bad);
    }
  });
});
