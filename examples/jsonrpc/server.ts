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
import { setTimeout as sleep } from "node:timers/promises";
import {
  HttpServerTransport,
  JSONRPCError,
  JSONRPCProtocol,
  RPCDispatcher,
  RPCServer,
  WebSocketServerTransport,
  ZmqServerTransport,
  type ServerTransport,
} from "switchboard";

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
const limits = maxMessageBytes === undefined ? {} : { maxMessageBytes };

let notifications = 0;
const dispatcher = new RPCDispatcher();
dispatcher.addMethod((x: unknown) => x, { name: "echo", params: ["x"] });
// Numbers add, strings concatenate; anything else is an invalid-params error.
dispatcher.addMethod(
  (a: unknown, b: unknown) => {
    if (typeof a === "number" && typeof b === "number") return a + b;
    if (typeof a === "string" && typeof b === "string") return a + b;
    throw JSONRPCError.standard(-32602, "add takes two numbers or two strings");
  },
  { name: "add", params: ["a", "b"] },
);
dispatcher.addMethod(
  (msg: unknown) => {
    throw new Error(String(msg));
  },
  { name: "fail", params: ["msg"] },
);
dispatcher.addMethod(
  async (seconds: unknown) => {
    if (typeof seconds !== "number" || !(seconds >= 0) || seconds > 60) throw JSONRPCError.standard(-32602, "seconds must be a number from 0 to 60");
    await sleep(seconds * 1000);
    return seconds;
  },
  { name: "slow", params: ["seconds"] },
);
dispatcher.addMethod(() => void notifications++, { name: "bump", params: [] });
dispatcher.addMethod(() => notifications, { name: "notify_count", params: [] });
const math = new RPCDispatcher();
math.addMethod((a: number, b: number) => a * b, { name: "mul", params: ["a", "b"] });
dispatcher.addSubdispatch(math, "math.");

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
