// One Switchboard Server serving clitest.Echo (test/cli/fixtures/clitest/echo.proto: every call
// type, int64, bytes, enums, maps, oneofs and a Timestamp) on gRPC, and the same methods over
// JSON-RPC on HTTP through the gRPC bridge: the two fronts the bridge tests compare.
import { create } from "@bufbuild/protobuf";
import {
  Channel,
  createClient,
  detail,
  ErrorInfoSchema,
  exposeGrpcServer,
  HttpClientTransport,
  HttpServerTransport,
  JSONRPCProtocol,
  RpcError,
  RPCClient,
  RPCDispatcher,
  RPCServer,
  Server,
  type GrpcBridgeOptions,
  type ServerOptions,
  type ServiceImpl,
} from "../../src/index.js";
import { Echo, EchoRequestSchema, type EchoRequest } from "../cli/gen/clitest/echo_pb.js";

export { Echo };

function failIfAsked(r: EchoRequest): void {
  if (r.failCode) throw new RpcError(r.failCode, r.failMessage, [create(ErrorInfoSchema, { reason: "ECHO_FAILED", domain: "clitest", metadata: { text: r.text } }), detail(EchoRequestSchema, r)]);
}

/** What Unary answers: the request's fields back, so the JSON mapping shows both ways. */
function reply(r: EchoRequest) {
  return {
    // bytes arrive decoded from base64: the reply shows them in hex
    text: r.extra.case === "blob" ? Buffer.from(r.extra.value).toString("hex") : r.text,
    count: 1,
    metadata: r.labels,
    at: r.at,
    mood: r.mood,
    big: r.extra.case === "big" ? r.extra.value : 0n,
  };
}

/** The one implementation both fronts call. */
export const echo: ServiceImpl<typeof Echo> = {
  async unary(r) {
    failIfAsked(r);
    return reply(r);
  },
  async *serverStream(r) {
    for (let i = 1; i <= r.repeat; i++) yield { text: `${r.text} #${i}`, count: i, big: BigInt(i) * 10n ** 17n };
    failIfAsked(r);
  },
  async clientStream(requests) {
    const texts: string[] = [];
    for await (const r of requests) {
      failIfAsked(r);
      texts.push(r.text);
    }
    return { text: texts.join(" "), count: texts.length };
  },
  async *bidi(requests) {
    let n = 0;
    for await (const r of requests) {
      failIfAsked(r);
      yield { text: r.text.toUpperCase(), count: ++n, mood: r.mood };
    }
  },
};

export interface BothFronts {
  readonly server: Server;
  /** `127.0.0.1:port` of the gRPC port. */
  readonly grpcTarget: string;
  /** Our gRPC client of Echo. */
  readonly grpc: ReturnType<typeof createClient<typeof Echo>>;
  /** A JSON-RPC client over HTTP. */
  readonly rpc: RPCClient;
  readonly httpUrl: string;
  readonly names: string[];
  close(): Promise<void>;
}

/**
 * Starts `server` (Echo is added when `register` is not given) on 127.0.0.1:0 and a JSON-RPC
 * HTTP endpoint on 127.0.0.1:0 whose dispatcher exposes the server through the bridge.
 */
export async function startBoth(
  options: { server?: ServerOptions; bridge?: GrpcBridgeOptions; register?: (server: Server) => void } = {},
): Promise<BothFronts> {
  const server = new Server(options.server);
  if (options.register) options.register(server);
  else server.addService(Echo, echo);
  const port = await server.addInsecurePort("127.0.0.1:0");
  server.start();
  const dispatcher = new RPCDispatcher();
  const names = exposeGrpcServer(dispatcher, server, options.bridge);
  const http = await HttpServerTransport.listen({ host: "127.0.0.1", port: 0 });
  const serving = new RPCServer(http, new JSONRPCProtocol(), dispatcher).serveForever();
  const channel = new Channel(`127.0.0.1:${port}`);
  const clientTransport = new HttpClientTransport(http.url);
  return {
    server,
    grpcTarget: `127.0.0.1:${port}`,
    grpc: createClient(Echo, channel),
    rpc: new RPCClient(new JSONRPCProtocol(), clientTransport),
    httpUrl: http.url,
    names,
    async close() {
      await clientTransport.close();
      await channel.close();
      await http.close();
      await serving;
      await server.stop(0);
    },
  };
}

/** The rejection of `promise`, which must reject. */
export async function rejection(promise: Promise<unknown>): Promise<any> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error("expected the call to fail");
}
