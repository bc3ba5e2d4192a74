// What RPyC cannot offer from a TypeScript server (docs/rpyc.md "What is not supported"), as a
// stock Python client meets it: pickle, classic mode and teleporting fail with an exception the
// client can catch, never a disconnect, and the same connection keeps working.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { PY_PRELUDE, pythonJson, startExample, type RunningExample } from "./interop-example.js";
import { rpycPeerSkip } from "./python-peer.js";

const skip = rpycPeerSkip();

const PY_REFUSED = `${PY_PRELUDE}
import rpyc.utils.classic as classic
port = int(sys.argv[1])
c = rpyc.connect("127.0.0.1", port)
r = c.root
out = {}
lst = r.make_list(3)
out["obtain"] = raised(lambda: classic.obtain(lst))
out["pickle"] = raised(lambda: c.sync_request(rpyc.core.consts.HANDLE_PICKLE, lst, 2))
out["after_pickle"] = r.add(2, 3)
out["classic"] = raised(lambda: classic.connect("127.0.0.1", port).modules.sys)
def f(x):
    return x + 1
out["teleport"] = raised(lambda: classic.teleport_function(c, f))
out["eval"] = raised(lambda: r.eval("1 + 1"))
out["after_all"] = [r.add(40, 2), c.closed]
c.close()
print(json.dumps(out))
`;

describe("refused features against the example server (stock Python rpyc client)", { skip }, () => {
  let example: RunningExample;
  before(async () => {
    example = await startExample();
  });
  after(async () => {
    await example?.stop();
  });

  test("pickle -> ValueError 'pickling is disabled'; classic mode, teleport and eval -> AttributeError; the connection keeps serving", async () => {
    const out = await pythonJson<Record<string, unknown>>(PY_REFUSED, [String(example.port)]);
    assert.deepEqual((out["obtain"] as unknown[]).slice(0, 2), ["ValueError", ["pickling is disabled"]]);
    assert.deepEqual((out["pickle"] as unknown[]).slice(0, 2), ["ValueError", ["pickling is disabled"]]);
    assert.equal(out["after_pickle"], 5);
    assert.equal((out["classic"] as unknown[])[0], "AttributeError");
    assert.equal((out["teleport"] as unknown[])[0], "AttributeError");
    assert.equal((out["eval"] as unknown[])[0], "AttributeError");
    assert.deepEqual(out["after_all"], [42, false]);
  });
});
