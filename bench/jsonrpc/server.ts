// One JSON-RPC benchmark server: the same two methods, echo(x) and add(a, b), on one of three
// implementations over one transport, each written the way a user of that library would.
//   taskset -c 0 node --expose-gc --import tsx bench/jsonrpc/server.ts --impl sb|jayson|jrpc2 --transport http|ws --port 0
//
//   sb      Switchboard: RPCServer + JSONRPCProtocol + RPCDispatcher over HttpServerTransport
//           or WebSocketServerTransport (default options: 4 MiB limit, strict validation,
//           arity checks, in-order WebSocket replies)
//   jayson  jayson 4: `server.http()` (its node:http server), `server.websocket()` (its ws 7
//           server), callback-style methods
//   jrpc2   json-rpc-2.0: JSONRPCServer.receiveJSON() behind a plain node:http handler, and
//           behind a `ws` 8 WebSocketServer (one reply per message, sent when ready)
//   bare    the ceiling (HTTP only): node:http answering the two benchmark bodies with their
//           precomputed replies, no JSON work at all
//
// Positional and named params are both accepted by every implementation. The control channel
// (stdin `stats`/`reset`/`gc`, the `listening on` line) is bench/servers/control.ts.
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { parseArgs } from "node:util";
import jayson from "jayson";
import { JSONRPCServer } from "json-rpc-2.0";
import { WebSocketServer } from "ws";
import { HttpServerTransport, JSONRPCError, JSONRPCProtocol, RPCDispatcher, RPCServer, WebSocketServerTransport } from "../../src/index.js";
import { portArg, serveControl } from "../servers/control.js";
import { httpBatch, httpSingle } from "./workload.js";

const { values } = parseArgs({ options: { impl: { type: "string" }, transport: { type: "string" }, port: { type: "string" } } });
const impl = values.impl;
const transport = values.transport;
if (impl !== "sb" && impl !== "jayson" && impl !== "jrpc2" && impl !== "bare") throw new Error(`--impl must be sb, jayson, jrpc2 or bare, not ${impl}`);
if (transport !== "http" && transport !== "ws") throw new Error(`--transport must be http or ws, not ${transport}`);
const host = "127.0.0.1";
const port = portArg();

/** `x` of echo / `a`, `b` of add, from positional or named params (the peers get them raw). */
type Params = unknown[] | Record<string, unknown> | undefined;
const arg = (params: Params, index: number, name: string): unknown => (Array.isArray(params) ? params[index] : params?.[name]);
const add = (a: unknown, b: unknown): number => {
  if (typeof a !== "number" || typeof b !== "number") throw new TypeError("add takes two numbers");
  return a + b;
};

async function startSb(): Promise<{ port: number; stop: () => Promise<void> }> {
  const dispatcher = new RPCDispatcher();
  dispatcher.addMethod((x: unknown) => x, { name: "echo", params: ["x"] });
  dispatcher.addMethod(
    (a: unknown, b: unknown) => {
      if (typeof a !== "number" || typeof b !== "number") throw JSONRPCError.standard(-32602, "add takes two numbers");
      return a + b;
    },
    { name: "add", params: ["a", "b"] },
  );
  const t = transport === "http" ? await HttpServerTransport.listen({ host, port }) : await WebSocketServerTransport.listen({ host, port });
  const server = new RPCServer<unknown>(t, new JSONRPCProtocol(), dispatcher);
  const serving = server.serveForever();
  return { port: t.port, stop: () => t.close().then(() => serving) };
}

async function startJayson(): Promise<{ port: number; stop: () => Promise<void> }> {
  type Callback = (err: unknown, result?: unknown) => void;
  const server = new jayson.Server({
    echo(params: Params, callback: Callback) {
      callback(null, arg(params, 0, "x"));
    },
    add(params: Params, callback: Callback) {
      try {
        callback(null, add(arg(params, 0, "a"), arg(params, 1, "b")));
      } catch (e) {
        callback({ code: -32602, message: (e as Error).message });
      }
    },
  });
  if (transport === "http") {
    const h = server.http();
    await new Promise<void>((resolve) => h.listen(port, host, resolve));
    return { port: (h.address() as AddressInfo).port, stop: () => new Promise((resolve) => h.close(() => resolve())) };
  }
  // jayson's typings describe its own wrapper type; at runtime this is a ws 7 WebSocket.Server
  const wss = server.websocket({ host, port }) as unknown as WebSocketServer;
  await new Promise<void>((resolve) => wss.once("listening", () => resolve()));
  return { port: (wss.address() as AddressInfo).port, stop: () => new Promise((resolve) => wss.close(() => resolve())) };
}

async function startJrpc2(): Promise<{ port: number; stop: () => Promise<void> }> {
  const server = new JSONRPCServer();
  server.addMethod("echo", (params) => arg(params as Params, 0, "x"));
  server.addMethod("add", (params) => add(arg(params as Params, 0, "a"), arg(params as Params, 1, "b")));
  if (transport === "http") {
    const h = http.createServer((req, res) => {
      if (req.method !== "POST") {
        res.writeHead(405, { allow: "POST" }).end();
        return;
      }
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        server.receiveJSON(Buffer.concat(chunks).toString("utf8")).then(
          (response) => {
            if (response === null) {
              res.writeHead(204).end();
              return;
            }
            const body = JSON.stringify(response);
            res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) }).end(body);
          },
          () => res.writeHead(500).end(),
        );
      });
    });
    await new Promise<void>((resolve) => h.listen(port, host, resolve));
    return { port: (h.address() as AddressInfo).port, stop: () => new Promise((resolve) => h.close(() => resolve())) };
  }
  const wss = new WebSocketServer({ host, port, path: "/ws", perMessageDeflate: false });
  wss.on("connection", (ws) => {
    ws.on("message", (data) => {
      void server.receiveJSON(data.toString()).then((response) => {
        if (response !== null) ws.send(JSON.stringify(response));
      });
    });
  });
  await new Promise<void>((resolve) => wss.once("listening", () => resolve()));
  return { port: (wss.address() as AddressInfo).port, stop: () => new Promise((resolve) => wss.close(() => resolve())) };
}

async function startBare(): Promise<{ port: number; stop: () => Promise<void> }> {
  if (transport !== "http") throw new Error("the bare ceiling server is HTTP only");
  const answers = [httpSingle, httpBatch].map((w) => {
    const reply = w.batch ? w.expected.map((e) => ({ jsonrpc: "2.0", ...e })) : { jsonrpc: "2.0", ...w.expected[0] };
    return { body: Buffer.from(w.body), reply: Buffer.from(JSON.stringify(reply)) };
  });
  const h = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      const hit = answers.find((a) => a.body.equals(body));
      if (!hit) {
        res.writeHead(400).end();
        return;
      }
      res.writeHead(200, { "content-type": "application/json", "content-length": hit.reply.length }).end(hit.reply);
    });
  });
  await new Promise<void>((resolve) => h.listen(port, host, resolve));
  return { port: (h.address() as AddressInfo).port, stop: () => new Promise((resolve) => h.close(() => resolve())) };
}

const started = impl === "sb" ? await startSb() : impl === "jayson" ? await startJayson() : impl === "jrpc2" ? await startJrpc2() : await startBare();
serveControl(started.port, () => {
  void started.stop().finally(() => process.exit(0));
  setTimeout(() => process.exit(0), 1000).unref();
});
