import assert from "node:assert/strict";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { after, describe, it } from "node:test";
import type { ResolvedAddress, Resolver, ResolverListener } from "../../../src/client/resolver.js";
import { JSONRPCProtocol, RPCClient } from "../../../src/jsonrpc/index.js";
import { DiscoveryHttpClientTransport } from "../../../src/jsonrpc/transports/discovery-client.js";

// JSON-RPC calls through a resolver: rotation over the reported servers, refused connections
// skipped, live address updates, and clear errors when nothing is registered.

/** A JSON-RPC server answering `whoami` with its name. */
async function server(name: string): Promise<{ server: http.Server; port: number; calls: number }> {
  const state = { server: http.createServer(), port: 0, calls: 0 };
  state.server.on("request", (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const msg = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { id: number };
      state.calls++;
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ jsonrpc: "2.0", id: msg.id, result: name }));
    });
  });
  await new Promise<void>((r) => state.server.listen(0, "127.0.0.1", r));
  state.port = (state.server.address() as AddressInfo).port;
  return state;
}

/** A resolver the test drives by hand. */
class FakeResolver implements Resolver {
  listener: ResolverListener | undefined;
  refreshes = 0;
  closed = false;
  constructor(private readonly initial: ResolvedAddress[] | undefined) {}
  start(listener: ResolverListener): void {
    this.listener = listener;
    if (this.initial) queueMicrotask(() => listener.onAddresses(this.initial!));
  }
  refresh(): void {
    this.refreshes++;
  }
  close(): void {
    this.closed = true;
  }
}

const servers: http.Server[] = [];
after(() => {
  for (const s of servers) s.close();
});

describe("DiscoveryHttpClientTransport", () => {
  it("rotates calls over every resolved server", async () => {
    const a = await server("a");
    const b = await server("b");
    servers.push(a.server, b.server);
    const resolver = new FakeResolver([{ host: "127.0.0.1", port: a.port }, { host: "127.0.0.1", port: b.port }]);
    const transport = new DiscoveryHttpClientTransport(resolver);
    const client = new RPCClient(new JSONRPCProtocol(), transport);
    const seen: string[] = [];
    for (let i = 0; i < 10; i++) seen.push(await client.call<string>("whoami"));
    assert.equal(seen.filter((s) => s === "a").length, 5);
    assert.equal(seen.filter((s) => s === "b").length, 5);
    await transport.close();
    assert.ok(resolver.closed, "close() closes the resolver");
  });

  it("a server that refuses connections is skipped and re-resolution is asked for; later updates apply", async () => {
    const a = await server("a");
    servers.push(a.server);
    // a's port on another loopback address: nothing can listen there while a holds the port on 127.0.0.1.
    const resolver = new FakeResolver([{ host: "127.0.0.2", port: a.port }, { host: "127.0.0.1", port: a.port }]);
    const transport = new DiscoveryHttpClientTransport(resolver);
    const client = new RPCClient(new JSONRPCProtocol(), transport);
    for (let i = 0; i < 4; i++) assert.equal(await client.call("whoami"), "a");
    assert.ok(resolver.refreshes > 0, "a refused connection asks the resolver to refresh");
    const c = await server("c");
    servers.push(c.server);
    resolver.listener!.onAddresses([{ host: "127.0.0.1", port: c.port }]);
    assert.equal(await client.call("whoami"), "c");
    await transport.close();
  });

  it("no registered server -> ERR_SB_NO_ADDRESSES; no resolver for the scheme -> ERR_SB_BAD_ADDRESS", async () => {
    const transport = new DiscoveryHttpClientTransport(new FakeResolver([]));
    await assert.rejects(new RPCClient(new JSONRPCProtocol(), transport).call("whoami"), { code: "ERR_SB_NO_ADDRESSES" });
    await transport.close();
    assert.throws(() => new DiscoveryHttpClientTransport("nosuchscheme:///x"), { code: "ERR_SB_BAD_ADDRESS" });
  });

  it("a resolver that never answers -> ERR_SB_NO_ADDRESSES after firstResolutionMs", async () => {
    const transport = new DiscoveryHttpClientTransport(new FakeResolver(undefined), { firstResolutionMs: 50 });
    await assert.rejects(new RPCClient(new JSONRPCProtocol(), transport).call("whoami"), { code: "ERR_SB_NO_ADDRESSES" });
    await transport.close();
  });
});
