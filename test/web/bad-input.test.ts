// Bad web requests get their protocol's error, never a crash: malformed frames and base64,
// truncated envelopes, oversized bodies, unknown methods, GET on a method with side effects,
// bad Connect-Timeout-Ms and protocol versions, gRPC itself over HTTP/1.1.
import { after, before, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import { create, toBinary } from "@bufbuild/protobuf";
import { curl } from "./curl.js";
import { startWebServer, type WebServer } from "./fixture.js";
import { SayRequestSchema } from "./gen/webtest_pb.js";

let ws: WebServer;
before(async () => {
  ws = await startWebServer({ maxReceiveMessageLength: 1024 });
});
after(async () => {
  await ws.stop();
});

const SAY = "/webtest.v1.WebTestService/Say";
const NO_BODY = Buffer.alloc(0);
const request = Buffer.from(toBinary(SayRequestSchema, create(SayRequestSchema, { name: "bad" })));

function frame(flags: number, data: Uint8Array, length = data.length): Buffer {
  const out = Buffer.alloc(5 + data.length);
  out[0] = flags;
  out.writeUInt32BE(length, 1);
  out.set(data, 5);
  return out;
}

/** grpc-status of a gRPC-Web response: from its headers (trailers-only) or its trailer frame. */
function grpcWebStatus(res: { headers: Map<string, string>; body: Buffer }): { status: string | undefined; message: string } {
  if (res.headers.has("grpc-status")) return { status: res.headers.get("grpc-status"), message: decodeURIComponent(res.headers.get("grpc-message") ?? "") };
  let off = 0;
  while (off + 5 <= res.body.length) {
    const len = res.body.readUInt32BE(off + 1);
    if (res.body[off] === 0x80) {
      const text = res.body.subarray(off + 5, off + 5 + len).toString("latin1");
      return { status: /grpc-status: (\d+)/.exec(text)?.[1], message: decodeURIComponent(/grpc-message: (.*)\r\n/.exec(text)?.[1] ?? "") };
    }
    off += 5 + len;
  }
  return { status: undefined, message: "" };
}

for (const http of ["--http1.1", "--http2-prior-knowledge"]) {
  describe(`bad input, curl ${http}`, () => {
    // Requests answered from their headers alone are sent without a body (NO_BODY): curl 7.88
    // mishandles a complete answer that arrives before it has sent its body (error 92 after the
    // server's RST_STREAM NO_ERROR, or a hang when the server reads the body instead); the server
    // side of that race is tested with raw frames in early-answer.test.ts.
    const post = (contentType: string, body: Buffer, path = SAY, extra: string[] = []) =>
      curl([http, "-X", "POST", "-H", `content-type: ${contentType}`, ...extra, ...(body.length > 0 ? ["--data-binary", "@-"] : []), `${ws.url}${path}`], body.length > 0 ? body : undefined);

    it("gRPC-Web: a truncated frame is INTERNAL (13)", async () => {
      const res = await post("application/grpc-web+proto", frame(0, request, request.length + 10));
      assert.equal(res.status, 200);
      assert.equal(grpcWebStatus(res).status, "13");
    });

    it("gRPC-Web-text: malformed base64 is INTERNAL (13)", async () => {
      const res = await post("application/grpc-web-text", Buffer.from("AAAA*!!!"));
      assert.equal(grpcWebStatus(res).status, "13");
      assert.match(grpcWebStatus(res).message, /base64/);
    });

    it("gRPC-Web-text: base64 ending mid-group is INTERNAL (13)", async () => {
      const res = await post("application/grpc-web-text", Buffer.from(frame(0, request).toString("base64").replace(/=+$/, "") + "A"));
      assert.equal(grpcWebStatus(res).status, "13");
    });

    it("gRPC-Web: a frame over maxReceiveMessageLength is RESOURCE_EXHAUSTED (8)", async () => {
      const res = await post("application/grpc-web+proto", frame(0, Buffer.alloc(4096)));
      assert.equal(grpcWebStatus(res).status, "8");
    });

    it("gRPC-Web: an unknown method is UNIMPLEMENTED (12)", async () => {
      const res = await post("application/grpc-web+proto", NO_BODY, "/webtest.v1.WebTestService/Nope");
      assert.equal(grpcWebStatus(res).status, "12");
    });

    it("Connect: a body over maxReceiveMessageLength is resource_exhausted (HTTP 429)", async () => {
      const res = await post("application/proto", Buffer.alloc(4096, 1));
      assert.equal(res.status, 429);
      assert.equal(JSON.parse(res.body.toString()).code, "resource_exhausted");
    });

    it("Connect: malformed JSON is a JSON error (invalid message -> internal, HTTP 500)", async () => {
      const res = await post("application/json", Buffer.from("{nope"));
      assert.equal(res.status, 500);
      assert.equal(JSON.parse(res.body.toString()).code, "internal");
    });

    it("Connect: an unknown method is unimplemented (HTTP 501)", async () => {
      const res = await post("application/json", NO_BODY, "/webtest.v1.WebTestService/Nope");
      assert.equal(res.status, 501);
      assert.equal(JSON.parse(res.body.toString()).code, "unimplemented");
    });

    it("Connect: a bad Connect-Timeout-Ms is invalid_argument (HTTP 400)", async () => {
      const res = await post("application/json", NO_BODY, SAY, ["-H", "connect-timeout-ms: soon"]);
      assert.equal(res.status, 400);
      assert.equal(JSON.parse(res.body.toString()).code, "invalid_argument");
    });

    it("Connect: Connect-Timeout-Ms 0 is deadline_exceeded (HTTP 504)", async () => {
      const res = await post("application/json", NO_BODY, SAY, ["-H", "connect-timeout-ms: 0"]);
      assert.equal(res.status, 504);
      assert.equal(JSON.parse(res.body.toString()).code, "deadline_exceeded");
    });

    it("Connect: an unknown Connect-Protocol-Version is invalid_argument (HTTP 400)", async () => {
      const res = await post("application/json", NO_BODY, SAY, ["-H", "connect-protocol-version: 7"]);
      assert.equal(res.status, 400);
    });

    it("Connect: an unsupported Content-Encoding is unimplemented (HTTP 501)", async () => {
      const res = await post("application/json", NO_BODY, SAY, ["-H", "content-encoding: br"]);
      assert.equal(res.status, 501);
      assert.equal(JSON.parse(res.body.toString()).code, "unimplemented");
    });

    it("Connect: GET on a method without NO_SIDE_EFFECTS is HTTP 405", async () => {
      const q = new URLSearchParams({ connect: "v1", encoding: "json", message: "{}" });
      const res = await curl([http, `${ws.url}/webtest.v1.WebTestService/Update?${q}`]);
      assert.equal(res.status, 405);
      assert.equal(res.headers.get("allow"), "POST");
    });

    it("Connect: GET with broken base64 is invalid_argument (HTTP 400)", async () => {
      const res = await curl([http, `${ws.url}${SAY}?connect=v1&encoding=proto&base64=1&message=%21%21`]);
      assert.equal(res.status, 400);
    });

    it("Connect streaming: a truncated envelope ends with an end-stream error, HTTP 200", async () => {
      const res = await post("application/connect+proto", frame(0, request, request.length + 3), "/webtest.v1.WebTestService/SayMany");
      assert.equal(res.status, 200);
      // No message was sent: the body is the end-stream frame alone (flag 0x02).
      assert.equal(res.body[0], 0x02);
      assert.equal(JSON.parse(res.body.subarray(5).toString()).error.code, "internal");
    });

    it("Connect: a unary content type for a streaming method is HTTP 415", async () => {
      const res = await post("application/proto", NO_BODY, "/webtest.v1.WebTestService/SayMany");
      assert.equal(res.status, 415);
    });

    it("unknown content types keep gRPC's answer: text/plain is HTTP 415", async () => {
      // No body: answered from the headers (see NO_BODY).
      const res = await curl([http, "-X", "POST", "-H", "content-type: text/plain", `${ws.url}${SAY}`]);
      assert.equal(res.status, 415);
    });
  });
}

it("gRPC proper over HTTP/1.1 is answered HTTP 505", async () => {
  const res = await curl(["--http1.1", "-X", "POST", "-H", "content-type: application/grpc", "-H", "te: trailers", "--data-binary", "@-", `${ws.url}${SAY}`], frame(0, request));
  assert.equal(res.status, 505);
  assert.match(res.body.toString(), /HTTP\/2/);
});
