// --timeout and --connect-timeout durations: every grpc-timeout unit, case-sensitive as there
// (H M S m u n: "1M" is a minute, "1m" a millisecond), the usual ms/us/µs/ns/s/h/min forms, and
// a bare number of seconds; anything else is a usage error.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { parseDuration } from "../../src/cli/options.js";
import { runMain, T } from "./helpers.js";
import { startOurServer, type Running } from "./servers.js";

describe("switchboard durations", () => {
  const cases: [string, number][] = [
    ["2H", 7_200_000],
    ["1h", 3_600_000],
    ["3M", 180_000],
    ["1.5min", 90_000],
    ["5S", 5000],
    ["5s", 5000],
    ["250m", 250],
    ["250ms", 250],
    ["1500u", 1.5],
    ["1500us", 1.5],
    ["1500µs", 1.5],
    ["2000000n", 2],
    ["2000000ns", 2],
    ["1.5", 1500],
    [".5", 500],
    ["0", 0],
  ];
  for (const [text, ms] of cases) {
    it(`${JSON.stringify(text)} is ${ms} ms`, () => {
      assert.ok(Math.abs(parseDuration(text, "--timeout") - ms) < 1e-9, `${parseDuration(text, "--timeout")}`);
    });
  }

  it("not a duration: a usage error naming the flag (negative, unknown unit, wrong case of a long unit, empty)", () => {
    for (const text of ["-1", "5x", "5MS", "5Min", "", "s", "1e3", "5 s", "5constructor", "5toString"]) {
      assert.throws(() => parseDuration(text, "--timeout"), (err: Error & { code?: string }) => err.code === "ERR_SB_CLI_USAGE" && err.message.startsWith(`--timeout: ${JSON.stringify(text)} is not a duration`), text);
    }
  });

  describe("on the command line", () => {
    let server: Running;
    before(async () => {
      server = await startOurServer();
    });
    after(() => server.close());

    it("--timeout 300m is 300 milliseconds: a 10 s handler ends DEADLINE_EXCEEDED (exit 64 + 4)", T, async () => {
      const r = await runMain(["call", server.target, "clitest.Echo/Unary", '{"delayMs":10000}', "--timeout", "300m"]);
      assert.equal(r.code, 64 + 4, r.stderr);
      assert.match(r.stderr, /^switchboard: call: DEADLINE_EXCEEDED/);
    });

    it("--timeout 1M (a minute) lets a 50 ms call finish; --connect-timeout takes the units too", T, async () => {
      const r = await runMain(["call", server.target, "clitest.Echo/Unary", '{"delayMs":50}', "--timeout", "1M", "--connect-timeout", "5S", "--compact"]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, '{"count":1}\n');
    });

    it("a bad duration is a one-line usage error, exit 1", T, async () => {
      const r = await runMain(["call", server.target, "clitest.Echo/Unary", "--timeout", "soon"]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /^switchboard: call: --timeout: "soon" is not a duration .* \(see 'switchboard call --help'\)\n$/);
    });
  });
});
