import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { after, before, describe, it } from "node:test";
import { skipUnlessEtcd, startEtcd, type EtcdServer } from "./harness.js";

describe("examples/etcd/register.ts", { skip: skipUnlessEtcd() }, () => {
  let etcd: EtcdServer;
  before(async () => {
    etcd = await startEtcd();
  });
  after(async () => {
    await etcd?.close();
  });

  it("registers, prints its key, stops and revokes -> exit 0, no record left", async () => {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ["--import", "tsx", "examples/etcd/register.ts"], {
      env: { ...process.env, ETCD: etcd.endpoint, EXAMPLE_ONESHOT: "1" },
      timeout: 30_000,
    });
    assert.match(stdout, /serving on 127\.0\.0\.1:(\d+), registered as services\/helloworld\.Greeter\/127\.0\.0\.1:\1\n/);
    assert.equal(stderr, "");
    assert.equal(await etcd.ctl("get", "--prefix", "services/"), "");
  });
});
