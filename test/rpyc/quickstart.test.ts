// docs/rpyc.md's first example (examples/rpyc/quickstart.ts), run as a reader runs it: it
// prints what the doc says and ends by itself with exit code 0.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { test } from "node:test";
import { ROOT } from "../reliability/child-server.js";

test("examples/rpyc/quickstart.ts: exposed_ and @exposed members, kwargs, a callback, an object by reference; exits 0 by itself", { timeout: 60_000 }, async () => {
  const { stdout, stderr } = await promisify(execFile)(process.execPath, ["--import", "tsx", "examples/rpyc/quickstart.ts"], { cwd: ROOT, timeout: 50_000 });
  assert.match(stdout, /^CALCULATOR on port \d+\nCALCULATOR\n5\n42\n81\n15\n$/);
  assert.equal(stderr, "");
});
