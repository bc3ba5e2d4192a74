// Snapshots (registry.ts) to grpc.channelz.v1 messages, field by field as grpc-go's channelz
// service fills them: times that never happened are left unset, addresses are raw IP bytes.
import { create } from "@bufbuild/protobuf";
import { timestampFromMs, type Timestamp } from "@bufbuild/protobuf/wkt";
import { isIPv4, isIPv6 } from "node:net";
import {
  AddressSchema,
  ChannelConnectivityState_State as State,
  ChannelConnectivityStateSchema,
  ChannelDataSchema,
  ChannelRefSchema,
  ChannelSchema,
  SecuritySchema,
  ServerDataSchema,
  ServerRefSchema,
  ServerSchema,
  SocketDataSchema,
  SocketRefSchema,
  SocketSchema,
  SubchannelRefSchema,
  SubchannelSchema,
  type Address,
  type Channel,
  type ChannelData,
  type Security,
  type Server,
  type Socket,
  type SocketRef,
  type Subchannel,
} from "../../gen/grpc/channelz/v1/channelz_pb.js";
import type { ChannelState } from "../../client/channel.js";
import type { ChannelSnapshot, EntityRef, ServerSnapshot, SocketAddress, SocketSecurity, SocketSnapshot } from "./registry.js";

const STATES: Record<ChannelState, State> = {
  idle: State.IDLE,
  connecting: State.CONNECTING,
  ready: State.READY,
  transient_failure: State.TRANSIENT_FAILURE,
  shutdown: State.SHUTDOWN,
};

/** A `Date.now()` time, or undefined for 0 (never happened). */
function time(ms: number): Timestamp | undefined {
  return ms > 0 ? timestampFromMs(ms) : undefined;
}

function channelData(s: ChannelSnapshot): ChannelData {
  return create(ChannelDataSchema, {
    state: create(ChannelConnectivityStateSchema, { state: STATES[s.state] ?? State.UNKNOWN }),
    target: s.target,
    callsStarted: BigInt(s.calls.started),
    callsSucceeded: BigInt(s.calls.succeeded),
    callsFailed: BigInt(s.calls.failed),
    lastCallStartedTimestamp: time(s.calls.lastStartedAt),
  });
}

export function socketRef(r: EntityRef): SocketRef {
  return create(SocketRefSchema, { socketId: BigInt(r.id), name: r.name });
}

export function channelMessage(s: ChannelSnapshot): Channel {
  return create(ChannelSchema, {
    ref: create(ChannelRefSchema, { channelId: BigInt(s.ref.id), name: s.ref.name }),
    data: channelData(s),
    subchannelRef: s.subchannels.map((r) => create(SubchannelRefSchema, { subchannelId: BigInt(r.id), name: r.name })),
    socketRef: s.sockets.map(socketRef),
  });
}

export function subchannelMessage(s: ChannelSnapshot): Subchannel {
  return create(SubchannelSchema, {
    ref: create(SubchannelRefSchema, { subchannelId: BigInt(s.ref.id), name: s.ref.name }),
    data: channelData(s),
    socketRef: s.sockets.map(socketRef),
  });
}

export function serverMessage(s: ServerSnapshot): Server {
  return create(ServerSchema, {
    ref: create(ServerRefSchema, { serverId: BigInt(s.ref.id), name: s.ref.name }),
    data: create(ServerDataSchema, {
      callsStarted: BigInt(s.calls.started),
      callsSucceeded: BigInt(s.calls.succeeded),
      callsFailed: BigInt(s.calls.failed),
      lastCallStartedTimestamp: time(s.calls.lastStartedAt),
    }),
    listenSocket: s.listenSockets.map(socketRef),
  });
}

export function socketMessage(s: SocketSnapshot): Socket {
  return create(SocketSchema, {
    ref: socketRef(s.ref),
    data: create(SocketDataSchema, {
      streamsStarted: BigInt(s.streamsStarted),
      streamsSucceeded: BigInt(s.streamsSucceeded),
      streamsFailed: BigInt(s.streamsFailed),
      messagesSent: BigInt(s.messagesSent),
      messagesReceived: BigInt(s.messagesReceived),
      keepAlivesSent: BigInt(s.keepAlivesSent),
      lastLocalStreamCreatedTimestamp: time(s.lastLocalStreamCreatedAt),
      lastRemoteStreamCreatedTimestamp: time(s.lastRemoteStreamCreatedAt),
      lastMessageSentTimestamp: time(s.lastMessageSentAt),
      lastMessageReceivedTimestamp: time(s.lastMessageReceivedAt),
    }),
    local: s.local ? address(s.local) : undefined,
    remote: s.remote ? address(s.remote) : undefined,
    security: s.security ? security(s.security) : undefined,
  });
}

function address(a: SocketAddress): Address {
  if (a.kind === "uds") return create(AddressSchema, { address: { case: "udsAddress", value: { filename: a.path } } });
  return create(AddressSchema, { address: { case: "tcpipAddress", value: { ipAddress: ipBytes(a.ip), port: a.port } } });
}

function security(s: SocketSecurity): Security {
  const cipherSuite =
    s.standardName !== undefined ? { case: "standardName" as const, value: s.standardName } : s.otherName !== undefined ? { case: "otherName" as const, value: s.otherName } : { case: undefined };
  return create(SecuritySchema, {
    model: {
      case: "tls",
      value: {
        cipherSuite,
        localCertificate: s.localCertificate ?? new Uint8Array(0),
        remoteCertificate: s.remoteCertificate ?? new Uint8Array(0),
      },
    },
  });
}

/** An IP address in network byte order: 4 bytes for IPv4, 16 for IPv6 (a zone id is dropped); empty when unparsable. */
export function ipBytes(ip: string): Uint8Array {
  if (isIPv4(ip)) return Uint8Array.from(ip.split(".").map(Number));
  const bare = ip.replace(/%.*$/, "");
  if (!isIPv6(bare)) return new Uint8Array(0);
  let text = bare;
  // A trailing dotted IPv4 part (::ffff:1.2.3.4) is the last two groups.
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted[1]!.split(".").map(Number) as [number, number, number, number];
    text = text.slice(0, -dotted[1]!.length) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.includes("::") ? text.split("::") : [text, undefined];
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill("0"), ...right];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    const v = parseInt(g, 16);
    out[i * 2] = v >> 8;
    out[i * 2 + 1] = v & 0xff;
  });
  return out;
}
