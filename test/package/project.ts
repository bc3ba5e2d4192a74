// Shared by the package tests: pack switchboard as `npm pack` would from a clean clone, make a
// fresh project outside the repository whose npm talks only to a loopback registry (registry.ts),
// and run commands in it as child processes with a clean environment, bounded in time, each in
// its own process group so a hung one is killed with everything it started.
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { LocalRegistry } from "./registry.js";

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

export interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** The environment of a user's shell: none of the npm_* variables `npm test` sets, no NODE_OPTIONS (no loader). */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^npm_/i.test(key) || key === "NODE_OPTIONS" || key === "NODE_PATH" || key.startsWith("TSX_") || key === "INIT_CWD") continue;
    env[key] = value;
  }
  return { ...env, ...extra };
}

/** Groups still running, killed by killAll() (an after() hook) if a test fails half-way. */
const running = new Set<ChildProcess>();

function killGroup(child: ChildProcess, signal: NodeJS.Signals = "SIGKILL"): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}

export function killAll(): void {
  for (const child of running) killGroup(child);
  running.clear();
}

export interface RunOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

/** Runs `command args` to completion; kills its process group and rejects after timeoutMs. */
export function run(command: string, args: readonly string[], options: RunOptions): Promise<Result> {
  const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ["ignore", "pipe", "pipe"], detached: true });
  running.add(child);
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const timeoutMs = options.timeoutMs ?? 60_000;
  const shown = [command, ...args].join(" ");
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      killGroup(child);
      reject(new Error(`\`${shown}\` (in ${options.cwd}) did not finish within ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    child.on("error", (err) => {
      clearTimeout(timer);
      running.delete(child);
      reject(err);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      running.delete(child);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** run() that asserts exit 0 and returns stdout. */
export async function ok(command: string, args: readonly string[], options: RunOptions): Promise<string> {
  const r = await run(command, args, options);
  assert.equal(r.code, 0, `\`${[command, ...args].join(" ")}\` exited ${r.code ?? r.signal}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r.stdout;
}

/** A long-running child (a server) whose output is read as it comes. */
export class Background {
  readonly child: ChildProcess;
  stdout = "";
  stderr = "";
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(command: string, args: readonly string[], options: Omit<RunOptions, "timeoutMs">) {
    this.child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ["ignore", "pipe", "pipe"], detached: true });
    running.add(this.child);
    this.child.stdout!.on("data", (d: Buffer) => (this.stdout += d.toString()));
    this.child.stderr!.on("data", (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((resolve) => {
      this.child.on("close", (code, signal) => {
        running.delete(this.child);
        resolve({ code, signal });
      });
    });
  }

  /** Resolves with the first match of `pattern` in stdout; rejects if the process exits first or after `ms`. */
  waitFor(pattern: RegExp, ms: number): Promise<RegExpExecArray> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const m = pattern.exec(this.stdout);
        if (!m) return false;
        done();
        resolve(m);
        return true;
      };
      const onData = () => check();
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no ${pattern} on stdout within ${ms} ms\nstdout: ${this.stdout}\nstderr: ${this.stderr}`));
      }, ms);
      const done = () => {
        clearTimeout(timer);
        this.child.stdout!.off("data", onData);
      };
      if (check()) return;
      this.child.stdout!.on("data", onData);
      void this.exited.then(({ code, signal }) => {
        if (check()) return;
        done();
        reject(new Error(`exited (${code ?? signal}) before printing ${pattern}\nstdout: ${this.stdout}\nstderr: ${this.stderr}`));
      });
    });
  }

  /** Sends `signal` to the process itself (not its group), as a terminal's Ctrl-C reaches a foreground node. */
  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** Sends `signal` to the whole process group, as Ctrl-C in a terminal does. */
  signalGroup(signal: NodeJS.Signals): void {
    killGroup(this.child, signal);
  }

  kill(): void {
    killGroup(this.child);
  }
}

/** A new empty directory under the OS temp dir (outside the repository, so no node_modules above it can leak in). */
export function tempDir(prefix: string): string {
  return mkdtempSync(path.join(tmpdir(), `switchboard-${prefix}-`));
}

/** The files of a clean clone: tracked plus untracked-but-not-ignored (git), else everything but node_modules/dist/.git. */
function sourceFiles(): string[] {
  const git = spawnSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: REPO, encoding: "utf8" });
  if (git.status === 0) return git.stdout.split("\0").filter((f) => f !== "" && !/^(node_modules|dist)(\/|$)/.test(f) && statSync(path.join(REPO, f), { throwIfNoEntry: false })?.isFile());
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(path.join(REPO, dir), { withFileTypes: true })) {
      const rel = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (![".git", "node_modules", "dist"].includes(e.name)) walk(rel);
      } else out.push(rel);
    }
  };
  walk("");
  return out;
}

interface PackInfo {
  filename: string;
  files: { path: string }[];
}

export interface Packed {
  tarball: string;
  /** The package.json that was packed. */
  manifest: Record<string, unknown> & { name: string; version: string };
  /** Every path in the tarball, relative to the package root. */
  files: string[];
}

/**
 * `npm pack` of the current tree, as from a clean clone (prepack builds dist/). It runs in a copy
 * of the tree sharing node_modules, so it neither races another test's build nor replaces the
 * dist/ a developer built. Resolves with the tarball's path and the packed package.json.
 */
export async function packSwitchboard(into: string): Promise<Packed> {
  const clone = path.join(into, "clone");
  for (const file of sourceFiles()) {
    mkdirSync(path.dirname(path.join(clone, file)), { recursive: true });
    copyFileSync(path.join(REPO, file), path.join(clone, file));
  }
  symlinkSync(path.join(REPO, "node_modules"), path.join(clone, "node_modules"), "dir");
  const out = path.join(into, "pack");
  mkdirSync(out);
  const json = await ok("npm", ["pack", "--json", "--pack-destination", out], { cwd: clone, env: cleanEnv({ npm_config_offline: "true", npm_config_update_notifier: "false" }), timeoutMs: 120_000 });
  // With --json, npm sends prepack's output (the build) to stderr: stdout is the JSON alone.
  const [info] = JSON.parse(json) as [PackInfo];
  const manifest = JSON.parse(readFileSync(path.join(clone, "package.json"), "utf8")) as Record<string, unknown> & { name: string; version: string };
  rmSync(clone, { recursive: true, force: true });
  return { tarball: path.join(out, info.filename), manifest, files: info.files.map((f) => f.path) };
}

/** npm's cache folder (where `npm ci` left the tarballs), as npm itself reports it. */
export function npmCacheDir(): string {
  // This process's own environment: an npm_config_cache that `npm test` or CI set is the cache `npm ci` used.
  const r = spawnSync("npm", ["config", "get", "cache"], { encoding: "utf8" });
  assert.equal(r.status, 0, `npm config get cache failed: ${r.stderr}`);
  return r.stdout.trim();
}

export interface Sandbox {
  /** The temporary root (project, registry cache, packed tarball). */
  root: string;
  /** The user's empty project folder. */
  project: string;
  packed: Packed;
  registry: LocalRegistry;
  /** Environment for every command in `project`: npm goes to the loopback registry only, with its own cache. */
  env: NodeJS.ProcessEnv;
  dispose(): Promise<void>;
}

/**
 * Packs switchboard, starts a loopback registry holding it and every package of the repository's
 * lockfile, and makes an empty project folder whose npm uses only that registry (an empty user
 * config, a private cache, no audit/fund/update checks, a dead proxy for anything else).
 */
export async function sandbox(prefix: string): Promise<Sandbox> {
  const root = tempDir(prefix);
  try {
    const packed = await packSwitchboard(root);
    const registry = new LocalRegistry().addLockfile(path.join(REPO, "package-lock.json"), npmCacheDir()).addTarball(packed.tarball, packed.manifest);
    const url = await registry.start();
    const project = path.join(root, "project");
    mkdirSync(project);
    const npmrc = path.join(root, "npmrc");
    writeFileSync(npmrc, "");
    const env = cleanEnv({
      npm_config_registry: url,
      npm_config_cache: path.join(root, "npm-cache"),
      npm_config_userconfig: npmrc,
      npm_config_audit: "false",
      npm_config_fund: "false",
      npm_config_update_notifier: "false",
      npm_config_progress: "false",
      // Any request that is not to the loopback registry goes to a closed port and fails at once.
      npm_config_proxy: "http://127.0.0.1:9",
      npm_config_https_proxy: "http://127.0.0.1:9",
      npm_config_noproxy: "127.0.0.1",
      npm_config_fetch_retries: "0",
    });
    return {
      root,
      project,
      packed,
      registry,
      env,
      async dispose() {
        killAll();
        await registry.stop();
        rmSync(root, { recursive: true, force: true });
      },
    };
  } catch (err) {
    rmSync(root, { recursive: true, force: true });
    throw err;
  }
}

/** Fails with what to do when npm asked the registry for a tarball the npm cache did not have. */
export function assertNothingMissing(registry: LocalRegistry): void {
  assert.equal(registry.missing.size, 0, `not in the npm cache: ${[...registry.missing].join(", ")} (run \`npm ci\` in the repository first)`);
}

/** `npm install ARGS` in the sandbox's project: first says which tarballs the cache lacked, if any, then asserts exit 0. */
export async function npmInstall(sb: Sandbox, args: readonly string[]): Promise<void> {
  const r = await run("npm", ["install", ...args], { cwd: sb.project, env: sb.env, timeoutMs: 120_000 });
  assertNothingMissing(sb.registry);
  assert.equal(r.code, 0, `npm install ${args.join(" ")} exited ${r.code ?? r.signal}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
}
