// JSON-RPC 2.0 in the tinyrpc model: a dispatcher of public methods, a protocol and a
// transport make an RPCServer; an RPCClient calls it through a typed proxy and a batch.
import { HttpClientTransport, HttpServerTransport, JSONRPCProtocol, RPCClient, RPCDispatcher, RPCServer, rpcPublic } from "switchboard";

class Calculator {
  @rpcPublic
  add(a: number, b: number): number {
    return a + b;
  }

  @rpcPublic("divide")
  div(a: number, b: number): number {
    if (b === 0) throw new Error("division by zero"); // -> error -32000, message as thrown
    return a / b;
  }
}

const dispatcher = new RPCDispatcher();
dispatcher.registerInstance(new Calculator(), "calc.");
dispatcher.addMethod(function greet(name: string, greeting = "Hello") {
  return `${greeting}, ${name}!`;
});

const transport = await HttpServerTransport.listen({ host: "127.0.0.1", port: 0 });
const server = new RPCServer(transport, new JSONRPCProtocol(), dispatcher);
const serving = server.serveForever(); // resolves when the transport closes

const client = new RPCClient(new JSONRPCProtocol(), new HttpClientTransport(transport.url));
const calc = client.getProxy<Calculator & { divide(a: number, b: number): number }>("calc.");
console.log(await calc.add(2, 3)); // 5
console.log(await client.call("greet", { name: "Ada" })); // named params: Hello, Ada!
const results = await client.batchCall([
  { method: "calc.divide", params: [1, 4] },
  { method: "calc.divide", params: [1, 0] },
  { method: "greet", params: ["Bob", "Hi"] },
]);
console.log(results.map((r) => (r.ok ? r.result : `error ${r.error.code}: ${r.error.message}`)));

await transport.close();
await serving;
