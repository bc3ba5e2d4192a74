// A stock Python rpyc client against the example's JUDGE service: every brine type comes back
// from echo() with its Python type and value, add() follows Python's `+`, and exceptions arrive
// as Python builtins with their args and a remote traceback. One Python run answers everything.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { PY_PRELUDE, pythonJson, startExample, type RunningExample } from "./interop-example.js";
import { rpycPeerSkip } from "./python-peer.js";

const skip = rpycPeerSkip();

const PY_TYPES = `${PY_PRELUDE}
c = rpyc.connect("127.0.0.1", int(sys.argv[1]))
r = c.root
out = {}
values = [None, True, False, 0, 1, -1, 159, 160, -48, -49, 2**53 + 1, 2**64, -2**100, 1.0, -0.0, 1.5, 1e300,
          float("nan"), float("inf"), float("-inf"), "", "hé", "astral \\U0001F600 \\U00010348", b"", b"\\x00\\xff", b"x" * 300,
          (), (1,), (1, (2.0, ("three", (b"4", None)))), tuple(range(300)), frozenset(), frozenset({1, "a", (2,)}),
          slice(1, None, 2), slice(None, -1, None), 1 + 2j, -0.5j, ..., NotImplemented, "x" * 5000]
out["echo"] = []
for v in values:
    e = r.echo(v)
    same = (e == v or (isinstance(v, float) and math.isnan(v) and math.isnan(e))) and type(e) is type(v)
    if isinstance(v, float) and v == 0:
        same = same and math.copysign(1, e) == math.copysign(1, v)
    if isinstance(v, tuple):
        same = same and all(type(a) is type(b) for a, b in zip(v, e))
    out["echo"].append([describe(v), describe(e), same])
out["exposed_echo"] = describe(r.exposed_echo(2.0))
out["names"] = [r.get_service_name(), list(r.get_service_aliases()), type(r.get_service_aliases()).__name__,
                r.exposed_get_service_name(), list(r.exposed_get_service_aliases())]
out["add"] = {
    "int": describe(r.add(1, 2)),
    "float": describe(r.add(1.0, 2)),
    "float2": describe(r.add(1, 0.5)),
    "negzero": describe(r.add(-0.0, -0.0)),
    "big": describe(r.add(2**64, 1)),
    "bigneg": describe(r.add(-2**100, 2**100)),
    "safe_edge": describe(r.add(2**53, 1)),
    "bool": describe(r.add(True, True)),
    "complex": describe(r.add(1j, 2)),
    "str": describe(r.add("ab", "cd")),
    "tuple": describe(r.add((1, "a"), (2.0,))),
    "bytes": describe(r.add(b"ab", b"\\xff")),
    "kwargs": describe(r.add(a="x", b="y")),
    "mixed_kwargs": describe(r.add(1, b=2)),
    "exposed": describe(r.exposed_add(2, 3)),
}
out["errors"] = {
    "fail": raised(lambda: r.fail("boom")),
    "fail_args": raised(lambda: r.fail("two words")),
    "exposed_fail": raised(lambda: r.exposed_fail("x")),
    "add_str_int": raised(lambda: r.add("a", 1)),
    "add_int_str": raised(lambda: r.add(1, "a")),
    "add_too_many": raised(lambda: r.add(1, 2, 3)),
    "add_unknown_kwarg": raised(lambda: r.add(1, 2, c=3)),
    "add_dup_kwarg": raised(lambda: r.add(1, a=2)),
    "slow_too_long": raised(lambda: r.slow(21)),
    "slow_negative": raised(lambda: r.slow(-1)),
    "slow_not_number": raised(lambda: r.slow("1")),
    "internal_secret": raised(lambda: r.internal_secret),
    "internal_secret_call": raised(lambda: r.internal_secret()),
    "exposed_internal_secret": raised(lambda: r.exposed_internal_secret),
    "missing": raised(lambda: r.no_such_member),
    "setattr_root": raised(lambda: setattr(r, "echo", 1)),
}
try:
    r.fail("traced")
except ValueError as e:
    out["traceback"] = [str(e).split("\\n")[0], "========= Remote Traceback" in str(e), "ValueError: traced" in str(e)]
out["still_served"] = r.echo("after errors")
out["slow"] = describe(r.slow(0)), describe(r.slow(0.05))
out["credentials"] = describe(r.credentials())
print(json.dumps(out))
`;

type Described = [string, string];

describe("stock rpyc client: values and exceptions through the JUDGE example", { skip }, () => {
  let example: RunningExample | undefined;
  let out: Record<string, any>;

  before(async () => {
    example = await startExample();
    out = await pythonJson(PY_TYPES, [String(example.port)]);
  });
  after(async () => {
    await example?.stop();
  });

  test("echo returns every brine type with the same Python type and value", () => {
    const mismatched = (out["echo"] as Array<[Described, Described, boolean]>).filter(([, , same]) => !same);
    assert.deepEqual(mismatched, []);
    const types = new Set((out["echo"] as Array<[Described]>).map(([[t]]) => t));
    for (const t of ["NoneType", "bool", "int", "float", "str", "bytes", "tuple", "frozenset", "slice", "complex", "ellipsis", "NotImplementedType"]) assert.ok(types.has(t), t);
    assert.deepEqual(out["exposed_echo"], ["float", "2.0"]);
  });

  test("the service answers its name and its aliases as a tuple, also as exposed_ members", () => {
    assert.deepEqual(out["names"], ["JUDGE", ["JUDGE", "JUDGE_ALT"], "tuple", "JUDGE", ["JUDGE", "JUDGE_ALT"]]);
  });

  test("add follows Python's + (int, float, complex, str, tuple, bytes, big ints) with keyword arguments", () => {
    assert.deepEqual(out["add"], {
      int: ["int", "3"],
      float: ["float", "3.0"],
      float2: ["float", "1.5"],
      negzero: ["float", "-0.0"],
      big: ["int", "18446744073709551617"],
      bigneg: ["int", "0"],
      safe_edge: ["int", "9007199254740993"],
      bool: ["int", "2"],
      complex: ["complex", "(2+1j)"],
      str: ["str", "'abcd'"],
      tuple: ["tuple", "(1, 'a', 2.0)"],
      bytes: ["bytes", "b'ab\\xff'"],
      kwargs: ["str", "'xy'"],
      mixed_kwargs: ["int", "3"],
      exposed: ["int", "5"],
    });
  });

  test("errors arrive as Python builtins with their args and the remote traceback", () => {
    const e = out["errors"] as Record<string, [string, unknown[], boolean] | null>;
    assert.deepEqual(e["fail"], ["ValueError", ["boom"], true]);
    assert.deepEqual(e["fail_args"], ["ValueError", ["two words"], true]);
    assert.deepEqual(e["exposed_fail"], ["ValueError", ["x"], true]);
    assert.deepEqual(e["add_str_int"], ["TypeError", ['can only concatenate str (not "int") to str'], true]);
    assert.deepEqual(e["add_int_str"], ["TypeError", ["unsupported operand type(s) for +: 'int' and 'str'"], true]);
    for (const k of ["add_too_many", "add_unknown_kwarg", "add_dup_kwarg", "slow_not_number"]) assert.equal(e[k]?.[0], "TypeError", k);
    assert.match(String(e["add_unknown_kwarg"]?.[1][0]), /unexpected keyword argument 'c'/);
    assert.equal(e["slow_too_long"]?.[0], "ValueError");
    assert.equal(e["slow_negative"]?.[0], "ValueError");
    assert.deepEqual(e["internal_secret"], ["AttributeError", ["cannot access 'internal_secret'"], true]);
    assert.deepEqual(e["internal_secret_call"], e["internal_secret"]);
    assert.equal(e["exposed_internal_secret"]?.[0], "AttributeError");
    assert.equal(e["missing"]?.[0], "AttributeError");
    assert.deepEqual(e["setattr_root"], ["AttributeError", ["access denied"], true]);
    assert.deepEqual(out["traceback"], ["traced", true, true]);
    assert.equal(out["still_served"], "after errors");
  });

  test("slow returns its argument and credentials are None without an authenticator", () => {
    assert.deepEqual(out["slow"], [
      ["int", "0"],
      ["float", "0.05"],
    ]);
    assert.deepEqual(out["credentials"], ["NoneType", "None"]);
  });
});
