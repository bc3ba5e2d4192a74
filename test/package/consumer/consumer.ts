// A user's TypeScript program against the installed package (compiled by tsc, run by plain node):
// a typed server and client for grpc.health.v1.Health (a descriptor the package exports), one
// unary call, one server-streaming call and one failing call, with `await using` for the server
// and the channel. It must end by itself with exit code 0: nothing may keep the process alive.
import { Channel, Code, createClient, Health, RpcError, Server, ServingStatus, type CallOptions, type ServerOptions, type ServiceImpl } from "switchboard";
import {
  JSONRPCProtocol,
  RPCClient,
  RPCDispatcher,
  RPCServer,
  WebSocketClientTransport,
  WebSocketServerTransport,
  type WebSocketMessageContext,
} from "switchboard";
import { StatusCode } from "switchboard/sros";

const health: ServiceImpl<typeof Health> = {
  check(request) {
    if (request.service !== "") throw new RpcError(Code.NOT_FOUND, `unknown service ${request.service}`);
    return { status: ServingStatus.SERVING };
  },
  async *watch(_request, ctx) {
    for (const status of [ServingStatus.NOT_SERVING, ServingStatus.SERVING, ServingStatus.SERVICE_UNKNOWN]) {
      if (!ctx.isActive()) return;
      yield { status };
    }
  },
};

const serverOptions: ServerOptions = { maximumConcurrentRpcs: 100 };
await using server = new Server(serverOptions);
server.addService(Health, health);
const port = await server.addInsecurePort("127.0.0.1:0");
server.start();

await using channel = new Channel(`127.0.0.1:${port}`);
const client = createClient(Health, channel);
const options: CallOptions = { timeout: 10_000, metadata: { "x-consumer": "1" } };

const reply = await client.check({ service: "" }, options);
console.log(`unary: ${ServingStatus[reply.status]}`);

const statuses: string[] = [];
for await (const update of client.watch({ service: "" }, options)) statuses.push(ServingStatus[update.status] ?? String(update.status));
console.log(`server-streaming: ${statuses.join(" ")}`);

try {
  await client.check({ service: "nope" }, options);
  console.log("error: none");
} catch (err) {
  if (!(err instanceof RpcError)) throw err;
  const same = err.code === StatusCode.NOT_FOUND ? "= sros StatusCode.NOT_FOUND" : "!= sros StatusCode.NOT_FOUND";
  console.log(`error: ${Code[err.code]} (${same}) ${err.rawMessage}`);
}
// The JSON-RPC front's types must compile without ws's own declarations installed.
interface MathApi {
  mul(a: number, b: number): number;
}
const math = new RPCDispatcher();
math.addMethod((a: number, b: number) => a * b, { name: "mul", params: ["a", "b"] });
const wsServer = await WebSocketServerTransport.listen({ port: 0 });
const traced: string[] = [];
const rpc = new RPCServer<WebSocketMessageContext>(wsServer, new JSONRPCProtocol(), math, {
  trace: (direction, context) => traced.push(`${direction}${context.sequence}`),
});
const rpcServing = rpc.serveForever();
const wsClient = await WebSocketClientTransport.connect(wsServer.url);
const product = await new RPCClient(new JSONRPCProtocol(), wsClient).getProxy<MathApi>().mul(3, 4);
console.log(`jsonrpc ws: ${product} ${traced.join(" ")} open=${wsClient.socket.readyState === 1}`);
await wsClient.close();
await wsServer.close();
await rpcServing;
console.log("end of script");
