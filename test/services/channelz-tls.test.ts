// channelz sockets of a TLS connection carry Security.tls: the cipher suite's standard name and
// the certificates of both ends, on the server's socket and on our channel's.
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { afterEach, describe, it } from "node:test";
import { Channel, ChannelCredentials, createClient, Server, ServerCredentials } from "../../src/index.js";
import { Greeter } from "../../examples/gen/helloworld/helloworld_pb.js";
import type { Security_Tls, Socket } from "../../src/gen/grpc/channelz/v1/channelz_pb.js";
import { Channelz, ChannelzService } from "../../src/services/channelz/index.js";
import { addFailingGreeter } from "./channelz-fixtures.js";
import { T, tls, within } from "../server/helpers.js";

const servers: Server[] = [];
const channels: Channel[] = [];
afterEach(async () => {
  for (const ch of channels.splice(0)) ch.close();
  await within(Promise.all(servers.splice(0).map((s) => s.stop(0))), 5000, "server.stop(0) in cleanup");
});

function tlsOf(socket: Socket | undefined): Security_Tls {
  assert.equal(socket?.security?.model.case, "tls", "Security.tls");
  return socket!.security!.model.value as Security_Tls;
}

describe("channelz: TLS sockets", () => {
  it("a TLS connection's sockets report the cipher suite, the server certificate on both ends and the client certificate with mTLS", T, async () => {
    const server = new Server();
    servers.push(server);
    addFailingGreeter(server);
    new ChannelzService().register(server);
    const port = await server.addSecurePort(
      "127.0.0.1:0",
      ServerCredentials.ssl({ keyCertPairs: [{ privateKey: tls.serverKey, certChain: tls.serverCert }], rootCerts: tls.ca, requireClientAuth: true }),
    );
    server.start();
    const channel = new Channel(`127.0.0.1:${port}`, {
      credentials: ChannelCredentials.ssl({ rootCerts: tls.ca, privateKey: tls.clientKey, certChain: tls.clientCert }),
      channelz: true,
    });
    channels.push(channel);
    const channelz = createClient(Channelz, channel);
    await createClient(Greeter, channel).sayHello({ name: "tls" });

    const serverDer = [...new X509Certificate(tls.serverCert).raw];
    const clientDer = [...new X509Certificate(tls.clientCert).raw];

    // The server side of the connection (the only one: this channel).
    const { server: listed } = await channelz.getServers({}).then((r) => ({ server: r.server.find((s) => s.listenSocket.length > 0) }));
    assert.ok(listed);
    const refs = (await channelz.getServerSockets({ serverId: listed.ref!.serverId })).socketRef;
    assert.equal(refs.length, 1);
    const serverSide = tlsOf((await channelz.getSocket({ socketId: refs[0]!.socketId })).socket);
    assert.equal(serverSide.cipherSuite.case, "standardName");
    assert.match(String(serverSide.cipherSuite.value), /^TLS_/);
    assert.deepEqual([...serverSide.localCertificate], serverDer);
    assert.deepEqual([...serverSide.remoteCertificate], clientDer);

    // Our channel's side.
    const top = (await channelz.getTopChannels({})).channel.find((c) => c.data?.target === `127.0.0.1:${port}`)!;
    const sub = (await channelz.getSubchannel({ subchannelId: top.subchannelRef[0]!.subchannelId })).subchannel!;
    const clientSide = tlsOf((await channelz.getSocket({ socketId: sub.socketRef[0]!.socketId })).socket);
    assert.equal(clientSide.cipherSuite.value, serverSide.cipherSuite.value);
    assert.deepEqual([...clientSide.remoteCertificate], serverDer);
    assert.deepEqual([...clientSide.localCertificate], clientDer);
  });
});
