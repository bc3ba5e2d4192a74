// Parameter names read from function source, and explicit declarations.
import assert from "node:assert/strict";
import { test } from "node:test";
import { bindParams, declaredParams, inferParams } from "../../src/jsonrpc/params.js";

const names = (fn: Function) => inferParams(fn)?.map((p) => `${p.rest ? "..." : ""}${p.name}${p.optional ? "?" : ""}`);

test("plain, async, arrow and method forms expose their parameter names", () => {
  assert.deepEqual(
    names(function f(a: number, b: number) {
      return a + b;
    }),
    ["a", "b"],
  );
  assert.deepEqual(
    names(async function g(a: unknown) {
      return a;
    }),
    ["a"],
  );
  assert.deepEqual(
    names((x: number, y: number) => x + y),
    ["x", "y"],
  );
  assert.deepEqual(
    names(async (x: number) => x),
    ["x"],
  );
  assert.deepEqual(
    names(function () {}),
    [],
  );
  const o = {
    m(first: string, second = "d") {
      return first + second;
    },
    async n(p: number) {
      return p;
    },
  };
  assert.deepEqual(names(o.m), ["first", "second?"]);
  assert.deepEqual(names(o.n), ["p"]);
  // a lone arrow parameter without parentheses (as a string, since formatters add parentheses)
  assert.deepEqual(names(new Function("return x => x")() as Function), ["x"]);
  assert.deepEqual(names(new Function("return async y => y")() as Function), ["y"]);
});

test("defaults with commas, brackets, strings and comments do not split names", () => {
  const fn = new Function(`return function f(a /* , z */, b = [1, 2], c = { k: "(,)" }, d = (x, y) => x, // e,
    ...rest) {}`)() as Function;
  assert.deepEqual(names(fn), ["a", "b?", "c?", "d?", "...rest"]);
});

test("destructured, bound and native functions have unknown names", () => {
  assert.equal(
    inferParams(({ a }: { a: number }) => a),
    undefined,
  );
  assert.equal(inferParams(Math.max), undefined);
  assert.equal(
    inferParams(function f(a: number) {
      return a;
    }.bind(null)),
    undefined,
  );
});

test("declaredParams reads a, b?, ...rest and rejects malformed lists", () => {
  assert.deepEqual(declaredParams(["a", "b?", "...c"]), [
    { name: "a", optional: false, rest: false },
    { name: "b", optional: true, rest: false },
    { name: "c", optional: false, rest: true },
  ]);
  assert.equal(typeof declaredParams(["...c", "a"]), "string");
  assert.equal(typeof declaredParams(["a", "a"]), "string");
  assert.equal(typeof declaredParams(["1x"]), "string");
});

test("bindParams checks arity and names", () => {
  const specs = declaredParams(["a", "b?"]) as never;
  assert.deepEqual(bindParams(specs, [1]), [1]);
  assert.match(bindParams(specs, []) as string, /missing argument "a"/);
  assert.match(bindParams(specs, [1, 2, 3]) as string, /at most 2/);
  assert.deepEqual(bindParams(specs, { b: 2, a: 1 }), [1, 2]);
  assert.deepEqual(bindParams(specs, { a: 1 }), [1]);
  assert.match(bindParams(specs, { b: 1 }) as string, /missing argument "a"/);
  assert.match(bindParams(specs, { a: 1, c: 1 }) as string, /unknown argument "c"/);
  assert.deepEqual(bindParams(declaredParams(["a", "...r"]) as never, [1, 2, 3, 4]), [1, 2, 3, 4]);
  assert.deepEqual(bindParams(undefined, [1, 2]), [1, 2]);
  assert.match(bindParams(undefined, { a: 1 }) as string, /names are unknown/);
});
