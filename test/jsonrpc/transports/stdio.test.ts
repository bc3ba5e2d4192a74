// stdio transports: a real child process serving on its stdin/stdout (both framings), and
// the in-process stream-pair form with end-of-input, limits and close.
import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { ErrorCode } from "../../../src/errors.js";
import type { Framing } from "../../../src/jsonrpc/transports/framing.js";
import { StdioClientTransport, StdioServerTransport } from "../../../src/jsonrpc/transports/stdio.js";

const text = (b: Uint8Array | undefined) => Buffer.from(b ?? []).toString();
const bytes = (s: string) => Buffer.from(s);
const CHILD = fileURLToPath(new URL("./stdio-echo-server.ts", import.meta.url));

for (const framing of ["line", "length"] as Framing[]) {
  test(`${framing} framing: a spawned child answers pipelined calls in order; an oversized message gets -32600 and ends the session`, async () => {
    const client = await StdioClientTransport.spawn(process.execPath, ["--import", "tsx", CHILD, framing], { framing, stderr: "pipe" });
    const child = client.child!;
    let stderr = "";
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    try {
      const replies = await Promise.all(["a", "note", "b"].map((m) => client.sendMessage(bytes(m), true)));
      assert.deepEqual(replies.map(text), ["re:a", "", "re:b"]);
      assert.equal(await client.sendMessage(bytes("note"), false), undefined);
      const big = await client.sendMessage(Buffer.alloc(2000, 0x61), true);
      assert.equal(JSON.parse(text(big)).error.code, -32600);
      // The oversized message ended the stream; the next call sees the closed transport.
      await assert.rejects(client.sendMessage(bytes("after"), true), { code: ErrorCode.TRANSPORT_CLOSED });
    } finally {
      await client.close();
    }
    assert.equal(await exited, 0, stderr);
    assert.match(stderr, /stdin ended, exiting/);
  });
}

test("close() ends the child's stdin and the child server exits cleanly", async () => {
  const client = await StdioClientTransport.spawn(process.execPath, ["--import", "tsx", CHILD, "line"], { stderr: "pipe" });
  const child = client.child!;
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  assert.equal(text(await client.sendMessage(bytes("x"), true)), "re:x");
  await client.close();
  assert.equal(await exited, 0, stderr);
  assert.match(stderr, /stdin ended, exiting/);
  await assert.rejects(client.sendMessage(bytes("after"), true), { code: ErrorCode.TRANSPORT_CLOSED });
});

test("stream pair: end of input makes receiveMessage resolve undefined after the queued messages", async () => {
  const input = new PassThrough();
  const output = new PassThrough();
  const server = new StdioServerTransport({ input, output });
  input.end("one\ntwo\n");
  const one = await server.receiveMessage();
  const two = await server.receiveMessage();
  assert.deepEqual([text(one!.message), text(two!.message)], ["one", "two"]);
  assert.equal(await server.receiveMessage(), undefined);
  // Replies to messages already read are still written, in order, then the output ends.
  await server.sendReply(two!.context, bytes("r2"));
  await server.sendReply(one!.context, bytes("r1"));
  const chunks: Buffer[] = [];
  for await (const c of output) chunks.push(c as Buffer);
  assert.equal(Buffer.concat(chunks).toString(), "r1\nr2\n");
});

test("stream pair client/server: round trip, and sendReply twice for one message is TRANSPORT", async () => {
  const toServer = new PassThrough();
  const toClient = new PassThrough();
  const server = new StdioServerTransport({ input: toServer, output: toClient });
  const client = StdioClientTransport.fromStreams(toClient, toServer);
  const reply = client.sendMessage(bytes("ping"), true);
  const m = await server.receiveMessage();
  await server.sendReply(m!.context, bytes("pong"));
  assert.equal(text(await reply), "pong");
  await assert.rejects(server.sendReply(m!.context, bytes("again")), { code: ErrorCode.TRANSPORT });
  await assert.rejects(client.sendMessage(bytes("has\nnewline"), true), { code: ErrorCode.TRANSPORT });
  await server.close();
  assert.equal(await server.receiveMessage(), undefined);
  await client.close();
});

test("spawning a missing command fails with TRANSPORT", async () => {
  await assert.rejects(StdioClientTransport.spawn("/nonexistent/switchboard-server", []), { code: ErrorCode.TRANSPORT });
});
