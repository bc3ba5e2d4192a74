// Plain JavaScript, run by plain node (no loader): the Health service's handlers on a WorkerPool,
// so the pool's threads boot from the package's compiled dist/. One unary and one
// server-streaming call, then the channel closes, the server stops (which closes the attached
// pool) and the process must end by itself with exit code 0.
import { Channel, createClient, Health, Server, ServingStatus, WorkerPool } from "switchboard";

const pool = new WorkerPool({ module: new URL("./work.mjs", import.meta.url), size: 2 });
const server = new Server();
server.addService(Health, { check: pool.unary("check"), watch: pool.serverStreaming("watch") });
pool.attach(server);
await pool.ready();
const port = await server.addInsecurePort("127.0.0.1:0");
server.start();

const channel = new Channel(`127.0.0.1:${port}`);
try {
  const client = createClient(Health, channel);
  const reply = await client.check({ service: "" }, { timeout: 10_000 });
  console.log(`pool unary: ${ServingStatus[reply.status]}`);
  const seen = [];
  for await (const update of client.watch({ service: "" }, { timeout: 10_000 })) seen.push(ServingStatus[update.status]);
  console.log(`pool server-streaming: ${seen.join(" ")}`);
} finally {
  channel.close();
  await server.stop();
}
console.log(`pool threads started: ${pool.stats.threadsStarted}`);
