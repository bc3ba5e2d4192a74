// Shared helpers for the test/client tests: a Scope that owns every channel, server,
// bare node:http2 server, TCP proxy and child process a test creates and closes them all
// (bounded in time) in afterEach, plus small assertion helpers for RpcError outcomes.
import * as http2 from "node:http2";
import * as net from "node:net";
import * as diagnostics from "node:diagnostics_channel";
import { linkSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import * as assert from "node:assert/strict";
import { create, toBinary } from "@bufbuild/protobuf";
import { Channel, Code, codeName, RpcError, Server, ServerCredentials, type ChannelOptions, type ServerOptions } from "../../src/index.js";
import { HelloReplySchema } from "../../examples/gen/helloworld/helloworld_pb.js";
import { frame, within } from "../server/helpers.js";

export { deferred, frame, T, tls, unframe, until, within } from "../server/helpers.js";

export interface StartedServer {
  server: Server;
  port: number;
  /** `127.0.0.1:<port>` or the unix address it was bound to. */
  target: string;
}

export interface BareServer {
  server: http2.Http2Server;
  port: number;
  target: string;
  /** Server-side sessions accepted so far (open or closed). */
  sessions: http2.ServerHttp2Session[];
}

export interface Proxy {
  port: number;
  target: string;
  /** TCP connections accepted so far. */
  readonly accepted: number;
  /** TCP connections currently open. */
  readonly open: number;
  /** Cuts every connection at once (both sides), like a lost network. */
  dropAll(): void;
  /**
   * Sends new connections to another backend port; open ones stay where they are. A test
   * that needs "a new server at the same address" uses this instead of binding a released
   * port again, which another process may have taken meanwhile.
   */
  retarget(backendPort: number): void;
}

/** Owns what one test creates; `close()` releases all of it. */
export class Scope {
  private channels: Channel[] = [];
  private servers: Server[] = [];
  private cleanups: (() => void | Promise<void>)[] = [];

  /** A channel closed (and its connections cut by stopping the servers) at the end of the test. */
  channel(target: string, options: ChannelOptions = {}): Channel {
    const ch = new Channel(target, options);
    this.channels.push(ch);
    return ch;
  }

  /** Tracks a channel created elsewhere. */
  trackChannel<C extends Channel>(ch: C): C {
    this.channels.push(ch);
    return ch;
  }

  /** Tracks a server created elsewhere. */
  trackServer(server: Server): Server {
    this.servers.push(server);
    return server;
  }

  /** Runs `fn` at cleanup. */
  defer(fn: () => void | Promise<void>): void {
    this.cleanups.push(fn);
  }

  /** A started Switchboard server on loopback (or `address`), set up by `setup`. */
  async server(setup: (s: Server) => void, options: ServerOptions = {}, address = "127.0.0.1:0", credentials?: ServerCredentials): Promise<StartedServer> {
    const server = this.trackServer(new Server(options));
    setup(server);
    const port = credentials ? await server.addSecurePort(address, credentials) : await server.addInsecurePort(address);
    server.start();
    return { server, port, target: address.startsWith("unix:") ? address : `127.0.0.1:${port}` };
  }

  /** A bare node:http2 server on 127.0.0.1 whose streams go to `onStream` (to fake any response). */
  async bare(onStream: (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => void, options: http2.ServerOptions = {}): Promise<BareServer> {
    const server = http2.createServer(options);
    const sessions: http2.ServerHttp2Session[] = [];
    server.on("session", (s) => {
      sessions.push(s);
      s.on("error", () => {});
    });
    server.on("stream", (stream, headers) => {
      stream.on("error", () => {});
      onStream(stream, headers);
    });
    server.on("error", () => {});
    const port = await listen(server);
    this.defer(async () => {
      for (const s of sessions) if (!s.destroyed) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    });
    return { server, port, target: `127.0.0.1:${port}`, sessions };
  }

  /** A TCP server that accepts and then does whatever `onSocket` does (nothing: a silent peer). */
  async rawTcp(onSocket: (socket: net.Socket) => void = () => {}): Promise<{ port: number; target: string; sockets: net.Socket[] }> {
    const sockets: net.Socket[] = [];
    const server = net.createServer((socket) => {
      sockets.push(socket);
      socket.on("error", () => {});
      onSocket(socket);
    });
    const port = await listen(server);
    this.defer(async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    });
    return { port, target: `127.0.0.1:${port}`, sockets };
  }

  /** A counting TCP proxy in front of 127.0.0.1:`backendPort`. */
  async proxy(backendPort: number): Promise<Proxy> {
    let accepted = 0;
    let backend = backendPort;
    const pairs = new Set<[net.Socket, net.Socket]>();
    const server = net.createServer((down) => {
      accepted++;
      const up = net.connect(backend, "127.0.0.1");
      const pair: [net.Socket, net.Socket] = [down, up];
      pairs.add(pair);
      const end = () => {
        pairs.delete(pair);
        down.destroy();
        up.destroy();
      };
      down.on("error", end).on("close", end);
      up.on("error", end).on("close", end);
      down.pipe(up);
      up.pipe(down);
    });
    const port = await listen(server);
    this.defer(async () => {
      for (const [a, b] of pairs) {
        a.destroy();
        b.destroy();
      }
      await new Promise<void>((r) => server.close(() => r()));
    });
    return {
      port,
      target: `127.0.0.1:${port}`,
      get accepted() {
        return accepted;
      },
      get open() {
        return pairs.size;
      },
      dropAll() {
        for (const [a, b] of [...pairs]) {
          a.destroy();
          b.destroy();
        }
      },
      retarget(port: number) {
        backend = port;
      },
    };
  }

  async close(): Promise<void> {
    for (const ch of this.channels.splice(0)) ch.close();
    const servers = this.servers.splice(0);
    const cleanups = this.cleanups.splice(0).reverse();
    await within(
      (async () => {
        await Promise.all(servers.map((s) => s.stop(0)));
        for (const fn of cleanups) await fn();
      })(),
      5000,
      "test cleanup",
    );
  }
}

function listen(server: net.Server | http2.Http2Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve((server.address() as net.AddressInfo).port);
    });
  });
}

/**
 * A Unix socket path in a fresh private directory that refuses connections (ECONNREFUSED):
 * a socket file with no listener behind it. A released TCP port could be taken by another
 * process at any time; this path belongs to the test alone. Made by hard-linking a listening
 * socket's file and closing the listener (Node removes the original path, not the link).
 */
export async function refusingUnixPath(scope: Scope): Promise<{ path: string; target: string }> {
  const dir = mkdtempSync(path.join(tmpdir(), "sb-refuse-"));
  scope.defer(() => rmSync(dir, { recursive: true, force: true }));
  const listening = path.join(dir, "listening.sock");
  const refusing = path.join(dir, "refusing.sock");
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => server.once("error", reject).listen(listening, resolve));
  linkSync(listening, refusing);
  await new Promise<void>((r) => server.close(() => r()));
  return { path: refusing, target: `unix:${refusing}` };
}

/** A Unix socket path in a fresh private directory where nothing listens yet (connect: ENOENT). */
export function unusedUnixPath(scope: Scope): { path: string; target: string } {
  const dir = mkdtempSync(path.join(tmpdir(), "sb-unix-"));
  scope.defer(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, "server.sock");
  return { path: file, target: `unix:${file}` };
}

/**
 * The times (Date.now()) of every outgoing connection attempt this process makes from now
 * until the test ends: net.connect publishes each new socket on "net.client.socket". It
 * counts what a test makes itself (Channel dials, an in-process proxy's upstream sockets),
 * so a test reads it only where nothing else dials.
 */
export function recordDials(scope: Scope): number[] {
  const at: number[] = [];
  const onSocket = () => void at.push(Date.now());
  diagnostics.subscribe("net.client.socket", onSocket);
  scope.defer(() => void diagnostics.unsubscribe("net.client.socket", onSocket));
  return at;
}

/** Awaits `promise`, which must reject with an RpcError of `code` (and a message matching `message`). */
export async function expectRpcError(promise: Promise<unknown>, code: Code, message?: RegExp): Promise<RpcError> {
  let value: unknown;
  try {
    value = await promise;
  } catch (err) {
    if (!(err instanceof RpcError)) throw new Error(`expected RpcError ${codeName(code)} but got ${String(err)}`, { cause: err });
    assert.equal(codeName(err.code), codeName(code), `expected ${codeName(code)} but got ${err.message}`);
    if (message) assert.match(err.rawMessage, message);
    return err;
  }
  throw new Error(`expected RpcError ${codeName(code)} but the call succeeded with ${JSON.stringify(value)}`);
}

/** Milliseconds since `start`. */
export function since(start: number): number {
  return performance.now() - start;
}

/** A HelloReply as protobuf bytes (for bare servers). */
export function helloReplyBytes(message: string): Uint8Array {
  return toBinary(HelloReplySchema, create(HelloReplySchema, { message }));
}

/** Answers a bare-server stream like a gRPC server: headers, framed messages, then trailers. */
export function respondGrpc(
  stream: http2.ServerHttp2Stream,
  messages: Uint8Array[],
  trailers: http2.OutgoingHttpHeaders = { "grpc-status": "0" },
  headers: http2.OutgoingHttpHeaders = {},
): void {
  stream.respond({ ":status": 200, "content-type": "application/grpc", ...headers }, { waitForTrailers: true });
  // A client that fails the call on a bad message resets the stream before the trailers can go.
  stream.on("wantTrailers", () => {
    if (!stream.destroyed) stream.sendTrailers(trailers);
  });
  for (const m of messages) stream.write(frame(m));
  stream.end();
}

/** Reads a bare-server request body to its end. */
export function readBody(stream: http2.ServerHttp2Stream): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.on("end", () => resolve(Buffer.concat(chunks)));
    stream.on("close", () => resolve(Buffer.concat(chunks)));
  });
}

/** A Greeter server whose replies name it (`message` = `id`), for counting where calls went. */
export async function idServer(scope: Scope, id: string, setup: (s: Server) => void = () => {}, options: ServerOptions = {}): Promise<StartedServer & { id: string; calls: () => number }> {
  let calls = 0;
  const { Greeter } = await import("../../examples/gen/helloworld/helloworld_pb.js");
  const started = await scope.server((s) => {
    s.addService(Greeter, {
      sayHello: () => {
        calls++;
        return { message: id };
      },
    });
    setup(s);
  }, options);
  return { ...started, id, calls: () => calls };
}

/** How many replies named each id. */
export function countBy(ids: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const id of ids) out[id] = (out[id] ?? 0) + 1;
  return out;
}
