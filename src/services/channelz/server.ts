// A server as channelz sees it: call counts, listening sockets and one socket per open HTTP/2
// session, all learnt through the server's observer seam (server.observe()).
import type { Server } from "../../server/server.js";
import type { ObservedCall, ServerObserver } from "../../call/observer.js";
import type { SessionLike } from "../../grpc/transport.js";
import type { MethodInfo } from "../../service/method.js";
import { Code } from "../../status.js";
import { newCallCounts, paginate, registry, type Page, type ServerEntity, type ServerSnapshot, type SocketAddress, type SocketSnapshot } from "./registry.js";
import { ListenSocket, SocketTracker, tcpAddress } from "./socket.js";

/** Channelz bookkeeping of one server; registered in the process-wide registry while the server runs. */
export class ServerTracker implements ServerEntity, ServerObserver {
  readonly id = registry.nextId();
  private readonly calls = newCallCounts();
  /** Open sessions in the order they opened (so in id order). */
  private readonly sockets = new Map<SessionLike, SocketTracker>();
  /** Listening sockets by their address text; ports bound after tracking began join when first listed. */
  private readonly listening = new Map<string, ListenSocket>();
  /**
   * Each running call's socket, taken when it starts: node:http2 detaches a stream from its
   * session as it closes, so `call.session` may be gone by callEnded.
   */
  private readonly callSockets = new WeakMap<ObservedCall, SocketTracker>();
  private stopped = false;
  private readonly unobserve: () => void;

  constructor(private readonly server: Server) {
    // A server already stopping has run its stop hooks: tracking it now would never end.
    if (server.lifecycle === "stopping" || server.lifecycle === "stopped") {
      this.stopped = true;
      this.unobserve = () => {};
      return;
    }
    this.unobserve = server.observe(this);
    server.onStop(() => this.remove());
    registry.servers.add(this);
  }

  alive(): boolean {
    return !this.stopped;
  }

  /** Stops tracking: the server and its sockets leave the registry. */
  remove(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.unobserve();
    registry.servers.remove(this.id);
    for (const s of this.sockets.values()) s.remove();
    for (const l of this.listening.values()) l.remove();
    this.sockets.clear();
    this.listening.clear();
  }

  // ---- ServerObserver ----------------------------------------------------------------

  callStarted(call: ObservedCall): void {
    this.calls.started++;
    this.calls.lastStartedAt = Date.now();
    const socket = this.socketOf(call.session);
    if (!socket) return;
    this.callSockets.set(call, socket);
    socket.streamStarted();
  }

  messageReceived(call: ObservedCall): void {
    this.callSockets.get(call)?.messageReceived();
  }

  messageSent(call: ObservedCall): void {
    this.callSockets.get(call)?.messageSent();
  }

  callEnded(call: ObservedCall, code: Code): void {
    if (code === Code.OK) this.calls.succeeded++;
    else this.calls.failed++;
    this.callSockets.get(call)?.streamEnded(code === Code.OK);
    this.callSockets.delete(call);
  }

  /** A request answered with an error status before it became a call still started (and failed) a call, as in C-core. */
  callRefused(_method: MethodInfo | undefined, _code: Code, session: SessionLike | undefined): void {
    this.calls.started++;
    this.calls.failed++;
    this.calls.lastStartedAt = Date.now();
    const socket = this.socketOf(session);
    socket?.streamStarted();
    socket?.streamEnded(false);
  }

  sessionOpened(session: SessionLike): void {
    if (this.stopped || this.sockets.has(session)) return;
    this.sockets.set(session, new SocketTracker(session, "server", this.unixPath()));
  }

  sessionClosed(session: SessionLike): void {
    this.sockets.get(session)?.remove();
    this.sockets.delete(session);
  }

  // ---- snapshots ----------------------------------------------------------------------

  snapshot(): ServerSnapshot {
    return { ref: { id: this.id, name: "" }, calls: { ...this.calls }, listenSockets: this.listenSockets().map((l) => ({ id: l.id, name: l.name })) };
  }

  /** A page of this server's open connections (GetServerSockets). */
  socketPage(start: number, max: number): Page<SocketSnapshot> {
    for (const [session, s] of this.sockets) {
      if (!s.alive()) {
        s.remove();
        this.sockets.delete(session);
      }
    }
    return paginate(this.sockets.values(), start, max);
  }

  private socketOf(session: SessionLike | undefined): SocketTracker | undefined {
    return session ? this.sockets.get(session) : undefined;
  }

  /** The listening sockets of the ports bound now; closed ports drop out. */
  private listenSockets(): ListenSocket[] {
    const now = new Map<string, SocketAddress>();
    for (const a of this.server.listenAddresses) {
      if (a === null) continue;
      const address: SocketAddress | undefined = typeof a === "string" ? { kind: "uds", path: a } : tcpAddress(a.address, a.port);
      if (address) now.set(typeof a === "string" ? `unix:${a}` : `${a.address}:${a.port}`, address);
    }
    for (const [key, l] of this.listening) {
      if (!now.has(key)) {
        l.remove();
        this.listening.delete(key);
      }
    }
    for (const [key, address] of now) {
      if (!this.listening.has(key)) this.listening.set(key, new ListenSocket(address, () => !this.stopped && this.listening.get(key) !== undefined));
    }
    return [...this.listening.values()].sort((a, b) => a.id - b.id);
  }

  /** The Unix socket path connections arrive on, when the server listens on exactly one. */
  private unixPath(): string | undefined {
    const paths = this.server.listenAddresses.filter((a): a is string => typeof a === "string");
    return paths.length === 1 ? paths[0] : undefined;
  }
}

const trackers = new WeakMap<Server, ServerTracker>();

/**
 * Turns channelz on for `server` (grpc-go tracks every server while channelz is on; here a server
 * joins when asked): from now on its calls, listening sockets and connections are listed by any
 * Channelz service of the process. Connections opened before this call are not listed (their calls
 * still count). Idempotent; returns the server's channelz id. The server leaves the registry
 * when it stops.
 */
export function enableChannelz(server: Server): number {
  let t = trackers.get(server);
  if (!t || !t.alive()) {
    t = new ServerTracker(server);
    trackers.set(server, t);
  }
  return t.id;
}
