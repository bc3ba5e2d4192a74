// Who may read the admin server: an optional bearer token, compared in constant time, and
// the loopback rules. A loopback-only admin server without a token also checks the Host header:
// a web page elsewhere could otherwise reach it through DNS rebinding (a name of the attacker's
// that resolves to 127.0.0.1), and read the numbers with the browser's help.
import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";

/** Why a request was turned away, or undefined when it may go on. */
export interface Refusal {
  readonly status: 401 | 403;
  readonly message: string;
}

/** Whether `host` names the loopback interface (127.0.0.0/8, ::1, localhost). */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || /^127(\.\d{1,3}){3}$/.test(h) || /^::ffff:127(\.\d{1,3}){3}$/.test(h);
}

/** The token of a request: `Authorization: Bearer <t>`, else `?token=<t>`. */
function presented(req: IncomingMessage, url: URL): string | undefined {
  const header = req.headers.authorization;
  if (typeof header === "string") {
    const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
    if (m) return m[1];
  }
  return url.searchParams.get("token") ?? undefined;
}

/** Constant-time equality of two strings of any lengths (both are hashed first). */
function sameSecret(a: string, b: string): boolean {
  const ha = createHash("sha256").update(a).digest();
  const hb = createHash("sha256").update(b).digest();
  return timingSafeEqual(ha, hb);
}

/** Checks a request against the token (if any) and, without one on loopback, the Host header. */
export function authorize(req: IncomingMessage, url: URL, token: string | undefined, loopbackOnly: boolean): Refusal | undefined {
  if (token !== undefined) {
    const given = presented(req, url);
    if (given === undefined) return { status: 401, message: "admin token required: send Authorization: Bearer <token> or add ?token=<token> to the URL" };
    if (!sameSecret(given, token)) return { status: 401, message: "admin token does not match" };
    return undefined;
  }
  if (loopbackOnly) {
    const host = hostName(req.headers.host);
    if (host === undefined || !isLoopback(host)) return { status: 403, message: `Host ${JSON.stringify(req.headers.host ?? "")} is not a loopback name: open the dashboard as http://127.0.0.1:<port>/ or http://localhost:<port>/` };
  }
  return undefined;
}

/** The host part of a Host header (`[::1]:9090` -> `::1`). */
function hostName(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^(\[[^\]]+\]|[^:]+)(:\d+)?$/.exec(header.trim());
  return m ? m[1] : undefined;
}
