// The Greeter with its handlers on a worker pool: `npx tsx examples/worker-pool/server.ts`
// (127.0.0.1:50051; HOST and PORT override). While one call counts primes on a thread, the
// event loop keeps answering the others. Ctrl-C stops gracefully; the pool closes after.
import { gracefulExit, Server, WorkerPool } from "switchboard";
import { Greeter } from "../gen/helloworld/helloworld_pb.js";

const pool = new WorkerPool<typeof import("./work.js")>({ module: new URL("./work.ts", import.meta.url) });
const server = new Server();
server.addService(Greeter, {
  sayHello: pool.unary("sayHello"),
  sayHelloStream: pool.serverStreaming("sayHelloStream"),
});
pool.attach(server); // closes the pool once server.stop() has finished
await pool.ready(); // fails fast if the module does not load or lacks a function

const port = await server.addInsecurePort(`${process.env["HOST"] ?? "127.0.0.1"}:${process.env["PORT"] ?? 50051}`);
server.start();
gracefulExit([server]);
process.stdout.write(`Greeter on a ${pool.size}-thread worker pool, listening on ${process.env["HOST"] ?? "127.0.0.1"}:${port}\n`);
