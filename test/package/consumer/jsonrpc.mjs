// Plain JavaScript, run by plain node (no loader): the JSON-RPC front from the installed
// package. One dispatcher served over HTTP and WebSocket (the `ws` dependency), called through
// RPCClient and a typed-less proxy; ZeroMQ must fail with a clear error, since `zeromq` is an
// optional peer the project did not install. The process must end by itself with exit code 0.
import {
  HttpClientTransport,
  HttpServerTransport,
  JSONRPCProtocol,
  RPCClient,
  RPCDispatcher,
  RPCServer,
  WebSocketClientTransport,
  WebSocketServerTransport,
  ZmqServerTransport,
} from "switchboard";

const dispatcher = new RPCDispatcher();
dispatcher.addMethod((a, b) => a + b, { name: "add", params: ["a", "b"] });
const math = new RPCDispatcher();
math.addMethod((a, b) => a * b, { name: "mul", params: ["a", "b"] });
dispatcher.addSubdispatch(math, "math.");

const http = await HttpServerTransport.listen({ port: 0 });
const ws = await WebSocketServerTransport.listen({ port: 0 });
const serving = [http, ws].map((t) => new RPCServer(t, new JSONRPCProtocol(), dispatcher).serveForever());

const overHttp = new RPCClient(new JSONRPCProtocol(), new HttpClientTransport(http.url));
console.log(`jsonrpc http: ${await overHttp.call("add", [2, 3])} ${await overHttp.getProxy("math.").mul(6, 7)}`);
const wsClient = await WebSocketClientTransport.connect(ws.url);
const overWs = new RPCClient(new JSONRPCProtocol(), wsClient);
console.log(`jsonrpc ws: ${await overWs.call("add", { a: "a", b: "b" })}`);
await wsClient.close();

try {
  await ZmqServerTransport.bind("tcp://127.0.0.1:0");
  console.log("jsonrpc zmq: bound without zeromq installed?");
} catch (e) {
  console.log(`jsonrpc zmq: ${e.code} ${/npm install zeromq/.test(e.message)}`);
}

await Promise.all([http.close(), ws.close()]);
await Promise.all(serving);
