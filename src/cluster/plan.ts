// The cluster's decisions as pure functions (unit-tested without processes): which way the
// workers share a port, which port a new worker is told to bind, and when a crashed slot is
// restarted.
import { backoffDelay } from "../backoff.js";
import { reusePortSupported } from "../server/listener.js";
import type { PortSharing, RestartPolicy } from "./types.js";

/** "reuse-port" when asked for or when "auto" and this Node/OS has SO_REUSEPORT in listen(). */
export function choosePortSharing(asked: PortSharing, version = process.versions.node, platform: NodeJS.Platform = process.platform): "shared-handle" | "reuse-port" {
  if (asked === "shared-handle" || asked === "reuse-port") return asked;
  // Linux balances connections across SO_REUSEPORT sockets; BSD/macOS let the last bind win.
  return platform === "linux" && reusePortSupported(version) ? "reuse-port" : "shared-handle";
}

/** What the primary knows when it picks a port for a new worker. */
export interface PortFacts {
  sharing: "shared-handle" | "reuse-port";
  /** The port serveWorkers was given (0: any). */
  requested: number;
  /** The port the workers really serve, once one reported it. */
  known: number | undefined;
  /** The port value live workers passed to listen() (node:cluster keys its shared handles by it). */
  keyPort: number | undefined;
  /** Whether a worker that listened with keyPort is still starting or serving (so holds the handle). */
  keyHeld: boolean;
}

/**
 * The port a new worker binds.
 *
 * reusePort: each worker binds its own socket, so the real port once known (the first worker
 * turns 0 into a port), else the requested one.
 *
 * Shared handle: node:cluster keys the primary's listening handle by the port value passed to
 * listen(), so a worker must pass the same value as the workers holding the handle (0 stays
 * 0: the primary hands out the port it bound for that key). When nobody holds it any more
 * (every worker gone), the handle was closed: the new worker binds the known port explicitly,
 * so the cluster keeps its port instead of getting a new random one.
 */
export function portForNewWorker(f: PortFacts): number {
  if (f.sharing === "reuse-port") return f.known ?? f.requested;
  if (f.keyPort !== undefined && f.keyHeld) return f.keyPort;
  return f.known ?? f.requested;
}

/** Whether the workers after the first must wait for its port (reusePort on port 0). */
export function firstWorkerAlone(sharing: "shared-handle" | "reuse-port", requested: number): boolean {
  return sharing === "reuse-port" && requested === 0;
}

/** RestartPolicy with its defaults. */
export function restartPolicy(p: RestartPolicy = {}): Required<RestartPolicy> {
  return { backoffMs: p.backoffMs ?? 100, maxBackoffMs: p.maxBackoffMs ?? 5000, maxRestartsPerMinute: p.maxRestartsPerMinute ?? 10 };
}

/**
 * After a crash at `now` of a slot whose earlier crashes are `crashes` (timestamps, ms): the
 * crashes still inside the last minute (including this one), and the delay before the restart,
 * or `undefined` when the slot crashed more than maxRestartsPerMinute times in that minute.
 */
export function nextRestart(crashes: readonly number[], now: number, policy: Required<RestartPolicy>): { recent: number[]; delayMs: number | undefined } {
  const recent = [...crashes.filter((t) => now - t < 60_000), now];
  if (recent.length > policy.maxRestartsPerMinute) return { recent, delayMs: undefined };
  const delayMs = backoffDelay(recent.length, { initialMs: policy.backoffMs, maxMs: policy.maxBackoffMs, multiplier: 2, jitter: 0 });
  return { recent, delayMs };
}

/** Node flags for a worker: this process's, minus those that must not run twice (test runner, inspector). */
export function workerExecArgv(execArgv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const a = execArgv[i]!;
    if (/^--(test|inspect|debug)/.test(a) || a.startsWith("--watch")) {
      // "--test-reporter x" style: the value is the next argument.
      if (!a.includes("=") && /^--test-(reporter|reporter-destination|name-pattern|skip-pattern|concurrency|timeout|shard)$/.test(a)) i++;
      continue;
    }
    out.push(a);
  }
  return out;
}
