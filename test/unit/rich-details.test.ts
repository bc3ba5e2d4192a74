import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { DurationSchema, TimestampSchema } from "@bufbuild/protobuf/wkt";
import { Code, detail, RpcError } from "../../src/index.js";
import { decodeStatusDetails, encodeStatusDetails } from "../../src/grpc/status-details.js";

describe("rich error details (google.rpc.Status in grpc-status-details-bin)", () => {
  const details = [detail(DurationSchema, create(DurationSchema, { seconds: 5n })), detail(TimestampSchema, create(TimestampSchema, { seconds: 7n }))];

  it("detail() packs a message as an Any with the type.googleapis.com URL", () => {
    assert.equal(details[0]!.typeUrl, "type.googleapis.com/google.protobuf.Duration");
  });
  it("encodes and decodes google.rpc.Status with code, message and details", () => {
    const decoded = decodeStatusDetails(encodeStatusDetails(Code.INVALID_ARGUMENT, "bad", details));
    assert.deepEqual(decoded, { code: Code.INVALID_ARGUMENT, message: "bad", details });
  });
  it("findDetails() decodes the details of one type and skips the others", () => {
    const err = new RpcError(Code.INVALID_ARGUMENT, "bad", { details });
    assert.deepEqual(err.findDetails(DurationSchema).map((d) => d.seconds), [5n]);
    assert.deepEqual(err.findDetails(TimestampSchema).map((d) => d.seconds), [7n]);
  });
  it("bytes that are not a google.rpc.Status decode to undefined", () => {
    assert.equal(decodeStatusDetails(new Uint8Array([0xff, 0xff])), undefined);
  });
});
