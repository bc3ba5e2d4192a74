// Runs examples/sros/script.ts, the example docs/sros.md shows, as a reader does, on a free
// port: SayHello (OK), SayHello without a name (INVALID_ARGUMENT from abort), SayHelloStream
// (3 replies), and SIGTERM ends its handleRpc() loop and the process.
import assert from "node:assert/strict";
import { it } from "node:test";
import { Channel, Code, createClient } from "../../src/index.js";
import { Greeter } from "../../examples/gen/helloworld/helloworld_pb.js";
import { startExample } from "../docs-example.js";
import { rejection, within } from "./helpers.js";

it("examples/sros/script.ts (docs/sros.md) runs: handlers with package, handleRpc() per RPC, abort (INVALID_ARGUMENT), SIGTERM ends the loop", { timeout: 60_000 }, async () => {
  const example = await startExample("examples/sros/script.ts");
  const { port, child, exited } = example;
  const channel = { current: undefined as Channel | undefined };
  try {
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
    assert.equal((await within(exited, 10_000, "the example exiting after SIGTERM")).code, 0, example.stderr());
  } finally {
    channel.current?.close();
    example.dispose();
  }
});
