// Connect edge cases: GET carries unary calls only (a streaming method marked NO_SIDE_EFFECTS
// is refused 405, Allow: POST, rather than answered with one of its replies); a streaming
// request refused for its connect-content-encoding is told connect-accept-encoding.
import * as assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { DescMethod, DescService } from "@bufbuild/protobuf";
import { Server } from "../../src/index.js";
import { WebTestService } from "./gen/webtest_pb.js";

const TYPE_NAME = "webtest.v1.IdempotentStreams";

/** WebTestService's SayMany under another service name, marked idempotency_level NO_SIDE_EFFECTS. */
function idempotentStreams(): DescService {
  const service = { ...WebTestService, typeName: TYPE_NAME } as DescService;
  const sayMany = { ...WebTestService.method.sayMany, idempotency: 1, parent: service } as unknown as DescMethod;
  return Object.assign(service, { methods: [sayMany], method: { sayMany } });
}

let server: Server;
let url: string;
before(async () => {
  server = new Server({ web: { http1: true } });
  server.addService(idempotentStreams(), {
    async *sayMany(req: { name: string; count: number }) {
      for (let i = 0; i < req.count; i++) yield { message: `hello ${req.name} #${i}` };
    },
  } as never);
  url = `http://127.0.0.1:${await server.start("127.0.0.1", 0)}`;
});
after(async () => {
  await server.stop();
});

describe("Connect edge cases", () => {
  it("a server-streaming method with NO_SIDE_EFFECTS is 405 (Allow: POST), not one of its replies", async () => {
    const message = encodeURIComponent(JSON.stringify({ name: "get", count: 2 }));
    const res = await fetch(`${url}/${TYPE_NAME}/SayMany?encoding=json&message=${message}`);
    const body = await res.text();
    assert.equal(res.status, 405, body);
    assert.equal(res.headers.get("allow"), "POST");
  });

  it("streaming: an unsupported connect-content-encoding is unimplemented, with connect-accept-encoding", async () => {
    // No body: the answer comes from the headers alone.
    const res = await fetch(`${url}/${TYPE_NAME}/SayMany`, {
      method: "POST",
      headers: { "content-type": "application/connect+json", "connect-content-encoding": "br" },
      body: new Uint8Array(0),
    });
    const body = Buffer.from(await res.arrayBuffer());
    assert.equal(res.status, 200);
    assert.match(res.headers.get("connect-accept-encoding") ?? "", /gzip/);
    assert.equal(body[0], 0x02, "an end-stream message");
    const end = JSON.parse(body.subarray(5).toString("utf8")) as { error?: { code: string } };
    assert.equal(end.error?.code, "unimplemented");
  });
});
