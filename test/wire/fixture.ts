// Server setup shared by the wire tests: a Greeter for "normal" calls plus whatever raw
// methods a test file registers, bound to 127.0.0.1 on an ephemeral port.
import * as assert from "node:assert/strict";
import * as http2 from "node:http2";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Server, type ServerOptions } from "../../src/index.js";
import { Greeter, HelloReplySchema, HelloRequestSchema } from "../../examples/gen/helloworld/helloworld_pb.js";
import { grpcFrame, parseGrpcMessages } from "./raw-h2.js";

export interface WireServer {
  readonly server: Server;
  readonly port: number;
  /** Calls that passed every header check and reached the interceptor chain. */
  readonly dispatched: number;
  stop(): Promise<void>;
}

export async function startServer(register: (server: Server) => void, options: ServerOptions = {}): Promise<WireServer> {
  let dispatched = 0;
  // Outermost interceptor: counts dispatches, so a test can prove a refused call never got this far.
  const server = new Server({
    ...options,
    interceptors: [
      async (_ctx, next) => {
        dispatched++;
        await next();
      },
      ...(options.interceptors ?? []),
    ],
  });
  server.addService(Greeter, {
    sayHello(request) {
      return { message: `Hello, ${request.name}!` };
    },
  });
  register(server);
  const port = await server.addInsecurePort("127.0.0.1:0");
  server.start();
  return {
    server,
    port,
    get dispatched() {
      return dispatched;
    },
    stop: () => server.stop(0),
  };
}

/**
 * Proves the server still serves ordinary traffic, through node's own HTTP/2 client
 * (independent of raw-h2.ts): a fresh connection, a SayHello, status OK.
 */
export async function assertAnswersNormalCall(port: number): Promise<void> {
  const session = http2.connect(`http://127.0.0.1:${port}`);
  session.on("error", () => {});
  try {
    const result = await new Promise<{ status: number | undefined; grpcStatus: string | undefined; body: Buffer }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("normal call timed out")), 5000);
      const req = session.request({ ":method": "POST", ":path": "/helloworld.Greeter/SayHello", "content-type": "application/grpc", te: "trailers" });
      let status: number | undefined;
      let grpcStatus: string | undefined;
      const chunks: Buffer[] = [];
      req.on("response", (h) => {
        status = Number(h[":status"]);
        if (h["grpc-status"] !== undefined) grpcStatus = String(h["grpc-status"]);
      });
      req.on("trailers", (t) => (grpcStatus = String(t["grpc-status"])));
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("error", (err) => {
        clearTimeout(timer);
        reject(err);
      });
      req.on("close", () => {
        clearTimeout(timer);
        resolve({ status, grpcStatus, body: Buffer.concat(chunks) });
      });
      req.end(grpcFrame(toBinary(HelloRequestSchema, create(HelloRequestSchema, { name: "alive" }))));
    });
    assert.equal(result.status, 200);
    assert.equal(result.grpcStatus, "0");
    const [message] = parseGrpcMessages(result.body);
    assert.ok(message, "a response message");
    assert.equal(fromBinary(HelloReplySchema, message.data).message, "Hello, alive!");
  } finally {
    session.destroy();
  }
}

/** A promise with its resolve function, for handlers that report what happened to them. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Rejects if `p` has not settled in `ms`. */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
