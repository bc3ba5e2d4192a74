// The JSON-RPC example server: one dispatcher served over HTTP, WebSocket and ZeroMQ, each by
// its own RPCServer (tinyrpc's transport x protocol x dispatcher). Its methods and flags are a
// contract other tests and tools call:
//
//   npm run jsonrpc:example -- --http PORT --ws PORT --zmq PORT [--host 127.0.0.1] [--max-bytes N]
//
// serves http://HOST:PORT/ (any path), ws://HOST:PORT/ws and tcp://HOST:PORT (ZeroMQ ROUTER).
// Port 0 picks a free port; each transport prints `listening <kind> <url>`. SIGINT/SIGTERM stop
// every transport and let running calls answer first.
import { parseArgs } from "node:util";
import {
  HttpServerTransport,
  JSONRPCProtocol,
  RPCServer,
  WebSocketServerTransport,
  ZmqServerTransport,
  type ServerTransport,
} from "switchboard";
import { exampleDispatcher } from "./methods.js";

const { values } = parseArgs({
  options: {
    http: { type: "string" },
    ws: { type: "string" },
    zmq: { type: "string" },
    host: { type: "string", default: "127.0.0.1" },
    "max-bytes": { type: "string" },
  },
});

function port(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    console.error(`jsonrpc example: --${name} must be a port number 0-65535, not ${JSON.stringify(value)}`);
    process.exit(1);
  }
  return n;
}

const httpPort = port("http", values.http);
const wsPort = port("ws", values.ws);
const zmqPort = port("zmq", values.zmq);
if (httpPort === undefined && wsPort === undefined && zmqPort === undefined) {
  console.error("jsonrpc example: give at least one of --http PORT, --ws PORT, --zmq PORT");
  process.exit(1);
}
const host = values.host;
const maxMessageBytes = values["max-bytes"] === undefined ? undefined : Number(values["max-bytes"]);
if (maxMessageBytes !== undefined && !(Number.isSafeInteger(maxMessageBytes) && maxMessageBytes > 0)) {
  console.error(`jsonrpc example: --max-bytes must be a positive integer, not ${JSON.stringify(values["max-bytes"])}`);
  process.exit(1);
}
const limits = maxMessageBytes === undefined ? {} : { maxMessageBytes };

const { dispatcher } = exampleDispatcher();
const protocol = new JSONRPCProtocol();
const transports: ServerTransport<any>[] = [];
const serving: Promise<void>[] = [];
function serve<C>(transport: ServerTransport<C>): void {
  transports.push(transport);
  serving.push(new RPCServer(transport, protocol, dispatcher).serveForever());
}

if (httpPort !== undefined) {
  const t = await HttpServerTransport.listen({ host, port: httpPort, ...limits });
  serve(t);
  console.log(`listening http http://${host}:${t.port}/`);
}
if (wsPort !== undefined) {
  const t = await WebSocketServerTransport.listen({ host, port: wsPort, ...limits });
  serve(t);
  console.log(`listening ws ws://${host}:${t.port}/ws`);
}
if (zmqPort !== undefined) {
  const t = await ZmqServerTransport.bind(`tcp://${host}:${zmqPort}`, limits);
  serve(t);
  console.log(`listening zmq tcp://${host}:${t.port}`);
}

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    void Promise.all(transports.map((t) => t.close())).then(() => Promise.all(serving)).then(() => console.log("stopped"));
  });
}
