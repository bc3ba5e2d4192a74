// An SR OS-style gRPC script for helloworld.Greeter on 127.0.0.1:50051 (PORT=0 picks a free port).
// Run: `npx tsx examples/sros/script.ts`.
import { Server } from "switchboard";
import { addHandler, bindServer, handleRpc, StatusCode, type Context } from "switchboard/sros";
import { Greeter, type HelloRequest } from "../gen/helloworld/helloworld_pb.js";

// 1. A handler function for each RPC of the service.
function sayHello(request: HelloRequest, context: Context) {
  if (!request.name) context.abort(StatusCode.INVALID_ARGUMENT, "name is required");
  return { message: `Hello, ${request.name}!` }; // the reply's fields, like an SR OS dict
}

function* sayHelloStream(request: HelloRequest) {
  for (let i = 0; i < 3; i++) yield { message: `#${i} Hello, ${request.name}!` };
}

// The router's gRPC server: a Switchboard Server; `services` is the custom-proto configuration.
const server = new Server();
bindServer(server, { services: [Greeter] });

// 2. Glue package/service/RPC to the handler functions.
addHandler("Greeter", "SayHello", sayHello, { package: "helloworld" });
addHandler("Greeter", "SayHelloStream", sayHelloStream, { package: "helloworld" });

const port = await server.addInsecurePort(`127.0.0.1:${process.env["PORT"] ?? 50051}`);
server.start();
process.once("SIGTERM", () => void server.stop(1000));
process.stdout.write(`listening on 127.0.0.1:${port}\n`);

// 3. Handle RPCs, one per handleRpc(). A handler's exception (already sent to the client as
// INTERNAL) and NotImplementedError arrive here; ERR_SB_STOPPED means the server stopped.
for (;;) {
  try {
    await handleRpc();
  } catch (err) {
    if ((err as { code?: string }).code === "ERR_SB_STOPPED") break;
    process.stderr.write(`${String(err)}\n`);
  }
}
