// A throwaway etcd for the tests: a single member on loopback in a temp dir, on a random high
// port (another one when etcd cannot bind it), stoppable and restartable on the same port and
// data dir, and etcdctl as an async subprocess.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before } from "node:test";
import { promisify } from "node:util";
import { EtcdClient } from "../../src/etcd/client.js";

const ETCD = process.env.ETCD_BIN ?? "/usr/bin/etcd";
const ETCDCTL = process.env.ETCDCTL_BIN ?? "/usr/bin/etcdctl";
const run = promisify(execFile);

/**
 * The `skip` option for an etcd test suite: false when etcd and etcdctl are installed, else the
 * reason (printed by node:test). With CI=true a missing etcd fails instead of skipping.
 */
export function skipUnlessEtcd(): false | string {
  if (existsSync(ETCD) && existsSync(ETCDCTL)) return false;
  const reason = `etcd not installed (${ETCD}, ${ETCDCTL}): apt-get install etcd-server etcd-client`;
  if (process.env.CI === "true") throw new Error(`${reason} — required when CI=true`);
  console.log(`# SKIP ${reason}`);
  return reason;
}

function randomPort(): number {
  return 10000 + Math.floor(Math.random() * (EPHEMERAL_LOW - 10000));
}

/**
 * Where the kernel's ephemeral ports start: outgoing connections and port-0 binds of every
 * test take theirs above it, so a port chosen below it before etcd starts ("etcd down at
 * start") is not taken meanwhile.
 */
const EPHEMERAL_LOW = (() => {
  try {
    const low = Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 11000 ? low : 32768;
  } catch {
    return 32768;
  }
})();

/** One etcd member. `start()` picks ports the first time; later starts reuse them and the data dir. */
export class EtcdServer {
  clientPort = 0;
  peerPort = 0;
  dataDir = "";
  private proc: ChildProcess | undefined;
  private exited: Promise<void> | undefined;
  private stderr = "";

  /** http://127.0.0.1:PORT (valid once ports are chosen: after start() or choosePorts()). */
  get endpoint(): string {
    return `http://127.0.0.1:${this.clientPort}`;
  }

  get running(): boolean {
    return this.proc !== undefined;
  }

  /** Picks ports without starting etcd (for "etcd down at start"); start() then tries them first. */
  choosePorts(): void {
    this.clientPort = randomPort();
    do this.peerPort = randomPort();
    while (this.peerPort === this.clientPort);
  }

  /**
   * Starts etcd and waits until it answers /health. The first start retries with new ports when
   * etcd exits (a port in use); a restart keeps its ports, as clients are pointed at them.
   */
  async start(options: { keepPorts?: boolean } = {}): Promise<void> {
    if (this.proc) return;
    if (!this.dataDir) this.dataDir = await mkdtemp(join(tmpdir(), "sb-etcd-"));
    const fixed = options.keepPorts ?? this.clientPort !== 0;
    if (!this.clientPort) this.choosePorts();
    for (let attempt = 0; ; attempt++) {
      const why = await this.tryStart();
      if (why === undefined) return;
      if (fixed || attempt >= 5) throw new Error(`etcd did not start on ${this.clientPort}/${this.peerPort}: ${why}`);
      this.choosePorts();
    }
  }

  private async tryStart(): Promise<string | undefined> {
    const client = `http://127.0.0.1:${this.clientPort}`;
    const peer = `http://127.0.0.1:${this.peerPort}`;
    this.stderr = "";
    const proc = spawn(
      ETCD,
      [
        "--name", "sb-test",
        "--data-dir", this.dataDir,
        "--listen-client-urls", client,
        "--advertise-client-urls", client,
        "--listen-peer-urls", peer,
        "--initial-advertise-peer-urls", peer,
        "--initial-cluster", `sb-test=${peer}`,
        "--initial-cluster-state", "new",
        "--logger", "zap",
        "--log-level", "error",
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    proc.stderr!.setEncoding("utf8").on("data", (d: string) => {
      // Keep the tail only: enough to say why it failed.
      this.stderr = (this.stderr + d).slice(-4000);
    });
    let exitedEarly = false;
    this.exited = new Promise((resolve) => proc.once("exit", () => ((exitedEarly = true), resolve())));
    proc.once("error", () => {});
    // A test process that dies without its after() hooks must not leave etcd running.
    const reap = () => proc.kill("SIGKILL");
    process.once("exit", reap);
    void this.exited.then(() => process.off("exit", reap));
    this.proc = proc;
    const until = Date.now() + 15_000;
    while (Date.now() < until) {
      if (exitedEarly) break;
      if (await healthy(client)) return undefined;
      await new Promise((r) => setTimeout(r, 50));
    }
    await this.stop();
    return exitedEarly ? `etcd exited: ${this.stderr.trim().split("\n").slice(-2).join(" | ")}` : "no answer within 15 s";
  }

  /** Stops etcd: SIGTERM, then SIGKILL after 5 s. The data dir stays for a restart. */
  async stop(): Promise<void> {
    const proc = this.proc;
    if (!proc) return;
    this.proc = undefined;
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill("SIGTERM");
      const killer = setTimeout(() => proc.kill("SIGKILL"), 5000);
      await this.exited;
      clearTimeout(killer);
    }
  }

  /** Kills etcd at once (SIGKILL), like a crash. */
  async kill(): Promise<void> {
    const proc = this.proc;
    if (!proc) return;
    this.proc = undefined;
    if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL");
    await this.exited;
  }

  /** Stops etcd and removes its data dir. */
  async close(): Promise<void> {
    await this.stop();
    if (this.dataDir) await rm(this.dataDir, { recursive: true, force: true });
    this.dataDir = "";
  }

  /** Runs etcdctl (API v3) against this member; resolves with stdout. */
  async ctl(...args: string[]): Promise<string> {
    const { stdout } = await run(ETCDCTL, ["--endpoints", this.endpoint, "--dial-timeout", "2s", ...args], {
      env: { ...process.env, ETCDCTL_API: "3" },
      timeout: 10_000,
    });
    return stdout;
  }
}

async function healthy(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) });
    const body = (await res.json()) as { health?: string };
    return body.health === "true";
  } catch {
    return false;
  }
}

/**
 * A suite's etcd and a client for it: started in `before`, closed in `after` (call it at the top
 * of a describe). The fields are set once the hooks ran.
 */
export function etcdFixture(): { readonly etcd: EtcdServer; readonly client: EtcdClient } {
  const fx = {} as { etcd: EtcdServer; client: EtcdClient };
  before(async () => {
    fx.etcd = await startEtcd();
    fx.client = new EtcdClient({ endpoints: [fx.etcd.endpoint] });
  });
  after(async () => {
    await fx.client?.close();
    await fx.etcd?.close();
  });
  return fx;
}

/** Starts a fresh etcd (the caller closes it). */
export async function startEtcd(): Promise<EtcdServer> {
  const server = new EtcdServer();
  await server.start({ keepPorts: false });
  return server;
}

/** Polls `check` every 25 ms until it returns a truthy value; fails after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => T | Promise<T>, timeoutMs = 10_000): Promise<NonNullable<T>> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ""}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A unique key prefix per test, so tests sharing one etcd never see each other's keys. */
let n = 0;
export function uniquePrefix(name: string): string {
  return `sbtest/${process.pid}-${Date.now().toString(36)}-${++n}/${name}/`;
}
