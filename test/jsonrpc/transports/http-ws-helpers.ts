// Shared pieces of the HTTP and WebSocket transport tests: a message loop over the
// ServerTransport contract (no JSON-RPC core needed) and small raw-HTTP helpers.
import * as http from "node:http";
import { RPCDispatcher } from "../../../src/jsonrpc/index.js";
import type { ServerTransport } from "../../../src/jsonrpc/transport.js";

/** What the test loop does with one message: the reply bytes (empty = notification). */
export type Handler = (message: Uint8Array) => Uint8Array | Promise<Uint8Array>;

/** Answers "notify..." messages with an empty reply and echoes everything else. */
export const echo: Handler = (m) => (Buffer.from(m).toString("latin1").startsWith("notify") ? new Uint8Array(0) : m);

/**
 * Serves the transport until it closes, each message handled concurrently (like RPCServer
 * with an async spawn); resolves with every message seen.
 */
export async function serve<C>(transport: ServerTransport<C>, handler: Handler = echo): Promise<Uint8Array[]> {
  const seen: Uint8Array[] = [];
  const running: Promise<void>[] = [];
  for (let m = await transport.receiveMessage(); m; m = await transport.receiveMessage()) {
    const { context, message } = m;
    seen.push(message);
    running.push((async () => transport.sendReply(context, await handler(message)))());
  }
  await Promise.all(running);
  return seen;
}

/** A finished HTTP exchange. */
export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  reusedSocket: boolean;
}

/** One HTTP request; `body` as an array of chunks sends it chunked (no Content-Length). */
export function request(
  url: string,
  options: { method?: string; headers?: http.OutgoingHttpHeaders; body?: string | Buffer | Buffer[]; agent?: http.Agent } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: options.method ?? "POST", headers: options.headers ?? {}, agent: options.agent ?? false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks), reusedSocket: req.reusedSocket }));
      res.on("error", reject);
    });
    req.on("error", reject);
    const body = options.body;
    if (Array.isArray(body)) {
      for (const chunk of body) req.write(chunk);
      req.end();
    } else req.end(body);
  });
}

/** A promise with its resolve exposed. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

export { exampleDispatcher } from "../helpers.js";
