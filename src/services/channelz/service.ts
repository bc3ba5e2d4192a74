// grpc.channelz.v1.Channelz (gRPC A14) over the process-wide registry, answering as grpc-go's and
// grpc-java's channelz services do: listings page by `start_*_id` (ids at or above it) and
// `max_results` (0: a default page), with `end` set on the last page; an unknown id is NOT_FOUND.
import { create } from "@bufbuild/protobuf";
import {
  Channelz,
  GetChannelResponseSchema,
  GetServerResponseSchema,
  GetServerSocketsResponseSchema,
  GetServersResponseSchema,
  GetSocketResponseSchema,
  GetSubchannelResponseSchema,
  GetTopChannelsResponseSchema,
} from "../../gen/grpc/channelz/v1/channelz_pb.js";
import type { Server } from "../../server/server.js";
import type { ServiceImpl } from "../../service/typed.js";
import { Code, RpcError } from "../../status.js";
import { channelMessage, serverMessage, socketMessage, socketRef, subchannelMessage } from "./messages.js";
import { registry } from "./registry.js";
import { enableChannelz } from "./server.js";

/** An int64 id from a request as a number; ids beyond 2^53 match nothing we hand out. */
function id(value: bigint): number {
  if (value < 0n) return 0;
  return value > BigInt(Number.MAX_SAFE_INTEGER) ? Number.POSITIVE_INFINITY : Number(value);
}

/** `max_results` as a page size: 0 or negative means the default page. */
function max(value: bigint): number {
  if (value <= 0n) return 0;
  return value > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(value);
}

function notFound(what: string, value: bigint): RpcError {
  return new RpcError(Code.NOT_FOUND, `requested ${what} ${value} not found`);
}

/**
 * The channelz service (grpcio `grpc_channelz.v1.channelz.add_channelz_servicer(server)`,
 * grpc-go `service.RegisterChannelzServiceToServer`). It reports every server with channelz
 * enabled and every channel created with `channelz: true` in this process.
 *
 * ```ts
 * new ChannelzService().register(server); // also tracks `server` itself
 * enableChannelz(otherServer);            // listed too, without serving channelz
 * const channel = new Channel(target, { channelz: true });
 * ```
 */
export class ChannelzService {
  /** Context-style handlers for `server.addService(Channelz, channelz.impl)` (that alone tracks no server). */
  readonly impl: ServiceImpl<typeof Channelz> = {
    getTopChannels: (req) => {
      const page = registry.channels.page(id(req.startChannelId), max(req.maxResults));
      return create(GetTopChannelsResponseSchema, { channel: page.items.map(channelMessage), end: page.end });
    },
    getServers: (req) => {
      const page = registry.servers.page(id(req.startServerId), max(req.maxResults));
      return create(GetServersResponseSchema, { server: page.items.map(serverMessage), end: page.end });
    },
    getServer: (req) => {
      const s = registry.servers.get(id(req.serverId));
      if (!s) throw notFound("server", req.serverId);
      return create(GetServerResponseSchema, { server: serverMessage(s) });
    },
    getServerSockets: (req) => {
      // grpc-java and grpc-js answer NOT_FOUND for an unknown server (grpc-go an empty last page).
      const server = registry.servers.entity(id(req.serverId));
      if (!server) throw notFound("server", req.serverId);
      const page = server.socketPage(id(req.startSocketId), max(req.maxResults));
      return create(GetServerSocketsResponseSchema, { socketRef: page.items.map((s) => socketRef(s.ref)), end: page.end });
    },
    getChannel: (req) => {
      const c = registry.channels.get(id(req.channelId));
      if (!c) throw notFound("channel", req.channelId);
      return create(GetChannelResponseSchema, { channel: channelMessage(c) });
    },
    getSubchannel: (req) => {
      const s = registry.subchannels.get(id(req.subchannelId));
      if (!s) throw notFound("subchannel", req.subchannelId);
      return create(GetSubchannelResponseSchema, { subchannel: subchannelMessage(s) });
    },
    getSocket: (req) => {
      const s = registry.sockets.get(id(req.socketId));
      if (!s) throw notFound("socket", req.socketId);
      return create(GetSocketResponseSchema, { socket: socketMessage(s) });
    },
  };

  /** Serves grpc.channelz.v1.Channelz on `server` and tracks `server` itself (enableChannelz). */
  register(server: Server): this {
    server.addService(Channelz, this.impl);
    enableChannelz(server);
    return this;
  }
}

/** Adds the channelz service to `server` and tracks it (grpcio `add_channelz_servicer(server)`). */
export function addChannelzService(server: Server): ChannelzService {
  return new ChannelzService().register(server);
}
