// docs/jsonrpc.md's first example (examples/jsonrpc/quickstart.ts), run as a reader runs it:
// it prints what the doc says and ends by itself with exit code 0.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { test } from "node:test";
import { ROOT } from "../reliability/child-server.js";

test("examples/jsonrpc/quickstart.ts: proxy call, named params, a batch with an -32000 entry; exits 0 by itself", { timeout: 60_000 }, async () => {
  const { stdout, stderr } = await promisify(execFile)(process.execPath, ["--import", "tsx", "examples/jsonrpc/quickstart.ts"], { cwd: ROOT, timeout: 50_000 });
  assert.equal(stdout, "5\nHello, Ada!\n[ 0.25, 'error -32000: division by zero', 'Hi, Bob!' ]\n");
  assert.equal(stderr, "");
});
