// Connect unary GET (side-effect-free methods): the request message travels in the query
// (`message`, `encoding`, `base64=1`, `compression`, `connect=v1`).

/** What a Connect GET query carries. */
export interface ConnectGet {
  /** The codec subtype named by `encoding`. */
  readonly subtype: string;
  /** The message bytes (still compressed when `compression` is set). */
  readonly message: Buffer;
  /** `compression`, or undefined for none. */
  readonly compression: string | undefined;
}

/** Whether a GET's query asks for Connect (it names an `encoding`). */
export function isConnectGet(path: string): boolean {
  const q = path.indexOf("?");
  return q !== -1 && new URLSearchParams(path.slice(q + 1)).has("encoding");
}

/** Splits `:path` into the method path and the query. */
export function splitPath(path: string): { path: string; query: URLSearchParams } {
  const q = path.indexOf("?");
  return q === -1 ? { path, query: new URLSearchParams() } : { path: path.slice(0, q), query: new URLSearchParams(path.slice(q + 1)) };
}

/** Reads a Connect GET query; `error` explains a malformed one (sent as invalid_argument). */
export function parseConnectGet(query: URLSearchParams): ConnectGet | { error: string } {
  const connect = query.get("connect");
  if (connect !== null && connect !== "v1") return { error: `unsupported connect version ${JSON.stringify(connect)} (want v1)` };
  const subtype = (query.get("encoding") ?? "").toLowerCase();
  if (subtype === "") return { error: "missing encoding parameter" };
  const text = query.get("message") ?? "";
  let message: Buffer;
  if (query.get("base64") === "1") {
    // Connect sends base64url; standard base64 (with or without padding) is accepted too.
    // A raw "+" in a query reads as a space.
    const b64 = text.replace(/ /g, "+");
    if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(b64) || b64.replace(/=+$/, "").length % 4 === 1) return { error: "message parameter is not valid base64" };
    message = Buffer.from(b64.replace(/-/g, "+").replace(/_/g, "/"), "base64");
  } else {
    message = Buffer.from(text, "utf8");
  }
  const compression = query.get("compression");
  return { subtype, message, compression: compression === null || compression === "identity" ? undefined : compression.toLowerCase() };
}
