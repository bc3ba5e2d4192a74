import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decodeGrpcMessage, encodeGrpcMessage } from "../../src/grpc/percent.js";

describe("grpc-message percent-encoding", () => {
  it("leaves printable ASCII alone and encodes %, controls and UTF-8 bytes", () => {
    assert.equal(encodeGrpcMessage("plain text"), "plain text");
    assert.equal(encodeGrpcMessage("100%"), "100%25");
    assert.equal(encodeGrpcMessage("\t\n☺"), "%09%0A%E2%98%BA");
  });
  it("round-trips the interop special status message", () => {
    const m = "\t\ntest with whitespace\r\nand Unicode BMP ☺ and non-BMP 😈\t\n";
    assert.equal(decodeGrpcMessage(encodeGrpcMessage(m)), m);
  });
  it("keeps malformed escapes as they are", () => {
    assert.equal(decodeGrpcMessage("50%zz"), "50%zz");
    assert.equal(decodeGrpcMessage("end%4"), "end%4");
  });
});
