// The three servers under test, each a Node process pinned to CPU 0.
import type { ServerStats } from "../servers/control.js";
import { Lines, spawnNode } from "./proc.js";

export type ServerKind = "sb" | "grpcjs" | "bare";
export const SERVER_KINDS: readonly ServerKind[] = ["sb", "grpcjs", "bare"];
export const SERVER_LABEL: Record<ServerKind, string> = { sb: "sb", grpcjs: "grpc-js", bare: "ceiling" };
const FILE: Record<ServerKind, string> = { sb: "bench/servers/switchboard.ts", grpcjs: "bench/servers/grpcjs.ts", bare: "bench/servers/bare.ts" };

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
    const child = spawnNode(SERVER_CPU, FILE[kind], ["--port", "0"], ["--expose-gc"]);
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
