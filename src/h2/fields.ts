// HTTP message rules for header lists (RFC 9113 8.2, 8.3): what makes a request or its
// trailers malformed, and the header object handed to the application. A malformed message
// is a stream error PROTOCOL_ERROR (8.1.1); the caller resets the stream.

/** Request headers as node:http2 hands them over: lower-case names, pseudo-headers included. */
export type IncomingHeaders = Record<string, string | string[] | undefined>;

/** tchar of RFC 9110 5.6.2, lower-case only (9113 8.2.1: upper case is malformed). */
const NAME_OK = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyz") NAME_OK[c.charCodeAt(0)] = 1;

/** Fields that are specific to one HTTP/1.1 connection and have no place in HTTP/2 (8.2.2). */
const CONNECTION_SPECIFIC = new Set(["connection", "proxy-connection", "keep-alive", "transfer-encoding", "upgrade"]);

const REQUEST_PSEUDO = new Set([":method", ":scheme", ":authority", ":path"]);

/** Names already checked: real clients send the same few names on every request. */
const knownNames = new Set<string>();
const KNOWN_NAMES_MAX = 2048;

function validName(name: string): boolean {
  if (knownNames.has(name)) return true;
  if (name.length === 0) return false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c >= 128 || NAME_OK[c] === 0) return false;
  }
  if (knownNames.size < KNOWN_NAMES_MAX) knownNames.add(name);
  return true;
}

/** 8.2.1: no NUL, CR or LF anywhere; no leading or trailing space or tab. */
function validValue(value: string): boolean {
  const n = value.length;
  if (n === 0) return true;
  let c = value.charCodeAt(0);
  if (c === 0x20 || c === 0x09) return false;
  c = value.charCodeAt(n - 1);
  if (c === 0x20 || c === 0x09) return false;
  for (let i = 0; i < n; i++) {
    c = value.charCodeAt(i);
    if (c === 0 || c === 0x0a || c === 0x0d) return false;
  }
  return true;
}

/** A request's header list checked and turned into a header object; a string says why it is malformed. */
export interface RequestFields {
  headers: IncomingHeaders;
  /** The content-length the request declared, or -1. */
  contentLength: number;
}

/**
 * Checks a request header list (flat [name, value, ...]) against 8.2 and 8.3.1 and builds
 * the header object. Returns the reason when the request is malformed.
 */
export function requestFields(fields: readonly string[]): RequestFields | string {
  const headers: IncomingHeaders = Object.create(null);
  let regular = false;
  let contentLength = -1;
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i]!;
    const value = fields[i + 1]!;
    if (name.charCodeAt(0) === 0x3a) {
      if (regular) return `pseudo-header ${name} after a regular field`;
      if (!REQUEST_PSEUDO.has(name)) return `pseudo-header ${JSON.stringify(name)} is not allowed in a request`;
      if (headers[name] !== undefined) return `duplicate pseudo-header ${name}`;
      if (!validValue(value)) return `invalid value for ${name}`;
      headers[name] = value;
      continue;
    }
    regular = true;
    if (!validName(name)) return `invalid field name ${JSON.stringify(name)}`;
    if (!validValue(value)) return `invalid value for field ${name}`;
    if (CONNECTION_SPECIFIC.has(name)) return `connection-specific field ${name}`;
    if (name === "te" && value !== "trailers") return `te must be "trailers", not ${JSON.stringify(value)}`;
    if (name === "content-length") {
      if (!/^[0-9]{1,15}$/.test(value)) return `invalid content-length ${JSON.stringify(value)}`;
      const n = Number(value);
      if (contentLength !== -1 && contentLength !== n) return "conflicting content-length values";
      contentLength = n;
    }
    addField(headers, name, value);
  }
  const method = headers[":method"];
  if (method === undefined) return "missing :method";
  if (method === "CONNECT") {
    // 8.5: CONNECT carries :authority only (we do not offer the extended CONNECT protocol).
    if (headers[":scheme"] !== undefined || headers[":path"] !== undefined) return "CONNECT with :scheme or :path";
    if (headers[":authority"] === undefined) return "CONNECT without :authority";
  } else {
    if (headers[":scheme"] === undefined) return "missing :scheme";
    const path = headers[":path"] as string | undefined;
    if (path === undefined || path === "") return "missing or empty :path";
    // RFC 9110 origin-form starts with "/"; only OPTIONS may ask for "*" (asterisk-form).
    if (path.charCodeAt(0) !== 0x2f && !(path === "*" && method === "OPTIONS")) return `:path ${JSON.stringify(path)} does not start with "/"`;
  }
  return { headers, contentLength };
}

/** Checks a trailer list (8.1: no pseudo-headers) and builds its object. */
export function trailerFields(fields: readonly string[]): IncomingHeaders | string {
  const headers: IncomingHeaders = Object.create(null);
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i]!;
    const value = fields[i + 1]!;
    if (name.charCodeAt(0) === 0x3a) return `pseudo-header ${name} in trailers`;
    if (!validName(name)) return `invalid field name ${JSON.stringify(name)}`;
    if (!validValue(value)) return `invalid value for field ${name}`;
    if (CONNECTION_SPECIFIC.has(name)) return `connection-specific field ${name}`;
    addField(headers, name, value);
  }
  return headers;
}

/** Repeated fields: set-cookie stays a list, cookie joins with "; ", the rest with ", " (as node does). */
function addField(headers: IncomingHeaders, name: string, value: string): void {
  const prev = headers[name];
  if (prev === undefined) headers[name] = value;
  else if (name === "set-cookie") headers[name] = Array.isArray(prev) ? [...prev, value] : [prev, value];
  else headers[name] = `${prev as string}${name === "cookie" ? "; " : ", "}${value}`;
}

/** A response header list (8.3.2): :status only among pseudo-headers; the object node hands over. */
export function responseFields(fields: readonly string[]): { headers: IncomingHeaders; status: number } | string {
  const headers: IncomingHeaders = Object.create(null);
  let regular = false;
  let status = -1;
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i]!;
    const value = fields[i + 1]!;
    if (name.charCodeAt(0) === 0x3a) {
      if (regular) return `pseudo-header ${name} after a regular field`;
      if (name !== ":status") return `pseudo-header ${JSON.stringify(name)} is not allowed in a response`;
      if (status !== -1) return "duplicate :status";
      if (!/^[1-9][0-9]{2}$/.test(value)) return `invalid :status ${JSON.stringify(value)}`;
      status = Number(value);
      continue;
    }
    regular = true;
    if (!validName(name)) return `invalid field name ${JSON.stringify(name)}`;
    if (!validValue(value)) return `invalid value for field ${name}`;
    if (CONNECTION_SPECIFIC.has(name)) return `connection-specific field ${name}`;
    addField(headers, name, value);
  }
  if (status === -1) return "missing :status";
  (headers as Record<string, unknown>)[":status"] = status;
  return { headers, status };
}

const REQUEST_PSEUDO_OUT = new Set([":method", ":path", ":scheme", ":authority"]);

/** Request headers from a node-style object to a flat list, pseudo-headers first (8.3.1). */
export function outgoingRequestFields(headers: Record<string, unknown>): string[] {
  const pseudo: string[] = [];
  // Null prototype: metadata keys such as "__proto__" must stay ordinary keys.
  const rest: Record<string, unknown> = Object.create(null);
  for (const key of Object.keys(headers)) {
    const value = headers[key];
    if (value === undefined || value === null) continue;
    if (key.charCodeAt(0) === 0x3a) {
      if (!REQUEST_PSEUDO_OUT.has(key)) throw new TypeError(`invalid pseudo-header in a request: ${key}`);
      pseudo.push(key, String(value));
    } else rest[key] = value;
  }
  return pseudo.concat(outgoingFields(rest));
}

/**
 * Response or trailer headers from an object in node's style (`{ ":status": 200, name: value | value[] }`)
 * to a flat latin1 list, pseudo-headers first. Throws a TypeError for a name or value HTTP/2 cannot carry.
 */
export function outgoingFields(headers: Record<string, unknown>): string[] {
  const pseudo: string[] = [];
  const regular: string[] = [];
  for (const key of Object.keys(headers)) {
    const value = headers[key];
    if (value === undefined || value === null) continue;
    const name = key.toLowerCase();
    if (name.charCodeAt(0) === 0x3a) {
      if (name !== ":status") throw new TypeError(`invalid pseudo-header in a response: ${name}`);
      pseudo.push(name, String(value));
      continue;
    }
    if (!validName(name)) throw new TypeError(`invalid header name ${JSON.stringify(key)}`);
    if (CONNECTION_SPECIFIC.has(name)) throw new TypeError(`connection-specific header ${name} is not allowed in HTTP/2`);
    if (Array.isArray(value)) {
      for (const v of value) pushValue(regular, name, v);
    } else pushValue(regular, name, value);
  }
  return pseudo.length === 0 ? regular : pseudo.concat(regular);
}

function pushValue(out: string[], name: string, value: unknown): void {
  const s = String(value);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0 || c === 0x0a || c === 0x0d || c > 0xff) throw new TypeError(`invalid value for header ${name}`);
  }
  out.push(name, s);
}
