// Runs the example of docs/sros.md ("A runnable example") as written, on a free port: SayHello
// (OK), SayHello without a name (INVALID_ARGUMENT from abort), SayHelloStream (3 replies), and
// SIGTERM ends its handleRpc() loop and the process.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { it } from "node:test";
import { Channel, Code, createClient } from "../../src/index.js";
import { Greeter } from "../../examples/gen/helloworld/helloworld_pb.js";
import { ROOT } from "../interop/peers.js";
import { rejection, within } from "./helpers.js";

/** The first ```ts block after the "A runnable example" heading. */
function exampleSource(): string {
  const doc = readFileSync(path.join(ROOT, "docs", "sros.md"), "utf8");
  const m = /```ts\n([\s\S]*?)```/.exec(doc.slice(doc.indexOf("## A runnable example")));
  assert.ok(m, "no ts block in the runnable example section");
  return m[1]!;
}

it("the docs example runs: handlers with package, handleRpc() per RPC, abort (INVALID_ARGUMENT), SIGTERM ends the loop", { timeout: 60_000 }, async () => {
  // Written for examples/; it runs from test/sros, so only the generated-code import moves
  // (`switchboard` and `switchboard/sros` resolve through package.json "exports").
  const source = exampleSource().replaceAll('from "./gen/', 'from "../../examples/gen/');
  const file = path.join(ROOT, "test", "sros", `.docs-example-${process.pid}.ts`);
  writeFileSync(file, source);
  const child = spawn(process.execPath, ["--import", "tsx", file], { cwd: ROOT, env: { ...process.env, PORT: "0" }, stdio: ["ignore", "pipe", "pipe"] });
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  let stdout = "";
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const channel = { current: undefined as Channel | undefined };
  try {
    const port = await within(
      new Promise<number>((resolve, reject) => {
        child.stdout.on("data", (d: Buffer) => {
          stdout += d.toString();
          const m = /listening on 127\.0\.0\.1:(\d+)/.exec(stdout);
          if (m) resolve(Number(m[1]));
        });
        void exited.then((code) => reject(new Error(`the example exited (${code}) before listening\n${stderr}`)));
      }),
      30_000,
      "the example starting",
    );
    channel.current = new Channel(`127.0.0.1:${port}`);
    const greeter = createClient(Greeter, channel.current);
    assert.equal((await within(greeter.sayHello({ name: "Ada" }), 5000, "SayHello")).message, "Hello, Ada!");
    const err = await rejection(greeter.sayHello({ name: "" }));
    assert.equal(err.code, Code.INVALID_ARGUMENT);
    assert.equal(err.rawMessage, "name is required");
    const replies: string[] = [];
    await within((async () => {
      for await (const r of greeter.sayHelloStream({ name: "Bo" })) replies.push(r.message);
    })(), 5000, "SayHelloStream");
    assert.deepEqual(replies, ["#0 Hello, Bo!", "#1 Hello, Bo!", "#2 Hello, Bo!"]);
    child.kill("SIGTERM");
    assert.equal(await within(exited, 10_000, "the example exiting after SIGTERM"), 0, stderr);
  } finally {
    channel.current?.close();
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    rmSync(file, { force: true });
  }
});
