// Shared helpers for test/sros: a Switchboard Server with the SR OS facade bound to it on
// 127.0.0.1:0, our client on it, raw-bytes methods, the python3-grpcio peer, and the promise
// state check the handleRpc() model needs (has it settled yet, shown by a later round trip).
import { spawn } from "node:child_process";
import type { DescService } from "@bufbuild/protobuf";
import { bindMethod, Channel, Code, createClient, RpcError, Server, type MethodKind, type ServerOptions } from "../../src/index.js";
import { GrpcServer, type GrpcServerOptions } from "../../src/sros/index.js";
import { DEBIAN_PYTHON, ROOT } from "../interop/peers.js";
import { within } from "../server/helpers.js";

export { deferred, T, until, within } from "../server/helpers.js";

const identity = (b: Uint8Array) => b;

/** One server with the facade bound, and the channels of one test. */
export class Fixture {
  private readonly channels: Channel[] = [];
  private constructor(
    readonly server: Server,
    readonly grpc: GrpcServer,
    readonly port: number,
  ) {}

  static async start(options: GrpcServerOptions = {}, serverOptions: ServerOptions = {}): Promise<Fixture> {
    const server = new Server(serverOptions);
    const grpc = new GrpcServer(server, options);
    const port = await server.addInsecurePort("127.0.0.1:0");
    server.start();
    return new Fixture(server, grpc, port);
  }

  channel(): Channel {
    const ch = new Channel(`127.0.0.1:${this.port}`);
    this.channels.push(ch);
    return ch;
  }

  client<S extends DescService>(service: S) {
    return createClient(service, this.channel());
  }

  /** A bytes-in, bytes-out caller for `path` (bindMethod's shape for `kind`). */
  raw(path: string, kind: MethodKind): any {
    return bindMethod(this.channel(), { path, kind, serialize: identity, deserialize: identity });
  }

  async close(): Promise<void> {
    for (const ch of this.channels.splice(0)) ch.close();
    await within(this.server.stop(0), 5000, "server.stop(0) in cleanup");
  }
}

/**
 * Whether `promise` has settled once a call that no configured service has made a whole round
 * trip on `channel` (the core answers it UNIMPLEMENTED; it never reaches the script). It travels
 * behind everything sent before it on that connection, and its answer behind everything the
 * server sent before it: whatever the server had done by then, the client has seen. No timer.
 */
export async function settledAfterRoundTrip(promise: Promise<unknown>, channel: Channel): Promise<boolean> {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  const probe = bindMethod(channel, { path: "/switchboard.test.NotServed/Probe", kind: "unary", serialize: identity, deserialize: identity }) as (
    request: Uint8Array,
    options?: { timeout?: number },
  ) => Promise<Uint8Array>;
  const err = await rejection(probe(new Uint8Array(), { timeout: 10_000 }), 15_000);
  if (!(err instanceof RpcError) || err.code !== Code.UNIMPLEMENTED) throw new Error(`the probe call got ${String(err)}, not UNIMPLEMENTED`);
  return settled;
}

/** What a promise rejected with (fails when it resolves instead). */
export async function rejection(promise: Promise<unknown>, ms = 5000): Promise<any> {
  return within(
    promise.then(
      (v) => {
        throw new Error(`expected a rejection, got ${String(v)}`);
      },
      (err: unknown) => err,
    ),
    ms,
    "the rejection",
  );
}

/** What test/sros/python/sros_client.py prints for one call. */
export interface PythonResult {
  code: string;
  details: string | null;
  responses: string[];
}

/**
 * One call through python3-grpcio (C-core) with raw bytes: `requests` as hex, the result's
 * `responses` as hex. Bounded by `timeoutMs` (the child is killed after it).
 */
export function pythonCall(port: number, path: string, kind: MethodKind, requests: string[], timeoutMs = 20_000): Promise<PythonResult> {
  const child = spawn(DEBIAN_PYTHON, ["test/sros/python/sros_client.py", "--port", String(port), "--method", path, "--kind", kind, ...requests], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (err += d.toString()));
  const done = new Promise<PythonResult>((resolve, reject) => {
    child.on("close", (code) => {
      if (code !== 0) return reject(new Error(`sros_client.py exited ${code}: ${err}`));
      try {
        resolve(JSON.parse(out.trim()) as PythonResult);
      } catch {
        reject(new Error(`sros_client.py printed no JSON: ${out}\n${err}`));
      }
    });
  });
  return within(done, timeoutMs, "the python3-grpcio call").finally(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });
}

export const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
export const unhex = (s: string) => new Uint8Array(Buffer.from(s, "hex"));
