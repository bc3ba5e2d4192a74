// What a scenario module gets from bench/run.ts, and how such a module runs on its own
// (`node --import tsx bench/<area>/scenarios.ts [--quick]`) with the same context.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { installCleanup } from "./proc.js";
import type { Metric } from "./report.js";

/** The run's settings and sinks, shared by every scenario. */
export interface ScenarioContext {
  quick: boolean;
  log: (msg: string) => void;
  out: (text: string) => void;
  record: (scenario: string, metrics: readonly Metric[]) => void;
  /** Writes `bytes` to a file of the run's temporary folder (h2load -d) and returns its path. */
  bodyFile: (name: string, bytes: Buffer) => string;
}

/**
 * Runs `scenario` when `moduleUrl` is the process's entry point: report to stdout, progress to
 * stderr, request bodies in a temporary folder removed afterwards.
 */
export async function runIfMain(moduleUrl: string, name: string, scenario: (ctx: ScenarioContext) => Promise<void>): Promise<void> {
  if (moduleUrl !== pathToFileURL(process.argv[1] ?? "").href) return;
  installCleanup();
  const tmp = mkdtempSync(join(tmpdir(), `switchboard-bench-${name}-`));
  try {
    await scenario({
      quick: process.argv.includes("--quick"),
      log: (m) => process.stderr.write(`${m}\n`),
      out: (t) => process.stdout.write(t),
      record: () => {},
      bodyFile: (file, bytes) => {
        const at = join(tmp, `${file}.bin`);
        writeFileSync(at, bytes);
        return at;
      },
    });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
