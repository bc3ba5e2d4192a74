// The process-wide channelz registry (gRPC A14): every tracked channel, subchannel, server and
// socket gets an id from one monotonically increasing id space, as in grpc-go and C-core. The
// registry holds plain snapshot producers only; the Channelz service turns snapshots into
// grpc.channelz.v1 messages. Entities leave the registry when what they describe is gone (a
// channel closed, a server stopped, a connection closed), so nothing here outlives its owner.
import type { ChannelState } from "../../client/channel.js";

/** Calls seen by a channel, subchannel or server. Times are `Date.now()` ms, 0 for never. */
export interface CallCounts {
  started: number;
  succeeded: number;
  failed: number;
  lastStartedAt: number;
}

/** A reference to another entity, as listed in a parent's snapshot. */
export interface EntityRef {
  readonly id: number;
  readonly name: string;
}

/** A socket end: TCP/IP (`ip` in text form, as Node reports it) or a Unix domain socket. */
export type SocketAddress = { readonly kind: "tcp"; readonly ip: string; readonly port: number } | { readonly kind: "uds"; readonly path: string };

/** What is known of a TLS connection. */
export interface SocketSecurity {
  /** The cipher suite's standard (IANA) name, when Node reports one. */
  readonly standardName: string | undefined;
  /** The cipher suite's OpenSSL name, when there is no standard name. */
  readonly otherName: string | undefined;
  readonly localCertificate: Uint8Array | undefined;
  readonly remoteCertificate: Uint8Array | undefined;
}

/** A channel or a subchannel. */
export interface ChannelSnapshot {
  readonly ref: EntityRef;
  readonly target: string;
  readonly state: ChannelState;
  readonly calls: CallCounts;
  readonly subchannels: readonly EntityRef[];
  readonly sockets: readonly EntityRef[];
}

export interface ServerSnapshot {
  readonly ref: EntityRef;
  readonly calls: CallCounts;
  readonly listenSockets: readonly EntityRef[];
}

/** One connection (HTTP/2 session) or one listening socket. Times are `Date.now()` ms, 0 for never. */
export interface SocketSnapshot {
  readonly ref: EntityRef;
  readonly streamsStarted: number;
  readonly streamsSucceeded: number;
  readonly streamsFailed: number;
  readonly messagesSent: number;
  readonly messagesReceived: number;
  readonly keepAlivesSent: number;
  readonly lastLocalStreamCreatedAt: number;
  readonly lastRemoteStreamCreatedAt: number;
  readonly lastMessageSentAt: number;
  readonly lastMessageReceivedAt: number;
  readonly local: SocketAddress | undefined;
  readonly remote: SocketAddress | undefined;
  readonly security: SocketSecurity | undefined;
}

/** Something the registry lists: its id, a snapshot, and whether it still exists. */
export interface Entity<S> {
  readonly id: number;
  snapshot(): S;
  /** False once the thing is gone; the registry then drops it (a safety net behind explicit removal). */
  alive(): boolean;
}

/** A server also lists its open connections. */
export interface ServerEntity extends Entity<ServerSnapshot> {
  socketPage(start: number, max: number): Page<SocketSnapshot>;
}

/** One page of a listing: entities with id >= start, at most `max`, and whether it is the last page. */
export interface Page<S> {
  readonly items: S[];
  readonly end: boolean;
}

/** Page size when a request asks for 0 (or a negative number of) results, as in grpc-js and C-core. */
export const DEFAULT_PAGE_SIZE = 100;

/** Entities of one kind, in id order (a Map keeps insertion order and ids only grow). */
class Table<S, E extends Entity<S> = Entity<S>> {
  private readonly byId = new Map<number, E>();

  add(entity: E): void {
    this.byId.set(entity.id, entity);
  }

  remove(id: number): void {
    this.byId.delete(id);
  }

  /** The live entity with this id. */
  entity(id: number): E | undefined {
    const e = this.byId.get(id);
    if (e && !e.alive()) {
      this.byId.delete(id);
      return undefined;
    }
    return e;
  }

  get(id: number): S | undefined {
    return this.entity(id)?.snapshot();
  }

  page(start: number, max: number): Page<S> {
    for (const e of [...this.byId.values()]) if (!e.alive()) this.byId.delete(e.id);
    return paginate(this.byId.values(), start, max);
  }
}

/** One page of `entities` (in id order, all alive): ids >= start, at most `max` (0: DEFAULT_PAGE_SIZE). */
export function paginate<S>(entities: Iterable<Entity<S>>, start: number, max: number): Page<S> {
  const limit = max > 0 ? max : DEFAULT_PAGE_SIZE;
  const items: S[] = [];
  for (const e of entities) {
    if (e.id < start) continue;
    // One more match than fits: this page is not the last.
    if (items.length === limit) return { items, end: false };
    items.push(e.snapshot());
  }
  return { items, end: true };
}

/** The registry's tables; `registry` below is the one instance of the process. */
export class ChannelzRegistry {
  private lastId = 0;
  readonly channels = new Table<ChannelSnapshot>();
  readonly subchannels = new Table<ChannelSnapshot>();
  readonly servers = new Table<ServerSnapshot, ServerEntity>();
  readonly sockets = new Table<SocketSnapshot>();

  /** The next id of the one id space shared by channels, subchannels, servers and sockets. */
  nextId(): number {
    return ++this.lastId;
  }
}

/** The process-wide channelz registry. */
export const registry = new ChannelzRegistry();

/** Fresh, zeroed call counts. */
export function newCallCounts(): CallCounts {
  return { started: 0, succeeded: 0, failed: 0, lastStartedAt: 0 };
}
