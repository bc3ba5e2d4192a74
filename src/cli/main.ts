// The `switchboard` command line (bin/switchboard.js loads this): picks the command, parses its
// options with node:util parseArgs, runs it and exits with its code.
import { parseArgs } from "node:util";
import type { Command } from "./command.js";
import { call } from "./commands/call.js";
import { describe } from "./commands/describe.js";
import { health } from "./commands/health.js";
import { ls } from "./commands/ls.js";
import { serve } from "./commands/serve.js";
import { EXIT_USAGE, reportFailure, reportUsage, type Io } from "./report.js";

const COMMANDS: readonly Command[] = [ls, describe, call, health, serve];

export const USAGE = `usage: switchboard COMMAND [ARGS] [OPTIONS]

A gRPC command line client (and example server) on Switchboard.

commands:
${COMMANDS.map((c) => `  ${c.summary}`).join("\n")}
  help [COMMAND]                    this text, or a command's options

Run 'switchboard COMMAND --help' for a command's options. Connections are plaintext unless
--tls (or --ca, --cert, --server-name) is given. ls, describe and call use server reflection, or
local schemas with --proto/--import-path or --protoset. See docs/cli.md.
`;

/** Runs the command line `argv` (without node and the script) and resolves with the exit code. */
export async function main(argv: readonly string[], io: Io = { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin }): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    io.stderr.write(USAGE);
    return EXIT_USAGE;
  }
  if (name === "-h" || name === "--help") {
    io.stdout.write(USAGE);
    return 0;
  }
  if (name === "help") return help(rest[0], io);
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) return reportUsage(io, undefined, `unknown command ${JSON.stringify(name)}`);
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({ args: [...rest], options: command.options, allowPositionals: true, strict: true });
  } catch (err) {
    // parseArgs' own errors (unknown option, missing value) are usage errors.
    return reportUsage(io, command.name, parseArgsMessage(err as Error & { code?: string }));
  }
  if (parsed.values["help"]) {
    io.stdout.write(command.help);
    return 0;
  }
  try {
    return await command.run(parsed.values, parsed.positionals, io);
  } catch (err) {
    return reportFailure(io, command.name, err);
  }
}

function help(name: string | undefined, io: Io): number {
  if (name === undefined) {
    io.stdout.write(USAGE);
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) return reportUsage(io, "help", `unknown command ${JSON.stringify(name)}`);
  io.stdout.write(command.help);
  return 0;
}


/** parseArgs' messages are long and end in a sentence about '--'; keep what a user needs. */
function parseArgsMessage(err: Error & { code?: string }): string {
  const option = /'(-[^' ]+)/.exec(err.message)?.[1];
  if (err.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" && option) return `unknown option '${option}'`;
  if (err.code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE" && option) {
    if (/argument missing/.test(err.message)) return `option '${option}' needs a value`;
    if (/ambiguous/.test(err.message)) return `option '${option}' needs a value (one starting with '-' is written ${option}=-...)`;
    return `option '${option}' takes no value`;
  }
  return err.message;
}

/**
 * main() for the bin: exits with its code once stdout and stderr are flushed. Exiting, rather
 * than waiting for the event loop to drain, also ends a stdin read a finished call no longer needs.
 */
export async function run(argv: readonly string[]): Promise<never> {
  // A closed pipe (`switchboard ... | head`) is not an error worth a stack trace.
  process.stdout.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE") process.exit(0);
  });
  const code = await main(argv);
  await Promise.all([flush(process.stdout), flush(process.stderr)]);
  process.exit(code);
}

function flush(stream: NodeJS.WriteStream): Promise<void> {
  // Bounded: a stuck terminal must not keep the process alive.
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, 2000);
    stream.write("", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
