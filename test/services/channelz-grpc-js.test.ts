// grpc.channelz.v1.Channelz read by @grpc/grpc-js's own channelz client definition
// (getChannelzServiceDefinition(): its channelz.proto through proto-loader, int64 as strings).
import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import * as grpc from "@grpc/grpc-js";
import { createClient } from "../../src/index.js";
import { Greeter } from "../../examples/gen/helloworld/helloworld_pb.js";
import { callsEnded, channelzServers, greet } from "./channelz-fixtures.js";
import { Scope, T } from "./helpers.js";

let scope = new Scope();
const clients: grpc.Client[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await scope.close();
  scope = new Scope();
});

type Unary = (request: object, callback: (err: grpc.ServiceError | null, response?: any) => void) => void;

/** A grpc-js Channelz client on `port`, its methods as promises. */
function grpcJsChannelz(port: number): (method: string, request: object) => Promise<any> {
  const Ctor = grpc.makeGenericClientConstructor(grpc.getChannelzServiceDefinition(), "Channelz");
  const client = new Ctor(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  clients.push(client);
  return (method, request) =>
    new Promise((resolve, reject) => {
      (client[method as keyof typeof client] as unknown as Unary).call(client, request, (err, response) => (err ? reject(err) : resolve(response)));
    });
}

describe("channelz: @grpc/grpc-js client", () => {
  it("GetServer, GetServerSockets and GetSocket decode in grpc-js: calls 3/2/1, the connection's ports, NOT_FOUND for an unknown id", T, async () => {
    const { app, admin, serverId, channelz } = await channelzServers(scope);
    await greet(createClient(Greeter, scope.channel(app.target)), 2, 1);
    await callsEnded(channelz, serverId, 3);
    const call = grpcJsChannelz(admin.port);

    const { server } = await call("GetServer", { server_id: String(serverId) });
    assert.equal(server.ref.server_id, String(serverId));
    assert.deepEqual([server.data.calls_started, server.data.calls_succeeded, server.data.calls_failed], ["3", "2", "1"]);
    assert.ok(server.data.last_call_started_timestamp);

    const sockets = await call("GetServerSockets", { server_id: String(serverId) });
    assert.equal(sockets.end, true);
    assert.equal(sockets.socket_ref.length, 1);
    const { socket } = await call("GetSocket", { socket_id: sockets.socket_ref[0].socket_id });
    assert.equal(socket.local.address, "tcpip_address");
    assert.equal(socket.local.tcpip_address.port, app.port);
    assert.deepEqual([...socket.local.tcpip_address.ip_address], [127, 0, 0, 1]);
    assert.equal(socket.data.streams_started, "3");

    await assert.rejects(call("GetSocket", { socket_id: "1099511627776" }), (err: grpc.ServiceError) => err.code === grpc.status.NOT_FOUND);
  });
});
