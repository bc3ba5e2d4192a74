// grpclib's events example: a RecvRequest listener that checks a token and swaps in an
// UNAUTHENTICATED handler, plus a SendTrailingMetadata listener that stamps every status.
// Run: `npx tsx examples/events/auth.ts` (prints one refusal and one greeting).
import { Channel, Code, createClient, listen, RpcError, Server } from "switchboard";
import { Greeter } from "../gen/helloworld/helloworld_pb.js";

const SECRET = "s3cret";
const server = new Server();
server.addService(Greeter, { sayHello: (req) => ({ message: `hello ${req.name}` }) });

listen(server, "recvRequest", (event) => {
  if (event.metadata.get("auth-token") !== SECRET) {
    event.handler = async () => {
      throw new RpcError(Code.UNAUTHENTICATED, "missing or wrong auth-token");
    };
    event.interrupt();
  }
});
listen(server, "sendTrailingMetadata", (event) => {
  event.metadata.set("x-served-by", "switchboard-example");
});

const port = await server.addInsecurePort("127.0.0.1:0");
server.start();
const channel = new Channel(`127.0.0.1:${port}`);
const greeter = createClient(Greeter, channel);
try {
  try {
    await greeter.sayHello({ name: "intruder" }, { timeout: 2000 });
  } catch (err) {
    if (!(err instanceof RpcError)) throw err;
    process.stdout.write(`refused: ${Code[err.code]} (${err.metadata?.get("x-served-by")})\n`);
  }
  const reply = await greeter.sayHello({ name: "friend" }, { timeout: 2000, metadata: { "auth-token": SECRET } });
  process.stdout.write(`${reply.message}\n`);
} finally {
  channel.close();
  await server.stop(1000);
}
