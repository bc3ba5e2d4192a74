// The endpoint record format on its own (no etcd needed).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { encodeEndpoint, endpointKey, endpointsFrom, parseEndpointValue, splitHostPort } from "../../src/etcd/endpoints.js";
import type { EtcdKeyValue } from "../../src/etcd/keys.js";
import { prefixEnd } from "../../src/etcd/keys.js";

describe("endpoint records (etcd naming/endpoints format)", () => {
  it("encodeEndpoint -> exactly Go's JSON: Op 0, Addr, Metadata (null by default)", () => {
    assert.equal(encodeEndpoint("10.0.0.1:50051"), '{"Op":0,"Addr":"10.0.0.1:50051","Metadata":null}');
    assert.equal(encodeEndpoint("h:1", { w: 2 }), '{"Op":0,"Addr":"h:1","Metadata":{"w":2}}');
    assert.equal(endpointKey("services/a.B", "h:1"), "services/a.B/h:1");
  });

  it("values Go's decoder accepts -> parsed (missing Op is Add; field names in any case)", () => {
    assert.deepEqual(parseEndpointValue('{"Addr":"h:1","Metadata":"m"}'), { ok: true, op: "add", addr: "h:1", metadata: "m" });
    assert.deepEqual(parseEndpointValue('{"op":1,"addr":"h:1"}'), { ok: true, op: "delete", addr: "h:1", metadata: null });
  });

  const malformed: Array<[string, string]> = [
    ["", "value is not JSON"],
    ["{", "value is not JSON"],
    ["null", "value is not a JSON object"],
    ['"h:1"', "value is not a JSON object"],
    ["[]", "value is not a JSON object"],
    ["{}", "Addr is missing or not a non-empty string"],
    ['{"Addr":""}', "Addr is missing or not a non-empty string"],
    ['{"Addr":5}', "Addr is missing or not a non-empty string"],
    ['{"Op":2,"Addr":"h:1"}', "Op must be 0 (Add) or 1 (Delete), not 2"],
    ['{"Op":"0","Addr":"h:1"}', 'Op must be 0 (Add) or 1 (Delete), not "0"'],
    ['{"Op":0.5,"Addr":"h:1"}', "Op must be 0 (Add) or 1 (Delete), not 0.5"],
  ];
  for (const [value, reason] of malformed) {
    it(`malformed ${JSON.stringify(value)} -> { ok: false, "${reason}" }`, () => {
      assert.deepEqual(parseEndpointValue(value), { ok: false, reason });
    });
  }

  it("endpointsFrom -> Add records listed, Delete records dropped, malformed reported", () => {
    const kv = (key: string, value: string) => ({ key, value }) as EtcdKeyValue;
    const bad: string[] = [];
    const out = endpointsFrom([kv("t/a", encodeEndpoint("a:1")), kv("t/b", '{"Op":1,"Addr":"b:1"}'), kv("t/c", "junk")], (b) => bad.push(b.key));
    assert.deepEqual(out, [{ key: "t/a", addr: "a:1", metadata: null }]);
    assert.deepEqual(bad, ["t/c"]);
  });

  it("splitHostPort: host:port and [v6]:port; anything else -> undefined", () => {
    assert.deepEqual(splitHostPort("127.0.0.1:80"), { host: "127.0.0.1", port: 80 });
    assert.deepEqual(splitHostPort("[::1]:443"), { host: "::1", port: 443 });
    assert.deepEqual(splitHostPort("name.example:65535"), { host: "name.example", port: 65535 });
    for (const bad of ["1.2.3.4", "::1:80", "h:0", "h:65536", ":80", "h:", "a b:1"]) assert.equal(splitHostPort(bad), undefined, bad);
  });

  it("prefixEnd: last byte below 0xff incremented; all 0xff -> [0] (every key)", () => {
    assert.deepEqual([...prefixEnd(new Uint8Array([0x61, 0x2f]))], [0x61, 0x30]);
    assert.deepEqual([...prefixEnd(new Uint8Array([0x61, 0xff]))], [0x62]);
    assert.deepEqual([...prefixEnd(new Uint8Array([0xff, 0xff]))], [0]);
  });
});
