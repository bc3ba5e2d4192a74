import type { NetConnectOpts } from "node:net";
import type { ConnectionOptions, SecureContextOptions } from "node:tls";

/** TLS settings of a channel: trusted roots, a client certificate for mTLS, and a name override. */
export interface ChannelTls {
  /** PEM root certificates; the system's CAs when absent (and `extra.ca` is not set). */
  rootCerts?: string | Buffer;
  /** PEM private key and certificate chain for mTLS. */
  privateKey?: string | Buffer;
  certChain?: string | Buffer;
  /** The name to verify the server certificate against, and to send as SNI and :authority. */
  serverNameOverride?: string;
  /**
   * Anything else node:tls accepts (ciphers, minVersion, pfx, ...). `ca`, `key` and `cert`
   * given here are used unless rootCerts, privateKey or certChain set them.
   */
  extra?: SecureContextOptions;
}

/** How a channel secures its connection: plaintext or TLS. */
export class ChannelCredentials {
  private constructor(readonly tls: ChannelTls | undefined) {}

  /** Plaintext HTTP/2 (h2c). */
  static insecure(): ChannelCredentials {
    return new ChannelCredentials(undefined);
  }

  /** TLS with the system CAs, or the given roots; with a key and chain for mTLS. */
  static ssl(tls: ChannelTls = {}): ChannelCredentials {
    return new ChannelCredentials(tls);
  }

  get secure(): boolean {
    return this.tls !== undefined;
  }
}

/**
 * The node:tls options for one connection: `extra` first, then each named setting that is
 * defined, then where to connect. A setting left undefined never erases what `extra` gave (a
 * spread of `{ ca: undefined }` would, and node then falls back to the system CAs).
 * `defaultServername` (the target host, when it is a name) is used only when neither
 * serverNameOverride nor `extra` names the server. ALPN is always `h2`: gRPC needs HTTP/2.
 */
export function tlsConnectOptions(tls: ChannelTls, where: NetConnectOpts, defaultServername: string | undefined): ConnectionOptions {
  const options: ConnectionOptions = { ...tls.extra };
  setDefined(options, "ca", tls.rootCerts);
  setDefined(options, "key", tls.privateKey);
  setDefined(options, "cert", tls.certChain);
  setDefined(options, "servername", tls.serverNameOverride ?? options.servername ?? defaultServername);
  return { ...options, ...where, ALPNProtocols: ["h2"] };
}

function setDefined<K extends keyof ConnectionOptions>(options: ConnectionOptions, key: K, value: ConnectionOptions[K] | undefined): void {
  if (value !== undefined) options[key] = value;
}
