// The seed's module-level API, imported through the package subpath `switchboard/sros`:
// bindServer() names the server the module functions use (on SR OS the router provides it),
// then addHandler() and handleRpc() work as on a GrpcServer.
import assert from "node:assert/strict";
import { afterEach, it } from "node:test";
import { Channel, createClient, ErrorCode, Server, SwitchboardError } from "switchboard";
import * as grpcserver from "switchboard/sros";
import * as direct from "../../src/sros/index.js";
import { Greeter, type HelloRequest } from "../../examples/gen/helloworld/helloworld_pb.js";
import { rejection, T, within } from "./helpers.js";

let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => {
  await cleanup?.();
  cleanup = undefined;
});

it("the package subpath switchboard/sros exports the facade itself", () => {
  assert.equal(grpcserver.GrpcServer, direct.GrpcServer);
  assert.equal(grpcserver.handleRpc, direct.handleRpc);
});

it("addHandler()/handleRpc() before bindServer() fail with ERR_SB_NOT_BOUND", async () => {
  // Tests in a file run in order, and nothing has bound a server in this process yet.
  const notBound = (e: unknown) => e instanceof SwitchboardError && e.code === ErrorCode.NOT_BOUND;
  assert.throws(() => grpcserver.addHandler("Greeter", "SayHello", () => ({})), notBound);
  assert.ok(notBound(await rejection(grpcserver.handleRpc({ timeoutMs: 10 }))));
});

it("bindServer(server, { services }) + addHandler(service, rpc, handler, { package }) + handleRpc() serve one RPC (OK)", T, async () => {
  const server = new Server();
  const bound = grpcserver.bindServer(server, { services: [Greeter] });
  assert.ok(bound instanceof grpcserver.GrpcServer);
  const port = await server.addInsecurePort("127.0.0.1:0");
  server.start();
  const channel = new Channel(`127.0.0.1:${port}`);
  cleanup = async () => {
    channel.close();
    await within(server.stop(0), 5000, "stop");
  };
  grpcserver.addHandler("Greeter", "SayHello", (r: HelloRequest, ctx: grpcserver.Context) => ({ message: `${ctx.rpc} ${r.name}` }), { package: "helloworld" });
  const reply = createClient(Greeter, channel).sayHello({ name: "Ada" });
  await within(grpcserver.handleRpc(), 5000, "handleRpc()");
  assert.equal((await reply).message, "/helloworld.Greeter/SayHello Ada");
});
