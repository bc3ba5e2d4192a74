// Our RPyC client (connect, root as a proxy, async calls) against a stock Python rpyc
// ThreadedServer: values keep their Python types both ways, Python exceptions arrive as
// PyError with their builtin type, the Python server calls back into our functions, and our
// objects go home as our own.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { connect, getattr, isNetref, kw, PyError, pyFloat, PyFloat, PyFrozenSet, remoteRepr, setattr, type Connection, type Netref } from "switchboard/rpyc";
import { DEBIAN_PYTHON, rpycPeerSkip } from "./python-peer.js";

const PY_SERVER = String.raw`
import rpyc, sys
from rpyc.utils.server import ThreadedServer

class Counter:
    def __init__(self):
        self.value = 0
    def exposed_increment(self, by=1):
        self.value += by
        return self.value
    @property
    def exposed_value(self):
        return self.value

class PyJudgeService(rpyc.Service):
    ALIASES = ["PYJUDGE"]
    def exposed_echo(self, x):
        return x
    def exposed_type_of(self, x):
        return type(x).__name__
    def exposed_add(self, a, b):
        return a + b
    def exposed_fail(self, msg):
        raise ValueError(msg)
    def exposed_callback(self, fn, x):
        return fn(x)
    def exposed_call_attr(self, obj, name, *args):
        return getattr(obj, name)(*args)
    def exposed_counter(self):
        return Counter()
    def exposed_make_list(self, n):
        return list(range(n))

t = ThreadedServer(PyJudgeService, hostname="127.0.0.1", port=0, protocol_config={"allow_public_attrs": True})
# the constructor only binds; start() listens, then blocks: listen first so the port is ready when printed
t._listen()
print(t.port, flush=True)
t.start()
`;

const skip = rpycPeerSkip();

describe("our RPyC client against a stock Python ThreadedServer", { skip }, () => {
  let py: ChildProcess;
  let conn: Connection;
  let root: Netref;

  before(async () => {
    py = spawn(DEBIAN_PYTHON, ["-c", PY_SERVER], { stdio: ["ignore", "pipe", "inherit"] });
    const port = await new Promise<number>((resolve, reject) => {
      py.stdout!.setEncoding("utf8").once("data", (d: string) => resolve(Number(d.trim())));
      py.once("exit", (code) => reject(new Error(`python server exited ${code}`)));
    });
    conn = await connect("127.0.0.1", port);
    root = await conn.root;
  });

  after(async () => {
    await conn?.close();
    py?.kill("SIGKILL");
  });

  it("root is a netref; get_service_name() -> 'PYJUDGE' and get_service_aliases() a tuple (array)", async () => {
    assert.ok(isNetref(root));
    assert.equal(await root.get_service_name(), "PYJUDGE");
    assert.deepEqual(await root.get_service_aliases(), ["PYJUDGE"]);
  });

  it("values keep their Python types: int, float (pyFloat(1) is 1.0), bigint, str, bytes, tuple, frozenset, None, bool", async () => {
    const cases: Array<[unknown, string]> = [
      [1, "int"],
      [pyFloat(1), "float"],
      [1.5, "float"],
      [2n ** 64n, "int"],
      ["héllo 😀", "str"],
      [new Uint8Array([1, 2]), "bytes"],
      [[1, "a"], "tuple"],
      [new PyFrozenSet([1, 2]), "frozenset"],
      [null, "NoneType"],
      [true, "bool"],
    ];
    for (const [value, type] of cases) assert.equal(await root.type_of(value), type, `type of ${String(value)}`);
    const back = await root.echo(pyFloat(2));
    assert.ok(back instanceof PyFloat && back.value === 2);
    assert.equal(await root.echo(2n ** 64n), 2n ** 64n);
    assert.deepEqual(await root.echo([1, ["x", null]]), [1, ["x", null]]);
    assert.deepEqual(Buffer.from(await root.echo(new Uint8Array([7]))), Buffer.from([7]));
  });

  it("keyword arguments with kw(): add(a=2, b=3) -> 5, and str + str concatenates", async () => {
    assert.equal(await root.add(kw({ a: 2, b: 3 })), 5);
    assert.equal(await root.add("ab", "cd"), "abcd");
  });

  it("a Python ValueError arrives as PyError('ValueError') with its args and the remote traceback", async () => {
    await assert.rejects(root.fail("boom"), (err: unknown) => {
      assert.ok(err instanceof PyError);
      assert.equal(err.pyType, "ValueError");
      assert.equal(err.module, "builtins");
      assert.deepEqual(err.pyArgs, ["boom"]);
      assert.match(err.remoteTraceback ?? "", /ValueError: boom/);
      return true;
    });
  });

  it("the Python server calls our function back: callback(fn, 21) -> 42, and our exception reaches us as the same type", async () => {
    assert.equal(await root.callback((x: number) => x * 2, 21), 42);
    await assert.rejects(
      root.callback((_x: number) => {
        throw new PyError("KeyError", ["nope"]);
      }, 1),
      (err: unknown) => err instanceof PyError && err.pyType === "KeyError" && err.pyArgs[0] === "nope",
    );
  });

  it("a re-entrant callback: our function calls the server again while the server waits for it", async () => {
    const result = await root.callback(async (x: number) => (await root.add(x, 1)) * 10, 4);
    assert.equal(result, 50);
  });

  it("our objects go home as our own: echo(obj) returns the very object", async () => {
    const mine = { tag: "mine" };
    assert.equal(await root.echo(mine), mine);
  });

  it("server objects by reference: counter().increment(by=5), await .value, repr, setattr refused by the Python policy (AttributeError)", async () => {
    const c = await root.counter();
    assert.ok(isNetref(c));
    assert.equal(await c.increment(), 1);
    assert.equal(await c.increment(kw({ by: 5 })), 6);
    assert.equal(await c.value, 6);
    assert.equal(await getattr(c, "value"), 6);
    assert.match(await remoteRepr(c), /Counter object/);
    await assert.rejects(setattr(c, "value", 1), (err: unknown) => err instanceof PyError && err.pyType === "AttributeError");
    conn.release(c);
  });

  it("a Python list by reference: len via __len__, items via __getitem__", async () => {
    const lst = await root.make_list(3);
    assert.equal(await lst.__len__(), 3);
    assert.equal(await lst.__getitem__(-1), 2);
  });

  it("many calls in flight at once on one connection all complete", async () => {
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => root.add(i, i)));
    assert.deepEqual(results, Array.from({ length: 50 }, (_, i) => 2 * i));
  });

  it("ping() round-trips 520 characters", async () => {
    await conn.ping();
  });
});
