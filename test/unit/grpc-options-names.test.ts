// grpcio channel-argument names are looked up in a table of supported names, never on a
// plain object: names of Object.prototype members are unknown names like any other, and an
// unknown name is rejected with ERR_SB_BAD_OPTION naming it.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fromGrpcChannelArgs, Server, SwitchboardError } from "../../src/index.js";

const PROTOTYPE_NAMES = ["constructor", "toString", "__proto__", "hasOwnProperty", "valueOf", "isPrototypeOf", "__defineGetter__", "toLocaleString"];

function badOption(name: string) {
  return (e: unknown) => {
    assert.ok(e instanceof SwitchboardError, `a SwitchboardError, got ${String(e)}`);
    assert.equal(e.code, "ERR_SB_BAD_OPTION");
    assert.ok(e.message.includes(JSON.stringify(name)), `the message names ${name}: ${e.message}`);
    return true;
  };
}

describe("grpcio channel argument names", () => {
  it("names of Object.prototype members are rejected with ERR_SB_BAD_OPTION naming them (list of pairs)", () => {
    for (const name of PROTOTYPE_NAMES) assert.throws(() => fromGrpcChannelArgs([[name, 1]]), badOption(name), name);
  });

  it("names of Object.prototype members are rejected with ERR_SB_BAD_OPTION naming them (record, own `__proto__` included)", () => {
    for (const name of PROTOTYPE_NAMES) {
      const record = JSON.parse(`{${JSON.stringify(name)}: 1}`) as Record<string, number>;
      assert.deepEqual(Object.keys(record), [name]);
      assert.throws(() => fromGrpcChannelArgs(record), badOption(name), name);
    }
  });

  it("new Server({ grpcOptions }) with such a name throws ERR_SB_BAD_OPTION; the options object is not changed", () => {
    const base = { maxReceiveMessageLength: 10 };
    assert.throws(() => new Server({ ...base, grpcOptions: [["constructor", 5]] }), badOption("constructor"));
    assert.throws(() => fromGrpcChannelArgs([["toString", 5]], base), badOption("toString"));
    assert.deepEqual(base, { maxReceiveMessageLength: 10 });
  });

  it("an unknown name's error lists the supported names", () => {
    assert.throws(
      () => fromGrpcChannelArgs([["grpc.no_such", 1]]),
      (e: unknown) => e instanceof SwitchboardError && /supported: .*grpc\.max_receive_message_length/.test(e.message),
    );
  });

  it("supported names still apply, from a list or a record", () => {
    assert.equal(fromGrpcChannelArgs([["grpc.max_concurrent_streams", 7]]).maxConcurrentStreams, 7);
    assert.equal(fromGrpcChannelArgs({ "grpc.keepalive_time_ms": 1000 }).keepaliveTimeMs, 1000);
  });
});
