// Raw requests with curl (Debian's, on PATH): a hand-made gRPC-Web frame, gRPC-Web-text, and
// Connect unary POST and GET, checking the bytes and JSON that come back.
import { after, before, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { curl } from "./curl.js";
import { startWebServer, type WebServer } from "./fixture.js";
import { SayRequestSchema, SayResponseSchema } from "./gen/webtest_pb.js";

let ws: WebServer;
before(async () => {
  ws = await startWebServer();
});
after(async () => {
  await ws.stop();
});

function frame(flags: number, data: Uint8Array): Buffer {
  const out = Buffer.alloc(5 + data.length);
  out[0] = flags;
  out.writeUInt32BE(data.length, 1);
  out.set(data, 5);
  return out;
}

/** Splits a gRPC-Web body into its frames. */
function frames(body: Buffer): { flags: number; data: Buffer }[] {
  const out = [];
  let off = 0;
  while (off + 5 <= body.length) {
    const len = body.readUInt32BE(off + 1);
    out.push({ flags: body[off]!, data: body.subarray(off + 5, off + 5 + len) });
    off += 5 + len;
  }
  assert.equal(off, body.length, "the body ends on a frame boundary");
  return out;
}

const request = toBinary(SayRequestSchema, create(SayRequestSchema, { name: "curl" }));

for (const http of ["--http1.1", "--http2-prior-knowledge"]) {
  describe(`curl ${http}`, () => {
    it("gRPC-Web binary: a message frame, then a 0x80 trailer frame with grpc-status: 0 (HTTP 200)", async () => {
      const res = await curl([http, "-X", "POST", "-H", "content-type: application/grpc-web+proto", "-H", "x-grpc-web: 1", "--data-binary", "@-", `${ws.url}/webtest.v1.WebTestService/Say`], frame(0, request));
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("content-type"), "application/grpc-web+proto");
      const [msg, trailer] = frames(res.body);
      assert.equal(msg!.flags, 0);
      assert.equal(fromBinary(SayResponseSchema, msg!.data).message, "hello curl");
      assert.equal(trailer!.flags, 0x80);
      const text = trailer!.data.toString("latin1");
      assert.match(text, /^grpc-status: 0\r\n/m);
      assert.match(text, /x-trailer: t1\r\n/);
    });

    it("gRPC-Web-text: base64 both ways, the request as two padded segments", async () => {
      const f = frame(0, request);
      const body = Buffer.from(f.subarray(0, 4).toString("base64") + f.subarray(4).toString("base64"));
      const res = await curl([http, "-X", "POST", "-H", "content-type: application/grpc-web-text", "--data-binary", "@-", `${ws.url}/webtest.v1.WebTestService/Say`], body);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("content-type"), "application/grpc-web-text");
      const decoded = Buffer.concat(res.body.toString("latin1").match(/[^=]*(?:=+|$)/g)!.filter((s) => s !== "").map((s) => Buffer.from(s, "base64")));
      const [msg, trailer] = frames(decoded);
      assert.equal(fromBinary(SayResponseSchema, msg!.data).message, "hello curl");
      assert.match(trailer!.data.toString("latin1"), /grpc-status: 0/);
    });

    it("Connect unary POST JSON: 200 with the JSON reply and trailer- headers", async () => {
      const res = await curl([http, "-H", "content-type: application/json", "-H", "connect-protocol-version: 1", "--data-binary", '{"name":"json"}', `${ws.url}/webtest.v1.WebTestService/Say`]);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("content-type"), "application/json");
      assert.equal(res.headers.get("x-header"), "h1");
      assert.equal(res.headers.get("trailer-x-trailer"), "t1");
      assert.deepEqual(JSON.parse(res.body.toString()), { message: "hello json" });
    });

    it("Connect unary POST proto: 200 with the bare binary message", async () => {
      const res = await curl([http, "-H", "content-type: application/proto", "--data-binary", "@-", `${ws.url}/webtest.v1.WebTestService/Say`], Buffer.from(request));
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("content-type"), "application/proto");
      assert.equal(fromBinary(SayResponseSchema, res.body).message, "hello curl");
    });

    it("Connect GET of a NO_SIDE_EFFECTS method: message, encoding and connect=v1 in the query (200)", async () => {
      const q = new URLSearchParams({ connect: "v1", encoding: "json", message: '{"name":"get"}' });
      const res = await curl([http, `${ws.url}/webtest.v1.WebTestService/Say?${q}`]);
      assert.equal(res.status, 200);
      assert.deepEqual(JSON.parse(res.body.toString()), { message: "hello get" });
    });

    it("Connect GET with base64=1 and a proto message (200)", async () => {
      const q = new URLSearchParams({ connect: "v1", encoding: "proto", base64: "1", message: Buffer.from(request).toString("base64url") });
      const res = await curl([http, `${ws.url}/webtest.v1.WebTestService/Say?${q}`]);
      assert.equal(res.status, 200);
      assert.equal(fromBinary(SayResponseSchema, res.body).message, "hello curl");
    });

    it("a Connect error is an HTTP status with a JSON body: not_found -> 404 with details", async () => {
      const res = await curl([http, "-H", "content-type: application/json", "--data-binary", '{"name":"x","fail":"NOT_FOUND"}', `${ws.url}/webtest.v1.WebTestService/Say`]);
      assert.equal(res.status, 404);
      assert.equal(res.headers.get("content-type"), "application/json");
      const err = JSON.parse(res.body.toString());
      assert.equal(err.code, "not_found");
      assert.equal(err.message, "failed as asked: NOT_FOUND");
      assert.equal(err.details[0].type, "google.rpc.ErrorInfo");
      assert.match(err.details[0].value, /^[A-Za-z0-9+/]+$/);
    });
  });
}
