// An answer complete before the request body is (an unknown method, refused from its headers):
// the rest of the body is read and dropped, so the client's upload goes on (WINDOW_UPDATEs keep
// coming) and the stream ends without RST_STREAM. HTTP/2 would allow a reset NO_ERROR at once,
// but curl and browsers uploading a body report it as a failed request.
import * as assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { FRAME, H2Conn, headers, hpackEncode, T } from "../h2/conformance/harness.js";
import { startWebServer, type WebServer } from "./fixture.js";

let ws: WebServer;
before(async () => {
  ws = await startWebServer();
});
after(async () => {
  await ws.stop();
});

const NOPE = "/webtest.v1.WebTestService/Nope";
/** Four times the default stream window: the upload needs the server to keep reading. */
const BODY = Buffer.alloc(256 * 1024, 1);

describe("an answer before the request body is complete", () => {
  for (const [protocol, contentType, expect] of [
    ["gRPC-Web", "application/grpc-web+proto", (h: Map<string, string>) => assert.equal(h.get("grpc-status"), "12")],
    ["Connect", "application/json", (h: Map<string, string>) => assert.equal(h.get(":status"), "501")],
  ] as const) {
    it(`${protocol}: an unknown method is answered from its headers, then a 256 KiB body is still read (WINDOW_UPDATE) and the stream ends without RST_STREAM`, T, async () => {
      const c = await H2Conn.connect(ws.port);
      try {
        const id = c.nextId;
        c.nextId += 2;
        c.send(headers(id, hpackEncode([[":method", "POST"], [":scheme", "http"], [":path", NOPE], [":authority", "127.0.0.1"], ["content-type", contentType]])));
        // The answer comes before any byte of the body is sent.
        const answer = await c.waitFrame((f) => f.type === FRAME.HEADERS && f.streamId === id);
        assert.ok(answer, `no answer from the headers alone: ${c.describe()}`);
        // Beyond the first 64 KiB this needs the server's WINDOW_UPDATEs: it keeps reading.
        await c.sendBody(id, BODY, true);
        const res = await c.response(id);
        assert.equal(res.rst, undefined, `stream ${id} was reset: ${c.describe()}`);
        expect(new Map(res.headers.map(([k, v]) => [k, String(v)])));
        // Later frames are answered in order: a reset of this stream would have come before the ACK.
        await c.expectPing();
        assert.ok(!c.frames.some((f) => f.type === FRAME.RST_STREAM && f.streamId === id), `RST_STREAM on stream ${id}: ${c.describe()}`);
      } finally {
        c.close();
      }
    });
  }
});
