// Command-line options shared by the client commands: how to reach the server (plaintext or
// TLS), request metadata, and durations.
import { readFileSync } from "node:fs";
import type { ParseArgsConfig } from "node:util";
import { Channel } from "../client/channel.js";
import { ChannelCredentials } from "../client/credentials.js";
import { ErrorCode, SwitchboardError } from "../errors.js";
import { decodeBinaryValue, isBinaryKey, Metadata } from "../metadata.js";

type Options = NonNullable<ParseArgsConfig["options"]>;

/** Options every client command takes. */
export const CONNECTION_OPTIONS = {
  header: { type: "string", short: "H", multiple: true },
  "connect-timeout": { type: "string" },
  plaintext: { type: "boolean" },
  tls: { type: "boolean" },
  ca: { type: "string" },
  cert: { type: "string" },
  key: { type: "string" },
  "server-name": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const satisfies Options;

export const CONNECTION_HELP = `connection options:
  -H, --header 'KEY: VALUE'  request metadata, repeatable; values of keys ending in -bin are base64
  --connect-timeout DUR      how long connecting may take (default 10s; 1s for health)
  --plaintext                plaintext HTTP/2 (h2c); the default
  --tls                      TLS, verified against the system CAs or --ca
  --ca FILE                  PEM root certificates (implies --tls)
  --cert FILE, --key FILE    PEM client certificate and key for mutual TLS (imply --tls)
  --server-name NAME         name to verify the certificate against, sent as SNI and :authority
DUR is a number and a unit, case-sensitive as in the grpc-timeout header: H hours, M minutes,
S seconds, m milliseconds, u microseconds, n nanoseconds; also h, min, s, ms, us (µs), ns. A
bare number is seconds. Note 1m is one millisecond, as in gRPC: a minute is 1M or 1min.`;

/** The values parseArgs gives for CONNECTION_OPTIONS. */
export interface ConnectionValues {
  header?: string[];
  "connect-timeout"?: string;
  plaintext?: boolean;
  tls?: boolean;
  ca?: string;
  cert?: string;
  key?: string;
  "server-name"?: string;
}

export function usageError(message: string): SwitchboardError {
  return new SwitchboardError(ErrorCode.CLI_USAGE, message);
}

/**
 * Milliseconds per unit. The single letters are grpc-timeout's and case-sensitive as there
 * (M minutes, m milliseconds); the longer forms are the usual ones.
 */
const DURATION_UNITS: Readonly<Record<string, number>> = {
  H: 3_600_000,
  h: 3_600_000,
  M: 60_000,
  min: 60_000,
  S: 1000,
  s: 1000,
  m: 1,
  ms: 1,
  u: 1e-3,
  us: 1e-3,
  "\u00b5s": 1e-3,
  "\u03bcs": 1e-3,
  n: 1e-6,
  ns: 1e-6,
};

/** A duration (`500ms`, `5S`, `2M`, `1H`, `250m`, `10u`, `1.5`: a bare number is seconds, as grpcurl's -max-time) -> ms. */
export function parseDuration(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d*)?|\.\d+)([a-zA-Z\u00b5\u03bc]*)$/.exec(text.trim());
  const scale = m ? DURATION_UNITS[m[2] || "s"] : undefined;
  if (!m || scale === undefined || !Object.hasOwn(DURATION_UNITS, m[2] || "s")) {
    throw usageError(`${flag}: ${JSON.stringify(text)} is not a duration (a number and a unit: 1H, 2M, 5S or 5s, 250m or 250ms, 10u, 100n)`);
  }
  return Number(m[1]) * scale;
}

/** `-H 'key: value'` flags -> metadata; `-bin` values are base64 and sent as bytes. */
export function parseHeaders(headers: readonly string[] = []): Metadata {
  const md = new Metadata();
  for (const h of headers) {
    const colon = h.indexOf(":");
    if (colon <= 0) throw usageError(`--header ${JSON.stringify(h)} must look like 'key: value'`);
    // HTTP/2 header names are lower case; accept what people type from HTTP/1 habits.
    const key = h.slice(0, colon).trim().toLowerCase();
    const value = h.slice(colon + 1).trimStart();
    if (isBinaryKey(key)) {
      const bytes = decodeBinaryValue(value);
      if (!bytes) throw usageError(`--header ${key}: the value of a -bin key must be base64`);
      md.append(key, bytes);
    } else {
      md.append(key, value);
    }
  }
  return md;
}

/** A channel to `target` as the options say: plaintext by default, TLS when asked. */
export function openChannel(target: string, values: ConnectionValues, defaultConnectMs = 10_000): Channel {
  const connectTimeoutMs = values["connect-timeout"] !== undefined ? parseDuration(values["connect-timeout"], "--connect-timeout") : defaultConnectMs;
  const wantsTls = values.tls || values.ca !== undefined || values.cert !== undefined || values.key !== undefined || values["server-name"] !== undefined;
  if (wantsTls && values.plaintext) throw usageError("--plaintext cannot be combined with --tls, --ca, --cert, --key or --server-name");
  if ((values.cert === undefined) !== (values.key === undefined)) throw usageError("--cert and --key go together");
  let credentials = ChannelCredentials.insecure();
  if (wantsTls) {
    credentials = ChannelCredentials.ssl({
      rootCerts: values.ca !== undefined ? readPem(values.ca, "--ca") : undefined,
      certChain: values.cert !== undefined ? readPem(values.cert, "--cert") : undefined,
      privateKey: values.key !== undefined ? readPem(values.key, "--key") : undefined,
      serverNameOverride: values["server-name"],
    });
  }
  return new Channel(target, { credentials, connectTimeoutMs, userAgent: "switchboard-cli" });
}

function readPem(file: string, flag: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw usageError(`${flag}: cannot read ${file}: ${(err as Error).message}`);
  }
}
