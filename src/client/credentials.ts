import type { SecureContextOptions } from "node:tls";

/** TLS settings of a channel: trusted roots, a client certificate for mTLS, and a name override. */
export interface ChannelTls {
  /** PEM root certificates; the system's CAs when absent. */
  rootCerts?: string | Buffer;
  /** PEM private key and certificate chain for mTLS. */
  privateKey?: string | Buffer;
  certChain?: string | Buffer;
  /** The name to verify the server certificate against, and to send as SNI and :authority. */
  serverNameOverride?: string;
  /** Anything else node:tls accepts. */
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
