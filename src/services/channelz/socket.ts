// One connection as channelz sees it: stream and message counts kept by the server or channel
// tracker that owns it, and addresses and TLS details read from the session's socket when a
// snapshot is taken (they are fixed once the connection is up).
import { isIPv4 } from "node:net";
import type { TLSSocket } from "node:tls";
import type { SessionLike } from "../../grpc/transport.js";
import { registry, type Entity, type SocketAddress, type SocketSecurity, type SocketSnapshot } from "./registry.js";

/** Which end opened the streams: a server's streams are remote, a channel's local. */
export type SocketSide = "server" | "client";

/** Counters of one HTTP/2 session, and its registry entry while the session is open. */
export class SocketTracker implements Entity<SocketSnapshot> {
  readonly id = registry.nextId();
  streamsStarted = 0;
  streamsSucceeded = 0;
  streamsFailed = 0;
  messagesSent = 0;
  messagesReceived = 0;
  lastStreamCreatedAt = 0;
  lastMessageSentAt = 0;
  lastMessageReceivedAt = 0;
  private local: SocketAddress | undefined;
  private remote: SocketAddress | undefined;

  /**
   * @param udsPath the Unix socket path when the session runs on one (Node reports no address
   *   for Unix sockets, so the owner, which knows the path it dialed or listens on, passes it).
   */
  constructor(
    readonly session: SessionLike,
    private readonly side: SocketSide,
    private readonly udsPath?: string,
  ) {
    this.readAddresses();
    registry.sockets.add(this);
  }

  /**
   * Reads the socket's addresses once they are known: a client connection that is still
   * connecting has none yet, and a destroyed socket has lost them, so they are kept once read.
   */
  private readAddresses(): void {
    if (this.local && this.remote) return;
    const s = this.session.socket as Partial<TLSSocket> | undefined;
    const local = tcpAddress(s?.localAddress, s?.localPort);
    const remote = tcpAddress(s?.remoteAddress, s?.remotePort);
    const uds: SocketAddress | undefined = this.udsPath !== undefined ? { kind: "uds", path: this.udsPath } : undefined;
    // A Unix socket is the server's listening path at both ends of the connection.
    this.local ??= local ?? (this.side === "server" ? uds : undefined);
    this.remote ??= remote ?? (this.side === "client" ? uds : undefined);
  }

  /** A stream was opened on this connection (by the peer on a server, by us on a channel). */
  streamStarted(): void {
    this.streamsStarted++;
    this.lastStreamCreatedAt = Date.now();
  }

  /** A stream ended: OK counts as succeeded, any other status as failed. */
  streamEnded(ok: boolean): void {
    if (ok) this.streamsSucceeded++;
    else this.streamsFailed++;
  }

  messageSent(): void {
    this.messagesSent++;
    this.lastMessageSentAt = Date.now();
  }

  messageReceived(): void {
    this.messagesReceived++;
    this.lastMessageReceivedAt = Date.now();
  }

  get ref(): { id: number; name: string } {
    this.readAddresses();
    return { id: this.id, name: `${describe(this.local)} -> ${describe(this.remote)}` };
  }

  alive(): boolean {
    return !this.session.destroyed;
  }

  /** Takes the socket out of the registry (its connection closed). */
  remove(): void {
    registry.sockets.remove(this.id);
  }

  snapshot(): SocketSnapshot {
    const created = this.lastStreamCreatedAt;
    const ref = this.ref;
    return {
      ref,
      streamsStarted: this.streamsStarted,
      streamsSucceeded: this.streamsSucceeded,
      streamsFailed: this.streamsFailed,
      messagesSent: this.messagesSent,
      messagesReceived: this.messagesReceived,
      // Keepalive pings are not counted by the engines.
      keepAlivesSent: 0,
      lastLocalStreamCreatedAt: this.side === "client" ? created : 0,
      lastRemoteStreamCreatedAt: this.side === "server" ? created : 0,
      lastMessageSentAt: this.lastMessageSentAt,
      lastMessageReceivedAt: this.lastMessageReceivedAt,
      local: this.local,
      remote: this.remote,
      security: securityOf(this.session),
    };
  }
}

/** A listening socket of a server: only its address. */
export class ListenSocket implements Entity<SocketSnapshot> {
  readonly id = registry.nextId();
  readonly name: string;

  constructor(
    readonly local: SocketAddress,
    private readonly isAlive: () => boolean,
  ) {
    this.name = describe(local);
    registry.sockets.add(this);
  }

  alive(): boolean {
    return this.isAlive();
  }

  remove(): void {
    registry.sockets.remove(this.id);
  }

  snapshot(): SocketSnapshot {
    return {
      ref: { id: this.id, name: this.name },
      streamsStarted: 0,
      streamsSucceeded: 0,
      streamsFailed: 0,
      messagesSent: 0,
      messagesReceived: 0,
      keepAlivesSent: 0,
      lastLocalStreamCreatedAt: 0,
      lastRemoteStreamCreatedAt: 0,
      lastMessageSentAt: 0,
      lastMessageReceivedAt: 0,
      local: this.local,
      remote: undefined,
      security: undefined,
    };
  }
}

/** A TCP address from Node's socket fields; undefined when there is none (Unix sockets, in-memory transports). */
export function tcpAddress(ip: string | undefined, port: number | undefined): SocketAddress | undefined {
  if (!ip || port === undefined) return undefined;
  // An IPv4 client on a dual-stack listener shows up as ::ffff:a.b.c.d; channelz wants the 4 bytes.
  const plain = ip.startsWith("::ffff:") && isIPv4(ip.slice(7)) ? ip.slice(7) : ip;
  return { kind: "tcp", ip: plain, port };
}

/** `ip:port`, `[v6]:port` or `unix:path`, for reference names. */
export function describe(a: SocketAddress | undefined): string {
  if (!a) return "?";
  if (a.kind === "uds") return `unix:${a.path}`;
  return a.ip.includes(":") ? `[${a.ip}]:${a.port}` : `${a.ip}:${a.port}`;
}

/** Cipher suite and certificates of a TLS connection; undefined for plaintext. */
function securityOf(session: SessionLike): SocketSecurity | undefined {
  const s = session.socket as Partial<TLSSocket> | undefined;
  if (!s || s.encrypted !== true || typeof s.getCipher !== "function") return undefined;
  let cipher: { name?: string; standardName?: string } | undefined;
  try {
    cipher = s.getCipher();
  } catch {
    cipher = undefined;
  }
  const standardName = cipher?.standardName || undefined;
  return {
    standardName,
    otherName: standardName === undefined ? cipher?.name || undefined : undefined,
    localCertificate: rawCertificate(() => s.getCertificate?.()),
    remoteCertificate: rawCertificate(() => s.getPeerCertificate?.()),
  };
}

/** The DER bytes of a certificate, or undefined when there is none (an empty object means none to Node). */
function rawCertificate(get: () => { raw?: Buffer } | object | null | undefined): Uint8Array | undefined {
  try {
    const cert = get() as { raw?: Buffer } | null | undefined;
    return cert?.raw && cert.raw.length > 0 ? new Uint8Array(cert.raw) : undefined;
  } catch {
    return undefined;
  }
}
