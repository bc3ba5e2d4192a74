// The server under attack for a test file or one describe block: the before/after pair every
// reliability suite used to write out. Kept apart from harness.ts so that bench/attack.ts and
// bench/soak.ts, which import the harness, do not load node:test.
import { after, before } from "node:test";
import type { ServerOptions } from "../../src/index.js";
import { ServerProcess, type Stats } from "./harness.js";

export interface SuiteServer {
  /** The running server child process (set once the before hook ran). */
  readonly proc: ServerProcess;
  /** Its stats after two full GCs, taken right after it started. */
  readonly baseline: Stats;
}

/**
 * Starts a ServerProcess with `options` (and `env`) in a before hook of the enclosing suite (the
 * file at top level) and closes it in an after hook. Read `proc` and `baseline` inside tests.
 */
export function serverForSuite(options: ServerOptions = {}, env: NodeJS.ProcessEnv = {}): SuiteServer {
  let proc: ServerProcess | undefined;
  let baseline: Stats | undefined;
  before(async () => {
    proc = await ServerProcess.start(options, 30_000, env);
    baseline = await proc.gc();
  });
  after(async () => {
    await proc?.close();
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error("the suite's server process is not started (read it inside a test, after the before hook)");
    return value;
  };
  return {
    get proc() {
      return started(proc);
    },
    get baseline() {
      return started(baseline);
    },
  };
}
