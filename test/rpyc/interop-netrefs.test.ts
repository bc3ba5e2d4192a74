// A stock Python rpyc client against the example's JUDGE service, by reference: the client's
// own objects come back as themselves, callbacks (re-entrant ones too) carry their exception
// types, server counters live exactly as long as some connection holds them, make_list is a
// Python list proxy, and a call parked on one connection never holds up another.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { PY_PRELUDE, pythonJson, startExample, type RunningExample } from "./interop-example.js";
import { rpycPeerSkip } from "./python-peer.js";

const skip = rpycPeerSkip();

const PY_NETREFS = `${PY_PRELUDE}
port = int(sys.argv[1])
c = rpyc.connect("127.0.0.1", port)
r = c.root
out = {}

class Thing:
    pass
lst, dct, obj = [1, 2], {"k": 1}, Thing()
fn = lambda: 1
out["identity"] = {
    "list": r.echo(lst) is lst,
    "dict": r.echo(dct) is dct,
    "object": r.echo(obj) is obj,
    "function": r.echo(fn) is fn,
    "in_tuple": (lambda e: e[0] is lst and e[1] == 1 and e[2][0] is dct)(r.echo((lst, 1, (dct,)))),
    "kwarg": r.add(a=(lst,), b=(obj,))[1] is obj,
    "mutated_seen": (lst.append(3), r.echo(lst))[1] == [1, 2, 3],
}

def raise_key(x): raise KeyError(x)
def raise_zero(x): return x / 0
def raise_value(x): raise ValueError("bad", x)
def raise_index(x): return [][x]
out["callback"] = {
    "value": r.callback(lambda x: x * 2, 21),
    "float": describe(r.callback(lambda x: x + 0.0, 2)),
    "exposed": r.exposed_callback(lambda x: x.upper(), "ab"),
    "key": raised(lambda: r.callback(raise_key, "k")),
    "zero": raised(lambda: r.callback(raise_zero, 1)),
    "value_args": raised(lambda: r.callback(raise_value, 7)),
    "index": raised(lambda: r.callback(raise_index, 3)),
    "not_callable": raised(lambda: r.callback(5, 1)),
    "reentrant": r.callback(lambda x: r.add(x, 1), 41),
    "nested": r.callback(lambda x: r.callback(lambda y: r.add(y, 2), x + 1), 1),
    "reentrant_identity": r.callback(lambda x: r.echo(x), lst) is lst,
    "reentrant_error": raised(lambda: r.callback(lambda x: r.fail(x), "inner")),
}

cnt = r.counter()
other = rpyc.connect("127.0.0.1", port)
far = other.root.counter()
out["counter"] = {
    "start": cnt.value,
    "inc": cnt.increment(),
    "inc_by": cnt.increment(by=5),
    "exposed_inc": cnt.exposed_increment(2),
    "value": cnt.exposed_value,
    "same": cnt.same() is cnt,
    "exposed_same": cnt.exposed_same() is cnt,
    "far": far.increment(by=10),
    "independent": cnt.value,
    "write": raised(lambda: setattr(cnt, "value", 3)),
    "write_exposed": raised(lambda: setattr(cnt, "exposed_value", 3)),
    "secret": raised(lambda: cnt._secret),
    "delete": raised(lambda: delattr(cnt, "value")),
    "bad_kwarg": raised(lambda: cnt.increment(step=1)),
    "after_refusals": cnt.value,
}
live = {"two_held": r.live_counters()}
del cnt
gc.collect()
live["after_del"] = until(lambda: r.live_counters() == 1) and r.live_counters()
del far
other.close()
live["after_disconnect"] = until(lambda: r.live_counters() == 0) is True and r.live_counters()
many = [r.counter() for _ in range(5)]
live["five"] = r.live_counters()
del many
gc.collect()
live["five_released"] = until(lambda: r.live_counters() == 0) is True and r.live_counters()
out["live"] = live

L = r.make_list(5)
out["list"] = {
    "len": len(L),
    "first": L[0],
    "last": L[-1],
    "items": list(L),
    "iterated": [x for x in L],
    "contains": 3 in L,
    "sum": sum(L),
    "echo_is": r.echo(L) is L,
    "class": L.__class__.__name__,
    "index_error": raised(lambda: L[5]),
    "negative_error": raised(lambda: L[-6]),
    "empty": len(r.make_list(0)),
    "negative_n": raised(lambda: r.make_list(-1))[0],
    "float_n": raised(lambda: r.make_list(1.0))[0],
}

# A call parked inside a callback on one connection does not hold up another connection: the
# second connection's calls complete while the first is still waiting for us to open the gate.
blocked = rpyc.connect("127.0.0.1", port)
order = while_parked(blocked, 7, [lambda: r.add(1, 2), lambda: r.slow(0)])
# slow() on one connection: another connection is answered while it sleeps
pending = rpyc.async_(blocked.root.slow)(4)
answered = r.echo("meanwhile")
out["concurrency"] = {"order": order, "answered": answered, "slow_ready_after_other": pending.ready, "slow_value": pending.value}
blocked.close()
print(json.dumps(out))
`;

describe("stock rpyc client: netrefs, callbacks, counters and lists through the JUDGE example", { skip }, () => {
  let example: RunningExample | undefined;
  let out: Record<string, any>;

  before(async () => {
    example = await startExample();
    out = await pythonJson(PY_NETREFS, [String(example.port)]);
  });
  after(async () => {
    await example?.stop();
  });

  test("echo hands the client's own lists, dicts, objects and functions back (`is` holds), in tuples and kwargs too", () => {
    assert.deepEqual(out["identity"], { list: true, dict: true, object: true, function: true, in_tuple: true, kwarg: true, mutated_seen: true });
  });

  test("callback returns fn(x), keeps the exception type and args, and may call the server re-entrantly", () => {
    assert.deepEqual(out["callback"], {
      value: 42,
      float: ["float", "2.0"],
      exposed: "AB",
      key: ["KeyError", ["k"], true],
      zero: ["ZeroDivisionError", ["division by zero"], true],
      value_args: ["ValueError", ["bad", 7], true],
      index: ["IndexError", ["list index out of range"], true],
      not_callable: ["TypeError", ["'int' object is not callable"], true],
      reentrant: 42,
      nested: 4,
      reentrant_identity: true,
      reentrant_error: ["ValueError", ["inner"], true],
    });
  });

  test("a counter is a server object: readable value, increment(by=...), same() is itself; writes and _secret refused", () => {
    const c = out["counter"];
    assert.deepEqual(
      { start: c.start, inc: c.inc, inc_by: c.inc_by, exposed_inc: c.exposed_inc, value: c.value, same: c.same, exposed_same: c.exposed_same, far: c.far, independent: c.independent },
      { start: 0, inc: 1, inc_by: 6, exposed_inc: 8, value: 8, same: true, exposed_same: true, far: 10, independent: 8 },
    );
    assert.deepEqual(c.write, ["AttributeError", ["cannot access 'value'"], true]);
    assert.equal(c.write_exposed[0], "AttributeError");
    assert.deepEqual(c.secret, ["AttributeError", ["cannot access '_secret'"], true]);
    assert.equal(c.delete[0], "AttributeError");
    assert.equal(c.bad_kwarg[0], "TypeError");
    assert.equal(c.after_refusals, 8);
  });

  test("live_counters counts counters some connection holds: they die on release (del + gc) and on disconnect", () => {
    assert.deepEqual(out["live"], { two_held: 2, after_del: 1, after_disconnect: 0, five: 5, five_released: 0 });
  });

  test("make_list(n) is a Python list proxy: len, indexing (negative too), iteration, IndexError", () => {
    assert.deepEqual(out["list"], {
      len: 5,
      first: 0,
      last: 4,
      items: [0, 1, 2, 3, 4],
      iterated: [0, 1, 2, 3, 4],
      contains: true,
      sum: 10,
      echo_is: true,
      class: "list",
      index_error: ["IndexError", ["list index out of range"], true],
      negative_error: ["IndexError", ["list index out of range"], true],
      empty: 0,
      negative_n: "ValueError",
      float_n: "TypeError",
    });
  });

  test("a call waiting on one connection never holds up another connection", () => {
    const c = out["concurrency"];
    assert.deepEqual(c.order, ["A waiting", ["B", 3], ["B", 0], ["A", 7]]);
    assert.equal(c.answered, "meanwhile");
    assert.equal(c.slow_ready_after_other, false);
    assert.equal(c.slow_value, 4);
  });
});
