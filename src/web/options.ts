// The `web` server option: which browser-friendly protocols share the gRPC port, HTTP/1.1, and CORS.
import { ErrorCode, SwitchboardError } from "../errors.js";

/**
 * Cross-origin access for browsers (off unless given, like connect-go, connect-node and Envoy's
 * grpc-web filter: a server states which origins may call it).
 */
export interface CorsOptions {
  /** Origins allowed to call: a list (exact `scheme://host[:port]`), a predicate, or "*" for any. */
  origins: "*" | readonly string[] | ((origin: string) => boolean);
  /** Send `Access-Control-Allow-Credentials: true` (cookies, HTTP auth); the origin is then echoed, never "*". */
  credentials?: boolean;
  /** How long browsers may cache a preflight answer, in seconds (default 7200, Chromium's cap). */
  maxAgeSeconds?: number;
  /** Request headers allowed besides the protocols' own (your metadata keys), or "*" to allow whatever the preflight asks for. */
  allowedHeaders?: "*" | readonly string[];
  /** Response headers exposed besides the protocols' own and the response's metadata. */
  exposedHeaders?: readonly string[];
}

/** `ServerOptions.web`: true/undefined for the defaults, false to serve gRPC only, or the details. */
export interface WebOptions {
  /** gRPC-Web (`application/grpc-web*`, `application/grpc-web-text*`); default true. */
  grpcWeb?: boolean;
  /** The Connect protocol (unary POST and GET, streaming); default true. */
  connect?: boolean;
  /**
   * HTTP/1.1 on the same port (cleartext by preface sniffing, TLS by ALPN); default true. On the
   * node:http2 engine, cleartext ports sniff only when this is set to true explicitly: node:http2
   * then reads every HTTP/2 connection through a JavaScript stream, slower under floods.
   */
  http1?: boolean;
  /** Cross-origin access; default none (same-origin pages and non-browser clients only). */
  cors?: CorsOptions;
}

/** WebOptions with defaults filled in. */
export interface ResolvedWebOptions {
  readonly grpcWeb: boolean;
  readonly connect: boolean;
  readonly http1: boolean;
  /** `http1: true` was given (node:http2 cleartext ports sniff only then). */
  readonly http1Explicit: boolean;
  readonly cors: ResolvedCors | undefined;
}

/** CorsOptions checked, with defaults. */
export interface ResolvedCors {
  readonly allowOrigin: (origin: string) => boolean;
  readonly anyOrigin: boolean;
  readonly credentials: boolean;
  readonly maxAgeSeconds: number;
  readonly allowedHeaders: "*" | readonly string[];
  readonly exposedHeaders: readonly string[];
}

/** Checks and fills in `ServerOptions.web`. */
export function resolveWebOptions(value: boolean | WebOptions | undefined): ResolvedWebOptions {
  if (value === undefined || value === true) return { grpcWeb: true, connect: true, http1: true, http1Explicit: false, cors: undefined };
  if (value === false) return { grpcWeb: false, connect: false, http1: false, http1Explicit: false, cors: undefined };
  if (typeof value !== "object" || value === null) throw bad("web must be a boolean or an object { grpcWeb, connect, http1, cors }");
  for (const key of ["grpcWeb", "connect", "http1"] as const) {
    if (value[key] !== undefined && typeof value[key] !== "boolean") throw bad(`web.${key} must be a boolean`);
  }
  return {
    grpcWeb: value.grpcWeb ?? true,
    connect: value.connect ?? true,
    http1: value.http1 ?? true,
    http1Explicit: value.http1 === true,
    cors: value.cors === undefined ? undefined : resolveCors(value.cors),
  };
}

function resolveCors(c: CorsOptions): ResolvedCors {
  if (typeof c !== "object" || c === null) throw bad("web.cors must be an object { origins, ... }");
  const origins = c.origins;
  let allowOrigin: (origin: string) => boolean;
  if (origins === "*") allowOrigin = () => true;
  else if (typeof origins === "function") allowOrigin = origins;
  else if (Array.isArray(origins) && origins.every((o) => typeof o === "string")) {
    const set = new Set(origins.map((o) => o.toLowerCase()));
    allowOrigin = (origin) => set.has(origin.toLowerCase());
  } else throw bad('web.cors.origins must be "*", a list of origins or a function (origin) => boolean');
  const maxAge = c.maxAgeSeconds ?? 7200;
  if (!Number.isInteger(maxAge) || maxAge < 0) throw bad("web.cors.maxAgeSeconds must be an integer >= 0");
  const allowed = c.allowedHeaders ?? [];
  if (allowed !== "*" && !(Array.isArray(allowed) && allowed.every((h) => typeof h === "string"))) throw bad('web.cors.allowedHeaders must be "*" or a list of header names');
  const exposed = c.exposedHeaders ?? [];
  if (!(Array.isArray(exposed) && exposed.every((h) => typeof h === "string"))) throw bad("web.cors.exposedHeaders must be a list of header names");
  return {
    allowOrigin,
    anyOrigin: origins === "*",
    credentials: c.credentials === true,
    maxAgeSeconds: maxAge,
    allowedHeaders: allowed === "*" ? "*" : allowed.map((h) => h.toLowerCase()),
    exposedHeaders: exposed.map((h) => h.toLowerCase()),
  };
}

function bad(message: string): SwitchboardError {
  return new SwitchboardError(ErrorCode.BAD_OPTION, message);
}
