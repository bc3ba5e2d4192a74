// grpc.channelz.v1.Channelz for our client channels (ChannelOptions.channelz): target, state,
// call counts, subchannel -> socket, and leaving the registry on close().
import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { Channel, Code, createClient, RpcError } from "../../src/index.js";
import { Greeter } from "../../examples/gen/helloworld/helloworld_pb.js";
import { ChannelConnectivityState_State as State, type Address } from "../../src/gen/grpc/channelz/v1/channelz_pb.js";
import { addFailingGreeter, channelzServers, greet } from "./channelz-fixtures.js";
import { Scope, T, until } from "./helpers.js";
import type { ResolverListener } from "../../src/client/resolver.js";
import { registry } from "../../src/services/channelz/registry.js";

let scope = new Scope();
const channels: Channel[] = [];
afterEach(async () => {
  for (const ch of channels.splice(0)) ch.close();
  await scope.close();
  scope = new Scope();
});

function tracked(target: string): Channel {
  const ch = new Channel(target, { channelz: true });
  channels.push(ch);
  return ch;
}

function port(a: Address | undefined): number {
  assert.equal(a?.address.case, "tcpipAddress");
  return (a!.address.value as { port: number }).port;
}

describe("channelz: channels", () => {
  it("GetTopChannels shows a channelz channel with its target, READY, calls 4 OK + 1 failed, and its subchannel -> socket", T, async () => {
    const { app, serverId, channelz } = await channelzServers(scope);
    const channel = tracked(app.target);
    await greet(createClient(Greeter, channel), 4, 1);

    const top = await channelz.getTopChannels({});
    const listed = top.channel.filter((c) => c.data?.target === app.target);
    assert.equal(listed.length, 1, "our channel, once");
    const c = listed[0]!;
    assert.equal(top.end, true);
    assert.equal(c.ref!.name, app.target);
    assert.equal(c.data!.state!.state, State.READY);
    assert.equal(c.data!.callsStarted, 5n);
    assert.equal(c.data!.callsSucceeded, 4n);
    assert.equal(c.data!.callsFailed, 1n);
    assert.ok(c.data!.lastCallStartedTimestamp);
    assert.equal(c.subchannelRef.length, 1);

    const sub = (await channelz.getSubchannel({ subchannelId: c.subchannelRef[0]!.subchannelId })).subchannel!;
    assert.equal(sub.data!.target, app.target);
    assert.equal(sub.data!.state!.state, State.READY);
    assert.deepEqual([sub.data!.callsStarted, sub.data!.callsSucceeded, sub.data!.callsFailed], [5n, 4n, 1n]);
    assert.equal(sub.socketRef.length, 1);

    const socket = (await channelz.getSocket({ socketId: sub.socketRef[0]!.socketId })).socket!;
    const d = socket.data!;
    assert.deepEqual([d.streamsStarted, d.streamsSucceeded, d.streamsFailed], [5n, 4n, 1n]);
    assert.equal(d.messagesSent, 5n);
    assert.equal(d.messagesReceived, 4n);
    assert.ok(d.lastLocalStreamCreatedTimestamp, "a channel creates its streams");
    assert.equal(port(socket.remote), app.port);

    // The same connection seen from the server: its remote port is our local port.
    const serverSockets = await channelz.getServerSockets({ serverId: BigInt(serverId) });
    const ends = await Promise.all(serverSockets.socketRef.map(async (r) => (await channelz.getSocket({ socketId: r.socketId })).socket!));
    assert.ok(
      ends.some((s) => port(s.remote) === port(socket.local)),
      `a server socket whose remote port is ${port(socket.local)}`,
    );

    // GetChannel answers the same channel.
    const one = (await channelz.getChannel({ channelId: c.ref!.channelId })).channel!;
    assert.equal(one.data!.target, app.target);
  });

  it("a closed channel leaves GetTopChannels and its ids answer NOT_FOUND; a channel without channelz is never listed", T, async () => {
    const { app, channelz } = await channelzServers(scope);
    const untracked = scope.channel(app.target);
    await createClient(Greeter, untracked).sayHello({ name: "x" });
    const channel = tracked(app.target);
    await createClient(Greeter, channel).sayHello({ name: "y" });

    const mine = (await channelz.getTopChannels({})).channel.filter((c) => c.data?.target === app.target);
    assert.equal(mine.length, 1, "only the channelz: true channel");
    const c = mine[0]!;
    assert.equal(c.data!.callsStarted, 1n);
    const subId = c.subchannelRef[0]!.subchannelId;
    const sub = (await channelz.getSubchannel({ subchannelId: subId })).subchannel!;
    const socketId = sub.socketRef[0]!.socketId;

    channel.close();
    assert.ok(!(await channelz.getTopChannels({})).channel.some((x) => x.ref!.channelId === c.ref!.channelId));
    for (const ask of [
      () => channelz.getChannel({ channelId: c.ref!.channelId }),
      () => channelz.getSubchannel({ subchannelId: subId }),
      () => channelz.getSocket({ socketId }),
    ]) {
      await assert.rejects(ask(), (err: unknown) => err instanceof RpcError && err.code === Code.NOT_FOUND);
    }
  });

  it("GetTopChannels pages by start_channel_id and max_results", T, async () => {
    const { app, channelz } = await channelzServers(scope);
    const ids: bigint[] = [];
    for (let i = 0; i < 3; i++) tracked(app.target);
    const all = await channelz.getTopChannels({});
    for (const c of all.channel) if (c.data?.target === app.target) ids.push(c.ref!.channelId);
    assert.equal(ids.length, 3);
    const first = await channelz.getTopChannels({ startChannelId: ids[0]!, maxResults: 2n });
    assert.deepEqual(first.channel.map((c) => c.ref!.channelId), ids.slice(0, 2));
    assert.equal(first.end, false);
    const rest = await channelz.getTopChannels({ startChannelId: ids[1]! + 1n, maxResults: 2n });
    assert.deepEqual(rest.channel.map((c) => c.ref!.channelId), ids.slice(2));
    assert.equal(rest.end, true);
    // Never connected: IDLE, no subchannel calls yet.
    assert.equal(rest.channel[0]!.data!.state!.state, State.IDLE);
    assert.equal(rest.channel[0]!.data!.callsStarted, 0n);
  });

  it("a subchannel the resolver dropped leaves the registry when the next one takes a call, without anybody reading channelz", T, async () => {
    const a = await scope.server(addFailingGreeter);
    const b = await scope.server(addFailingGreeter);
    let listener: ResolverListener | undefined;
    const channel = new Channel("churn:svc", {
      channelz: true,
      resolvers: { churn: () => ({ start: (l) => ((listener = l), queueMicrotask(() => l.onAddresses([{ host: "127.0.0.1", port: a.port }]))), refresh() {}, close() {} }) },
    });
    channels.push(channel);
    const greeter = createClient(Greeter, channel);
    await greeter.sayHello({ name: "a" });
    const [subA] = channel.channelzSubchannels();
    assert.ok(subA);
    const subAId = [...registry.subchannels.page(0, 0).items].find((s) => s.target === subA.key)?.ref.id;
    assert.ok(subAId !== undefined, "subchannel a is listed");

    listener!.onAddresses([{ host: "127.0.0.1", port: b.port }]);
    await until(() => !channel.channelzSubchannels().includes(subA), 3000, "subchannel a released");
    await greeter.sayHello({ name: "b" });
    // Looked up by id only: no channel snapshot (GetTopChannels, GetChannel) has pruned it.
    assert.equal(registry.subchannels.get(subAId), undefined);
  });
});
