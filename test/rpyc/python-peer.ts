// Running Debian's python3 with python3-rpyc from RPyC tests. A missing rpyc skips the test
// locally with a visible message; with CI=true it fails the run instead (requirePeer).
import { spawn, spawnSync } from "node:child_process";
import { DEBIAN_PYTHON, requirePeer } from "../interop/peers.js";

export { DEBIAN_PYTHON };

let cachedSkip: { reason: string | undefined } | undefined;

/**
 * `undefined` when `import rpyc` works under DEBIAN_PYTHON, else the reason to skip (printed
 * once as a `# SKIP` line). Throws when CI=true and the peer is missing.
 */
export function rpycPeerSkip(): string | undefined {
  if (!cachedSkip) {
    const r = spawnSync(DEBIAN_PYTHON, ["-c", "import rpyc"], { encoding: "utf8", timeout: 60_000 });
    const missing = r.error
      ? `${DEBIAN_PYTHON} not runnable: ${r.error.message}`
      : r.status !== 0
        ? `python3-rpyc missing under ${DEBIAN_PYTHON}: ${r.stderr.trim().split("\n").pop()}`
        : undefined;
    const reason = requirePeer(missing);
    if (reason) console.log(`# SKIP rpyc interop: ${reason}`);
    cachedSkip = { reason };
  }
  return cachedSkip.reason;
}

export interface PythonRun {
  /** Exit status (null when killed, e.g. by the timeout). */
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `python3 -c code` to completion (bounded by `timeoutMs`, default 60 s), `input` on stdin. */
export function runPython(code: string, opts?: { input?: string | Uint8Array; timeoutMs?: number; env?: NodeJS.ProcessEnv }): PythonRun {
  const r = spawnSync(DEBIAN_PYTHON, ["-c", code], {
    encoding: "utf8",
    input: opts?.input,
    timeout: opts?.timeoutMs ?? 60_000,
    maxBuffer: 256 * 1024 * 1024,
    env: { ...process.env, PYTHONIOENCODING: "utf-8", ...opts?.env },
  });
  if (r.error) return { code: null, stdout: r.stdout ?? "", stderr: `${r.stderr ?? ""}\n${r.error.message}` };
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Like runPython, without blocking the event loop: use this whenever the Python peer talks to a
 * server in this process (spawnSync would stop that server from answering).
 */
export function runPythonAsync(code: string, opts?: { input?: string | Uint8Array; timeoutMs?: number; env?: NodeJS.ProcessEnv; args?: readonly string[] }): Promise<PythonRun> {
  return new Promise((resolve) => {
    const child = spawn(DEBIAN_PYTHON, ["-c", code, ...(opts?.args ?? [])], {
      stdio: ["pipe", "pipe", "pipe"],
      env: { ...process.env, PYTHONIOENCODING: "utf-8", ...opts?.env },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      stderr += `\nkilled after ${opts?.timeoutMs ?? 60_000} ms`;
      child.kill("SIGKILL");
    }, opts?.timeoutMs ?? 60_000);
    child.on("error", (err) => (stderr += `\n${err.message}`));
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.on("error", () => {});
    child.stdin.end(opts?.input ?? "");
  });
}
