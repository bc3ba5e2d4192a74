import { Duplex } from "node:stream";
import { Channel, type ChannelOptions } from "../client/channel.js";
import type { DescService } from "@bufbuild/protobuf";
import { Server } from "../server/server.js";
import type { ServiceImpl } from "../service/typed.js";

/** Two Duplex streams wired to each other: what one writes, the other reads. */
function socketPair(): [Duplex, Duplex] {
  const make = (peer: () => Duplex) =>
    new Duplex({
      read() {},
      write(chunk, _encoding, callback) {
        peer().push(chunk);
        callback();
      },
      final(callback) {
        peer().push(null);
        callback();
      },
      destroy(err, callback) {
        peer().destroy();
        callback(err);
      },
    });
  const a: Duplex = make(() => b);
  const b: Duplex = make(() => a);
  return [a, b];
}

/**
 * `[[Service, impl], ...]` for channelFor: each impl is typed by the service next to it, so
 * handler parameters are contextually typed (one type parameter per entry, inferred).
 */
export type ServiceEntries<S extends readonly DescService[]> = { readonly [K in keyof S]: readonly [service: S[K], impl: ServiceImpl<S[K]>] };

/**
 * A Channel to `server` over real HTTP/2 with no socket (grpclib `ChannelFor`):
 * every connection is an in-memory stream pair handed to the server's HTTP/2 stack.
 * Pass a Server (started here if it is not yet) or `[[Service, impl], ...]`. Dispose it
 * (`await using ch = channelFor(...)`) to close the channel and stop the server.
 */
export function channelFor<const S extends readonly DescService[]>(target: Server | ServiceEntries<S>, options: ChannelOptions = {}): Channel & AsyncDisposable {
  let server: Server;
  if (target instanceof Server) {
    server = target;
  } else {
    // The server it builds encodes rich error details the way the channel decodes them (grpclib ChannelFor).
    server = new Server(options.statusDetailsCodec === undefined ? {} : { statusDetailsCodec: options.statusDetailsCodec });
    for (const [service, impl] of target as ReadonlyArray<readonly [DescService, ServiceImpl<DescService>]>) server.addService(service, impl);
  }
  const h2 = server.attachInMemory();
  const channel = new Channel("in-memory:0", {
    ...options,
    createConnection: () => {
      const [client, serverSide] = socketPair();
      h2.emit("connection", serverSide);
      return client;
    },
  });
  const dispose = channel[Symbol.asyncDispose].bind(channel);
  return Object.assign(channel, {
    async [Symbol.asyncDispose]() {
      await dispose();
      await server.stop();
    },
  });
}
