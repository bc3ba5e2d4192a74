// Plain JavaScript, run by plain node: ThreadPoolServer and ForkingServer from the installed
// package load their thread and child entries from dist/ and the service from rpyc-service.mjs.
import { connect, ForkingServer, kw, ThreadPoolServer } from "switchboard/rpyc";
import { WhereService } from "./rpyc-service.mjs";

const serviceModule = new URL("./rpyc-service.mjs", import.meta.url);
for (const [name, server] of [
  ["threadpool", new ThreadPoolServer(WhereService, { hostname: "127.0.0.1", port: 0, nbThreads: 2, serviceModule })],
  ["forking", new ForkingServer(WhereService, { hostname: "127.0.0.1", port: 0, serviceModule })],
]) {
  await server.start();
  const conn = await connect("127.0.0.1", server.port);
  const root = await conn.root;
  const [pid, thread] = String(await root.where()).split(":").map(Number);
  const elsewhere = name === "threadpool" ? pid === process.pid && thread !== 0 : pid !== process.pid;
  console.log(`rpyc ${name}: ${await root.add(1, kw({ b: 2 }))} ${elsewhere}`);
  await conn.close();
  await server.close();
}
