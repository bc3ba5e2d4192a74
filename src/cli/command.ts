// What every `switchboard` command provides to main.ts: its options for node:util parseArgs,
// its help text, and run().
import type { ParseArgsConfig } from "node:util";
import type { Io } from "./report.js";

export interface Command {
  name: string;
  /** One line for `switchboard --help`. */
  summary: string;
  /** The full `switchboard COMMAND --help` text. */
  help: string;
  options: NonNullable<ParseArgsConfig["options"]>;
  /** Runs the command; resolves with the exit code. `values` are parseArgs' values for `options`. */
  run(values: Record<string, unknown>, positionals: string[], io: Io): Promise<number>;
}
