// Starting and running the real interop peers (our server, grpc-js, python3-grpcio) as child processes.
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
/** Debian's python3; the python3 first on PATH is a separate build without grpcio. */
export const DEBIAN_PYTHON = "/usr/bin/python3";
const TSX = ["--import", "tsx"];

/** Whether Debian's python3-grpcio (and h2) import; reasons are returned for a visible skip. */
export function pythonPeerMissing(): string | undefined {
  const r = spawnSync(DEBIAN_PYTHON, ["-c", "import grpc, h2, google.protobuf"], { encoding: "utf8", timeout: 20_000 });
  if (r.error) return `${DEBIAN_PYTHON} not runnable: ${r.error.message}`;
  if (r.status !== 0) return `python3-grpcio / python3-h2 missing under ${DEBIAN_PYTHON}: ${r.stderr.trim().split("\n").pop()}`;
  const protoc = spawnSync("protoc", ["--version"], { encoding: "utf8", timeout: 10_000 });
  if (protoc.error || protoc.status !== 0) return "protoc (Debian protobuf-compiler) missing";
  return undefined;
}

/**
 * In CI a missing peer is a failure; locally the caller skips with this message.
 * Returns the skip reason, or undefined when the peer is there.
 */
export function requirePeer(missing: string | undefined): string | undefined {
  if (missing && process.env["CI"] === "true") throw new Error(`interop peer missing in CI: ${missing}`);
  return missing;
}

/** A running server process and the port it printed. */
export interface RunningServer {
  port: number;
  stop(): Promise<void>;
}

/** Starts a server process and waits (bounded) for its `listening on host:port` line. */
export function startServer(command: string, args: string[], timeoutMs = 30_000): Promise<RunningServer> {
  const child = spawn(command, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  return new Promise((resolve, reject) => {
    let out = "";
    let err = "";
    const timer = setTimeout(() => fail(new Error(`server did not start within ${timeoutMs} ms: ${command} ${args.join(" ")}\n${err}`)), timeoutMs);
    const fail = (e: Error) => {
      clearTimeout(timer);
      child.kill("SIGKILL");
      reject(e);
    };
    child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /listening on \S*:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ port: Number(m[1]), stop: () => stopChild(child) });
      }
    });
    child.on("exit", (code) => fail(new Error(`server exited early (${code}): ${command} ${args.join(" ")}\n${err}`)));
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const hard = setTimeout(() => child.kill("SIGKILL"), 5000);
    child.once("exit", () => {
      clearTimeout(hard);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

/** Our interop server (examples/interop/server.ts). */
export function startOurServer(tls: boolean): Promise<RunningServer> {
  return startServer(process.execPath, [...TSX, "examples/interop/server.ts", "--port", "0", ...(tls ? ["--use_tls"] : [])]);
}

/** Debian's python3-grpcio (C-core) interop server (test/interop/python/interop_server.py). */
export function startPythonServer(tls: boolean): Promise<RunningServer> {
  return startServer(DEBIAN_PYTHON, ["test/interop/python/interop_server.py", "--port", "0", ...(tls ? ["--use_tls"] : [])]);
}

/** The @grpc/grpc-js interop server (test/interop/grpcjs/server.ts), started without npx so stop() reaches it. */
export function startGrpcjsServer(tls: boolean): Promise<RunningServer> {
  return startServer(process.execPath, [...TSX, "test/interop/grpcjs/server.ts", "--port", "0", ...(tls ? ["--use_tls"] : [])]);
}

/** One client run: its PASS/FAIL/SKIP lines by case name, and the summary. */
export interface ClientRun {
  status: number | null;
  cases: Map<string, { verdict: "PASS" | "FAIL" | "SKIP"; detail: string }>;
  output: string;
}

/** Runs an interop client to completion (bounded) and parses its one-line-per-case output. */
export function runClient(command: string, args: string[], timeoutMs = 240_000): Promise<ClientRun> {
  const child = spawn(command, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  return new Promise((resolve) => {
    let output = "";
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.stdout!.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (output += d.toString()));
    child.on("close", (status) => {
      clearTimeout(timer);
      const cases = new Map<string, { verdict: "PASS" | "FAIL" | "SKIP"; detail: string }>();
      for (const line of output.split("\n")) {
        const m = /^(PASS|FAIL|SKIP) (\w+)(.*)$/.exec(line.trim());
        if (m) cases.set(m[2]!, { verdict: m[1] as "PASS" | "FAIL" | "SKIP", detail: m[3]!.replace(/^:\s*/, "").trim() });
      }
      resolve({ status, cases, output });
    });
  });
}

/** The 18 interop cases both clients run. */
export const CASES = [
  "empty_unary",
  "large_unary",
  "client_streaming",
  "server_streaming",
  "ping_pong",
  "empty_stream",
  "timeout_on_sleeping_server",
  "cancel_after_begin",
  "cancel_after_first_response",
  "status_code_and_message",
  "special_status_message",
  "custom_metadata",
  "unimplemented_method",
  "unimplemented_service",
  "client_compressed_unary",
  "server_compressed_unary",
  "client_compressed_streaming",
  "server_compressed_streaming",
] as const;

/** Arguments for a client run against 127.0.0.1:port. */
export function clientArgs(port: number, tls: boolean): string[] {
  return ["--server_host", "127.0.0.1", "--server_port", String(port), "--test_case", "all", ...(tls ? ["--use_tls"] : [])];
}

/** Command and leading arguments of each client. */
export const CLIENTS = {
  python: { command: DEBIAN_PYTHON, args: ["test/interop/python/interop_client.py"] },
  grpcjs: { command: process.execPath, args: [...TSX, "test/interop/grpcjs/client.ts"] },
  ours: { command: process.execPath, args: [...TSX, "examples/interop/client.ts"] },
} as const;

/** A case a client is expected to fail against a peer: why, and the exact reason it must print. */
export interface ExpectedFailure {
  why: string;
  reason: string;
}

/** One interop client run against one server, as a test with a subtest per case. */
export interface SuiteSpec {
  client: { command: string; args: readonly string[] };
  clientName: string;
  serverName: string;
  start: (tls: boolean) => Promise<RunningServer>;
  skip?: string | undefined;
  expectedFailures?: Readonly<Record<string, ExpectedFailure>>;
  /** The TLS name the client checks the certificate against (omitted: the client's default). */
  tlsOverride?: string | undefined;
}

/** Registers the plaintext and TLS runs of one client against one server. */
export function interopSuite(spec: SuiteSpec): void {
  const expectedFailures = spec.expectedFailures ?? {};
  const failures = Object.keys(expectedFailures).length;
  const title = failures === 0 ? `all ${CASES.length} interop cases pass` : `every case passes except the ${failures} listed`;
  for (const tls of [false, true]) {
    test(`${spec.clientName} -> ${spec.serverName}${tls ? " over TLS" : ""}: ${title}`, { skip: spec.skip, timeout: 300_000 }, async (t) => {
      const server = await spec.start(tls);
      try {
        const override = tls && spec.tlsOverride ? ["--server_host_override", spec.tlsOverride] : [];
        const run = await runClient(spec.client.command, [...spec.client.args, ...clientArgs(server.port, tls), ...override]);
        for (const name of CASES) {
          await t.test(name, () => {
            const r = run.cases.get(name);
            assert.ok(r, `no result line for ${name}:\n${run.output}`);
            const expected = expectedFailures[name];
            if (expected) {
              assert.equal(r.verdict, "FAIL", `${name} should fail against the ${spec.serverName} because ${expected.why}; got ${r.verdict} ${r.detail}`);
              assert.equal(r.detail, expected.reason, `${name} failed for another reason than: ${expected.why}`);
            } else {
              // Every case is expressible by every client here; a SKIP would mean a lost case.
              assert.equal(r.verdict, "PASS", `${name}: ${r.detail}`);
            }
          });
        }
        assert.equal(run.cases.size, CASES.length, run.output);
        assert.match(run.output, new RegExp(`^${CASES.length - failures} passed, ${failures} failed`, "m"), run.output);
        assert.equal(run.status, failures === 0 ? 0 : 1, run.output);
      } finally {
        await server.stop();
      }
    });
  }
}
