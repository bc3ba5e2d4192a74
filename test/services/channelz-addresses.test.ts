// channelz socket addresses: IPv4 and IPv6 as raw network-order bytes (TcpIpAddress.ip_address),
// and Unix domain sockets as UdsAddress with the socket's path on both ends.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterEach, describe, it } from "node:test";
import { Channel, createClient, Server } from "../../src/index.js";
import { Greeter } from "../../examples/gen/helloworld/helloworld_pb.js";
import type { Address } from "../../src/gen/grpc/channelz/v1/channelz_pb.js";
import { ipBytes } from "../../src/services/channelz/messages.js";
import { Channelz, ChannelzService } from "../../src/services/channelz/index.js";
import { addFailingGreeter } from "./channelz-fixtures.js";
import { T, within } from "../server/helpers.js";

const servers: Server[] = [];
const channels: Channel[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const ch of channels.splice(0)) ch.close();
  await within(Promise.all(servers.splice(0).map((s) => s.stop(0))), 5000, "server.stop(0) in cleanup");
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A server with the Greeter and Channelz on `address`, and a channelz channel to `target`. */
async function serveOn(address: string, target: (port: number) => string) {
  const server = new Server();
  servers.push(server);
  addFailingGreeter(server);
  new ChannelzService().register(server);
  const port = await server.addInsecurePort(address);
  server.start();
  const channel = new Channel(target(port), { channelz: true });
  channels.push(channel);
  await createClient(Greeter, channel).sayHello({ name: "addr" });
  const channelz = createClient(Channelz, channel);
  const serverId = (await channelz.getServers({})).server.at(-1)!.ref!.serverId;
  const [ref] = (await channelz.getServerSockets({ serverId })).socketRef;
  const serverSocket = (await channelz.getSocket({ socketId: ref!.socketId })).socket!;
  const top = (await channelz.getTopChannels({})).channel.find((c) => c.data?.target === target(port))!;
  const sub = (await channelz.getSubchannel({ subchannelId: top.subchannelRef[0]!.subchannelId })).subchannel!;
  const clientSocket = (await channelz.getSocket({ socketId: sub.socketRef[0]!.socketId })).socket!;
  return { port, serverSocket, clientSocket };
}

function tcp(a: Address | undefined): { ip: number[]; port: number } {
  assert.equal(a?.address.case, "tcpipAddress");
  const v = a!.address.value as { ipAddress: Uint8Array; port: number };
  return { ip: [...v.ipAddress], port: v.port };
}

describe("channelz: socket addresses", () => {
  it("IP text becomes network-order bytes: 4 for IPv4, 16 for IPv6 (:: expanded, dotted tail, zone dropped)", () => {
    assert.deepEqual([...ipBytes("10.1.2.3")], [10, 1, 2, 3]);
    assert.deepEqual([...ipBytes("::1")], [...Array(15).fill(0), 1]);
    assert.deepEqual([...ipBytes("2001:db8::8a2e:370:7334")], [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0x8a, 0x2e, 0x03, 0x70, 0x73, 0x34]);
    assert.deepEqual([...ipBytes("::ffff:192.0.2.1")], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1]);
    assert.deepEqual([...ipBytes("fe80::1%eth0")], [0xfe, 0x80, ...Array(13).fill(0), 1]);
    assert.deepEqual([...ipBytes("not an ip")], []);
  });

  it("an IPv6 loopback connection has 16-byte ::1 addresses and the right ports on both ends", T, async (t) => {
    let result;
    try {
      result = await serveOn("[::1]:0", (port) => `[::1]:${port}`);
    } catch (err) {
      // Hosts without IPv6 loopback cannot bind [::1].
      if ((err as NodeJS.ErrnoException).code === "EADDRNOTAVAIL" || /EADDRNOTAVAIL|EAFNOSUPPORT/.test(String(err))) return t.skip("no IPv6 loopback");
      throw err;
    }
    const { port, serverSocket, clientSocket } = result;
    const loop6 = [...Array(15).fill(0), 1];
    assert.deepEqual(tcp(serverSocket.local), { ip: loop6, port });
    assert.deepEqual(tcp(clientSocket.remote), { ip: loop6, port });
    assert.equal(tcp(serverSocket.remote).port, tcp(clientSocket.local).port);
  });

  it("a Unix domain socket connection reports UdsAddress with the socket path (server local, channel remote)", T, async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "sb-channelz-"));
    dirs.push(dir);
    const file = path.join(dir, "s.sock");
    const { serverSocket, clientSocket } = await serveOn(`unix:${file}`, () => `unix:${file}`);
    assert.equal(serverSocket.local?.address.case, "udsAddress");
    assert.equal((serverSocket.local!.address.value as { filename: string }).filename, file);
    assert.equal(clientSocket.remote?.address.case, "udsAddress");
    assert.equal((clientSocket.remote!.address.value as { filename: string }).filename, file);
  });
});
