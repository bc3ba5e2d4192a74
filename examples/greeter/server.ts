// The README's server: helloworld.Greeter on 127.0.0.1:50051 (PORT=0 picks a free port).
// Run: `npx tsx examples/greeter/server.ts`; call it with examples/helloworld/client.ts.
import { Code, gracefulExit, RpcError, Server } from "switchboard";
import { Greeter } from "../gen/helloworld/helloworld_pb.js"; // protoc-gen-es output

const server = new Server({ maximumConcurrentRpcs: 1000, compression: "gzip" });
server.addService(Greeter, {
  // unary: (request, ctx) => response (request and response types come from the descriptor)
  sayHello(request) {
    if (!request.name) throw new RpcError(Code.INVALID_ARGUMENT, "name is required");
    return { message: `Hello, ${request.name}!` };
  },
  // server streaming: return any (async) iterable
  async *sayHelloStream(request, ctx) {
    for (let i = 0; i < 3 && ctx.isActive(); i++) yield { message: `#${i} Hello, ${request.name}!` };
  },
});
const port = await server.addInsecurePort(`127.0.0.1:${process.env["PORT"] ?? 50051}`); // resolves to the bound port
server.start();
// Ctrl-C / SIGTERM: refuse new calls, give running ones 5 s, then cancel them (a second signal exits at once).
gracefulExit([server], { graceMs: 5000 });
process.stdout.write(`listening on 127.0.0.1:${port}\n`);
