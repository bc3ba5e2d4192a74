// A child process for stdio.test.ts: an echo loop over StdioServerTransport on its own
// stdin/stdout. argv[2] is the framing. Exits when stdin ends.
import { StdioServerTransport } from "../../../src/jsonrpc/transports/stdio.js";
import type { Framing } from "../../../src/jsonrpc/transports/framing.js";

const server = new StdioServerTransport({ framing: (process.argv[2] ?? "line") as Framing, maxMessageBytes: 1024 });
for (let m = await server.receiveMessage(); m; m = await server.receiveMessage()) {
  const body = Buffer.from(m.message).toString();
  await server.sendReply(m.context, body === "note" ? new Uint8Array(0) : Buffer.from(`re:${body}`));
}
process.stderr.write("stdin ended, exiting\n");
