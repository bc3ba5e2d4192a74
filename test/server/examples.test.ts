// The runnable examples of docs/events.md and docs/codecs.md run as written and print
// what the docs say they print.
import { it } from "node:test";
import * as assert from "node:assert/strict";
import { execFile } from "node:child_process";
import * as path from "node:path";
import { promisify } from "node:util";
import { REPO_ROOT } from "./helpers.js";

const run = promisify(execFile);

async function example(file: string): Promise<string> {
  const { stdout } = await run(process.execPath, ["--import", "tsx", path.join(REPO_ROOT, file)], { cwd: REPO_ROOT, timeout: 30_000 });
  return stdout;
}

it("examples/json-ping/ping.ts: the JSON Ping service answers {\"value\":\"pong\"} (OK)", { timeout: 40_000 }, async () => {
  assert.equal(await example("examples/json-ping/ping.ts"), '{"value":"pong"}\n');
});

it("examples/events/auth.ts: no token -> UNAUTHENTICATED with the stamped trailer; with the token -> a greeting (UNAUTHENTICATED, OK)", { timeout: 40_000 }, async () => {
  assert.equal(await example("examples/events/auth.ts"), "refused: UNAUTHENTICATED (switchboard-example)\nhello friend\n");
});
