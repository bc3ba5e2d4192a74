// grpc.channelz.v1.Channelz: a Greeter server that serves channelz about itself, and a client
// channel listed in channelz too. Run: `npx tsx examples/observability/channelz.ts` prints what
// channelz reports after a few calls and exits; with `--serve` it keeps serving on
// 127.0.0.1:50051 (PORT=0 picks a free port) for grpcurl or a grpcio client.
import { addReflection, Channel, ChannelConnectivityState_State as State, ChannelzService, Channelz, Code, createClient, gracefulExit, RpcError, Server } from "switchboard";
import { Greeter } from "../gen/helloworld/helloworld_pb.js";

const server = new Server();
server.addService(Greeter, {
  sayHello: (request) => {
    if (request.name === "") throw new RpcError(Code.INVALID_ARGUMENT, "name is required");
    return { message: `Hello, ${request.name}!` };
  },
  async *sayHelloStream(request) {
    yield { message: `Hello, ${request.name}!` };
  },
});
// Serves grpc.channelz.v1.Channelz and tracks this server (grpcio `add_channelz_servicer(server)`).
new ChannelzService().register(server);
// Reflection lists Channelz too, so `switchboard call` and grpcurl need no .proto files.
addReflection(server);
const port = await server.addInsecurePort(`127.0.0.1:${process.env["PORT"] ?? 50051}`);
server.start();
process.stdout.write(`listening on 127.0.0.1:${port}\n`);

// `channelz: true` lists the channel, its subchannel and its connection until close().
const channel = new Channel(`127.0.0.1:${port}`, { channelz: true });
const greeter = createClient(Greeter, channel);
for (const name of ["Ada", "Grace", ""]) {
  await greeter.sayHello({ name }).catch((err: RpcError) => process.stdout.write(`call failed: ${Code[err.code]}\n`));
}

// Ask channelz, as any gRPC client would (here over the same channel).
const channelz = createClient(Channelz, channel);
for (const s of (await channelz.getServers({})).server) {
  const d = s.data!;
  process.stdout.write(`server ${s.ref!.serverId}: calls started ${d.callsStarted}, succeeded ${d.callsSucceeded}, failed ${d.callsFailed}\n`);
  for (const ref of (await channelz.getServerSockets({ serverId: s.ref!.serverId })).socketRef) {
    const socket = (await channelz.getSocket({ socketId: ref.socketId })).socket!;
    process.stdout.write(`  socket ${ref.socketId} (${ref.name}): streams ${socket.data!.streamsStarted}, messages in ${socket.data!.messagesReceived}, out ${socket.data!.messagesSent}\n`);
  }
}
for (const c of (await channelz.getTopChannels({})).channel) {
  const d = c.data!;
  process.stdout.write(`channel ${c.ref!.channelId} to ${d.target}: state ${State[d.state!.state]}, calls started ${d.callsStarted}, failed ${d.callsFailed}, subchannels ${c.subchannelRef.map((r) => r.subchannelId).join(",")}\n`);
}

if (process.argv.includes("--serve")) {
  gracefulExit([server], { graceMs: 1000 }); // SIGINT/SIGTERM: stop
} else {
  channel.close();
  await server.stop(1000);
}
