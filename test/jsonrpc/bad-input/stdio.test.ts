// Bad input over stdio: a child process runs RPCServer on StdioServerTransport
// (stdio-rpc-server.ts), both framings. Hostile messages are answered in order and the session
// goes on; the size limit at and just over a small limit and the 4 MiB default (-32600, then
// the session ends and the child exits 0); a truncated last frame, and a parent that stops
// reading stdout, end the child cleanly instead of crashing it.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { DEFAULT_MAX_MESSAGE_BYTES } from "../../../src/jsonrpc/index.js";
import { encodeFrame, FrameDecoder, type Framing } from "../../../src/jsonrpc/transports/framing.js";
import { assertBadReply, assertError, BAD_MESSAGES, call, PROBE, PROBE_REPLY } from "./helpers.js";

const CHILD = fileURLToPath(new URL("./stdio-rpc-server.ts", import.meta.url));

/** The child server and a framed view of its stdio. */
class Child {
  readonly process: ChildProcess;
  readonly exited: Promise<number | null>;
  stderr = "";
  readonly #frames: string[] = [];
  readonly #waiters: ((f: string | undefined) => void)[] = [];
  #ended = false;

  constructor(
    readonly framing: Framing,
    max?: number,
  ) {
    this.process = spawn(process.execPath, ["--import", "tsx", CHILD, framing, ...(max === undefined ? [] : [String(max)])], { stdio: ["pipe", "pipe", "pipe"] });
    this.exited = new Promise((r) => this.process.once("exit", (code) => r(code)));
    this.process.stdin!.on("error", () => {});
    this.process.stderr!.on("data", (d: Buffer) => (this.stderr += d.toString()));
    const decoder = new FrameDecoder(framing, 64 * 1024 * 1024);
    this.process.stdout!.on("data", (chunk: Buffer) => {
      for (const f of decoder.push(chunk)) if (f.kind === "message") this.#deliver(Buffer.from(f.message).toString());
    });
    this.process.stdout!.once("close", () => {
      this.#ended = true;
      for (const w of this.#waiters.splice(0)) w(undefined);
    });
  }

  #deliver(f: string): void {
    const w = this.#waiters.shift();
    if (w) w(f);
    else this.#frames.push(f);
  }

  send(message: string | Buffer): void {
    this.process.stdin!.write(encodeFrame(this.framing, typeof message === "string" ? Buffer.from(message) : message));
  }

  /** The next reply; undefined once the child closed its stdout. */
  next(): Promise<string | undefined> {
    if (this.#frames.length > 0) return Promise.resolve(this.#frames.shift());
    if (this.#ended) return Promise.resolve(undefined);
    return new Promise((r) => this.#waiters.push(r));
  }

  /** Ends stdin and checks the child exits 0 having reported no errors. */
  async finish(): Promise<void> {
    this.process.stdin!.end();
    assert.equal(await this.exited, 0, this.stderr);
    assert.match(this.stderr, /served, 0 errors reported/);
  }
}

/** An echo request of exactly `size` bytes. */
function sized(size: number): string {
  const bare = call("echo", [""], "s");
  return call("echo", ["x".repeat(size - bare.length)], "s");
}

for (const framing of ["line", "length"] as const) {
  describe(`stdio, ${framing} framing`, () => {
    test("hostile messages pipelined: each gets its exact JSON-RPC error in order, the session goes on, the child exits 0", async () => {
      const c = new Child(framing);
      try {
        for (const bad of BAD_MESSAGES) c.send(bad.body);
        c.send("");
        for (const bad of BAD_MESSAGES) assertBadReply((await c.next())!, bad);
        assertError((await c.next())!, -32700);
        c.send(PROBE);
        assert.equal(await c.next(), PROBE_REPLY);
        await c.finish();
      } finally {
        c.process.kill();
      }
    });

    test("limit 1024: exactly 1024 bytes is answered; 1025 gets -32600, then the session ends and the child exits 0", async () => {
      const c = new Child(framing, 1024);
      try {
        c.send(sized(1024));
        assert.equal(JSON.parse((await c.next())!).id, "s");
        c.send(sized(1025));
        assert.equal(assertError((await c.next())!, -32600).message, "Message too large: 1025 bytes, the limit is 1024");
        assert.equal(await c.next(), undefined);
        await c.finish();
      } finally {
        c.process.kill();
      }
    });

    test("the default limit is 4 MiB: exactly 4 MiB is answered; 4 MiB + 1 gets -32600, then the child exits 0", async () => {
      const c = new Child(framing);
      try {
        c.send(sized(DEFAULT_MAX_MESSAGE_BYTES));
        assert.equal(JSON.parse((await c.next())!).result.length, DEFAULT_MAX_MESSAGE_BYTES - call("echo", [""], "s").length);
        c.send(sized(DEFAULT_MAX_MESSAGE_BYTES + 1));
        assert.equal(assertError((await c.next())!, -32600).message, `Message too large: ${DEFAULT_MAX_MESSAGE_BYTES + 1} bytes, the limit is ${DEFAULT_MAX_MESSAGE_BYTES}`);
        assert.equal(await c.next(), undefined);
        await c.finish();
      } finally {
        c.process.kill();
      }
    });

    test("stdin ends in the middle of a frame: the earlier call is answered, the truncated frame is dropped, the child exits 0", async () => {
      const c = new Child(framing);
      try {
        c.send(PROBE);
        const frame = encodeFrame(framing, Buffer.from(PROBE));
        c.process.stdin!.write(frame.subarray(0, framing === "line" ? frame.length - 1 : 4 + 10));
        assert.equal(await c.next(), PROBE_REPLY);
        await c.finish();
        assert.equal(await c.next(), undefined);
      } finally {
        c.process.kill();
      }
    });

    test("the parent stops reading stdout (pipe closed) while calls are pending: the child does not crash and exits 0 at end of input", async () => {
      const c = new Child(framing);
      try {
        c.send(PROBE);
        assert.equal(await c.next(), PROBE_REPLY);
        c.process.stdout!.destroy();
        for (let i = 0; i < 50; i++) c.send(call("big", [64 * 1024], i));
        c.process.stdin!.end();
        assert.equal(await c.exited, 0, c.stderr);
        assert.doesNotMatch(c.stderr, /Error|EPIPE/);
      } finally {
        c.process.kill();
      }
    });
  });
}
