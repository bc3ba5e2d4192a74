// The JSON-RPC client finds its servers through the same etcd records gRPC uses: two JSON-RPC
// HTTP servers registered under one target; DiscoveryHttpClientTransport with etcdResolver
// rotates calls over both, follows a deletion live, and says ERR_SB_NO_ADDRESSES when none is left.
import assert from "node:assert/strict";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { after, describe, it } from "node:test";
import { DiscoveryHttpClientTransport, EndpointsManager, etcdResolver, JSONRPCProtocol, RPCClient } from "../../src/index.js";
import { etcdFixture, skipUnlessEtcd, uniquePrefix, waitFor } from "./harness.js";

/** A JSON-RPC server answering every request with its own name. */
async function named(name: string): Promise<{ server: http.Server; addr: string }> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const { id } = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { id: number };
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ jsonrpc: "2.0", id, result: name }));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { server, addr: `127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe("JSON-RPC client on the etcd registry", { skip: skipUnlessEtcd() }, () => {
  const fx = etcdFixture();
  const servers: http.Server[] = [];
  after(() => {
    for (const s of servers) s.close();
  });

  it("calls rotate over the registered servers, follow a deletion, and fail ERR_SB_NO_ADDRESSES when none is left", { timeout: 60_000 }, async () => {
    const target = `${uniquePrefix("jsonrpc")}calc`;
    const a = await named("a");
    const b = await named("b");
    servers.push(a.server, b.server);
    const manager = new EndpointsManager(fx.client);
    await manager.addEndpoint(target, a.addr);
    await manager.addEndpoint(target, b.addr);
    const transport = new DiscoveryHttpClientTransport(`etcd:///${target}`, { resolvers: { etcd: etcdResolver(fx.client) } });
    const rpc = new RPCClient(new JSONRPCProtocol(), transport);
    await waitFor("both servers resolved", () => transport.addresses.length === 2);
    const seen: string[] = [];
    for (let i = 0; i < 6; i++) seen.push(await rpc.call<string>("whoami"));
    assert.deepEqual([seen.filter((s) => s === "a").length, seen.filter((s) => s === "b").length], [3, 3]);
    await manager.deleteEndpoint(target, a.addr);
    await waitFor("the deletion to reach the client", () => transport.addresses.length === 1);
    for (let i = 0; i < 4; i++) assert.equal(await rpc.call("whoami"), "b");
    await manager.deleteEndpoint(target, b.addr);
    await waitFor("no address left", () => transport.addresses.length === 0);
    await assert.rejects(rpc.call("whoami"), { code: "ERR_SB_NO_ADDRESSES" });
    await transport.close();
  });
});
