// A client Channel as channelz sees it: its calls (through the channel's observer seam), one
// subchannel per address with its own call counts, and one socket per HTTP/2 connection of a
// subchannel. A channel joins the registry when created with `channelz: true` and leaves it on
// close(), so the registry never keeps a closed channel (or anything of it) alive.
import type { ChannelState } from "../../client/channel.js";
import type { ClientObserver, ObservedClientCall } from "../../client/observer.js";
import type { Subchannel } from "../../client/subchannel.js";
import type { ClientSessionLike } from "../../grpc/transport.js";
import { Code } from "../../status.js";
import { newCallCounts, registry, type CallCounts, type ChannelSnapshot, type Entity } from "./registry.js";
import { SocketTracker } from "./socket.js";

/** What channelz reads of a Channel. */
export interface TrackedChannel {
  readonly targetString: string;
  readonly state: ChannelState;
  observe(observer: ClientObserver): () => void;
  /** @internal Every subchannel: the current address list, then draining ones. */
  channelzSubchannels(): readonly Subchannel[];
}

/** Channelz bookkeeping of one channel. */
export class ChannelTracker implements Entity<ChannelSnapshot>, ClientObserver {
  readonly id = registry.nextId();
  private readonly calls = newCallCounts();
  private readonly subs = new Map<Subchannel, SubchannelTracker>();
  /** Each connection's subchannel and socket, for calls that report their connection. */
  private readonly bySession = new WeakMap<ClientSessionLike, { sub: SubchannelTracker; socket: SocketTracker }>();
  private removed = false;
  private readonly unobserve: () => void;

  constructor(private readonly channel: TrackedChannel) {
    this.unobserve = channel.observe(this);
    registry.channels.add(this);
  }

  alive(): boolean {
    return !this.removed;
  }

  /** The channel closed: it and its subchannels and sockets leave the registry. */
  remove(): void {
    if (this.removed) return;
    this.removed = true;
    this.unobserve();
    registry.channels.remove(this.id);
    for (const sub of this.subs.values()) sub.remove();
    this.subs.clear();
  }

  // ---- ClientObserver ----------------------------------------------------------------

  callStarted(): void {
    count(this.calls);
  }

  callEnded(call: ObservedClientCall, code: Code): void {
    const ok = code === Code.OK;
    if (ok) this.calls.succeeded++;
    else this.calls.failed++;
    const on = call.connection ? this.bySession.get(call.connection) : undefined;
    if (!on) return;
    if (ok) on.sub.calls.succeeded++;
    else on.sub.calls.failed++;
    on.socket.streamEnded(ok);
  }

  messageSent(call: ObservedClientCall): void {
    if (call.connection) this.bySession.get(call.connection)?.socket.messageSent();
  }

  messageReceived(call: ObservedClientCall): void {
    if (call.connection) this.bySession.get(call.connection)?.socket.messageReceived();
  }

  /** A call's stream was opened on `session` of `sub` (the channel tells us; observers do not see it). */
  streamStarted(sub: Subchannel, session: ClientSessionLike): void {
    if (this.removed) return;
    // A new subchannel (the resolver changed the addresses): drop the trackers of gone ones now,
    // not only when somebody reads channelz, or address churn would pile them up in the registry.
    if (!this.subs.has(sub)) this.prune();
    const tracker = this.subchannel(sub);
    count(tracker.calls);
    tracker.socket(session).streamStarted();
  }

  // ---- snapshots ----------------------------------------------------------------------

  snapshot(): ChannelSnapshot {
    const current = this.prune();
    return {
      ref: { id: this.id, name: this.channel.targetString },
      target: this.channel.targetString,
      state: this.channel.state,
      calls: { ...this.calls },
      subchannels: current.map((sub) => this.subchannel(sub).ref),
      sockets: [],
    };
  }

  /** Removes the trackers of subchannels the channel no longer has; returns the ones it has. */
  private prune(): readonly Subchannel[] {
    const current = this.channel.channelzSubchannels();
    const live = new Set(current);
    for (const [sub, tracker] of this.subs) {
      if (!live.has(sub)) {
        tracker.remove();
        this.subs.delete(sub);
      }
    }
    return current;
  }

  private subchannel(sub: Subchannel): SubchannelTracker {
    let t = this.subs.get(sub);
    if (!t) {
      t = new SubchannelTracker(sub, this.bySession, () => !this.removed && this.subs.get(sub) === t);
      this.subs.set(sub, t);
    }
    return t;
  }
}

/** One address of a channel: its calls and the sockets of its connections. */
class SubchannelTracker implements Entity<ChannelSnapshot> {
  readonly id = registry.nextId();
  readonly calls: CallCounts = newCallCounts();
  private readonly sockets = new Map<ClientSessionLike, SocketTracker>();

  constructor(
    private readonly sub: Subchannel,
    private readonly bySession: WeakMap<ClientSessionLike, { sub: SubchannelTracker; socket: SocketTracker }>,
    private readonly isAlive: () => boolean,
  ) {
    registry.subchannels.add(this);
  }

  get ref(): { id: number; name: string } {
    return { id: this.id, name: this.sub.key };
  }

  alive(): boolean {
    return this.isAlive();
  }

  remove(): void {
    registry.subchannels.remove(this.id);
    for (const s of this.sockets.values()) s.remove();
    this.sockets.clear();
  }

  /** The socket of one of this subchannel's connections; it leaves the registry when the connection closes. */
  socket(session: ClientSessionLike): SocketTracker {
    let s = this.sockets.get(session);
    if (!s) {
      const socket = new SocketTracker(session, "client", this.sub.address.path);
      s = socket;
      this.sockets.set(session, socket);
      this.bySession.set(session, { sub: this, socket });
      session.once("close", () => {
        socket.remove();
        if (this.sockets.get(session) === socket) this.sockets.delete(session);
      });
    }
    return s;
  }

  snapshot(): ChannelSnapshot {
    // Connections opened since the last look (a subchannel connects before its first call).
    for (const session of this.sub.sessions) if (!session.destroyed) this.socket(session);
    const sockets = [...this.sockets.entries()].filter(([session]) => !session.destroyed).map(([, s]) => s.ref);
    return {
      ref: this.ref,
      target: this.sub.key,
      state: this.sub.state,
      calls: { ...this.calls },
      subchannels: [],
      sockets,
    };
  }
}

/** One more call started now. */
function count(c: CallCounts): void {
  c.started++;
  c.lastStartedAt = Date.now();
}
