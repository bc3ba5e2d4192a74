import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { EnvelopeReader, frameMessage, type Envelope } from "../../src/codec/envelope.js";
import { Code, type RpcError } from "../../src/index.js";

function collect(max = 1024) {
  const got: Envelope[] = [];
  const errors: RpcError[] = [];
  const reader = new EnvelopeReader(max, { onEnvelope: (e) => got.push(e), onFramingError: (e) => errors.push(e) });
  return { reader, got, errors };
}

describe("message framing", () => {
  it("reads messages split across chunks and several messages in one chunk", () => {
    const { reader, got } = collect();
    const bytes = Buffer.concat([frameMessage(Buffer.from("hello"), false), frameMessage(Buffer.from(""), false), frameMessage(Buffer.from("xy"), true)]);
    for (let i = 0; i < bytes.length; i += 3) reader.push(bytes.subarray(i, i + 3));
    assert.deepEqual(got.map((e) => [e.data.toString(), e.compressed]), [["hello", false], ["", false], ["xy", true]]);
    assert.equal(reader.partial, false);
  });
  it("refuses a length over the limit from the prefix alone -> RESOURCE_EXHAUSTED", () => {
    const { reader, got, errors } = collect(10);
    reader.push(Buffer.from([0, 0xff, 0xff, 0xff, 0xff]));
    assert.equal(got.length, 0);
    assert.equal(errors[0]?.code, Code.RESOURCE_EXHAUSTED);
  });
  it("accepts exactly the limit", () => {
    const { reader, got, errors } = collect(10);
    reader.push(frameMessage(Buffer.alloc(10), false));
    assert.equal(got.length, 1);
    assert.equal(errors.length, 0);
  });
  it("flag byte 2 -> INTERNAL", () => {
    const { reader, errors } = collect();
    reader.push(Buffer.from([2, 0, 0, 0, 0]));
    assert.equal(errors[0]?.code, Code.INTERNAL);
  });
  it("reports a partial message (truncated body)", () => {
    const { reader } = collect();
    reader.push(frameMessage(Buffer.from("hello"), false).subarray(0, 7));
    assert.equal(reader.partial, true);
  });
});
