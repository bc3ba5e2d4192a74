// CORS for browser clients of gRPC-Web and Connect: preflight answers and the headers of real
// responses (Fetch standard, "CORS protocol"). Pure functions over header records.
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http2";
import type { ResolvedCors } from "./options.js";

/** Request headers the two protocols send from browsers (connect-es, grpc-web). */
const PROTOCOL_REQUEST_HEADERS = [
  "content-type",
  "connect-protocol-version",
  "connect-timeout-ms",
  "connect-content-encoding",
  "connect-accept-encoding",
  "content-encoding",
  "accept-encoding",
  "grpc-timeout",
  "grpc-encoding",
  "grpc-accept-encoding",
  "x-grpc-web",
  "x-user-agent",
];

/** Response headers a browser client must read (status, errors, compression). */
const PROTOCOL_RESPONSE_HEADERS = ["grpc-status", "grpc-message", "grpc-status-details-bin", "grpc-encoding", "grpc-accept-encoding", "content-encoding", "connect-content-encoding", "connect-accept-encoding"];

/** Response headers every script may read anyway (CORS-safelisted), and ones never worth exposing. */
const NOT_EXPOSED = new Set(["cache-control", "content-language", "content-length", "content-type", "expires", "last-modified", "pragma", "date", "vary", "connection", "transfer-encoding"]);

/** Whether a request is a CORS preflight (OPTIONS with Origin and Access-Control-Request-Method). */
export function isPreflight(headers: IncomingHttpHeaders): boolean {
  return headers[":method"] === "OPTIONS" && typeof headers["origin"] === "string" && typeof headers["access-control-request-method"] === "string";
}

/**
 * The answer to a preflight: 204 with the allowed origin, methods (POST, and GET for Connect),
 * headers and max age, or 403 without CORS headers for an origin that is not allowed.
 */
export function preflightResponse(cors: ResolvedCors, headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const origin = String(headers["origin"]);
  if (!cors.allowOrigin(origin)) return { ":status": 403, vary: "Origin" };
  const out: OutgoingHttpHeaders = {
    ":status": 204,
    ...originHeaders(cors, origin),
    vary: "Origin",
    "access-control-allow-methods": "POST, GET",
    "access-control-max-age": String(cors.maxAgeSeconds),
  };
  const requested = headers["access-control-request-headers"];
  if (cors.allowedHeaders === "*") {
    if (typeof requested === "string" && requested.trim() !== "") out["access-control-allow-headers"] = requested;
  } else {
    out["access-control-allow-headers"] = [...new Set([...PROTOCOL_REQUEST_HEADERS, ...cors.allowedHeaders])].join(", ");
  }
  return out;
}

/**
 * The CORS headers of a real response to `origin` (undefined: not a cross-origin request, or
 * an origin that is not allowed — the browser then withholds the response from the page).
 * Exposed: the protocols' headers, the configured ones, and every header of this response
 * (so the page's client sees response metadata and Connect's `trailer-` headers).
 */
export function responseCorsHeaders(cors: ResolvedCors | undefined, origin: string | undefined, response: OutgoingHttpHeaders): OutgoingHttpHeaders | undefined {
  if (cors === undefined) return undefined;
  if (origin === undefined || !cors.allowOrigin(origin)) {
    // The answer still depends on Origin (another origin would get the CORS headers): a shared
    // cache must not hand this one to an allowed origin (Connect GET answers are cacheable).
    return cors.anyOrigin && !cors.credentials ? undefined : { vary: "Origin" };
  }
  const exposed = new Set([...PROTOCOL_RESPONSE_HEADERS, ...cors.exposedHeaders]);
  for (const name of Object.keys(response)) {
    if (name.charCodeAt(0) !== 58 && !NOT_EXPOSED.has(name) && !name.startsWith("access-control-")) exposed.add(name);
  }
  return { ...originHeaders(cors, origin), "access-control-expose-headers": [...exposed].join(", ") };
}

function originHeaders(cors: ResolvedCors, origin: string): OutgoingHttpHeaders {
  // "*" cannot carry credentials, and a cache must not serve one origin's answer to another.
  if (cors.anyOrigin && !cors.credentials) return { "access-control-allow-origin": "*" };
  const out: OutgoingHttpHeaders = { "access-control-allow-origin": origin, vary: "Origin" };
  if (cors.credentials) out["access-control-allow-credentials"] = "true";
  return out;
}
