// Runs test/reliability/server-process.ts as a child process and talks to it: its
// stats over stdin/stdout, a normal unary call over node:http2, memory settling checks.
// Shared by the reliability tests and by bench/attack.ts and bench/soak.ts.
import * as assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import * as http2 from "node:http2";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import * as grpc from "@grpc/grpc-js";
import type { ServerOptions } from "../../src/index.js";
import { ChildServer, killOnExit, ROOT } from "./child-server.js";
import type { Stats } from "./server-process.js";

export type { Stats };
export { ROOT };
export const SERVICE = "rel.Test";
export const PATH = {
  echo: `/${SERVICE}/Echo`,
  meta: `/${SERVICE}/Meta`,
  len: `/${SERVICE}/Len`,
  hold: `/${SERVICE}/Hold`,
  holdStream: `/${SERVICE}/HoldStream`,
  big: `/${SERVICE}/Big`,
  sleep: `/${SERVICE}/Sleep`,
  throwSync: `/${SERVICE}/ThrowSync`,
  reject: `/${SERVICE}/Reject`,
  throwAfter: `/${SERVICE}/ThrowAfter`,
} as const;

export const KiB = 1024;
export const MiB = 1024 * 1024;

/** The server child process (server-process.ts) with these options. */
export class ServerProcess extends ChildServer<Stats> {
  /** Starts a server with these options; resolves once it prints its port (bounded). */
  static start(options: ServerOptions = {}, timeoutMs = 30_000, env: NodeJS.ProcessEnv = {}): Promise<ServerProcess> {
    return new ServerProcess(options, env).listening(timeoutMs);
  }

  private constructor(options: ServerOptions, env: NodeJS.ProcessEnv) {
    super("test/reliability/server-process.ts", { nodeFlags: ["--expose-gc"], args: [JSON.stringify(options)], env, killAfterMs: 3000 });
  }

  stats(): Promise<Stats> {
    return this.command<Stats>("stats");
  }

  /** Two full GCs, then stats. */
  gc(): Promise<Stats> {
    return this.command<Stats>("gc");
  }

  /** Resets the peak RSS, maxLiveHandlers and the event-loop histogram (after a GC). */
  resetPeak(): Promise<Stats> {
    return this.command<Stats>("resetpeak");
  }

  /** server.stop(graceMs) in the child; resolves with how long it took there. */
  stopServer(graceMs: number, timeoutMs = 30_000): Promise<{ stopMs: number }> {
    return this.command<{ stopMs: number }>(`stop ${graceMs}`, timeoutMs);
  }

  /** Open file descriptors of the child, read from /proc by the parent. */
  fds(): number {
    return readdirSync(`/proc/${this.pid}/fd`).length;
  }
}

// ---- normal calls -------------------------------------------------------------------

/** One gRPC message frame. */
export function grpcMessage(data: Uint8Array, flag = 0): Buffer {
  const out = Buffer.alloc(5 + data.byteLength);
  out[0] = flag;
  out.writeUInt32BE(data.byteLength, 1);
  out.set(data, 5);
  return out;
}

export interface H2Result {
  status: number | undefined;
  grpcStatus: number | undefined;
  grpcMessage: string | undefined;
  body: Buffer;
  ms: number;
}

/** One request over node's own HTTP/2 client on `session` (or a fresh connection). */
export async function h2Call(port: number, path: string, body: Buffer, options: { session?: http2.ClientHttp2Session; timeoutMs?: number; headers?: http2.OutgoingHttpHeaders } = {}): Promise<H2Result> {
  const session = options.session ?? http2.connect(`http://127.0.0.1:${port}`);
  session.on("error", () => {});
  const started = performance.now();
  try {
    return await new Promise<H2Result>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${path} timed out`)), options.timeoutMs ?? 5000);
      const req = session.request({ ":method": "POST", ":path": path, "content-type": "application/grpc", te: "trailers", ...options.headers });
      let status: number | undefined;
      let grpcStatus: number | undefined;
      let grpcMessage: string | undefined;
      const chunks: Buffer[] = [];
      req.on("response", (h) => {
        status = Number(h[":status"]);
        if (h["grpc-status"] !== undefined) grpcStatus = Number(h["grpc-status"]);
        if (h["grpc-message"] !== undefined) grpcMessage = String(h["grpc-message"]);
      });
      req.on("trailers", (t) => {
        grpcStatus = Number(t["grpc-status"]);
        if (t["grpc-message"] !== undefined) grpcMessage = String(t["grpc-message"]);
      });
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("error", (err) => {
        clearTimeout(timer);
        reject(err);
      });
      req.on("close", () => {
        clearTimeout(timer);
        resolve({ status, grpcStatus, grpcMessage, body: Buffer.concat(chunks), ms: performance.now() - started });
      });
      req.end(body);
    });
  } finally {
    if (!options.session) session.destroy();
  }
}

export interface SessionAnswer {
  grpcStatus: number | undefined;
  grpcMessage: string | undefined;
  /** The response message, without its 5-byte prefix. */
  body: Buffer;
  ms: number;
}

/**
 * One unary call with `body` on an open connection that many calls share. Unlike h2Call it adds
 * no listener to the session per call (the caller handles the session's errors once).
 */
export function sessionUnary(session: http2.ClientHttp2Session, path: string, body: Buffer, timeoutMs = 5000): Promise<SessionAnswer> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = session.request({ ":method": "POST", ":path": path, "content-type": "application/grpc", te: "trailers" });
    const timer = setTimeout(() => (req.close(), reject(new Error(`${path} did not answer within ${timeoutMs} ms`))), timeoutMs);
    let grpcStatus: number | undefined;
    let message: string | undefined;
    const chunks: Buffer[] = [];
    const onStatus = (h: Record<string, unknown>) => {
      if (h["grpc-status"] !== undefined) grpcStatus = Number(h["grpc-status"]);
      if (h["grpc-message"] !== undefined) message = String(h["grpc-message"]);
    };
    req.on("response", onStatus);
    req.on("trailers", onStatus);
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("error", (err) => (clearTimeout(timer), reject(err)));
    req.on("close", () => {
      clearTimeout(timer);
      resolve({ grpcStatus, grpcMessage: message, body: Buffer.concat(chunks).subarray(5), ms: performance.now() - started });
    });
    req.end(grpcMessage(body));
  });
}

/** The process is alive and a fresh connection gets a normal Echo answered OK. */
export async function assertServes(proc: ServerProcess, what = "after the attack"): Promise<void> {
  assert.ok(proc.alive, `server process died ${what}: ${proc.exitCode ?? proc.exitSignal}\n${proc.stderr}`);
  const res = await h2Call(proc.port, PATH.echo, grpcMessage(Buffer.from("alive")));
  assert.equal(res.status, 200, `normal call ${what}: HTTP status`);
  assert.equal(res.grpcStatus, 0, `normal call ${what}: grpc-status (${res.grpcMessage})`);
  assert.equal(res.body.subarray(5).toString(), "alive");
  assert.ok(proc.alive, `server process died ${what}`);
}

/**
 * Waits (bounded) until, after GCs, the child's RSS is within `slack` of `baseline`;
 * returns the last stats. Fails with the figures when it never gets there. After bursts of
 * many connections V8 keeps its young generation grown (heapTotal) for a few seconds of
 * idleness before its memory reducer gives it back, hence the 10 s default.
 */
export async function assertMemoryReturns(proc: ServerProcess, baseline: number, slack = 15 * MiB, withinMs = 10_000): Promise<Stats> {
  const started = Date.now();
  let s = await proc.gc();
  while (s.rss > baseline + slack && Date.now() - started < withinMs) {
    await sleep(250);
    s = await proc.gc();
  }
  assert.ok(s.rss <= baseline + slack, `RSS ${mb(s.rss)} MB did not return within ${mb(slack)} MB of the baseline ${mb(baseline)} MB in ${withinMs} ms`);
  return s;
}

/** Waits (bounded) until `check(stats)` holds; returns those stats or fails with the last ones. */
export async function waitForStats(proc: ServerProcess, check: (s: Stats) => boolean, withinMs = 5000, what = "condition"): Promise<Stats> {
  const started = Date.now();
  let s = await proc.stats();
  while (!check(s)) {
    if (Date.now() - started > withinMs) assert.fail(`${what} not reached within ${withinMs} ms: ${JSON.stringify(s)}`);
    await sleep(50);
    s = await proc.stats();
  }
  return s;
}

export function mb(bytes: number): string {
  return (bytes / MiB).toFixed(1);
}

/** Runs `fn` over `items` with at most `limit` in flight. */
export async function pool<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** The p-th percentile (0..100) of the values. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

// ---- grpc-js, the "normal client" -------------------------------------------------------

const bytes = (b: Buffer) => b;

/** A grpc-js client for raw byte methods on 127.0.0.1:port. */
export function grpcClient(port: number, options: grpc.ChannelOptions = {}): grpc.Client {
  return new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), options);
}

export interface GrpcOutcome {
  code: grpc.status;
  details: string;
  value: Buffer | undefined;
  ms: number;
}

/** One unary call through grpc-js; never rejects, the outcome carries the status. */
export function grpcUnary(client: grpc.Client, path: string, body: Buffer, deadlineMs = 10_000): Promise<GrpcOutcome> {
  const started = performance.now();
  return new Promise((resolve) => {
    client.makeUnaryRequest<Buffer, Buffer>(path, bytes, bytes, body, new grpc.Metadata(), { deadline: Date.now() + deadlineMs }, (err, value) => {
      const ms = performance.now() - started;
      if (err) resolve({ code: err.code, details: err.details, value: undefined, ms });
      else resolve({ code: grpc.status.OK, details: "", value, ms });
    });
  });
}

/** One server-streaming call through grpc-js: the messages received and the final status. */
export function grpcServerStream(client: grpc.Client, path: string, body: Buffer, deadlineMs = 10_000): Promise<{ messages: Buffer[]; code: grpc.status; details: string }> {
  return new Promise((resolve) => {
    const call = client.makeServerStreamRequest<Buffer, Buffer>(path, bytes, bytes, body, new grpc.Metadata(), { deadline: Date.now() + deadlineMs });
    const messages: Buffer[] = [];
    call.on("data", (m: Buffer) => messages.push(m));
    call.on("error", () => {});
    call.on("status", (s: grpc.StatusObject) => resolve({ messages, code: s.code, details: s.details }));
  });
}

export { grpc };

// ---- the normal client in its own process ---------------------------------------------------

export interface NormalClientResult {
  calls: number;
  errors: string[];
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/**
 * Starts test/reliability/normal-client.ts against `port`; resolves `ready` once it made
 * its warm-up call, and `result` when its `durationMs` of calls are over.
 */
export async function startNormalClient(port: number, durationMs: number, concurrency = 2): Promise<{ result: Promise<NormalClientResult> }> {
  const child = spawn(process.execPath, ["--import", "tsx", "test/reliability/normal-client.ts", String(port), String(durationMs), String(concurrency)], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  killOnExit(child);
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const lines = createInterface({ input: child.stdout! });
  const timer = setTimeout(() => child.kill("SIGKILL"), durationMs + 60_000);
  let readyResolve!: () => void;
  let readyReject!: (e: Error) => void;
  const ready = new Promise<void>((res, rej) => ((readyResolve = res), (readyReject = rej)));
  const result = new Promise<NormalClientResult>((resolve, reject) => {
    lines.on("line", (line) => {
      if (line === "ready") return readyResolve();
      try {
        const r = JSON.parse(line) as NormalClientResult & { error?: string };
        if (r.error) reject(new Error(r.error));
        else resolve(r);
      } catch {
        // not ours
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      const err = new Error(`normal client exited (${code}) without a result\n${stderr}`);
      readyReject(err);
      reject(err);
    });
  });
  result.catch(() => {});
  await ready;
  return { result };
}
