// The floor: our own HTTP/2 engine (src/h2) with no gRPC framework, answering every call with
// the fixed, precomputed gRPC responses of ./fixed.ts, the same handler the ceiling (bare.ts)
// runs on node:http2. Switchboard on this engine ("sb") can at best approach this server, so
// sb/floor is what the gRPC layer costs on top of its own engine. Default engine options, as
// the ceiling uses node:http2's defaults.
//   node --expose-gc --import tsx bench/servers/floor.ts --port 0
import { createH2Server, type H2ServerStream } from "../../src/h2/index.js";
import { portArg, serveControl } from "./control.js";
import { answer } from "./fixed.js";

const server = createH2Server();
server.on("sessionError", () => {});
server.on("stream", (stream: H2ServerStream, headers: Record<string, string | string[] | undefined>) => answer(stream, headers[":path"]));
server.listen(portArg(), "127.0.0.1", () => {
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  serveControl(port, () => {
    server.close();
    process.exit(0);
  });
});
