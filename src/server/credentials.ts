import type { SecureContextOptions } from "node:tls";

/** One private key with its certificate chain (PEM). */
export interface KeyCertPair {
  privateKey: string | Buffer;
  certChain: string | Buffer;
}

/** How a port is secured: plaintext, TLS, or TLS with required client certificates. */
export class ServerCredentials {
  private constructor(
    /** Undefined for insecure ports. */
    readonly tls: (SecureContextOptions & { requestCert?: boolean; rejectUnauthorized?: boolean }) | undefined,
  ) {}

  /** Plaintext HTTP/2 (h2c). */
  static insecure(): ServerCredentials {
    return new ServerCredentials(undefined);
  }

  /**
   * TLS (grpcio `ssl_server_credentials`): key/certificate pairs, optional root
   * certificates for verifying clients, and whether a client certificate is required (mTLS).
   */
  static ssl(options: { keyCertPairs: readonly KeyCertPair[]; rootCerts?: string | Buffer; requireClientAuth?: boolean }): ServerCredentials {
    const requireClientAuth = options.requireClientAuth ?? false;
    return new ServerCredentials({
      key: options.keyCertPairs.map((p) => p.privateKey),
      cert: options.keyCertPairs.map((p) => p.certChain),
      ca: options.rootCerts,
      requestCert: requireClientAuth || options.rootCerts !== undefined,
      rejectUnauthorized: requireClientAuth,
    });
  }

  /** TLS from raw node:tls options, for anything `ssl()` does not cover. */
  static fromTlsOptions(options: SecureContextOptions & { requestCert?: boolean; rejectUnauthorized?: boolean }): ServerCredentials {
    return new ServerCredentials(options);
  }

  get secure(): boolean {
    return this.tls !== undefined;
  }
}
