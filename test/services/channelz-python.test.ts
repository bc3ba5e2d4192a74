// grpc.channelz.v1.Channelz checked by a python3-grpcio (C-core) client whose messages are
// generated at test time from Debian's grpc-proto channelz.proto (test/services/python/channelz_pb.py).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { afterEach, describe, it } from "node:test";
import { Channel, createClient } from "../../src/index.js";
import { Greeter } from "../../examples/gen/helloworld/helloworld_pb.js";
import { DEBIAN_PYTHON, requirePeer } from "../interop/peers.js";
import { callsEnded, channelzServers, greet } from "./channelz-fixtures.js";
import { Scope } from "./helpers.js";

/**
 * Why the peer cannot run, if it cannot: python3-grpcio and protobuf under Debian's python3, and
 * a protoc (Debian's protobuf-compiler, or the one of Debian's python3-grpc-tools). Checked
 * before any server of ours exists, so the synchronous spawn cannot block one.
 */
function channelzPeerMissing(): string | undefined {
  const probe = "import shutil, grpc, google.protobuf\nif not shutil.which('protoc'):\n    import grpc_tools.protoc";
  const r = spawnSync(DEBIAN_PYTHON, ["-c", probe], { encoding: "utf8", timeout: 20_000 });
  if (r.error) return `${DEBIAN_PYTHON} not runnable: ${r.error.message}`;
  if (r.status !== 0) return `python3-grpcio, python3-protobuf or a protoc (protobuf-compiler / python3-grpc-tools) missing: ${r.stderr.trim().split("\n").pop()}`;
  return undefined;
}

const skip = requirePeer(channelzPeerMissing());

let scope = new Scope();
const channels: Channel[] = [];
afterEach(async () => {
  for (const ch of channels.splice(0)) ch.close();
  await scope.close();
  scope = new Scope();
});

interface Address {
  ip?: string;
  port?: number;
  uds?: string;
}
interface PySocket {
  id: number;
  local: Address | null;
  remote: Address | null;
  streams_started: number;
  streams_succeeded: number;
  streams_failed: number;
  messages_sent: number;
  messages_received: number;
  has_last_remote_stream: boolean;
  has_last_local_stream: boolean;
  tls: boolean;
}
interface PyReport {
  servers: { id: number; calls_started: number; calls_succeeded: number; calls_failed: number; has_last_call_started: boolean; listen: Address[] }[];
  servers_end: boolean;
  server_sockets: PySocket[];
  server_sockets_end: boolean;
  channels: { id: number; target: string; state: string; calls_started: number; calls_succeeded: number; calls_failed: number; subchannels: { state: string; calls_started: number; sockets: PySocket[] }[] }[];
  unknown_server: string;
}

describe("channelz: python3-grpcio client", { skip }, () => {
  it("reads servers (calls 5/4/1, listen port), server sockets (ports, streams, messages), our channel (READY, subchannel -> socket) and NOT_FOUND for an unknown id", { timeout: 60_000 }, async () => {
    const { app, admin, serverId, channelz } = await channelzServers(scope);
    const channel = new Channel(app.target, { channelz: true });
    channels.push(channel);
    await greet(createClient(Greeter, channel), 4, 1);
    await callsEnded(channelz, serverId, 5);

    const py = scope.python("channelz_client.py", ["--port", String(admin.port), "--server-id", String(serverId), "--target", app.target]);
    const report = await py.next<PyReport>(45_000);
    const { code, stderr } = await py.finish();
    assert.equal(code, 0, stderr);

    const server = report.servers.find((s) => s.id === serverId);
    assert.ok(server, `server ${serverId} listed: ${JSON.stringify(report.servers)}`);
    assert.deepEqual([server.calls_started, server.calls_succeeded, server.calls_failed], [5, 4, 1]);
    assert.equal(server.has_last_call_started, true);
    assert.deepEqual(server.listen, [{ ip: "127.0.0.1", port: app.port }]);
    assert.ok(report.servers.some((s) => s.id !== serverId && s.listen.some((l) => l.port === admin.port)), "the admin server is listed too");
    assert.equal(report.servers_end, true);

    assert.equal(report.server_sockets.length, 1, "our channel's one connection");
    assert.equal(report.server_sockets_end, true);
    const s = report.server_sockets[0]!;
    assert.deepEqual(s.local, { ip: "127.0.0.1", port: app.port });
    assert.equal(s.remote?.ip, "127.0.0.1");
    assert.deepEqual([s.streams_started, s.streams_succeeded, s.streams_failed], [5, 4, 1]);
    assert.deepEqual([s.messages_received, s.messages_sent], [5, 4]);
    assert.equal(s.has_last_remote_stream, true);
    assert.equal(s.tls, false);

    assert.equal(report.channels.length, 1);
    const c = report.channels[0]!;
    assert.equal(c.state, "READY");
    assert.deepEqual([c.calls_started, c.calls_succeeded, c.calls_failed], [5, 4, 1]);
    assert.equal(c.subchannels.length, 1);
    assert.equal(c.subchannels[0]!.state, "READY");
    const clientSocket = c.subchannels[0]!.sockets[0]!;
    assert.deepEqual(clientSocket.remote, { ip: "127.0.0.1", port: app.port });
    // Both ends of one connection: the server's remote port is the channel's local port.
    assert.equal(clientSocket.local?.port, s.remote?.port);
    assert.equal(clientSocket.has_last_local_stream, true);

    assert.equal(report.unknown_server, "NOT_FOUND");
  });
});
