// examples/cluster/server.ts as a user runs it: 2 workers on one port answer with their
// pids, SIGHUP replaces both (a rolling restart), SIGTERM drains them and prints "stopped".
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { afterEach, describe, it } from "node:test";
import { Channel, createClient } from "../../src/index.js";
import { Greeter } from "../../src/gen/helloworld/helloworld_pb.js";
import { REPO_ROOT, T, within } from "./helpers.js";

class Lines {
  text = "";
  readonly exited: Promise<number | null>;
  constructor(readonly child: ChildProcess) {
    child.stdout!.on("data", (d: Buffer) => (this.text += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (this.text += d.toString()));
    this.exited = new Promise((resolve) => child.on("close", (code) => resolve(code)));
  }
  async waitFor(pattern: RegExp, ms = 60_000): Promise<RegExpExecArray> {
    const deadline = Date.now() + ms;
    for (;;) {
      const m = pattern.exec(this.text);
      if (m) return m;
      if (this.child.exitCode !== null || Date.now() > deadline) throw new Error(`${pattern} not printed:\n${this.text}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

async function hello(port: number): Promise<string> {
  const channel = new Channel(`127.0.0.1:${port}`);
  try {
    return (await createClient(Greeter, channel).sayHello({ name: "Ada" }, { timeout: 10_000 })).message;
  } finally {
    channel.close();
  }
}

describe("examples/cluster/server.ts", () => {
  let child: ChildProcess | undefined;
  afterEach(() => {
    // The workers drain and exit by themselves when their primary's IPC channel closes.
    if (child && child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });

  it("serves from 2 pids on one port; SIGHUP -> 2 new pids; SIGTERM -> stopped, exit 0", T, async () => {
    child = spawn(process.execPath, ["--import", "tsx", "examples/cluster/server.ts"], { cwd: REPO_ROOT, env: { ...process.env, PORT: "0", WORKERS: "2" }, stdio: ["ignore", "pipe", "pipe"] });
    const out = new Lines(child);
    const m = await out.waitFor(/Greeter listening on 127\.0\.0\.1:(\d+) \(pids (\d+), (\d+)\)/);
    const port = Number(m[1]);
    const first = [m[2], m[3]];
    const seen = new Set<string>();
    for (let i = 0; i < 100 && seen.size < 2; i++) seen.add(/pid (\d+)/.exec(await hello(port))![1]!);
    assert.deepEqual([...seen].sort(), [...first].sort());
    child.kill("SIGHUP");
    const r = await out.waitFor(/restarted \(pids (\d+), (\d+)\)/);
    for (const pid of [r[1], r[2]]) assert.ok(!first.includes(pid));
    assert.match(await hello(port), /^Hello, Ada! \(worker \d, pid \d+\)$/);
    child.kill("SIGTERM");
    assert.equal(await within(out.exited, 30_000, "example exit"), 0);
    assert.match(out.text, /^stopped$/m);
  });
});
