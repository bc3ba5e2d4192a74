// switchboard's help, usage errors and their exit codes (no server needed).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { runCli, T } from "./helpers.js";

describe("switchboard usage", () => {
  it("--help prints every command on stdout and exits 0", T, async () => {
    const r = await runCli(["--help"]);
    assert.equal(r.code, 0, r.stderr);
    for (const c of ["ls HOST:PORT", "describe HOST:PORT", "call HOST:PORT", "health HOST:PORT", "serve"]) assert.ok(r.stdout.includes(c), `${c} missing:\n${r.stdout}`);
    assert.equal(r.stderr, "");
  });

  it("COMMAND --help and help COMMAND print the command's options and exit 0", T, async () => {
    const a = await runCli(["call", "--help"]);
    assert.equal(a.code, 0);
    assert.match(a.stdout, /usage: switchboard call HOST:PORT pkg\.Service\/Method/);
    assert.match(a.stdout, /--header/);
    assert.match(a.stdout, /64 \+ the gRPC status code/);
    const b = await runCli(["help", "health"]);
    assert.equal(b.code, 0);
    assert.match(b.stdout, /4 {2}unhealthy/);
  });

  it("no command, an unknown command or an unknown option: usage on stderr, exit 1", T, async () => {
    const none = await runCli([]);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /usage: switchboard COMMAND/);
    const unknown = await runCli(["frobnicate"]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /unknown command "frobnicate"/);
    assert.match(unknown.stderr, /usage: switchboard COMMAND/);
    assert.equal(unknown.stdout, "");
    const option = await runCli(["ls", "127.0.0.1:1", "--frob"]);
    assert.equal(option.code, 1);
    assert.match(option.stderr, /Unknown option '--frob'/);
  });

  it("bad arguments exit 1 with a stable ERR_SB code, before any connection", T, async () => {
    const target = await runCli(["ls", "not-a-target"]);
    assert.equal(target.code, 1);
    assert.match(target.stderr, /ERR_SB_BAD_ADDRESS/);
    const duration = await runCli(["call", "127.0.0.1:1", "a.B/C", "--timeout", "soon"]);
    assert.equal(duration.code, 1);
    assert.match(duration.stderr, /--timeout: "soon" is not a duration/);
    const header = await runCli(["call", "127.0.0.1:1", "a.B/C", "-H", "x-data-bin: not base64!"]);
    assert.equal(header.code, 1);
    assert.match(header.stderr, /-bin key must be base64/);
    const tls = await runCli(["ls", "127.0.0.1:1", "--plaintext", "--tls"]);
    assert.equal(tls.code, 1);
    assert.match(tls.stderr, /--plaintext cannot be combined/);
    const health = await runCli(["health"]);
    assert.equal(health.code, 1);
  });
});
