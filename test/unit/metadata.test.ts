import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Metadata, SwitchboardError } from "../../src/index.js";
import { decodeBinaryValue, encodeBinaryValue } from "../../src/metadata.js";
import { decodeRequestMetadata, findBadMetadata, headerListBytes } from "../../src/grpc/request-metadata.js";

describe("Metadata", () => {
  it("keeps repeated keys in order and lower-cases keys", () => {
    const md = new Metadata([["X-A", "1"], ["x-a", "2"]]);
    assert.deepEqual(md.getAll("x-a"), ["1", "2"]);
    assert.equal(md.get("X-A"), "1");
  });
  it("accepts records, pairs and other Metadata", () => {
    const md = new Metadata({ a: "1", b: ["2", "3"], "c-bin": new Uint8Array([1]) });
    assert.deepEqual(new Metadata(md).toJSON(), md.toJSON());
    assert.deepEqual(md.getAll("b"), ["2", "3"]);
  });
  it("refuses reserved grpc- keys, bad key characters and non-ASCII values (ERR_SB_BAD_METADATA)", () => {
    for (const make of [() => new Metadata({ "grpc-status": "0" }), () => new Metadata({ "a b": "x" }), () => new Metadata({ a: "é" }), () => new Metadata({ a: "x\n" })]) {
      assert.throws(make, (e: unknown) => e instanceof SwitchboardError && e.code === "ERR_SB_BAD_METADATA");
    }
  });
  it("-bin keys need bytes, others strings", () => {
    assert.throws(() => new Metadata({ "a-bin": "text" }), SwitchboardError);
    assert.throws(() => new Metadata().set("a", new Uint8Array([1]) as never), SwitchboardError);
  });
  it("writes -bin values as unpadded base64", () => {
    const headers: Record<string, string | string[]> = {};
    new Metadata({ "k-bin": new Uint8Array([0xab, 0xab, 0xab, 0x01]), t: ["1", "2"] }).writeHeaders(headers);
    assert.equal(headers["k-bin"], "q6urAQ");
    assert.deepEqual(headers["t"], ["1", "2"]);
  });
});

describe("-bin values on the wire", () => {
  it("decodes padded and unpadded base64 to the same bytes", () => {
    assert.deepEqual(decodeBinaryValue("q6urAQ=="), decodeBinaryValue("q6urAQ"));
    assert.equal(encodeBinaryValue(decodeBinaryValue("q6urAQ")!), "q6urAQ");
  });
  it("rejects malformed base64 (INTERNAL at dispatch)", () => {
    for (const bad of ["q6u*", "a", "abc=d", "===="]) assert.equal(decodeBinaryValue(bad), undefined, bad);
  });
});

describe("request metadata from raw headers", () => {
  const raw = [":path", "/a/b", "content-type", "application/grpc", "te", "trailers", "grpc-timeout", "1S", "x-a", "1", "x-a", "2", "x-b-bin", "AQI,AwQ=", "user-agent", "ua"];
  it("leaves out pseudo headers and protocol headers, keeps repeats and splits -bin on commas", () => {
    const md = decodeRequestMetadata(raw);
    assert.deepEqual([...md.keys()], ["x-a", "x-b-bin", "user-agent"]);
    assert.deepEqual(md.getAll("x-a"), ["1", "2"]);
    assert.deepEqual(md.getAll("x-b-bin").map((v) => [...(v as Uint8Array)]), [[1, 2], [3, 4]]);
  });
  it("finds values outside printable ASCII (0xFF) and malformed -bin values", () => {
    assert.equal(findBadMetadata(raw), undefined);
    assert.match(findBadMetadata(["x-a", "a\u00ffb"])!, /x-a/);
    assert.match(findBadMetadata(["x-a-bin", "@@"])!, /x-a-bin/);
  });
  it("counts header bytes as HTTP/2 does (name + value + 32 per field)", () => {
    assert.equal(headerListBytes(["ab", "cde"]), 2 + 3 + 32);
  });
});
