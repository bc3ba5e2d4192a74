import type { Http2Session } from "node:http2";
import type { TLSSocket } from "node:tls";
import type { AuthContext } from "../call/context.js";

/** Per-connection facts every call on it shares: peer name and TLS identity. */
export interface SessionInfo {
  readonly peer: string;
  /** Set for TLS connections; read lazily because most calls never ask. */
  readonly tls: TLSSocket | undefined;
  auth?: AuthContext;
}

const infos = new WeakMap<Http2Session, SessionInfo>();

/** The (cached) facts for a session. */
export function sessionInfo(session: Http2Session): SessionInfo {
  let info = infos.get(session);
  if (!info) {
    info = { peer: describePeer(session), tls: (session.socket as TLSSocket | undefined)?.encrypted ? (session.socket as TLSSocket) : undefined };
    infos.set(session, info);
  }
  return info;
}

function describePeer(session: Http2Session): string {
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

function parseSubjectAltNames(value: string | undefined): string[] {
  if (!value) return [];
  // Node formats SANs as "DNS:a, URI:b, IP Address:1.2.3.4"; keep the value part.
  return value.split(/,\s*/).map((entry) => entry.slice(entry.indexOf(":") + 1)).filter((v) => v.length > 0);
}

function toPem(der: Buffer): string {
  const b64 = der.toString("base64").replace(/.{64}/g, "$&\n");
  return `-----BEGIN CERTIFICATE-----\n${b64}${b64.endsWith("\n") ? "" : "\n"}-----END CERTIFICATE-----\n`;
}
