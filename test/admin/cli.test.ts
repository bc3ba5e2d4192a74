// switchboard serve --admin: the admin server of the CLI's example server, its output line
// (after the unchanged first line), /metrics with the calls made, and the flag's usage errors.
import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { CliProcess, runMain, T, within } from "../cli/helpers.js";
import { get } from "./helpers.js";

describe("switchboard serve --admin", () => {
  let proc: CliProcess | undefined;
  afterEach(() => proc?.kill());

  it("--admin 127.0.0.1:0 prints \"admin listening on http://127.0.0.1:PORT/\" and serves /metrics (200) and /health", T, async () => {
    proc = new CliProcess(["serve", "--port", "0", "--admin", "127.0.0.1:0"]);
    const first = await proc.waitFor(/^Greeter listening on 127\.0\.0\.1:(\d+)$/m);
    const admin = await proc.waitFor(/^admin listening on (http:\/\/127\.0\.0\.1:\d+\/)$/m);
    // The first line stays the first line.
    assert.match(proc.stdout, /^Greeter listening on /);
    const call = await runMain(["call", `127.0.0.1:${first[1]}`, "helloworld.Greeter/SayHello", '{"name":"Ada"}']);
    assert.equal(call.code, 0, call.stderr);
    const metrics = await get(`${admin[1]}metrics`);
    assert.equal(metrics.status, 200);
    assert.match(metrics.body, /^grpc_server_handled_total\{[^}]*grpc_method="SayHello"[^}]*grpc_code="OK"[^}]*\} 1$/m);
    const health = JSON.parse((await get(`${admin[1]}health`)).body) as { status: string; services: Record<string, string> };
    assert.equal(health.status, "SERVING");
    assert.equal(health.services["helloworld.Greeter"], "SERVING");
    proc.child.kill("SIGTERM");
    assert.equal(await within(proc.exited, 10_000, "serve exit"), 0);
  });

  it("--admin-token: requests without it are 401, with it 200", T, async () => {
    proc = new CliProcess(["serve", "--port", "0", "--admin", "0", "--admin-token", "s3cret"]);
    const admin = await proc.waitFor(/^admin listening on (http:\/\/127\.0\.0\.1:\d+\/)$/m);
    assert.equal((await get(`${admin[1]}metrics`)).status, 401);
    assert.equal((await get(`${admin[1]}metrics`, { headers: { authorization: "Bearer s3cret" } })).status, 200);
  });

  it("usage errors (exit 1): --admin with --workers, a bad address, beyond loopback without a token, a token without --admin", T, async () => {
    for (const args of [
      ["serve", "--port", "0", "--workers", "2", "--admin", "127.0.0.1:0"],
      ["serve", "--port", "0", "--admin", "nope"],
      ["serve", "--port", "0", "--admin", "127.0.0.1:99999"],
      ["serve", "--port", "0", "--admin", "0.0.0.0:0"],
      ["serve", "--port", "0", "--admin-token", "t"],
    ]) {
      const r = await runMain(args);
      assert.equal(r.code, 1, args.join(" "));
      assert.match(r.stderr, /--admin/, args.join(" "));
    }
  });
});
