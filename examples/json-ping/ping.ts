// grpclib's "service without .proto": a JSON Ping service defined by a method map, and a
// client using the same codec. Run: `npx tsx examples/json-ping/ping.ts` (prints the reply).
import { bindMethod, Channel, Code, jsonCodec, methodMap, rawMethod, RpcError, Server, type UnaryMethod } from "switchboard";

const server = new Server();
server.addMethods(
  methodMap({
    "/ping.PingService/Ping": {
      kind: "unary",
      handler: async (stream) => {
        const request = (await stream.recvMessage()) as { value?: string } | null;
        if (request?.value !== "ping") throw new RpcError(Code.INVALID_ARGUMENT, 'send {"value": "ping"}');
        await stream.sendMessage({ value: "pong" });
      },
    },
  }),
);
const port = await server.addInsecurePort("127.0.0.1:0");
server.start();

// The channel's codec sends application/grpc+json; the server picks its JSON codec by that subtype.
const channel = new Channel(`127.0.0.1:${port}`, { codec: jsonCodec() });
const ping = bindMethod(channel, rawMethod("/ping.PingService/Ping", "unary")) as UnaryMethod<object, object>;
try {
  const reply = await ping({ value: "ping" }, { timeout: 2000 });
  process.stdout.write(`${JSON.stringify(reply)}\n`);
} finally {
  channel.close();
  await server.stop(1000);
}
