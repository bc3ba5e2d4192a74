import type { SessionLike } from "../grpc/transport.js";
import type { TLSSocket } from "node:tls";
import type { AuthContext } from "../call/context.js";

/** Per-connection facts every call on it shares: peer name and TLS identity. */
export interface SessionInfo {
  readonly peer: string;
  /** Set for TLS connections; read lazily because most calls never ask. */
  readonly tls: TLSSocket | undefined;
  auth?: AuthContext;
}

const infos = new WeakMap<SessionLike, SessionInfo>();

/** The (cached) facts for a session. */
export function sessionInfo(session: SessionLike): SessionInfo {
  let info = infos.get(session);
  if (!info) {
    info = { peer: describePeer(session), tls: (session.socket as TLSSocket | undefined)?.encrypted ? (session.socket as TLSSocket) : undefined };
    infos.set(session, info);
  }
  return info;
}

function describePeer(session: SessionLike): string {
  const s = session.socket;
  if (!s) return "unknown";
  if (s.remoteAddress === undefined) {
    const local = (s as { server?: { address?: () => unknown } }).server?.address?.();
    return typeof local === "string" ? `unix:${local}` : "unix:";
  }
  return s.remoteFamily === "IPv6" ? `ipv6:[${s.remoteAddress}]:${s.remotePort}` : `ipv4:${s.remoteAddress}:${s.remotePort}`;
}

/**
 * Builds the grpcio-style auth context from a verified client certificate:
 * transport_security_type, x509_common_name, x509_subject_alternative_name, x509_pem_cert.
 */
export function authContextOf(info: SessionInfo): AuthContext {
  if (info.auth) return info.auth;
  const auth: AuthContext = {};
  const tls = info.tls;
  if (tls) {
    auth["transport_security_type"] = [Buffer.from("ssl")];
    auth["security_level"] = [Buffer.from("TSI_PRIVACY_AND_INTEGRITY")];
    const cert = tls.authorized ? tls.getPeerCertificate() : undefined;
    if (cert && Object.keys(cert).length > 0) {
      const cn = cert.subject?.CN;
      if (cn) auth["x509_common_name"] = (Array.isArray(cn) ? cn : [cn]).map((v) => Buffer.from(v));
      const sans = parseSubjectAltNames(cert.subjectaltname);
      if (sans.length > 0) auth["x509_subject_alternative_name"] = sans.map((v) => Buffer.from(v));
      if (cert.raw) auth["x509_pem_cert"] = [Buffer.from(toPem(cert.raw))];
    }
  }
  info.auth = auth;
  return auth;
}

/** grpcio names peers by SAN when the certificate has any, else by common name. */
export function peerIdentityKeyOf(auth: AuthContext): string | null {
  if (auth["x509_subject_alternative_name"]) return "x509_subject_alternative_name";
  if (auth["x509_common_name"]) return "x509_common_name";
  return null;
}

/** The SAN types grpcio (C-core) reports in x509_subject_alternative_name, as Node names them. */
const SAN_TYPES = new Set(["DNS", "URI", "email", "IP Address"]);

/**
 * The values of a certificate's subject alternative names, from Node's `subjectaltname`
 * string (`DNS:a.example, URI:spiffe://x, IP Address:1.2.3.4`): DNS names, URIs, email
 * addresses and IP addresses, in order, as grpcio reports them (IPv6 in its short form).
 * Node writes a value containing a comma, quote, backslash or control character as a JSON string
 * (`DNS:"a,b.example"`, CVE-2021-44532), so entries are split the way Node's own
 * checkServerIdentity splits them, never on every comma. An entry whose quoting is broken
 * ends the list: a wrong identity is worse than a missing one.
 */
export function parseSubjectAltNames(value: string | undefined): string[] {
  if (!value) return [];
  const names: string[] = [];
  for (const entry of splitAltNames(value)) {
    const colon = entry.indexOf(":");
    const type = entry.slice(0, colon);
    const name = entry.slice(colon + 1);
    if (colon <= 0 || name === "" || !SAN_TYPES.has(type)) continue;
    names.push(type === "IP Address" ? shortIp(name) : name);
  }
  return names;
}

/** A JSON string literal at the start of the text (the quoting Node uses for SAN values). */
const JSON_STRING = /^"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/;

/** Splits Node's SAN list at ", " outside JSON-quoted parts, unquoting them. */
function splitAltNames(list: string): string[] {
  const entries: string[] = [];
  let current = "";
  let offset = 0;
  while (offset < list.length) {
    const sep = list.indexOf(", ", offset);
    const quote = list.indexOf('"', offset);
    if (quote !== -1 && (sep === -1 || quote < sep)) {
      const literal = JSON_STRING.exec(list.slice(quote));
      if (!literal) return entries;
      current += list.slice(offset, quote) + (JSON.parse(literal[0]) as string);
      offset = quote + literal[0].length;
    } else if (sep !== -1) {
      entries.push(current + list.slice(offset, sep));
      current = "";
      offset = sep + 2;
    } else {
      current += list.slice(offset);
      offset = list.length;
    }
  }
  entries.push(current);
  return entries;
}

/** Node prints IPv6 SANs in full (`0:0:0:0:0:0:0:1`); grpcio reports the short form (`::1`). */
function shortIp(ip: string): string {
  if (!ip.includes(":")) return ip;
  try {
    return new URL(`http://[${ip}]/`).hostname.slice(1, -1);
  } catch {
    return ip;
  }
}

function toPem(der: Buffer): string {
  const b64 = der.toString("base64").replace(/.{64}/g, "$&\n");
  return `-----BEGIN CERTIFICATE-----\n${b64}${b64.endsWith("\n") ? "" : "\n"}-----END CERTIFICATE-----\n`;
}
