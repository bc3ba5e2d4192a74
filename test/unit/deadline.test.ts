import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Deadline, formatTimeout, parseTimeout } from "../../src/index.js";

describe("grpc-timeout parsing (invalid -> INTERNAL at dispatch)", () => {
  it("parses every unit H M S m u n", () => {
    assert.equal(parseTimeout("2H").ms, 7_200_000);
    assert.equal(parseTimeout("3M").ms, 180_000);
    assert.equal(parseTimeout("4S").ms, 4000);
    assert.equal(parseTimeout("5m").ms, 5);
    assert.equal(parseTimeout("6000u").ms, 6);
    assert.equal(parseTimeout("7000000n").ms, 7);
  });
  it("rejects more than 8 digits, unknown units, signs and empty values", () => {
    for (const bad of ["123456789S", "1X", "-1S", "", "S", "1.5S", " 1S", "1s"]) {
      assert.ok(parseTimeout(bad).error, `expected an error for ${JSON.stringify(bad)}`);
    }
  });
  it("99999999H does not overflow", () => {
    const r = parseTimeout("99999999H");
    assert.equal(r.ms, 99_999_999 * 3_600_000);
    assert.ok(Number.isSafeInteger(r.ms));
  });
  it("0n parses to zero (answered DEADLINE_EXCEEDED without dispatch)", () => {
    assert.equal(parseTimeout("0n").ms, 0);
  });
});

describe("grpc-timeout formatting", () => {
  it("never exceeds 8 digits and never rounds a timeout down", () => {
    for (const ms of [0, 0.5, 1, 99, 100, 12_345, 99_999_999, 1e9, 1e12, 3e14]) {
      const text = formatTimeout(ms);
      assert.match(text, /^\d{1,8}[HMSmun]$/);
      assert.ok(parseTimeout(text).ms! >= ms, `${text} < ${ms}`);
    }
  });
  it("clamps what no timeout can express to the largest one, 99999999H", () => {
    assert.equal(formatTimeout(1e18), "99999999H");
  });
});

describe("Deadline", () => {
  it("timeRemaining() counts down and never goes below zero", () => {
    assert.ok(Deadline.after(1000).timeRemaining() > 900);
    assert.equal(Deadline.after(-5).timeRemaining(), 0);
  });
  it("min() picks the earlier deadline", () => {
    const a = Deadline.after(10);
    const b = Deadline.after(1000);
    assert.equal(Deadline.min(a, b), a);
    assert.equal(Deadline.min(undefined, b), b);
  });
});
