// Shared pieces of the cluster tests: a cluster of fixture workers that is always stopped
// (and, failing that, killed by pid) after the test, and gRPC calls on a fresh connection
// each (one HTTP/2 connection sticks to one worker).
import { Channel, createClient } from "../../src/index.js";
import { Greeter } from "../../src/gen/helloworld/helloworld_pb.js";
import { serveWorkers, type Cluster, type ClusterEvents, type ServeWorkersOptions } from "../../src/cluster/index.js";

export { within, REPO_ROOT } from "../server/helpers.js";

/** The fixture worker module (test/cluster/fixtures/workers.ts). */
export const FIXTURES = new URL("./fixtures/workers.ts", import.meta.url);

/** Per-test bound: worker processes load TypeScript through tsx, which takes a while. */
export const T = { timeout: 90_000 };

const started = new Set<Cluster>();

/** serveWorkers() on the fixtures (loopback, port 0, quiet) unless told otherwise. */
export async function startCluster(exportName: string, options: Partial<ServeWorkersOptions> = {}): Promise<Cluster> {
  const lines: string[] = [];
  const c = await serveWorkers({ module: FIXTURES, export: exportName, workers: 2, port: 0, log: (l) => lines.push(l), ...options });
  started.add(c);
  return c;
}

/** afterEach: stops every cluster a test started; a worker still alive after that is SIGKILLed. */
export async function stopClusters(): Promise<void> {
  for (const c of started) {
    const pids = c.workers.map((w) => w.pid);
    await Promise.race([c.stop(0), new Promise((resolve) => setTimeout(resolve, 15_000))]);
    for (const pid of pids) {
      try {
        if (pid !== undefined) process.kill(pid, "SIGKILL");
      } catch {
        // Already gone: the normal case.
      }
    }
  }
  started.clear();
}

/** One SayHello on its own connection; resolves to the pid of the worker that answered. */
export async function pidCall(port: number, options: { waitForReady?: boolean; name?: string; timeout?: number } = {}): Promise<number> {
  const channel = new Channel(`127.0.0.1:${port}`);
  try {
    const client = createClient(Greeter, channel);
    const reply = await client.sayHello({ name: options.name ?? "" }, { waitForReady: options.waitForReady ?? false, timeout: options.timeout ?? 20_000 });
    return Number(reply.message);
  } finally {
    channel.close();
  }
}

/** Calls on fresh connections until every pid in `want` answered (at most `max` calls). */
export async function reachAll(port: number, want: readonly number[], max = 200): Promise<Set<number>> {
  const seen = new Set<number>();
  for (let i = 0; i < max && !want.every((p) => seen.has(p)); i++) seen.add(await pidCall(port));
  return seen;
}

/** Whether a process is alive (signal 0). */
export function alive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Resolves with the next emission of `event` that passes `test`, or rejects after `ms`. */
export function nextEvent<K extends keyof ClusterEvents>(c: Cluster, event: K, test: (...args: ClusterEvents[K]) => boolean, ms = 30_000): Promise<ClusterEvents[K]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      c.off(event, listener as never);
      reject(new Error(`no matching "${event}" event within ${ms} ms`));
    }, ms);
    const listener = (...args: ClusterEvents[K]) => {
      if (!test(...args)) return;
      clearTimeout(timer);
      c.off(event, listener as never);
      resolve(args);
    };
    c.on(event, listener as never);
  });
}
