// docs/h2.md's example (examples/h2/transports.ts): servers and channels on both HTTP/2 engines,
// in all four pairings, answer unary and server-streaming calls, and the script exits 0 by itself.
import { it } from "node:test";
import * as assert from "node:assert/strict";
import { runExample } from "../docs-example.js";

it("examples/h2/transports.ts: every server/client engine pairing answers unary and streaming calls (OK), then exits 0", { timeout: 60_000 }, async () => {
  const r = await runExample("examples/h2/transports.ts");
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split("\n"), [
    "Hello, client on switchboard! (server on switchboard) | #0 stream, #1 stream, #2 stream",
    "Hello, client on node! (server on switchboard) | #0 stream, #1 stream, #2 stream",
    "Hello, client on switchboard! (server on node) | #0 stream, #1 stream, #2 stream",
    "Hello, client on node! (server on node) | #0 stream, #1 stream, #2 stream",
  ]);
});
