// Running the RPyC example (examples/rpyc/server.ts, the JUDGE service) as a child process for
// the interop tests, and the Python snippets they share.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { ROOT } from "../interop/peers.js";
import { runPythonAsync } from "./python-peer.js";

export interface RunningExample {
  readonly port: number;
  readonly child: ChildProcess;
  /** Everything printed so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves with (exit code, signal) once the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends `signal` (default SIGTERM) by PID and waits for the exit; SIGKILL after 10 s. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts the example with `--port 0 --host 127.0.0.1` and `args`, and reads its port from the listening line. */
export function startExample(args: readonly string[] = [], timeoutMs = 60_000): Promise<RunningExample> {
  const child = spawn(process.execPath, ["--import", "tsx", "examples/rpyc/server.ts", "--port", "0", "--host", "127.0.0.1", ...args], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
  child.stderr.setEncoding("utf8").on("data", (d: string) => (err += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  const stop = async (signal: NodeJS.Signals = "SIGTERM") => {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      process.kill(child.pid, signal);
      const hard = setTimeout(() => child.pid !== undefined && child.exitCode === null && process.kill(child.pid, "SIGKILL"), 10_000);
      const r = await exited;
      clearTimeout(hard);
      return r;
    }
    return exited;
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop("SIGKILL");
      reject(new Error(`the rpyc example did not start within ${timeoutMs} ms\n${err}`));
    }, timeoutMs);
    const onData = (): void => {
      const m = /listening rpyc tcp:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      child.stdout.off("data", onData);
      resolve({ port: Number(m[1]), child, stdout: () => out, stderr: () => err, exited, stop });
    };
    child.stdout.on("data", onData);
    void exited.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`the rpyc example exited early (${code})\n${err}`));
    });
  });
}

/**
 * Runs a Python snippet that prints one JSON document as its last line; returns it parsed.
 * sys.argv[1:] are `args`. Fails with Python's stderr when it does not exit 0.
 */
export async function pythonJson<T = Record<string, unknown>>(code: string, args: readonly string[], timeoutMs = 120_000): Promise<T> {
  const r = await runPythonAsync(code, { args, timeoutMs });
  assert.equal(r.code, 0, `python failed (${r.code}):\n${r.stderr}\n${r.stdout}`);
  const last = r.stdout.trim().split("\n").pop() ?? "";
  return JSON.parse(last) as T;
}

/** Python helpers the snippets start with: `describe(v)` names a value's type and repr for JSON. */
export const PY_PRELUDE = `
import gc, json, math, sys, threading, time
import rpyc

def describe(v):
    if isinstance(v, float) and math.isnan(v):
        return [type(v).__name__, "nan"]
    return [type(v).__name__, repr(v)]

def raised(fn):
    """[exception type name, args, has remote traceback] of what fn() raised, or None."""
    try:
        fn()
    except Exception as e:
        return [type(e).__name__, [a if isinstance(a, (str, int)) else repr(a) for a in e.args], "Remote Traceback" in str(e)]
    return None

def until(probe, limit=10.0):
    """probe() once it is true, polling for at most limit seconds; the last value otherwise."""
    end = time.time() + limit
    while True:
        v = probe()
        if v or time.time() > end:
            return v
        time.sleep(0.05)

def while_parked(conn, value, others):
    """Parks conn.root.callback(hold, value) inside hold() on a thread, calls each of others
    meanwhile, then lets hold() return. The order of events: "A waiting", ["B", result] per
    other, ["A", value] when the parked call holds none of the others up."""
    gate = threading.Event()
    order = []
    def hold(x):
        order.append("A waiting")
        gate.wait(60)
        return x
    t = threading.Thread(target=lambda: order.append(["A", conn.root.callback(hold, value)]))
    t.start()
    until(lambda: "A waiting" in order, 30)
    for other in others:
        order.append(["B", other()])
    gate.set()
    t.join(60)
    return order
`;
