// switchboard's help, usage errors and their exit codes (no server needed): a usage error is one
// line, `switchboard: COMMAND: message (see 'switchboard COMMAND --help')`, exit 1; every other
// error the CLI prints has the same `switchboard: COMMAND: ` prefix.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { runCli, runMain, T } from "./helpers.js";

describe("switchboard usage", () => {
  it("--help prints every command on stdout and exits 0 (the real bin)", T, async () => {
    const r = await runCli(["--help"]);
    assert.equal(r.code, 0, r.stderr);
    for (const c of ["ls HOST:PORT", "describe HOST:PORT", "call HOST:PORT", "health HOST:PORT", "serve"]) assert.ok(r.stdout.includes(c), `${c} missing:\n${r.stdout}`);
    assert.equal(r.stderr, "");
  });

  it("COMMAND --help and help COMMAND print the command's options and exit 0", T, async () => {
    const a = await runMain(["call", "--help"]);
    assert.equal(a.code, 0);
    assert.match(a.stdout, /usage: switchboard call HOST:PORT pkg\.Service\/Method/);
    assert.match(a.stdout, /--header/);
    assert.match(a.stdout, /--proto FILE/);
    assert.match(a.stdout, /-I, --import-path DIR/);
    assert.match(a.stdout, /--protoset FILE/);
    assert.match(a.stdout, /64 \+ the gRPC status code/);
    const b = await runMain(["help", "health"]);
    assert.equal(b.code, 0);
    assert.match(b.stdout, /4 {2}unhealthy/);
  });

  it("no command: the usage on stderr, exit 1", T, async () => {
    const none = await runMain([]);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /^usage: switchboard COMMAND/);
  });

  it("an unknown command or option, a missing value or argument, an extra argument: one line each, exit 1", T, async () => {
    const cases: [string[], string][] = [
      [["frobnicate"], `switchboard: unknown command "frobnicate" (see 'switchboard --help')`],
      [["help", "frobnicate"], `switchboard: help: unknown command "frobnicate" (see 'switchboard --help')`],
      [["ls", "127.0.0.1:1", "--frob"], `switchboard: ls: unknown option '--frob' (see 'switchboard ls --help')`],
      [["call", "127.0.0.1:1", "a.B/C", "--timeout"], `switchboard: call: option '--timeout' needs a value (see 'switchboard call --help')`],
      [["call", "127.0.0.1:1", "a.B/C", "--compact=yes"], `switchboard: call: option '--compact' takes no value (see 'switchboard call --help')`],
      [["call"], `switchboard: call: missing HOST:PORT (see 'switchboard call --help')`],
      [["call", "127.0.0.1:1"], `switchboard: call: missing METHOD (see 'switchboard call --help')`],
      [["call", "127.0.0.1:1", "a.B/C", "{}", "{}"], `switchboard: call: unexpected argument "{}" (call takes HOST:PORT, METHOD and one JSON request or -) (see 'switchboard call --help')`],
      [["call", "127.0.0.1:1", "nomethod"], `switchboard: call: "nomethod" is not a method name like pkg.Service/Method (see 'switchboard call --help')`],
      [["ls"], `switchboard: ls: missing HOST:PORT (see 'switchboard ls --help')`],
      [["ls", "127.0.0.1:1", "a.B", "c"], `switchboard: ls: unexpected argument "c" (ls takes HOST:PORT and one SERVICE) (see 'switchboard ls --help')`],
      [["describe"], `switchboard: describe: missing HOST:PORT (see 'switchboard describe --help')`],
      [["health"], `switchboard: health: missing HOST:PORT (see 'switchboard health --help')`],
      [["serve", "now"], `switchboard: serve: unexpected argument "now" (serve takes none) (see 'switchboard serve --help')`],
      [["serve", "--port", "http"], `switchboard: serve: --port "http" is not a port number (see 'switchboard serve --help')`],
      [["ls", "127.0.0.1:1", "--plaintext", "--tls"], `switchboard: ls: --plaintext cannot be combined with --tls, --ca, --cert, --key or --server-name (see 'switchboard ls --help')`],
      [["call", "127.0.0.1:1", "a.B/C", "-H", "x-data-bin: not base64!"], `switchboard: call: --header x-data-bin: the value of a -bin key must be base64 (see 'switchboard call --help')`],
    ];
    for (const [args, line] of cases) {
      const r = await runMain(args);
      assert.equal(r.code, 1, args.join(" "));
      assert.equal(r.stdout, "", args.join(" "));
      assert.equal(r.stderr, `${line}\n`, args.join(" "));
    }
  });

  it("the bin prints the same one-line usage error and exits 1", T, async () => {
    const r = await runCli(["call", "127.0.0.1:1"]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, "switchboard: call: missing METHOD (see 'switchboard call --help')\n");
  });

  it("bad arguments that are not usage errors exit 1 with the prefix and a stable ERR_SB code, before any connection", T, async () => {
    const target = await runMain(["ls", "not-a-target"]);
    assert.equal(target.code, 1);
    assert.match(target.stderr, /^switchboard: ls: .*\[ERR_SB_BAD_ADDRESS\]\n$/);
    const ca = await runMain(["ls", "127.0.0.1:1", "--ca", "/nonexistent/ca.pem"]);
    assert.equal(ca.code, 1);
    assert.match(ca.stderr, /^switchboard: ls: --ca: cannot read \/nonexistent\/ca\.pem: /);
  });
});
