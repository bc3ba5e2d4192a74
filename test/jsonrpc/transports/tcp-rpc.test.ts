// End to end over TCP (both framings) and a stdio stream pair with the JSON-RPC core:
// RPCServer on the stream server transports, RPCClient on the stream client transports.
import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { test } from "node:test";
import { JSONRPCError, JSONRPCProtocol, RPCClient, RPCServer } from "../../../src/jsonrpc/index.js";
import type { Framing } from "../../../src/jsonrpc/transports/framing.js";
import { StdioClientTransport, StdioServerTransport } from "../../../src/jsonrpc/transports/stdio.js";
import { TcpClientTransport, TcpServerTransport } from "../../../src/jsonrpc/transports/tcp.js";
import { exampleDispatcher } from "../helpers.js";

async function exercise(client: RPCClient, counter: { bumps: number }): Promise<void> {
  assert.equal(await client.call("echo", ["h\u00e9llo \u{1f600}"]), "h\u00e9llo \u{1f600}");
  assert.equal(await client.call("add", { a: 2, b: 3 }), 5);
  assert.equal(await client.call("math.mul", [6, 7]), 42);
  await assert.rejects(client.call("fail", ["boom"]), (e: unknown) => e instanceof JSONRPCError && e.code === -32000 && e.message === "boom");
  const before = counter.bumps;
  await client.notify("bump");
  // pipelined: many calls in flight on one connection, matched by order
  const sums = await Promise.all(Array.from({ length: 50 }, (_, i) => client.call("add", [i, i])));
  assert.deepEqual(sums, Array.from({ length: 50 }, (_, i) => 2 * i));
  assert.equal(await client.call("notify_count"), before + 1);
  const batch = await client.batchCall([{ method: "echo", params: ["b"] }, { method: "bump", notify: true }]);
  assert.deepEqual(batch[0], { ok: true, result: "b" });
}

for (const framing of ["line", "length"] as Framing[]) {
  test(`TCP ${framing} framing: RPCClient <-> RPCServer calls, notifications, pipelining, batches`, async () => {
    const { dispatcher, counter } = exampleDispatcher();
    const transport = await TcpServerTransport.listen({ host: "127.0.0.1", port: 0 }, { framing });
    const serving = new RPCServer(transport, new JSONRPCProtocol(), dispatcher).serveForever();
    const client = new RPCClient(new JSONRPCProtocol(), await TcpClientTransport.connect(transport.address, { framing }));
    try {
      await exercise(client, counter);
    } finally {
      await client.close();
      await transport.close();
      await serving;
    }
  });
}

test("stdio stream pair: RPCClient <-> RPCServer, serveForever returns when the input ends", async () => {
  const { dispatcher, counter } = exampleDispatcher();
  const toServer = new PassThrough();
  const toClient = new PassThrough();
  const serving = new RPCServer(new StdioServerTransport({ input: toServer, output: toClient }), new JSONRPCProtocol(), dispatcher).serveForever();
  const client = new RPCClient(new JSONRPCProtocol(), StdioClientTransport.fromStreams(toClient, toServer));
  await exercise(client, counter);
  await client.close(); // ends the server's input
  await serving;
});
