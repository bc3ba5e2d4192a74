// The servers under test, each a Node process pinned to CPU 0:
//   sb       Switchboard on our HTTP/2 engine (src/h2)       bench/servers/switchboard.ts --transport switchboard
//   sbnode   Switchboard on node:http2                       bench/servers/switchboard.ts --transport node
//   grpcjs   @grpc/grpc-js                                   bench/servers/grpcjs.ts
//   bare     "ceiling": fixed responses on bare node:http2   bench/servers/bare.ts
//   floor    the same fixed responses on our engine          bench/servers/floor.ts
import type { ServerStats } from "../servers/control.js";
import { Lines, spawnNode } from "./proc.js";

export type ServerKind = "sb" | "sbnode" | "grpcjs" | "bare" | "floor";
/** Also the order of the rounds and of the table columns. */
export const SERVER_KINDS: readonly ServerKind[] = ["sb", "sbnode", "grpcjs", "bare", "floor"];
export const SERVER_LABEL: Record<ServerKind, string> = { sb: "sb", sbnode: "sb-node", grpcjs: "grpc-js", bare: "ceiling", floor: "floor" };
const COMMAND: Record<ServerKind, [file: string, args: string[]]> = {
  sb: ["bench/servers/switchboard.ts", ["--transport", "switchboard"]],
  sbnode: ["bench/servers/switchboard.ts", ["--transport", "node"]],
  grpcjs: ["bench/servers/grpcjs.ts", []],
  bare: ["bench/servers/bare.ts", []],
  floor: ["bench/servers/floor.ts", []],
};
/**
 * The ratio columns of every table of these servers: the framework against grpc-js and both
 * baselines, our engine against node:http2 under the framework, and the framework on node:http2
 * against node:http2's own floor.
 */
export const SERVER_RATIOS: readonly [ServerKind, ServerKind][] = [
  ["sb", "grpcjs"],
  ["sb", "bare"],
  ["sb", "floor"],
  ["sb", "sbnode"],
  ["sbnode", "bare"],
];
export const SERVER_COLUMNS = SERVER_KINDS.map((k) => ({ key: k, label: SERVER_LABEL[k] }));

/** An empty list per server kind, for per-round samples. */
export function perKind<T>(): Record<ServerKind, T[]> {
  return Object.fromEntries(SERVER_KINDS.map((k) => [k, []])) as unknown as Record<ServerKind, T[]>;
}

export const SERVER_CPU = 0;
export const LOAD_CPU = 1;

export type { ServerStats };

export class BenchServer {
  private constructor(
    readonly kind: ServerKind,
    readonly port: number,
    private readonly lines: Lines,
  ) {}

  static async start(kind: ServerKind): Promise<BenchServer> {
    const [file, args] = COMMAND[kind];
    const child = spawnNode(SERVER_CPU, file, ["--port", "0", ...args], ["--expose-gc"]);
    const lines = new Lines(child, `${SERVER_LABEL[kind]} server`);
    const port = await lines.listeningPort();
    return new BenchServer(kind, port, lines);
  }

  get alive(): boolean {
    return this.lines.child.exitCode === null && this.lines.child.signalCode === null;
  }

  get label(): string {
    return SERVER_LABEL[this.kind];
  }

  stats(): Promise<ServerStats> {
    return this.lines.request<ServerStats>("stats", 10_000);
  }

  /** Stats after two full garbage collections (the servers run with --expose-gc). */
  gcStats(): Promise<ServerStats> {
    return this.lines.request<ServerStats>("gc", 10_000);
  }

  async resetEventLoopDelay(): Promise<void> {
    await this.lines.request("reset", 10_000);
  }

  stop(): Promise<void> {
    return this.lines.stop();
  }
}

/** Starts one server of each kind (in parallel); stops the ones that started if any fails. */
export async function startServers(kinds: readonly ServerKind[] = SERVER_KINDS): Promise<BenchServer[]> {
  const results = await Promise.allSettled(kinds.map((k) => BenchServer.start(k)));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  const started = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
  if (failed) {
    await stopServers(started);
    throw failed.reason;
  }
  return started;
}

export async function stopServers(servers: readonly BenchServer[]): Promise<void> {
  await Promise.all(servers.map((s) => s.stop()));
}

export const cpuMs = (s: ServerStats) => s.cpuUserMs + s.cpuSystemMs;
