// Both HTTP/2 engines, server and client, in every pairing: our own engine ("switchboard", the
// default) and node:http2 ("node"). The gRPC code above them is the same; only `transport` differs.
// Run: `npx tsx examples/h2/transports.ts` (prints one line per pairing, then exits).
import { Channel, createClient, Server, type Transport } from "switchboard";
import { Greeter } from "../gen/helloworld/helloworld_pb.js";

const engines: Transport[] = ["switchboard", "node"];
for (const serverEngine of engines) {
  const server = new Server({ transport: serverEngine });
  server.addService(Greeter, {
    sayHello: (request) => ({ message: `Hello, ${request.name}! (server on ${serverEngine})` }),
    async *sayHelloStream(request) {
      for (let i = 0; i < 3; i++) yield { message: `#${i} ${request.name}` };
    },
  });
  const port = await server.start("127.0.0.1", 0);
  for (const clientEngine of engines) {
    await using channel = new Channel(`127.0.0.1:${port}`, { transport: clientEngine });
    const client = createClient(Greeter, channel);
    const reply = await client.sayHello({ name: `client on ${clientEngine}` });
    const stream: string[] = [];
    for await (const r of client.sayHelloStream({ name: "stream" })) stream.push(r.message);
    process.stdout.write(`${reply.message} | ${stream.join(", ")}\n`);
  }
  await server.stop();
}
