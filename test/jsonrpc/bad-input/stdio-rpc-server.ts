// A child process for stdio.test.ts: RPCServer with the example methods over
// StdioServerTransport on its own stdin/stdout. argv[2] is the framing, argv[3] the optional
// maxMessageBytes (default: the transport's 4 MiB). Exits once stdin ends and every reply went out.
import { StdioServerTransport } from "../../../src/jsonrpc/index.js";
import type { Framing } from "../../../src/jsonrpc/transports/framing.js";
import { serveRpc } from "./helpers.js";

const framing = (process.argv[2] ?? "line") as Framing;
const max = process.argv[3] === undefined ? undefined : Number(process.argv[3]);
const transport = new StdioServerTransport(max === undefined ? { framing } : { framing, maxMessageBytes: max });
const rpc = serveRpc(transport, { maxBatchLength: 10 });
await rpc.serving;
process.stderr.write(`served, ${rpc.errors.length} errors reported\n`);
