// RPCDispatcher: registration, prefixes, params by name, -32601 / -32602, the decorator.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ErrorCode, SwitchboardError } from "../../src/errors.js";
import { JSONRPCError, RPCDispatcher, rpcPublic } from "../../src/jsonrpc/index.js";

const call = (d: RPCDispatcher, method: string, params?: unknown[] | Record<string, unknown>) => d.dispatch({ method, params, id: 1 });

async function rejectsWith(p: Promise<unknown>, code: number, data?: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof JSONRPCError, String(e));
    assert.equal(e.code, code);
    if (data) assert.match(String(e.data), data);
    return true;
  });
}

describe("registration", () => {
  test("addMethod names a method after the function, or as told", async () => {
    const d = new RPCDispatcher();
    d.addMethod(function hello() {
      return "hi";
    });
    d.addMethod(() => 2, "two");
    d.addMethod(() => 3, { name: "three" });
    assert.equal(await call(d, "hello"), "hi");
    assert.equal(await call(d, "two"), 2);
    assert.equal(await call(d, "three"), 3);
    assert.deepEqual(d.methodNames(), ["hello", "two", "three"]);
  });
  test("a duplicate name throws DUPLICATE_METHOD", () => {
    const d = new RPCDispatcher().addMethod(() => 1, "x");
    assert.throws(
      () => d.addMethod(() => 2, "x"),
      (e: unknown) => e instanceof SwitchboardError && e.code === ErrorCode.DUPLICATE_METHOD,
    );
  });
  test("an anonymous function without a name throws BAD_HANDLER", () => {
    assert.throws(
      () => new RPCDispatcher().addMethod((() => () => 1)()),
      (e: unknown) => e instanceof SwitchboardError && e.code === ErrorCode.BAD_HANDLER,
    );
  });
  test("d.public registers at once, directly or through a name", async () => {
    const d = new RPCDispatcher();
    const f = d.public(function pinged() {
      return "pong";
    });
    assert.equal(typeof f, "function");
    d.public("renamed")(() => "r");
    assert.equal(await call(d, "pinged"), "pong");
    assert.equal(await call(d, "renamed"), "r");
  });
  test("unknown names -> -32601, case-sensitive", async () => {
    const d = new RPCDispatcher().addMethod(() => 1, "Echo");
    await rejectsWith(call(d, "echo"), -32601);
  });
});

describe("sub-dispatchers with literal prefixes", () => {
  test("math.mul reaches the sub-dispatcher; the separator belongs to the prefix", async () => {
    const math = new RPCDispatcher().addMethod((a: number, b: number) => a * b, "mul");
    const d = new RPCDispatcher().addSubdispatch(math, "math.");
    assert.equal(await call(d, "math.mul", [6, 7]), 42);
    await rejectsWith(call(d, "mathmul", [6, 7]), -32601);
    await rejectsWith(call(d, "mul", [6, 7]), -32601);
  });
  test("own methods beat prefixed lookup", async () => {
    const sub = new RPCDispatcher().addMethod(() => "sub", "x");
    const d = new RPCDispatcher().addSubdispatch(sub, "a.").addMethod(() => "own", "a.x");
    assert.equal(await call(d, "a.x"), "own");
  });
  test("prefixes in registration order, first hit wins, misses fall through", async () => {
    const first = new RPCDispatcher().addMethod(() => "first", "x");
    const second = new RPCDispatcher().addMethod(() => "second", "x").addMethod(() => "second-y", "y");
    const d = new RPCDispatcher().addSubdispatch(first, "p.").addSubdispatch(second, "p.");
    assert.equal(await call(d, "p.x"), "first");
    assert.equal(await call(d, "p.y"), "second-y");
  });
  test("empty prefix exposes methods unprefixed; lookup is recursive", async () => {
    const inner = new RPCDispatcher().addMethod(() => "deep", "z");
    const mid = new RPCDispatcher().addSubdispatch(inner, "b.");
    const d = new RPCDispatcher().addSubdispatch(mid, "a.").addSubdispatch(new RPCDispatcher().addMethod(() => "flat", "flat"));
    assert.equal(await call(d, "a.b.z"), "deep");
    assert.equal(await call(d, "flat"), "flat");
    assert.deepEqual(d.methodNames(), ["a.b.z", "flat"]);
  });
});

describe("params", () => {
  const d = new RPCDispatcher();
  d.addMethod((a: number, b = 10) => a - b, "sub");
  d.addMethod((...xs: number[]) => xs.length, "count");
  d.addMethod(Math.max.bind(Math), { name: "max", params: ["...xs"] });
  d.addMethod(((a: number, b: number) => a * 100 + b).bind(null), { name: "bound", params: ["a", "b"] });
  d.addMethod((a: number) => a, { name: "positive", validate: ([a]) => (typeof a === "number" && a > 0 ? undefined : "a must be a positive number") });
  d.addMethod((a: number) => a, { name: "strict", validate: () => {
    throw new Error("thrown by validator");
  } });

  test("named params bind by name; defaults apply when left out", async () => {
    assert.equal(await call(d, "sub", { b: 1, a: 5 }), 4);
    assert.equal(await call(d, "sub", { a: 5 }), -5);
    assert.equal(await call(d, "sub", [5]), -5);
  });
  test("too many positional -> -32602", () => rejectsWith(call(d, "sub", [1, 2, 3]), -32602, /at most 2/));
  test("too few positional -> -32602", () => rejectsWith(call(d, "sub", []), -32602, /missing argument "a"/));
  test("unknown name -> -32602", () => rejectsWith(call(d, "sub", { a: 1, c: 2 }), -32602, /unknown argument "c"/));
  test("missing required name -> -32602", () => rejectsWith(call(d, "sub", { b: 1 }), -32602, /missing argument "a"/));
  test("rest params accept any count", async () => {
    assert.equal(await call(d, "count", []), 0);
    assert.equal(await call(d, "count", [1, 2, 3, 4, 5]), 5);
    assert.equal(await call(d, "max", [3, 9, 4]), 9);
  });
  test("explicit params win where the source says nothing (bound functions)", async () => {
    assert.equal(await call(d, "bound", { b: 2, a: 1 }), 102);
    await rejectsWith(call(d, "bound", [1]), -32602);
  });
  test("the validation hook answers -32602 with its message as data", async () => {
    assert.equal(await call(d, "positive", [3]), 3);
    await rejectsWith(call(d, "positive", [-3]), -32602, /a must be a positive number/);
    await rejectsWith(call(d, "strict", [1]), -32602, /thrown by validator/);
  });
  test("a TypeError thrown inside the body is the method's error, not -32602", async () => {
    const e = new RPCDispatcher().addMethod((x: { y: number }) => x.y.toFixed(), "f");
    await assert.rejects(call(e, "f", [null]), TypeError);
  });
});

describe("rpcPublic and registerInstance", () => {
  class Calculator {
    factor = 3;
    @rpcPublic
    times(x: number) {
      return x * this.factor;
    }
    @rpcPublic("plus")
    add(a: number, b: number) {
      return a + b;
    }
    @rpcPublic({ name: "scaled", params: ["x", "y?"] })
    async scale(x: number, y?: number) {
      return x * (y ?? this.factor);
    }
    hidden() {
      return "not public";
    }
  }
  class Scientific extends Calculator {
    @rpcPublic
    square(x: number) {
      return x * x;
    }
  }

  test("decorated methods register under their names, bound to the instance, inherited ones too", async () => {
    const d = new RPCDispatcher();
    d.registerInstance(new Scientific(), "calc.");
    assert.equal(await call(d, "calc.times", [2]), 6);
    assert.equal(await call(d, "calc.plus", { b: 2, a: 1 }), 3);
    assert.equal(await call(d, "calc.scaled", { x: 2 }), 6);
    assert.equal(await call(d, "calc.square", [4]), 16);
    await rejectsWith(call(d, "calc.hidden"), -32601);
    await rejectsWith(call(d, "calc.add", [1, 2]), -32601);
    await rejectsWith(call(d, "calc.times", [1, 2]), -32602);
  });
  test("rpcPublic marks plain functions for registerInstance on plain objects", async () => {
    const api = { greet: rpcPublic((name: string) => `hi ${name}`), other: rpcPublic(() => 1, "uno"), plain: () => 0 };
    const d = new RPCDispatcher();
    d.registerInstance(api);
    assert.equal(await call(d, "greet", { name: "ann" }), "hi ann");
    assert.equal(await call(d, "uno"), 1);
    await rejectsWith(call(d, "plain"), -32601);
  });
});
