// Shared by the docs tests: the code blocks of a doc (and the examples/ file a block says it
// is), the example files as a reader of the docs sees them, and running those files as child
// processes the way the docs tell a reader to (`node --import tsx examples/...`).
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { within } from "./server/helpers.js";
import { ROOT } from "./interop/peers.js";

/**
 * `<!-- example: examples/dir/file.ts -->` on the line before a code block says the block is that
 * committed file, whole. Examples import the library as `"switchboard"`, as a reader's program
 * does; in this repository that name resolves to the sources (tsconfig.json `paths`, honoured
 * by tsc and tsx), so they run and type-check without a build.
 */
const EXAMPLE_MARKER = /^<!--\s*example:\s*(\S+)\s*-->$/;
const FENCE = /^\s*```(\S*)\s*$/;

export interface CodeBlock {
  /** The doc, relative to the repository root. */
  doc: string;
  /** 1-based line of the opening fence. */
  line: number;
  /** The fence's language ("ts", "sh", ...; "" for none). */
  lang: string;
  code: string;
  /** The examples/ file the block is (from the marker), relative to the root. */
  example: string | undefined;
}

/** Every fenced code block of `doc` (a path relative to the repository root), in order. */
export function codeBlocks(doc: string): CodeBlock[] {
  const lines = readFileSync(path.join(ROOT, doc), "utf8").split("\n");
  const blocks: CodeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i]!);
    if (!open) continue;
    let end = i + 1;
    while (end < lines.length && !/^\s*```\s*$/.test(lines[end]!)) end++;
    if (end === lines.length) throw new Error(`${doc}:${i + 1}: a code block is never closed`);
    let before = i - 1;
    while (before >= 0 && lines[before]!.trim() === "") before--;
    const marker = before >= 0 ? EXAMPLE_MARKER.exec(lines[before]!.trim()) : null;
    blocks.push({ doc, line: i + 1, lang: open[1]!, code: lines.slice(i + 1, end).join("\n") + "\n", example: marker?.[1] });
    i = end;
  }
  return blocks;
}

/** A committed file, relative to the repository root. */
export function repoFile(file: string): string {
  return readFileSync(path.join(ROOT, file), "utf8");
}

export interface ExampleOptions {
  args?: readonly string[];
  env?: Readonly<Record<string, string>>;
}

export interface ExampleResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunningExample {
  /** The port from the "listening on 127.0.0.1:<port>" line. */
  port: number;
  child: ChildProcess;
  /** Settles once the process has ended. */
  exited: Promise<ExampleResult>;
  stdout(): string;
  stderr(): string;
  /** Kills the process if it still runs. */
  dispose(): void;
}

function spawnExample(file: string, options: ExampleOptions): { child: ChildProcess; exited: Promise<ExampleResult>; out: { stdout: string; stderr: string } } {
  const child = spawn(process.execPath, ["--import", "tsx", file, ...(options.args ?? [])], {
    cwd: ROOT,
    env: { ...process.env, ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const out = { stdout: "", stderr: "" };
  child.stdout!.on("data", (d: Buffer) => (out.stdout += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (out.stderr += d.toString()));
  const exited = new Promise<ExampleResult>((resolve) => child.on("close", (code, signal) => resolve({ code, signal, ...out })));
  return { child, exited, out };
}

/**
 * Runs an example that ends by itself (`node --import tsx FILE ARGS`) and returns its exit
 * code and output. A process still running after `timeoutMs` is killed (its result then has
 * signal SIGKILL), so a script that never exits fails its test instead of hanging it.
 */
export async function runExample(file: string, options: ExampleOptions & { timeoutMs?: number } = {}): Promise<ExampleResult> {
  const { child, exited } = spawnExample(file, options);
  const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 30_000);
  try {
    return await exited;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Starts an example server with PORT=0 (a free port) and waits for its
 * "listening on 127.0.0.1:<port>" line.
 */
export async function startExample(file: string, options: ExampleOptions = {}): Promise<RunningExample> {
  const { child, exited, out } = spawnExample(file, { ...options, env: { PORT: "0", ...options.env } });
  const dispose = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  };
  try {
    const port = await within(
      new Promise<number>((resolve, reject) => {
        child.stdout!.on("data", () => {
          const m = /listening on 127\.0\.0\.1:(\d+)/.exec(out.stdout);
          if (m) resolve(Number(m[1]));
        });
        void exited.then((r) => reject(new Error(`${file} exited (${r.code ?? r.signal}) before listening\n${r.stderr}`)));
      }),
      30_000,
      `${file} starting`,
    );
    return { port, child, exited, stdout: () => out.stdout, stderr: () => out.stderr, dispose };
  } catch (err) {
    dispose();
    throw err;
  }
}
