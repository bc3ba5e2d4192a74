// One port for every client: gRPC (HTTP/2), gRPC-Web and Connect (HTTP/2 and HTTP/1.1), with
// CORS for a web app served from another origin. PORT=0 picks a free port; ORIGIN names the
// web app's origin (default http://localhost:5173).
import { gracefulExit, Server } from "switchboard";
import { Greeter } from "../gen/helloworld/helloworld_pb.js";

const server = new Server({
  web: {
    // HTTP/1.1 beside HTTP/2 on this port (explicit, so node:http2 sniffs cleartext too).
    http1: true,
    cors: {
      origins: [process.env["ORIGIN"] ?? "http://localhost:5173"],
      // Metadata keys the page sends besides the protocols' own headers.
      allowedHeaders: ["authorization"],
    },
  },
});

server.addService(Greeter, {
  sayHello(request) {
    return { message: `Hello, ${request.name}!` };
  },
});

const port = await server.start("127.0.0.1", Number(process.env["PORT"] ?? 8080));
console.log(`listening on 127.0.0.1:${port}`);
gracefulExit([server]);
