// Metadata keys that name Object.prototype members (`__proto__`, `constructor`, `prototype`,
// `tostring`) are ordinary keys: the object views Metadata produces keep them as own
// entries and never reach, or replace, a prototype (reliability row 32).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Metadata } from "../../src/index.js";

const KEYS = ["__proto__", "constructor", "prototype", "tostring"] as const;

function prototypeKeyed(): Metadata {
  const md = new Metadata();
  for (const k of KEYS) md.append(k, `v-${k}`);
  return md;
}

describe("metadata keys named like Object.prototype members", () => {
  it("toJSON() returns a null-prototype object with `__proto__` as an own entry", () => {
    const json = prototypeKeyed().toJSON();
    assert.equal(Object.getPrototypeOf(json), null);
    assert.deepEqual(Object.keys(json), [...KEYS]);
    for (const k of KEYS) assert.equal(Object.getOwnPropertyDescriptor(json, k)?.value, `v-${k}`);
  });

  it("toJSON() with a repeated `__proto__` key gives an own array entry, not an array prototype", () => {
    const json = new Metadata().append("__proto__", "a").append("__proto__", "b").toJSON();
    assert.equal(Object.getPrototypeOf(json), null);
    assert.deepEqual(Object.getOwnPropertyDescriptor(json, "__proto__")?.value, ["a", "b"]);
  });

  it("writeHeaders() into a plain object sets own entries and leaves its prototype alone", () => {
    const headers: Record<string, string | string[]> = {};
    prototypeKeyed().append("__proto__", "again").writeHeaders(headers);
    assert.equal(Object.getPrototypeOf(headers), Object.prototype);
    assert.deepEqual(Object.keys(headers), [...KEYS]);
    assert.deepEqual(Object.getOwnPropertyDescriptor(headers, "__proto__")?.value, ["v-__proto__", "again"]);
    assert.equal(Object.getOwnPropertyDescriptor(headers, "constructor")?.value, "v-constructor");
  });

  it("`-bin` variants are encoded as base64 like any other binary key", () => {
    const headers: Record<string, string | string[]> = {};
    new Metadata().append("__proto__-bin", Uint8Array.of(1, 2, 3)).writeHeaders(headers);
    assert.equal(headers["__proto__-bin"], "AQID");
  });

  it("a Metadata built from toJSON() (or from a record with own `__proto__`) has the same entries", () => {
    const original = prototypeKeyed().append("tostring", "second");
    assert.deepEqual([...new Metadata(original.toJSON())], [...original]);
    const record = JSON.parse('{"__proto__": "p", "constructor": "c"}') as Record<string, string>;
    assert.deepEqual([...new Metadata(record)], [
      ["__proto__", "p"],
      ["constructor", "c"],
    ]);
  });

  it("get/getAll/has on a key named like a prototype member see only metadata", () => {
    const empty = new Metadata();
    for (const k of [...KEYS, "toString", "hasOwnProperty", "valueOf"]) {
      assert.equal(empty.get(k), undefined, k);
      assert.deepEqual(empty.getAll(k), [], k);
      assert.equal(empty.has(k), false, k);
    }
    const md = prototypeKeyed();
    assert.equal(md.get("toString"), "v-tostring");
    assert.equal(md.get("__proto__"), "v-__proto__");
  });
});
