// examples/jsonrpc/grpc-bridge.ts run as users run it: one process serving helloworld.Greeter on
// gRPC and over JSON-RPC on HTTP from one implementation; `listening` lines; both fronts answer
// alike; SIGTERM and SIGINT stop it with exit code 0.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { after, describe, it } from "node:test";
import { toJson } from "@bufbuild/protobuf";
import { Channel, createClient, HttpClientTransport, JSONRPCProtocol, RPCClient } from "../../src/index.js";
import { Greeter, HelloReplySchema } from "../../examples/gen/helloworld/helloworld_pb.js";
import { killOnExit, ROOT } from "../reliability/child-server.js";

interface Example {
  readonly child: ChildProcess;
  readonly grpc: string;
  readonly http: string;
  readonly output: string[];
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const EXAMPLE = "examples/jsonrpc/grpc-bridge.ts";

/** Starts the example in its own process group; resolves once both `listening` lines are printed. */
async function start(args: string[] = []): Promise<Example> {
  const child = spawn(process.execPath, ["--import", "tsx", EXAMPLE, ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], detached: true });
  killOnExit(child);
  const output: string[] = [];
  const exit = once(child, "exit").then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const found = new Map<string, string>();
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening lines within 60 s:\n${output.join("\n")}\n${stderr}`)), 60_000);
    void exit.then(({ code, signal }) => reject(new Error(`example exited (${code ?? signal}) before listening:\n${stderr}`)));
    createInterface({ input: child.stdout! }).on("line", (line) => {
      output.push(line);
      const m = /^listening (grpc|http) (\S+)$/.exec(line);
      if (m) found.set(m[1]!, m[2]!);
      if (found.size === 2) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  return { child, grpc: found.get("grpc")!, http: found.get("http")!, output, exit };
}

describe(`${EXAMPLE}: helloworld.Greeter on gRPC and JSON-RPC in one process`, () => {
  const started: Example[] = [];
  after(() => {
    for (const ex of started) if (ex.child.exitCode === null && ex.child.signalCode === null) ex.child.kill("SIGKILL");
  });

  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    it(`prints the listening lines, answers both protocols alike, and exits 0 on ${signal}`, async () => {
      const ex = await start(["--grpc", "0", "--http", "0"]);
      started.push(ex);
      assert.match(ex.grpc, /^127\.0\.0\.1:\d+$/);
      assert.match(ex.http, /^http:\/\/127\.0\.0\.1:\d+\/$/);

      const channel = new Channel(ex.grpc);
      const transport = new HttpClientTransport(ex.http);
      try {
        const greeter = createClient(Greeter, channel);
        const rpc = new RPCClient(new JSONRPCProtocol(), transport);
        const viaGrpc = toJson(HelloReplySchema, await greeter.sayHello({ name: "Ada" }, { timeout: 30_000 }));
        assert.deepEqual(viaGrpc, { message: "Hello, Ada!" });
        assert.deepEqual(await rpc.call("helloworld.Greeter.SayHello", { name: "Ada" }), viaGrpc);

        const stream = [];
        for await (const m of greeter.sayHelloStream({ name: "Bo" }, { timeout: 30_000 })) stream.push(toJson(HelloReplySchema, m));
        assert.equal(stream.length, 3);
        assert.deepEqual(await rpc.call("helloworld.Greeter.SayHelloStream", [{ name: "Bo" }]), stream);

        const bad = await rpc.call("helloworld.Greeter.SayHello", { nmae: "typo" }).then(
          () => assert.fail("an unknown field must be refused"),
          (err: { code: number }) => err,
        );
        assert.equal(bad.code, -32602);
      } finally {
        await transport.close();
        await channel.close();
      }

      // npm/npx do not forward signals: the test signals the node process itself.
      process.kill(ex.child.pid!, signal);
      const { code, signal: bySignal } = await ex.exit;
      assert.equal(bySignal, null);
      assert.equal(code, 0);
      assert.equal(ex.output.at(-1), "stopped");
    });
  }

  it("a bad port argument exits 1 with a message", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", EXAMPLE, "--http", "99999"], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    killOnExit(child);
    let stderr = "";
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    const [code] = await once(child, "exit");
    assert.equal(code, 1);
    assert.match(stderr, /--http must be a port number 0-65535, not "99999"/);
  });
});
