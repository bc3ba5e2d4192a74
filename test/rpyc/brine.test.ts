// Brine (rpyc 5.3's serializer): golden bytes, a round trip against Python's own brine, and
// the refusal of every kind of bad input.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ErrorCode } from "../../src/errors.js";
import { dump, dumpMessage, load, loadMessage } from "../../src/rpyc/brine.js";
import { Ellipsis, NotImplemented, PyComplex, PyFloat, PyFrozenSet, PySlice, isDumpable, pyFloat, type PyValue } from "../../src/rpyc/values.js";
import { rpycPeerSkip, runPython } from "./python-peer.js";

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ""), "hex");
const ascii = (s: string): string => Buffer.from(s, "latin1").toString("hex");

function nested(levels: number): PyValue {
  let v: PyValue = [];
  for (let i = 1; i < levels; i++) v = [v];
  return v;
}

describe("brine dump: golden bytes", () => {
  const cases: [string, PyValue, string][] = [
    ["None", null, "00"],
    ["undefined as None", undefined, "00"],
    ["True / False are bools, not ints", [true, false], "11 03 04"],
    ["immediate int 0", 0, "50"],
    ["immediate int -48 (lowest)", -48, "20"],
    ["immediate int 159 (highest)", 159, "ef"],
    ["160 as text", 160, `16 03 ${ascii("160")}`],
    ["-49 as text", -49, `16 03 ${ascii("-49")}`],
    ["2**53-1 as a safe number", Number.MAX_SAFE_INTEGER, `16 10 ${ascii("9007199254740991")}`],
    ["2**64 as bigint", 2n ** 64n, `16 14 ${ascii("18446744073709551616")}`],
    ["small bigint is immediate", 5n, "55"],
    ["1.5 float", 1.5, "18 3ff8000000000000"],
    ["pyFloat(1) is a float", pyFloat(1), "18 3ff0000000000000"],
    ["-0 is a float", -0, "18 8000000000000000"],
    ["2**53 (unsafe number) is a float", 2 ** 53, "18 4340000000000000"],
    ["empty str", "", "08 01"],
    ["str hé", "hé", "08 0c 68 c3 a9"],
    ["str of 5 chars uses 0E", "hello", `08 0e 05 ${ascii("hello")}`],
    ["empty bytes", Buffer.alloc(0), "01"],
    ["bytes abc", Buffer.from("abc"), "0c 61 62 63"],
    ["bytes of 4", new Uint8Array([1, 2, 3, 4]), "0d 01 02 03 04"],
    ["empty tuple", [], "02"],
    ["tuple of 5", [1, 2, 3, 4, 5], "14 05 51 52 53 54 55"],
    ["frozenset({1})", new PyFrozenSet([1]), "1a 10 51"],
    ["slice(1, None, 2)", new PySlice(1, null, 2), "19 12 51 00 52"],
    ["complex(13, 18.2)", new PyComplex(13, 18.2), "1b 402a000000000000 4032333333333333"],
    ["Ellipsis / NotImplemented", [Ellipsis, NotImplemented], "11 06 05"],
    [
      "rpyc's doctest tuple",
      [Buffer.from("he"), 7, "llo", 8, [], 900, null, true, Ellipsis, 18.2, new PyComplex(13, 18.2), new PySlice(1, 2, 3), new PyFrozenSet([5, 6, 7]), NotImplemented],
      "140e0b686557080c6c6c6f580216033930300003061840323333333333331b402a000000000000403233333333333319125152531a1255565705",
    ],
  ];
  for (const [name, value, bytes] of cases) {
    test(`${name} dumps as ${bytes}`, () => assert.equal(dump(value).toString("hex"), hex(bytes).toString("hex")));
  }

  test("long forms: 256 bytes use 0F, 256 items use 15, 256+ digit ints use 17", () => {
    const b = dump(Buffer.alloc(256, 7));
    assert.equal(b.subarray(0, 5).toString("hex"), "0f00000100");
    assert.equal(b.length, 261);
    const t = dump(new Array(256).fill(1));
    assert.equal(t.subarray(0, 5).toString("hex"), "1500000100");
    const big = 10n ** 300n;
    const i = dump(big);
    assert.equal(i.subarray(0, 5).toString("hex"), "170000012d");
    assert.equal(i.subarray(5).toString("latin1"), big.toString());
    const s = dump("é".repeat(200)); // 400 UTF-8 bytes
    assert.equal(s.subarray(0, 6).toString("hex"), "080f00000190");
  });

  test("ints outside the immediate range are written as their decimal text, every digit count and sign", () => {
    for (let digits = 3; digits <= 16; digits++) {
      for (const v of [10 ** (digits - 1), 10 ** digits - 1, Math.floor(10 ** digits / 7), -(10 ** (digits - 2)), -(10 ** (digits - 1) - 1)]) {
        if (!Number.isSafeInteger(v) || (v >= -48 && v <= 159)) continue;
        const b = dump(v);
        assert.equal(b.subarray(2).toString("latin1"), String(v));
        assert.equal(b[1], String(v).length);
        assert.equal(load(b), v);
      }
    }
  });

  test("dumpMessage writes the 3-tuple (msg_type, seq, payload) of the traced GETROOT request", () => {
    assert.equal(dumpMessage(1, 0, [3, [1, []]]).toString("hex"), "1251501153115102");
    assert.equal(dumpMessage(2, 2n ** 40n, "x").toString("hex"), dump([2, 2n ** 40n, "x"]).toString("hex"));
    assert.deepEqual(dumpMessage(1, 0, null, { head: 5, tail: 1 }).subarray(5, -1), dump([1, 0, null]));
  });

  test("a non-brine value throws BAD_MESSAGE naming it", () => {
    const cyclic: unknown[] = [];
    cyclic.push(cyclic);
    for (const v of [{}, new Map(), () => 1, Symbol("s"), new Uint16Array(2), [1, [{}]], new PySlice(1, {} as PyValue, 2), new PyFrozenSet([[], new Set() as never]), cyclic]) {
      assert.throws(() => dump(v as PyValue), (e: Error & { code?: string }) => e.code === ErrorCode.BAD_MESSAGE && /is not a brine value/.test(e.message), String(v));
    }
  });

  test("an int beyond Python's 4300-digit limit is refused by dump, 4300 digits pass", () => {
    assert.equal(dump(10n ** 4299n).length, 5 + 4300);
    assert.throws(() => dump(10n ** 4300n), { code: ErrorCode.BAD_MESSAGE });
  });

  test("isDumpable: values and tuples/slices/frozensets of values are brine; objects, functions, other typed arrays, cycles and nesting past 257 are not", () => {
    const cyclic: unknown[] = [];
    cyclic.push(cyclic);
    const brine: unknown[] = [null, undefined, true, 1, -0, NaN, 1n, "s", Buffer.from("x"), new Uint8Array(1), pyFloat(2), new PyComplex(1, 2), Ellipsis, NotImplemented,
      [], [1, ["a"]], new PySlice(1, 2, 3), new PyFrozenSet([1, 2]), nested(257)];
    const notBrine: unknown[] = [new PySlice({} as PyValue, 2, 3), new PyFrozenSet([{} as PyValue]), {}, new Map(), () => 0, Symbol("x"), new Uint16Array(1), new ArrayBuffer(2),
      cyclic, nested(258), [nested(257)]];
    for (const v of brine) assert.equal(isDumpable(v), true, String(v));
    for (const v of notBrine) assert.equal(isDumpable(v), false, String(v));
  });

  test("large dumps handed out are not overwritten by later dumps", () => {
    const a = dump(Buffer.alloc(200_000, 1));
    const aCopy = Buffer.from(a);
    const b = dump(Buffer.alloc(300_000, 2));
    const c = dump("x".repeat(100_000));
    dump([1, 2, 3]);
    assert.deepEqual(a, aCopy);
    assert.deepEqual(load(b), Buffer.alloc(300_000, 2));
    assert.equal(load(c), "x".repeat(100_000));
  });

  test("a lone surrogate in a str is sent as U+FFFD, as TextEncoder does", () => {
    assert.equal(dump("a\ud800").toString("hex"), "080d61efbfbd");
  });
});

describe("brine load", () => {
  test("every non-shortest form is accepted", () => {
    const table: [string, PyValue][] = [
      [`0e 03 ${ascii("abc")}`, Buffer.from("abc")],
      ["0f 00000001 61", Buffer.from("a")],
      ["0f 00000000", Buffer.alloc(0)],
      ["16 01 37", 7],
      ["17 00000001 35", 5],
      [`16 03 ${ascii("+05")}`, 5],
      [`16 07 ${ascii(" 1_000 ")}`, 1000],
      [`16 02 ${ascii("-0")}`, 0],
      [`16 03 ${ascii("\t9\n")}`, 9],
      ["14 01 51", [1]],
      ["15 00000002 51 52", [1, 2]],
      ["14 00", []],
      ["08 0f 00000003 68 c3 a9", "hé"],
      ["08 0e 00", ""],
      ["08 0a 61", "a"],
      ["19 14 03 51 52 53", new PySlice(1, 2, 3)],
      ["1a 02", new PyFrozenSet([])],
      ["1a 15 00000001 51", new PyFrozenSet([1])],
    ];
    for (const [bytes, value] of table) assert.deepStrictEqual(load(hex(bytes)), value, bytes);
  });

  test("ints load as numbers when safe, else bigints; floats stay floats (PyFloat when integral, -0.0 too)", () => {
    assert.equal(load(dump(2n ** 53n - 1n)), Number.MAX_SAFE_INTEGER);
    assert.equal(load(dump(-(2n ** 53n) + 1n)), Number.MIN_SAFE_INTEGER);
    assert.equal(load(dump(2n ** 53n)), 2n ** 53n);
    assert.equal(load(dump(-(2n ** 53n))), -(2n ** 53n));
    assert.deepStrictEqual(load(hex("18 0000000000000000")), new PyFloat(0));
    const negZero = load(hex("18 8000000000000000"));
    assert.ok(negZero instanceof PyFloat && Object.is(negZero.value, -0));
    assert.ok(Number.isNaN(load(hex("18 7ff8000000000000"))));
    assert.equal(load(hex("18 7ff0000000000000")), Infinity);
    assert.equal(load(hex("18 3ff8000000000000")), 1.5);
  });

  test("bytes are copies, not views of the input", () => {
    const input = hex("0c 61 62 63");
    const v = load(input) as Buffer;
    input[1] = 0x7a;
    assert.equal(v.toString(), "abc");
  });

  test("a plain Uint8Array (not a Buffer) loads", () => {
    const u = new Uint8Array([0xff, 0x11, 0x51, 0x52]).subarray(1);
    assert.deepStrictEqual(load(u), [1, 2]);
  });

  const badTable: [string, string, RegExp][] = [
    ["empty input", "", /offset 0: truncated/],
    ["tag 07", "07", /invalid tag 0x07/],
    ["tag 09 (retired long)", "09", /invalid tag 0x09/],
    ["tag 1c", "1c", /invalid tag 0x1c/],
    ["tag 1f", "1f", /invalid tag 0x1f/],
    ["tag f0", "f0", /invalid tag 0xf0/],
    ["tag ff", "ff", /invalid tag 0xff/],
    ["invalid tag inside a tuple", "11 51 f5", /offset 2: invalid tag 0xf5/],
    ["truncated 3-byte bytes", "0c 61 62", /bytes needs 3 bytes, only 2 left/],
    ["0E length past the end", "0e 05 61", /bytes needs 5/],
    ["0F length of 4 GiB", "0f ffffffff 61", /bytes needs 4294967295 bytes/],
    ["0F with a truncated length", "0f 0000", /length needs 4 bytes/],
    ["tuple count of 4 G", "15 ffffffff 00", /tuple of 4294967295 items but only 1 bytes left/],
    ["tuple missing an item", "11 11 51 51", /offset 4: truncated/],
    ["tuple count beyond the bytes left", "12 51 51", /offset 0: tuple of 3 items but only 2 bytes left/],
    ["int without a length", "16", /truncated int length/],
    ["int text shorter than announced", "16 05 31 32", /int text needs 5/],
    ["empty int text", "16 00", /not a decimal integer/],
    ["int text 1.5", `16 03 ${ascii("1.5")}`, /not a decimal integer/],
    ["int text 1a", `16 02 ${ascii("1a")}`, /not a decimal integer/],
    ["int text -", `16 01 ${ascii("-")}`, /not a decimal integer/],
    ["int text --1", `16 03 ${ascii("--1")}`, /not a decimal integer/],
    ["int text 0x1", `16 03 ${ascii("0x1")}`, /not a decimal integer/],
    ["int text _1", `16 02 ${ascii("_1")}`, /not a decimal integer/],
    ["int text 1__0", `16 04 ${ascii("1__0")}`, /not a decimal integer/],
    ["int text 1 2", `16 03 ${ascii("1 2")}`, /not a decimal integer/],
    ["int text with NUL", "16 02 31 00", /not a decimal integer/],
    ["int text of non-ASCII digits", "16 02 d9 a3", /not a decimal integer/],
    ["int of 4301 digits", `17 000010cd ${"31".repeat(4301)}`, /4301 digits exceeds the limit of 4300/],
    ["truncated float", "18 0000", /float needs 8/],
    ["truncated complex", "1b 0000000000000000", /complex needs 16/],
    ["invalid UTF-8 in str", "08 0a ff", /str is not valid UTF-8/],
    ["truncated UTF-8 sequence in str", "08 0a c3", /str is not valid UTF-8/],
    ["UTF-8 encoded surrogate in str", "08 0c eda080", /str is not valid UTF-8/],
    ["overlong UTF-8 in str", "08 0b c080", /str is not valid UTF-8/],
    ["str body that is an int", "08 51", /str body must be bytes/],
    ["str body that is a str", "08 08 01", /str body must be bytes/],
    ["truncated str", "08", /truncated str body/],
    ["slice of a 2-tuple", "19 11 51 52", /slice body must be a tuple/],
    ["slice of 3 bytes", "19 0c 01 02 03", /slice body must be a tuple/],
    ["truncated slice", "19", /truncated slice body/],
    ["frozenset of bytes", "1a 0a 61", /frozenset body must be a tuple/],
    ["frozenset of an int", "1a 51", /frozenset body must be a tuple/],
    ["trailing byte after a value", "00 00", /offset 1: 1 trailing bytes/],
    ["trailing bytes after a tuple", "10 51 51 51", /offset 2: 2 trailing bytes/],
  ];
  for (const [name, bytes, message] of badTable) {
    test(`bad input refused with RPYC_PROTOCOL: ${name}`, () => {
      assert.throws(() => load(hex(bytes)), (e: Error & { code?: string }) => {
        assert.equal(e.code, ErrorCode.RPYC_PROTOCOL);
        assert.match(e.message, /bad brine at offset \d+/);
        assert.match(e.message, message);
        return true;
      });
    });
  }

  test("nesting: 257 levels (as deep as dump allows) load, 258 are refused, 100000 refused without a stack overflow", () => {
    const deepest = nested(257);
    assert.ok(isDumpable(deepest));
    assert.deepStrictEqual(load(dump(deepest)), deepest);
    assert.equal(isDumpable(nested(258)), false);
    assert.throws(() => dump(nested(258)), { code: ErrorCode.BAD_MESSAGE });
    const tooDeep = Buffer.concat([Buffer.alloc(257, 0x10), Buffer.from([0x02])]);
    assert.throws(() => load(tooDeep), /nested deeper than 256/);
    const bomb = Buffer.concat([Buffer.alloc(100_000, 0x10), Buffer.from([0x02])]);
    assert.throws(() => load(bomb), { code: ErrorCode.RPYC_PROTOCOL });
  });

  test("maxDepth limits tuples, frozensets and slices alike", () => {
    assert.deepStrictEqual(load(hex("10 10 51"), { maxDepth: 1 }), [[1]]);
    assert.throws(() => load(hex("10 10 10 51"), { maxDepth: 1 }), /offset 2: nested deeper than 1/);
    assert.throws(() => load(hex("10 1a 10 10 51"), { maxDepth: 1 }), /nested deeper than 1/);
    assert.throws(() => load(hex("10 10 19 12 00 00 00"), { maxDepth: 1 }), /nested deeper than 1/);
  });

  test("loadMessage returns (msgType, seq, payload) and refuses other shapes", () => {
    assert.deepStrictEqual(loadMessage(hex("1251501153115102")), { msgType: 1, seq: 0, payload: [3, [1, []]] });
    assert.deepStrictEqual(loadMessage(dump([2, 2n ** 70n, null])), { msgType: 2, seq: 2n ** 70n, payload: null });
    for (const v of [[1, 2], [1, 2, 3, 4], "x", [pyFloat(1), 0, null], [1, "0", null], [1, 1.5, null]] as PyValue[]) {
      assert.throws(() => loadMessage(dump(v)), { code: ErrorCode.RPYC_PROTOCOL }, String(v));
    }
  });
});

// Python expressions, the value as given to dump here, and (when different) the value load returns.
const ROUND_TRIP: [string, PyValue, PyValue?][] = [
  ["None", null],
  ["True", true],
  ["False", false],
  ["0", 0],
  ["-48", -48],
  ["159", 159],
  ["-49", -49],
  ["160", 160],
  ["255", 255],
  ["256", 256],
  ["-1000000", -1000000],
  ["2**53-1", Number.MAX_SAFE_INTEGER],
  ["2**53", 2n ** 53n],
  ["-2**53", -(2n ** 53n)],
  ["2**64", 2n ** 64n],
  ["-2**100", -(2n ** 100n)],
  ["10**300", 10n ** 300n],
  ["-10**4299", -(10n ** 4299n)],
  ["0.0", pyFloat(0)],
  ["-0.0", -0, pyFloat(-0)],
  ["1.0", pyFloat(1)],
  ["1.5", 1.5],
  ["0.1", 0.1],
  ["5e-324", 5e-324],
  ["1e300", pyFloat(1e300)],
  ["2.0**53", 2 ** 53, pyFloat(2 ** 53)],
  ["float('nan')", NaN],
  ["float('inf')", Infinity],
  ["-float('inf')", -Infinity],
  ["complex(13, 18.2)", new PyComplex(13, 18.2)],
  ["complex(-0.0, float('inf'))", new PyComplex(-0, Infinity)],
  ["''", ""],
  ["'a'", "a"],
  ["'hé'", "hé"],
  ["'日本語'", "日本語"],
  ["'\\U0001F600 astral \\U00010348'", "\u{1F600} astral \u{10348}"],
  ["'\\x00\\n'", "\0\n"],
  ["'\\ufeffbom'", "\ufeffbom"],
  ["'a' * 255", "a".repeat(255)],
  ["'a' * 256", "a".repeat(256)],
  ["'é' * 3000", "é".repeat(3000)],
  ["b''", Buffer.alloc(0)],
  ["b'a'", Buffer.from("a")],
  ["b'abcd'", Buffer.from("abcd")],
  ["b'abcde'", Buffer.from("abcde")],
  ["bytes(range(256))", Buffer.from(Array.from({ length: 256 }, (_, i) => i))],
  ["b'\\xff' * 70000", Buffer.alloc(70000, 0xff)],
  ["()", []],
  ["(1,)", [1]],
  ["(1, 2, 3, 4)", [1, 2, 3, 4]],
  ["(1, 2, 3, 4, 5)", [1, 2, 3, 4, 5]],
  ["tuple(range(256))", Array.from({ length: 256 }, (_, i) => i)],
  ["((((),),),)", [[[[]]]]],
  ["frozenset()", new PyFrozenSet([])],
  ["frozenset({1, 2, 3})", new PyFrozenSet([1, 2, 3])],
  ["frozenset({(1, 'a')})", new PyFrozenSet([[1, "a"]])],
  ["slice(1, None, 2)", new PySlice(1, null, 2)],
  ["slice(None)", new PySlice(null, null, null)],
  ["slice(-5, 2**70, 'x')", new PySlice(-5, 2n ** 70n, "x")],
  ["Ellipsis", Ellipsis],
  ["NotImplemented", NotImplemented],
  [
    "(1, 'a', b'b', 2.5, (None, True), frozenset({1}), slice(1, 2, 3), complex(1, 2), Ellipsis, 1.0, 2**64)",
    [1, "a", Buffer.from("b"), 2.5, [null, true], new PyFrozenSet([1]), new PySlice(1, 2, 3), new PyComplex(1, 2), Ellipsis, pyFloat(1), 2n ** 64n],
  ],
  ["(1, 0, (3, (1, ())))", [1, 0, [3, [1, []]]]],
  ["(2, 2**40, (1, 'x'))", [2, 2 ** 40, [1, "x"]]],
];

describe("brine against Python's rpyc.core.brine", { skip: rpycPeerSkip() }, () => {
  test("Python's dumps load here as the expected values, and dump here to the same bytes", () => {
    const script = [
      "import sys, json",
      "from rpyc.core import brine",
      "exprs = json.loads(sys.stdin.read())",
      "print(json.dumps([brine.dump(eval(e)).hex() for e in exprs]))",
    ].join("\n");
    const r = runPython(script, { input: JSON.stringify(ROUND_TRIP.map(([py]) => py)) });
    assert.equal(r.code, 0, r.stderr);
    const pyHex = JSON.parse(r.stdout) as string[];
    assert.equal(pyHex.length, ROUND_TRIP.length);
    ROUND_TRIP.forEach(([py, given, loaded], i) => {
      assert.deepStrictEqual(load(Buffer.from(pyHex[i]!, "hex")), loaded ?? given, `load of Python's dump of ${py}`);
      assert.equal(dump(given).toString("hex"), pyHex[i], `dump of ${py}`);
    });
  });

  test("our dumps load in Python as equal values of the same types", () => {
    const script = [
      "import sys, json",
      "from rpyc.core import brine",
      "def same(a, b):",
      "    if type(a) is not type(b): return False",
      "    if type(a) is tuple: return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))",
      "    if type(a) is frozenset: return sorted(map(repr, a)) == sorted(map(repr, b)) and sorted(type(x).__name__ for x in a) == sorted(type(x).__name__ for x in b)",
      "    if type(a) is slice: return same(a.start, b.start) and same(a.stop, b.stop) and same(a.step, b.step)",
      "    return repr(a) == repr(b)",
      "bad = []",
      "for e, h in json.loads(sys.stdin.read()):",
      "    got, want = brine.load(bytes.fromhex(h)), eval(e)",
      "    if not same(got, want): bad.append('%s: got %r' % (e, got))",
      "print(json.dumps(bad))",
    ].join("\n");
    // Values also given in a form other than what load returns (-0 as a number, 2**53 unsafe) go in as given.
    const r = runPython(script, { input: JSON.stringify(ROUND_TRIP.map(([py, given]) => [py, dump(given).toString("hex")])) });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), []);
  });
});
