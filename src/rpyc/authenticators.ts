// rpyc's authenticators (rpyc/utils/authenticators.py): what runs on an accepted socket before
// any RPyC byte. SSLAuthenticator turns it into TLS and hands out the client's certificate;
// readExactly and tokenAuthenticator serve authenticators that read a few raw bytes first
// (a stock client sends them on its own socket, then rpyc.connect_stream(SocketStream(sock))).
import { timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import type net from "node:net";
import type { Readable } from "node:stream";
import tls from "node:tls";
import { ErrorCode, SwitchboardError } from "../errors.js";
import { secondsToMs } from "./config.js";
import { AuthenticationError, type Authenticator, type AuthResult } from "./server.js";

/** Seconds an authenticator waits for the client before giving up on it (a silent client must not hold a socket forever). */
export const DEFAULT_AUTH_TIMEOUT = 10;

// defined next to the server, which tells it apart from other failures
export { AuthenticationError };

/** ssl.CERT_NONE / CERT_OPTIONAL / CERT_REQUIRED, by name or by Python's number (0, 1, 2). */
export type CertReqs = "none" | "optional" | "required" | 0 | 1 | 2;

export interface SSLAuthenticatorOptions {
  /** The server's private key: a file path (rpyc's keyfile). Or give `key`. */
  keyfile?: string;
  /** The server's certificate (chain): a file path (rpyc's certfile). Or give `cert`. */
  certfile?: string;
  /** CA certificates clients' certificates must chain to: a file path (rpyc's ca_certs). Or give `ca`. */
  caCerts?: string;
  /** node:tls style: the key itself (PEM). */
  key?: tls.SecureContextOptions["key"];
  /** node:tls style: the certificate itself (PEM). */
  cert?: tls.SecureContextOptions["cert"];
  /** node:tls style: the CA certificates themselves (PEM). */
  ca?: tls.SecureContextOptions["ca"];
  /** Default: "required" when CA certificates are given, else "none" (rpyc's rule). */
  certReqs?: CertReqs;
  /** OpenSSL cipher list (rpyc's ciphers). */
  ciphers?: string;
  /** Only this TLS version (rpyc's ssl_version), e.g. "TLSv1.2". Default: what Node allows. */
  sslVersion?: tls.SecureVersion;
  /** Seconds the client has to finish the handshake. Default DEFAULT_AUTH_TIMEOUT. */
  handshakeTimeout?: number;
}

const seconds = (value: number, what: string): number => secondsToMs(value, what, { positive: true });

function certReqsOf(reqs: CertReqs | undefined, hasCa: boolean): "none" | "optional" | "required" {
  switch (reqs) {
    case undefined:
      return hasCa ? "required" : "none";
    case 0:
    case "none":
      return "none";
    case 1:
    case "optional":
      return "optional";
    case 2:
    case "required":
      return "required";
    default:
      throw new SwitchboardError(ErrorCode.BAD_OPTION, `certReqs must be "none", "optional" or "required", got ${String(reqs)}`);
  }
}

/** A peer certificate object, or null when the client sent none (getPeerCertificate() gives {} then). */
function peerCertificate(socket: tls.TLSSocket): tls.PeerCertificate | null {
  const cert = socket.getPeerCertificate();
  return cert && Object.keys(cert).length > 0 ? cert : null;
}

/**
 * rpyc's SSLAuthenticator: the accepted socket becomes a server-side TLS socket; with CA
 * certificates the client must present a certificate that chains to them. Credentials are the
 * client's certificate (node:tls getPeerCertificate()), or null without one. A failed handshake,
 * a refused certificate or a client silent past handshakeTimeout closes the socket unanswered.
 */
export function SSLAuthenticator(options: SSLAuthenticatorOptions): Authenticator {
  const read = (path: string | undefined, what: string): Buffer | undefined => {
    if (path === undefined) return undefined;
    try {
      return readFileSync(path);
    } catch (err) {
      throw new SwitchboardError(ErrorCode.BAD_OPTION, `cannot read ${what} ${path}: ${(err as Error).message}`, { cause: err });
    }
  };
  const key = options.key ?? read(options.keyfile, "keyfile");
  const cert = options.cert ?? read(options.certfile, "certfile");
  const ca = options.ca ?? read(options.caCerts, "caCerts");
  if (key === undefined || cert === undefined) throw new SwitchboardError(ErrorCode.BAD_OPTION, "SSLAuthenticator needs the server's key and certificate (keyfile/certfile or key/cert)");
  const reqs = certReqsOf(options.certReqs, ca !== undefined);
  const timeoutMs = seconds(options.handshakeTimeout ?? DEFAULT_AUTH_TIMEOUT, "handshakeTimeout");
  const serverOptions: tls.TlsOptions = {
    key,
    cert,
    ...(ca !== undefined ? { ca } : {}),
    ...(options.ciphers !== undefined ? { ciphers: options.ciphers } : {}),
    ...(options.sslVersion !== undefined ? { minVersion: options.sslVersion, maxVersion: options.sslVersion } : {}),
    requestCert: reqs !== "none",
    // "optional": no certificate is fine, a bad one is refused below
    rejectUnauthorized: reqs === "required",
    handshakeTimeout: timeoutMs,
  };
  // Fails now on an unusable key or certificate rather than on the first client.
  tls.createSecureContext(serverOptions);

  return (socket: net.Socket): Promise<AuthResult> =>
    new Promise((resolve, reject) => {
      // A tls.Server that never listens does the handshake: unlike a bare TLSSocket it checks
      // the client's certificate against the CAs (a bare server-side TLSSocket accepts any).
      // One per connection, so its secureConnection is this socket's.
      const server = new tls.Server(serverOptions);
      let settled = false;
      const fail = (reason: string, cause?: unknown): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        socket.destroy();
        reject(new AuthenticationError(reason, cause === undefined ? undefined : { cause }));
      };
      const timer = setTimeout(() => fail(`TLS handshake not finished within ${timeoutMs / 1000} s`), timeoutMs);
      server.on("tlsClientError", (err) => fail(`TLS handshake failed: ${err.message}`, err));
      // a certificate refused by rejectUnauthorized ends the socket without an error event
      socket.once("close", () => fail("the client went away during the TLS handshake"));
      server.on("secureConnection", (tlsSocket: tls.TLSSocket) => {
        if (settled) {
          tlsSocket.destroy();
          return;
        }
        const peer = peerCertificate(tlsSocket);
        if (reqs === "optional" && peer !== null && !tlsSocket.authorized) {
          tlsSocket.destroy();
          fail(`client certificate refused: ${String(tlsSocket.authorizationError)}`);
          return;
        }
        settled = true;
        clearTimeout(timer);
        tlsSocket.setNoDelay(true);
        resolve({ stream: tlsSocket, credentials: peer });
      });
      server.emit("connection", socket);
    });
}

/**
 * Reads exactly `n` bytes from `stream` (e.g. an accepted socket, before RPyC starts); what
 * follows stays unread for the RPyC connection. Rejects with AuthenticationError when the
 * stream ends first or nothing complete arrives within `timeoutSeconds`.
 */
export function readExactly(stream: Readable, n: number, timeoutSeconds = DEFAULT_AUTH_TIMEOUT): Promise<Buffer> {
  if (!Number.isInteger(n) || n < 0) throw new SwitchboardError(ErrorCode.BAD_OPTION, `readExactly needs a byte count, got ${n}`);
  const timeoutMs = seconds(timeoutSeconds, "timeoutSeconds");
  if (n === 0) return Promise.resolve(Buffer.alloc(0));
  return new Promise((resolve, reject) => {
    const finish = (err: Error | undefined, data?: Buffer): void => {
      clearTimeout(timer);
      stream.off("readable", onReadable);
      stream.off("end", onEnd);
      stream.off("close", onEnd);
      stream.off("error", onError);
      if (err) reject(err);
      else resolve(data!);
    };
    const onReadable = (): void => {
      // read(n) takes n bytes or nothing, so the bytes after them stay in the buffer
      const chunk = stream.read(n) as Buffer | string | null;
      if (chunk === null) return;
      const buf = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
      if (buf.length === n) finish(undefined, buf);
      else finish(new AuthenticationError(`the client sent ${buf.length} of ${n} bytes, then ended`));
    };
    const onEnd = (): void => finish(new AuthenticationError(`the client ended before sending ${n} bytes`));
    const onError = (err: Error): void => finish(new AuthenticationError(`reading ${n} bytes failed: ${err.message}`, { cause: err }));
    const timer = setTimeout(() => finish(new AuthenticationError(`${n} bytes not received within ${timeoutMs / 1000} s`)), timeoutMs);
    stream.on("readable", onReadable);
    stream.once("end", onEnd);
    stream.once("close", onEnd);
    stream.once("error", onError);
    if (stream.destroyed || stream.readableEnded) onEnd();
    else onReadable();
  });
}

/**
 * An authenticator expecting `token` as the first bytes on the socket: anything else (or
 * silence past timeoutSeconds) closes the socket unanswered; on a match the credentials are the
 * token (as given: a string stays a string) and RPyC starts on the bytes after it.
 */
export function tokenAuthenticator(token: string | Uint8Array, options: { timeoutSeconds?: number } = {}): Authenticator {
  const expected = Buffer.from(typeof token === "string" ? Buffer.from(token, "utf8") : token);
  if (expected.length === 0) throw new SwitchboardError(ErrorCode.BAD_OPTION, "tokenAuthenticator needs a non-empty token");
  const timeoutSeconds = options.timeoutSeconds ?? DEFAULT_AUTH_TIMEOUT;
  seconds(timeoutSeconds, "timeoutSeconds");
  return async (socket: net.Socket): Promise<AuthResult> => {
    const got = await readExactly(socket, expected.length, timeoutSeconds);
    if (!timingSafeEqual(got, expected)) throw new AuthenticationError("wrong token");
    return { stream: socket, credentials: token };
  };
}
