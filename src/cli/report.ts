// How the CLI prints results and failures, and the exit codes that go with them.
import type { Readable, Writable } from "node:stream";
import { create, createRegistry, toJson, type DescMessage, type JsonValue } from "@bufbuild/protobuf";
import { AnySchema } from "@bufbuild/protobuf/wkt";
import { ErrorCode, SwitchboardError } from "../errors.js";
import { detailTypes, typeNameOf } from "../rich-details.js";
import { encodeBinaryValue, type Metadata } from "../metadata.js";
import { codeName, RpcError, type StatusDetail } from "../status.js";

/** The streams a command uses (the process's, or a test's). */
export interface Io {
  stdout: Writable;
  stderr: Writable;
  stdin: Readable;
}

/** Usage errors and local failures (bad JSON, unknown symbol, unreadable files). */
export const EXIT_USAGE = 1;
/** A call ending with gRPC status `code` exits with 64 + code, as grpcurl does (UNAVAILABLE -> 78). */
export const EXIT_STATUS_OFFSET = 64;

export function printJson(io: Io, value: JsonValue, compact: boolean): void {
  io.stdout.write(`${JSON.stringify(value, null, compact ? undefined : 2)}\n`);
}

/** `title:` then one `key: value` line per entry (-bin values in base64) on stderr. */
export function printMetadata(io: Io, title: string, metadata: Metadata | undefined): void {
  const lines = [`${title}:`];
  for (const [key, value] of metadata ?? []) lines.push(`${key}: ${typeof value === "string" ? value : encodeBinaryValue(value)}`);
  io.stderr.write(`${lines.join("\n")}\n`);
}

/** Finds a message type for a rich error detail (by reflection); undefined when unknown. */
export type TypeResolver = (typeName: string) => Promise<DescMessage | undefined>;

/**
 * The one prefix of every error line the CLI prints: `switchboard: COMMAND: ` (or
 * `switchboard: ` before a command is known).
 */
export function errorLine(command: string | undefined, message: string): string {
  return `switchboard: ${command ? `${command}: ` : ""}${message}\n`;
}

/** A usage error: one line pointing at the help (never the whole usage text); exit 1. */
export function reportUsage(io: Io, command: string | undefined, message: string): number {
  const hint = command && command !== "help" ? `switchboard ${command} --help` : "switchboard --help";
  io.stderr.write(errorLine(command, `${message.replace(/ \[ERR_SB_CLI_USAGE\]$/, "")} (see '${hint}')`));
  return EXIT_USAGE;
}

/**
 * Prints a failure on stderr and returns the exit code: `switchboard: COMMAND: CODE: message`
 * plus rich details (as JSON where the type is known) for a gRPC status (64 + code),
 * `switchboard: COMMAND: message [ERR_SB_...]` otherwise (1).
 */
export async function reportFailure(io: Io, command: string, err: unknown, resolve?: TypeResolver): Promise<number> {
  if (err instanceof SwitchboardError && err.code === ErrorCode.CLI_USAGE) return reportUsage(io, command, err.message);
  if (err instanceof RpcError) {
    io.stderr.write(errorLine(command, `${codeName(err.code)}${err.rawMessage ? `: ${err.rawMessage}` : ""}`));
    if (err.details.length > 0) {
      io.stderr.write("details:\n");
      for (const d of err.details) io.stderr.write(`${JSON.stringify(await detailJson(d, resolve))}\n`);
    }
    return EXIT_STATUS_OFFSET + err.code;
  }
  io.stderr.write(errorLine(command, err instanceof Error ? err.message : String(err)));
  return EXIT_USAGE;
}

/**
 * A detail in the JSON mapping of google.protobuf.Any (`{"@type": url, ...fields}`) when its type
 * is known: the google.rpc error model always, other types through `resolve`. Otherwise the
 * type URL and the bytes in base64.
 */
async function detailJson(detail: StatusDetail, resolve: TypeResolver | undefined): Promise<JsonValue> {
  const typeName = typeNameOf(detail.typeUrl);
  const known = detailTypes.getMessage(typeName) ?? (resolve ? await resolve(typeName).catch(() => undefined) : undefined);
  if (known) {
    try {
      return toJson(AnySchema, create(AnySchema, { typeUrl: detail.typeUrl, value: detail.value }), { registry: createRegistry(known) });
    } catch {
      // Bytes that do not parse as the named type: shown raw below.
    }
  }
  return { "@type": detail.typeUrl, value: Buffer.from(detail.value).toString("base64") };
}
