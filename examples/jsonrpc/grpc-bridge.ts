// One implementation, two protocols, one process: helloworld.Greeter served on gRPC and, through
// the gRPC bridge, as JSON-RPC 2.0 over HTTP.
//
//   node --import tsx examples/jsonrpc/grpc-bridge.ts [--grpc PORT] [--http PORT] [--host 127.0.0.1]
//
// Port 0 (the default for both) picks a free port. Prints `listening grpc HOST:PORT` and
// `listening http http://HOST:PORT/`, and stops both on SIGINT/SIGTERM (running calls answer first).
// Try it:
//
//   curl -s http://127.0.0.1:PORT/ -d '{"jsonrpc":"2.0","id":1,"method":"helloworld.Greeter.SayHello","params":{"name":"Ada"}}'
//   -> {"jsonrpc":"2.0","id":1,"result":{"message":"Hello, Ada!"}}
//   "helloworld.Greeter.SayHelloStream" answers with the array of the stream's messages.
import { parseArgs } from "node:util";
import { exposeGrpcServer, HttpServerTransport, JSONRPCProtocol, RPCDispatcher, RPCServer, Server, type ServiceImpl } from "switchboard";
import { Greeter } from "../gen/helloworld/helloworld_pb.js";

const { values } = parseArgs({
  options: {
    grpc: { type: "string", default: "0" },
    http: { type: "string", default: "0" },
    host: { type: "string", default: "127.0.0.1" },
  },
});

function port(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    console.error(`grpc-bridge example: --${name} must be a port number 0-65535, not ${JSON.stringify(value)}`);
    process.exit(1);
  }
  return n;
}

const grpcPort = port("grpc", values.grpc);
const httpPort = port("http", values.http);
const host = values.host;

// The one implementation both protocols call.
const greeter: ServiceImpl<typeof Greeter> = {
  sayHello(request) {
    return { message: `Hello, ${request.name || "world"}!` };
  },
  async *sayHelloStream(request, ctx) {
    for (let i = 1; i <= 3 && ctx.isActive(); i++) yield { message: `Hello #${i}, ${request.name || "world"}!` };
  },
};

const server = new Server();
server.addService(Greeter, greeter);
const boundGrpc = await server.addInsecurePort(`${host}:${grpcPort}`);
server.start();
console.log(`listening grpc ${host}:${boundGrpc}`);

// Every method of the server's protobuf services, as `package.Service.Method`.
const dispatcher = new RPCDispatcher();
exposeGrpcServer(dispatcher, server);
const http = await HttpServerTransport.listen({ host, port: httpPort });
const serving = new RPCServer(http, new JSONRPCProtocol(), dispatcher).serveForever();
console.log(`listening http ${http.url}`);

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    void Promise.all([server.stop(5000), http.close().then(() => serving)]).then(
      () => console.log("stopped"),
      (err: unknown) => {
        console.error(`grpc-bridge example: stop failed: ${err instanceof Error ? err.message : String(err)}`);
        process.exitCode = 1;
      },
    );
  });
}
