// Connection admission: counts the connections on a server's ports, in total and per client
// IP, and turns away those over maxConnections / maxConnectionsPerIp before they become
// HTTP/2 sessions. Counting and refusing live together so a connection is never counted
// without a matching release when it closes.
import * as http2 from "node:http2";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import type { ResolvedServerOptions } from "./options.js";
import { ignoreError } from "./util.js";

/** GOAWAY debug data for a connection refused by the limits. */
const TOO_MANY_CONNECTIONS = "too_many_connections";
/** How long a refused plaintext connection may linger so its GOAWAY is read, not lost to a reset. */
const REFUSAL_LINGER_MS = 1000;

/** The server preface (empty SETTINGS) and GOAWAY(last stream 0, ENHANCE_YOUR_CALM, "too_many_connections"). */
const REFUSAL: Buffer = (() => {
  const debug = Buffer.from(TOO_MANY_CONNECTIONS);
  const settings = Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]);
  const goaway = Buffer.alloc(9 + 8 + debug.length);
  goaway.writeUIntBE(8 + debug.length, 0, 3);
  goaway[3] = 7; // GOAWAY
  goaway.writeUInt32BE(0, 9); // last stream id
  goaway.writeUInt32BE(http2.constants.NGHTTP2_ENHANCE_YOUR_CALM, 13);
  debug.copy(goaway, 17);
  return Buffer.concat([settings, goaway]);
})();

/** The connection limits of one server. */
export class ConnectionLimits {
  private connectionCount = 0;
  private readonly connectionsPerIp = new Map<string, number>();
  private refusedCount = 0;

  /**
   * @param track keeps a refused connection in the server's set of raw connections, so that
   * stop() destroys it rather than waiting for its linger
   */
  constructor(
    private readonly options: Pick<ResolvedServerOptions, "maxConnections" | "maxConnectionsPerIp">,
    private readonly track: (socket: Duplex) => void,
  ) {}

  /** Connections open now (admitted and not yet closed). */
  get open(): number {
    return this.connectionCount;
  }

  /** Connections refused so far. */
  get refused(): number {
    return this.refusedCount;
  }

  /** Counts a new connection against maxConnections / maxConnectionsPerIp; refuses it when over. */
  admit(socket: Socket, secure: boolean): boolean {
    const { maxConnections, maxConnectionsPerIp } = this.options;
    // Unix-socket clients have no address: only the total applies to them.
    const perIp = Number.isFinite(maxConnectionsPerIp) && socket.remoteAddress !== undefined;
    const ip = perIp ? normalizeIp(socket.remoteAddress!) : "";
    const fromIp = perIp ? (this.connectionsPerIp.get(ip) ?? 0) : 0;
    if (this.connectionCount >= maxConnections || fromIp >= maxConnectionsPerIp) {
      this.refuse(socket, secure);
      return false;
    }
    this.connectionCount++;
    if (perIp) this.connectionsPerIp.set(ip, fromIp + 1);
    socket.once("close", () => {
      this.connectionCount--;
      if (!perIp) return;
      const n = (this.connectionsPerIp.get(ip) ?? 1) - 1;
      if (n > 0) this.connectionsPerIp.set(ip, n);
      else this.connectionsPerIp.delete(ip);
    });
    return true;
  }

  /**
   * Turns a connection away before it becomes a session: plaintext gets the server preface
   * and GOAWAY ENHANCE_YOUR_CALM "too_many_connections" (an HTTP/2 client sees why, and
   * gRPC clients back off); TLS is closed before its handshake, which would cost more than
   * the answer is worth.
   */
  private refuse(socket: Socket, secure: boolean): void {
    this.refusedCount++;
    socket.on("error", ignoreError);
    this.track(socket);
    if (secure) {
      socket.destroy();
      return;
    }
    // Read and drop what the client sends: closing with unread input would reset the
    // connection and could destroy the GOAWAY before the client reads it.
    socket.resume();
    socket.end(REFUSAL);
    const timer = setTimeout(() => socket.destroy(), REFUSAL_LINGER_MS);
    timer.unref();
    socket.once("close", () => clearTimeout(timer));
  }
}

/** IPv4 clients of a dual-stack listener appear as ::ffff:a.b.c.d; one address, one count. */
function normalizeIp(address: string): string {
  return address.startsWith("::ffff:") ? address.slice(7) : address;
}
