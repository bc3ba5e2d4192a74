// grpc.channelz.v1.Channelz for servers: call counts, listening sockets, one socket per
// connection with its stream/message counts and addresses, pagination and NOT_FOUND.
import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { Code, createClient, RpcError } from "../../src/index.js";
import { Greeter } from "../../examples/gen/helloworld/helloworld_pb.js";
import type { Address, Socket } from "../../src/gen/grpc/channelz/v1/channelz_pb.js";
import { addFailingGreeter, channelzServers, eventually, greet } from "./channelz-fixtures.js";
import { enableChannelz } from "../../src/services/channelz/index.js";
import { registry } from "../../src/services/channelz/registry.js";
import { Scope, T } from "./helpers.js";

let scope = new Scope();
afterEach(async () => {
  await scope.close();
  scope = new Scope();
});

type ChannelzClient = Awaited<ReturnType<typeof channelzServers>>["channelz"];

/** A TCP/IP address as plain values: the IP bytes as an array, the port. */
function tcp(a: Address | undefined): { ip: number[]; port: number } {
  assert.equal(a?.address.case, "tcpipAddress", "a TCP/IP address");
  const v = a!.address.value as { ipAddress: Uint8Array; port: number };
  return { ip: [...v.ipAddress], port: v.port };
}

const LOOPBACK = [127, 0, 0, 1];

async function sockets(channelz: ChannelzClient, serverId: number): Promise<Socket[]> {
  const page = await channelz.getServerSockets({ serverId: BigInt(serverId) });
  return Promise.all(page.socketRef.map(async (r) => (await channelz.getSocket({ socketId: r.socketId })).socket!));
}

async function expectCode(promise: Promise<unknown>, code: Code): Promise<void> {
  await assert.rejects(promise, (err: unknown) => err instanceof RpcError && err.code === code);
}

describe("channelz: servers", () => {
  it("GetServers/GetServer count 4 OK + 1 failed unary as calls_started=5, succeeded=4, failed=1, with last_call_started_timestamp", T, async () => {
    const { app, serverId, channelz } = await channelzServers(scope);
    const before = Date.now();
    await greet(createClient(Greeter, scope.channel(app.target)), 4, 1);

    const { server } = await eventually(
      () => channelz.getServer({ serverId: BigInt(serverId) }),
      (r) => r.server?.data?.callsSucceeded === 4n && r.server.data.callsFailed === 1n,
      "4 succeeded, 1 failed",
    );
    const data = server!.data!;
    assert.equal(data.callsStarted, 5n);
    const lastMs = Number(data.lastCallStartedTimestamp!.seconds) * 1000 + data.lastCallStartedTimestamp!.nanos / 1e6;
    assert.ok(lastMs >= before - 1 && lastMs <= Date.now() + 1, `last call started at ${lastMs}`);

    const listed = (await channelz.getServers({})).server.find((s) => s.ref?.serverId === BigInt(serverId));
    assert.equal(listed?.data?.callsStarted, 5n);
    // The listening socket is the bound port.
    assert.equal(listed!.listenSocket.length, 1);
    const listen = (await channelz.getSocket({ socketId: listed!.listenSocket[0]!.socketId })).socket!;
    assert.deepEqual(tcp(listen.local), { ip: LOOPBACK, port: app.port });
  });

  it("GetServerSockets lists the live connection; GetSocket has its streams, messages and ports; it disappears when the connection closes", T, async () => {
    const { app, serverId, channelz } = await channelzServers(scope);
    const channel = scope.channel(app.target);
    await greet(createClient(Greeter, channel), 2, 1);

    const [socket] = await eventually(
      () => sockets(channelz, serverId),
      (list) => list.length === 1 && list[0]!.data!.streamsSucceeded === 2n && list[0]!.data!.streamsFailed === 1n,
      "one socket with 2 OK + 1 failed streams",
    );
    const d = socket!.data!;
    assert.equal(d.streamsStarted, 3n);
    assert.equal(d.messagesReceived, 3n, "one request per call");
    assert.equal(d.messagesSent, 2n, "no response message on the failed call");
    assert.ok(d.lastRemoteStreamCreatedTimestamp, "a server's streams are created by the peer");
    assert.equal(d.lastLocalStreamCreatedTimestamp, undefined);
    assert.ok(d.lastMessageSentTimestamp && d.lastMessageReceivedTimestamp);
    const local = tcp(socket!.local);
    const remote = tcp(socket!.remote);
    assert.equal(local.port, app.port);
    assert.deepEqual(local.ip, LOOPBACK);
    assert.deepEqual(remote.ip, LOOPBACK);
    assert.ok(remote.port > 0 && remote.port !== app.port);
    assert.equal(socket!.security, undefined, "plaintext");

    channel.close();
    await eventually(() => sockets(channelz, serverId), (list) => list.length === 0, "the closed connection gone");
    await expectCode(channelz.getSocket({ socketId: socket!.ref!.socketId }), Code.NOT_FOUND);
  });

  it("GetServerSockets and GetServers page by start id and max_results, with end on the last page", T, async () => {
    const { app, serverId, channelz } = await channelzServers(scope);
    for (let i = 0; i < 3; i++) await createClient(Greeter, scope.channel(app.target)).sayHello({ name: `c${i}` });
    const all = await eventually(() => channelz.getServerSockets({ serverId: BigInt(serverId) }), (r) => r.socketRef.length === 3, "3 connections");
    assert.equal(all.end, true);
    const ids = all.socketRef.map((r) => r.socketId);
    assert.deepEqual([...ids].sort((a, b) => (a < b ? -1 : 1)), ids, "in id order");

    const first = await channelz.getServerSockets({ serverId: BigInt(serverId), maxResults: 2n });
    assert.deepEqual(first.socketRef.map((r) => r.socketId), ids.slice(0, 2));
    assert.equal(first.end, false);
    const second = await channelz.getServerSockets({ serverId: BigInt(serverId), startSocketId: ids[1]! + 1n, maxResults: 2n });
    assert.deepEqual(second.socketRef.map((r) => r.socketId), ids.slice(2));
    assert.equal(second.end, true);

    // The app server, then the admin server (created after it): one per page.
    const servers1 = await channelz.getServers({ startServerId: BigInt(serverId), maxResults: 1n });
    assert.deepEqual(servers1.server.map((s) => s.ref!.serverId), [BigInt(serverId)]);
    assert.equal(servers1.end, false);
    const servers2 = await channelz.getServers({ startServerId: BigInt(serverId) + 1n, maxResults: 1n });
    assert.equal(servers2.server.length, 1);
    assert.ok(servers2.server[0]!.ref!.serverId > BigInt(serverId));
    assert.equal(servers2.end, true);
    const beyond = await channelz.getServers({ startServerId: servers2.server[0]!.ref!.serverId + 1n });
    assert.deepEqual(beyond.server, []);
    assert.equal(beyond.end, true);
  });

  it("unknown ids answer NOT_FOUND (GetServer, GetServerSockets, GetSocket, GetChannel, GetSubchannel)", T, async () => {
    const { channelz } = await channelzServers(scope);
    const unknown = 1n << 40n;
    await expectCode(channelz.getServer({ serverId: unknown }), Code.NOT_FOUND);
    await expectCode(channelz.getServerSockets({ serverId: unknown }), Code.NOT_FOUND);
    await expectCode(channelz.getSocket({ socketId: unknown }), Code.NOT_FOUND);
    await expectCode(channelz.getChannel({ channelId: unknown }), Code.NOT_FOUND);
    await expectCode(channelz.getSubchannel({ subchannelId: unknown }), Code.NOT_FOUND);
    await expectCode(channelz.getServer({ serverId: -1n }), Code.NOT_FOUND);
  });

  it("a stopped server leaves GetServers; its id answers NOT_FOUND", T, async () => {
    const { app, serverId, channelz } = await channelzServers(scope);
    assert.ok((await channelz.getServer({ serverId: BigInt(serverId) })).server);
    await app.server.stop(0);
    await expectCode(channelz.getServer({ serverId: BigInt(serverId) }), Code.NOT_FOUND);
    assert.ok(!(await channelz.getServers({})).server.some((s) => s.ref!.serverId === BigInt(serverId)));
  });

  it("enableChannelz on a server that has already stopped does not list it (its stop hook would never run)", T, async () => {
    const { server } = await scope.server(addFailingGreeter);
    await server.stop(0);
    const id = enableChannelz(server);
    assert.equal(registry.servers.get(id), undefined);
    assert.equal(server.observers.active, false);
  });
});
