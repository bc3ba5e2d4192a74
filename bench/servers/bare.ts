// The ceiling: a bare node:http2 server with no gRPC framework, answering every call with the
// fixed, precomputed gRPC responses of ./fixed.ts (the same handler as the floor, floor.ts,
// which runs it on our own engine instead).
//   node --expose-gc --import tsx bench/servers/bare.ts --port 0
import http2 from "node:http2";
import { portArg, serveControl } from "./control.js";
import { answer } from "./fixed.js";

const server = http2.createServer();
server.on("sessionError", () => {});
server.on("stream", (stream, headers) => answer(stream, headers[":path"]));
server.listen(portArg(), "127.0.0.1", () => {
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  serveControl(port, () => {
    server.close();
    process.exit(0);
  });
});
