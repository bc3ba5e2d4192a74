// The contract example server (examples/jsonrpc/server.ts), run as users run it: every method
// over HTTP, WebSocket and ZeroMQ, the 4 MiB default limit on each transport, `listening`
// lines, a clean stop on SIGTERM and SIGINT, and `npm run jsonrpc:example` itself.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { after, describe, it } from "node:test";
import { WebSocket } from "ws";
import {
  DEFAULT_MAX_MESSAGE_BYTES,
  HttpClientTransport,
  JSONRPCError,
  JSONRPCProtocol,
  RPCClient,
  WebSocketClientTransport,
  ZmqClientTransport,
  type ClientTransport,
} from "../../src/index.js";
import { killOnExit, ROOT } from "../reliability/child-server.js";
import { request } from "./transports/http-ws-helpers.js";

interface Example {
  readonly child: ChildProcess;
  readonly urls: Map<string, string>;
  readonly output: string[];
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `command args` in its own process group and resolves once `kinds` printed their `listening` lines. */
async function start(command: string, args: string[], kinds: string[]): Promise<Example> {
  const child = spawn(command, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], detached: true });
  killOnExit(child);
  const output: string[] = [];
  const urls = new Map<string, string>();
  const exit = once(child, "exit").then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const lines = createInterface({ input: child.stdout! });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening lines within 60 s:\n${output.join("\n")}\n${stderr}`)), 60_000);
    void exit.then(({ code, signal }) => reject(new Error(`example exited (${code ?? signal}) before listening:\n${stderr}`)));
    lines.on("line", (line) => {
      output.push(line);
      const m = /^listening (\w+) (\S+)$/.exec(line);
      if (m) urls.set(m[1]!, m[2]!);
      if (kinds.every((k) => urls.has(k))) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  return { child, urls, output, exit };
}

const node = (args: readonly string[]): [string, string[]] => [process.execPath, ["--import", "tsx", "examples/jsonrpc/server.ts", ...args]];

describe("example server: --http 0 --ws 0 --zmq 0", () => {
  let ex: Example;
  const transports: ClientTransport[] = [];
  after(async () => {
    await Promise.all(transports.map((t) => t.close()));
    if (ex && ex.child.exitCode === null) ex.child.kill("SIGKILL");
  });

  async function clients(): Promise<Array<[string, RPCClient]>> {
    if (!ex) ex = await start(...node(["--http", "0", "--ws", "0", "--zmq", "0"]), ["http", "ws", "zmq"]);
    const http = new HttpClientTransport(ex.urls.get("http")!);
    const ws = await WebSocketClientTransport.connect(ex.urls.get("ws")!);
    const zmq = await ZmqClientTransport.connect(ex.urls.get("zmq")!, { timeoutMs: 30_000 });
    transports.push(http, ws, zmq);
    return [
      ["http", new RPCClient(new JSONRPCProtocol(), http)],
      ["ws", new RPCClient(new JSONRPCProtocol(), ws)],
      ["zmq", new RPCClient(new JSONRPCProtocol(), zmq)],
    ];
  }

  it("prints one `listening <kind> <url>` line per transport, on 127.0.0.1 with the assigned ports", async () => {
    await clients();
    assert.match(ex.urls.get("http")!, /^http:\/\/127\.0\.0\.1:[1-9]\d*\/$/);
    assert.match(ex.urls.get("ws")!, /^ws:\/\/127\.0\.0\.1:[1-9]\d*\/ws$/);
    assert.match(ex.urls.get("zmq")!, /^tcp:\/\/127\.0\.0\.1:[1-9]\d*$/);
  });

  it("every method answers on every transport: echo, add (numbers, strings, named), fail -> -32000, math.mul, bump + notify_count", async () => {
    for (const [kind, c] of await clients()) {
      assert.deepEqual(await c.call("echo", [{ a: [1, "x", null] }]), { a: [1, "x", null] }, kind);
      assert.equal(await c.call("add", [2, 3]), 5, kind);
      assert.equal(await c.call("add", ["ab", "cd"]), "abcd", kind);
      assert.equal(await c.call("add", { b: "cd", a: "ab" }), "abcd", kind);
      await assert.rejects(c.call("add", [1, "x"]), (e: unknown) => e instanceof JSONRPCError && e.code === -32602, kind);
      await assert.rejects(c.call("fail", ["boom " + kind]), (e: unknown) => e instanceof JSONRPCError && e.code === -32000 && e.message === "boom " + kind, kind);
      assert.equal(await c.call("math.mul", [6, 7]), 42, kind);
      await assert.rejects(c.call("math.nope", []), (e: unknown) => e instanceof JSONRPCError && e.code === -32601, kind);
      const before = (await c.call("notify_count")) as number;
      await c.notify("bump");
      await c.notify("bump");
      assert.equal(await c.call("notify_count"), before + 2, kind);
    }
  });

  it("slow(seconds) does not hold up other calls: echo on another connection answers while slow(2) runs", async () => {
    const [[, http], [, ws]] = await clients();
    const order: string[] = [];
    const slow = http!.call("slow", [2]).then((r) => (order.push("slow"), r));
    const echo = ws!.call("echo", ["fast"]).then((r) => (order.push("echo"), r));
    assert.deepEqual(await Promise.all([slow, echo]), [2, "fast"]);
    assert.deepEqual(order, ["echo", "slow"]);
  });

  it("the 4 MiB default limit: HTTP 413, WebSocket close 1009, ZeroMQ -32600 reply; a message just under it is answered", async () => {
    await clients();
    const head = `{"jsonrpc":"2.0","id":1,"method":"echo","params":["`;
    const overhead = head.length + `"]}`.length;
    const wrap = (n: number) => Buffer.from(`${head}${"x".repeat(n - overhead)}"]}`);
    const under = wrap(DEFAULT_MAX_MESSAGE_BYTES - 1024);
    const over = wrap(DEFAULT_MAX_MESSAGE_BYTES + 1);
    assert.equal(over.length, DEFAULT_MAX_MESSAGE_BYTES + 1);

    const ok = await request(ex.urls.get("http")!, { body: under });
    assert.equal(ok.status, 200);
    assert.equal(JSON.parse(ok.body.toString()).result.length, under.length - overhead);
    assert.equal((await request(ex.urls.get("http")!, { body: over })).status, 413);

    const ws = new WebSocket(ex.urls.get("ws")!);
    await once(ws, "open");
    ws.send(under.toString());
    const [reply] = (await once(ws, "message")) as [Buffer];
    assert.equal(JSON.parse(reply.toString()).id, 1);
    ws.send(over.toString());
    const [code] = (await once(ws, "close")) as [number];
    assert.equal(code, 1009);

    const zmq = await ZmqClientTransport.connect(ex.urls.get("zmq")!, { timeoutMs: 30_000 });
    transports.push(zmq);
    const big = JSON.parse(Buffer.from((await zmq.sendMessage(over, true))!).toString());
    assert.equal(big.error.code, -32600);
    assert.equal(big.id, null);
    const small = JSON.parse(Buffer.from((await zmq.sendMessage(under, true))!).toString());
    assert.equal(small.result.length, under.length - overhead);
  });

  it("SIGTERM stops every transport, prints `stopped` and exits 0", async () => {
    await clients();
    ex.child.kill("SIGTERM");
    const { code, signal } = await ex.exit;
    assert.equal(signal, null);
    assert.equal(code, 0);
    assert.equal(ex.output.at(-1), "stopped");
  });
});

describe("example server: flags", () => {
  it("SIGINT stops it too (exit 0); --host and --max-bytes apply", async () => {
    const ex = await start(...node(["--http", "0", "--host", "127.0.0.1", "--max-bytes", "100"]), ["http"]);
    assert.equal((await request(ex.urls.get("http")!, { body: `{"jsonrpc":"2.0","id":1,"method":"echo","params":["${"y".repeat(80)}"]}` })).status, 413);
    assert.equal((await request(ex.urls.get("http")!, { body: `{"jsonrpc":"2.0","id":1,"method":"echo","params":[1]}` })).body.toString(), `{"jsonrpc":"2.0","id":1,"result":1}`);
    ex.child.kill("SIGINT");
    assert.deepEqual(await ex.exit, { code: 0, signal: null });
  });

  it("bad flags exit 1 with a one-line reason: no transport, a bad port, a bad --max-bytes", async () => {
    for (const [args, reason] of [
      [[], /give at least one of --http PORT/],
      [["--http", "70000"], /--http must be a port number/],
      [["--ws", "0", "--max-bytes", "lots"], /--max-bytes must be a positive integer/],
    ] as const) {
      const child = spawn(...node([...args]), { cwd: ROOT, stdio: ["ignore", "ignore", "pipe"] });
      killOnExit(child);
      let stderr = "";
      child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
      const [code] = await once(child, "exit");
      assert.equal(code, 1, stderr);
      assert.match(stderr, reason);
    }
  });

  it("`npm run jsonrpc:example -- --http 0` serves (the documented command)", async () => {
    const ex = await start("npm", ["run", "--silent", "jsonrpc:example", "--", "--http", "0"], ["http"]);
    try {
      const c = new RPCClient(new JSONRPCProtocol(), new HttpClientTransport(ex.urls.get("http")!));
      assert.equal(await c.call("math.mul", { a: 3, b: 4 }), 12);
    } finally {
      // npm does not always pass signals on: stop the whole process group.
      process.kill(-ex.child.pid!, "SIGTERM");
      await ex.exit;
    }
  });
});
