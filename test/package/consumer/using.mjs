// Plain JavaScript with the native `await using` syntax (V8 has it from Node 24): the server
// and the channel are disposed in reverse order at the end of the module, and the process must
// end by itself with exit code 0.
import { Channel, createClient, Health, Server, ServingStatus } from "switchboard";

await using server = new Server();
server.addService(Health, {
  check: () => ({ status: ServingStatus.SERVING }),
  async *watch() {
    yield { status: ServingStatus.SERVING };
    yield { status: ServingStatus.NOT_SERVING };
  },
});
const port = await server.addInsecurePort("127.0.0.1:0");
server.start();
await using channel = new Channel(`127.0.0.1:${port}`);
const client = createClient(Health, channel);
const reply = await client.check({ service: "" }, { timeout: 10_000 });
const seen = [];
for await (const update of client.watch({ service: "" }, { timeout: 10_000 })) seen.push(ServingStatus[update.status]);
console.log(`native await using: ${ServingStatus[reply.status]}; ${seen.join(" ")}`);
