// examples/web/server.ts as docs/web.md shows it: run as a process, answered on one port by
// a gRPC client, a Connect client over HTTP/1.1, gRPC-Web over HTTP/2, curl, and a CORS preflight.
import { after, before, it } from "node:test";
import * as assert from "node:assert/strict";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { Channel, createClient as createGrpcClient } from "../../src/index.js";
import { Greeter } from "../../examples/gen/helloworld/helloworld_pb.js";
import { startExample, type RunningExample } from "../docs-example.js";
import { curl } from "./curl.js";

let ex: RunningExample;
before(async () => {
  ex = await startExample("examples/web/server.ts", { env: { ORIGIN: "http://app.test" } });
});
after(() => ex.dispose());

it("the example answers gRPC, Connect over HTTP/1.1 and gRPC-Web over HTTP/2 on one port", async () => {
  const url = `http://127.0.0.1:${ex.port}`;
  const connect = createClient(Greeter, createConnectTransport({ baseUrl: url, httpVersion: "1.1" }));
  assert.equal((await connect.sayHello({ name: "connect" })).message, "Hello, connect!");
  const web = createClient(Greeter, createGrpcWebTransport({ baseUrl: url, httpVersion: "2" }));
  assert.equal((await web.sayHello({ name: "web" })).message, "Hello, web!");
  const channel = new Channel(`127.0.0.1:${ex.port}`);
  try {
    const grpc = createGrpcClient(Greeter, channel);
    assert.equal((await grpc.sayHello({ name: "grpc" })).message, "Hello, grpc!");
  } finally {
    channel.close();
  }
});

it("the doc's curl recipe gets the JSON reply (HTTP 200)", async () => {
  const res = await curl(["-H", "content-type: application/json", "--data-binary", '{"name":"curl"}', `http://127.0.0.1:${ex.port}/helloworld.Greeter/SayHello`]);
  assert.equal(res.status, 200);
  assert.deepEqual(JSON.parse(res.body.toString()), { message: "Hello, curl!" });
});

it("the example's CORS allows its ORIGIN and the authorization header (204)", async () => {
  const res = await curl(["-X", "OPTIONS", "-H", "origin: http://app.test", "-H", "access-control-request-method: POST", `http://127.0.0.1:${ex.port}/helloworld.Greeter/SayHello`]);
  assert.equal(res.status, 204);
  assert.equal(res.headers.get("access-control-allow-origin"), "http://app.test");
  assert.ok(res.headers.get("access-control-allow-headers")!.includes("authorization"));
});
