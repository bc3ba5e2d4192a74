// A Greeter that announces itself in etcd, and a resolver that follows the announcement.
//   etcd &   # any etcd v3 on 127.0.0.1:2379 (ETCD to change it)
//   npx tsx examples/etcd/register.ts
// While it runs, `ETCDCTL_API=3 etcdctl get --prefix services/` shows
//   services/helloworld.Greeter/127.0.0.1:<port>
//   {"Op":0,"Addr":"127.0.0.1:<port>","Metadata":{"zone":"local"}}
// which grpc-go's etcd resolver reads as well. Ctrl-C revokes the lease: the record vanishes.
import { EtcdClient, etcdResolver, parseTargetUri, registerWithEtcd, Server } from "switchboard";
import { Greeter } from "../gen/helloworld/helloworld_pb.js";

const etcd = new EtcdClient({ endpoints: [process.env["ETCD"] ?? "http://127.0.0.1:2379"] });

const server = new Server();
server.addService(Greeter, {
  sayHello: (request) => ({ message: `Hello, ${request.name || "world"}!` }),
  async *sayHelloStream(request) {
    yield { message: `Hello, ${request.name || "world"}!` };
  },
});
await server.start("127.0.0.1", 0);
const advertise = `127.0.0.1:${server.ports[0]}`;

// One lease (10 s TTL, kept alive) for every service the server serves; server.stop() starts
// registration.stop(), which revokes the lease.
const registration = registerWithEtcd(server, { etcd, advertise, metadata: { zone: "local" } });

// What a client's channel would see for etcd:///services/helloworld.Greeter.
const resolver = etcdResolver(etcd)(parseTargetUri("etcd:///services/helloworld.Greeter")!);
resolver.start({
  onAddresses: (list) => console.log("helloworld.Greeter ->", list.map((a) => `${a.host}:${a.port}`).join(", ") || "(none)"),
  onError: (err) => console.log("etcd not reachable yet, retrying:", err.message),
});

if (!(await registration.ready)) process.exit(1);
console.log(`serving on ${advertise}, registered as ${registration.keys.join(", ")}`);

let stopping = false;
const stop = async () => {
  // A second signal while stopping means "now".
  if (stopping) process.exit(1);
  stopping = true;
  resolver.close();
  await server.stop();
  await registration.stop(); // the revoke server.stop() began: wait for it
  etcd.close();
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
// EXAMPLE_ONESHOT=1 (the test) stops after the first registration.
if (process.env["EXAMPLE_ONESHOT"]) await stop();
