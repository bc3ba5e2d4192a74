// CORS: preflight answers (204 with origin, methods, headers, max age, Vary: Origin; 403 for
// an origin not allowed) and Access-Control-* headers on real responses, over both HTTP versions.
import { after, before, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import { curl } from "./curl.js";
import { startWebServer, type WebServer } from "./fixture.js";

const ORIGIN = "http://app.example:8080";
let ws: WebServer;
let open: WebServer;
before(async () => {
  ws = await startWebServer({ web: { cors: { origins: [ORIGIN], credentials: true, maxAgeSeconds: 600, allowedHeaders: ["x-token"], exposedHeaders: ["x-extra"] } } });
  open = await startWebServer({ web: { cors: { origins: "*" } } });
});
after(async () => {
  await ws.stop();
  await open.stop();
});

const SAY = "/webtest.v1.WebTestService/Say";

for (const http of ["--http1.1", "--http2-prior-knowledge"]) {
  describe(`CORS, curl ${http}`, () => {
    const preflight = (url: string, origin: string) =>
      curl([http, "-X", "OPTIONS", "-H", `origin: ${origin}`, "-H", "access-control-request-method: POST", "-H", "access-control-request-headers: content-type,connect-protocol-version,x-token", `${url}${SAY}`]);

    it("a preflight from an allowed origin is answered 204 with the CORS headers", async () => {
      const res = await preflight(ws.url, ORIGIN);
      assert.equal(res.status, 204);
      assert.equal(res.headers.get("access-control-allow-origin"), ORIGIN);
      assert.equal(res.headers.get("access-control-allow-credentials"), "true");
      assert.equal(res.headers.get("access-control-allow-methods"), "POST, GET");
      assert.equal(res.headers.get("access-control-max-age"), "600");
      assert.equal(res.headers.get("vary"), "Origin");
      const allowed = res.headers.get("access-control-allow-headers")!.split(", ");
      for (const h of ["content-type", "connect-protocol-version", "connect-timeout-ms", "x-grpc-web", "grpc-timeout", "x-token"]) assert.ok(allowed.includes(h), h);
    });

    it("a preflight from another origin is refused: 403 without Access-Control-Allow-Origin", async () => {
      const res = await preflight(ws.url, "http://evil.example");
      assert.equal(res.status, 403);
      assert.equal(res.headers.has("access-control-allow-origin"), false);
    });

    it('origins "*" without credentials answers "*"', async () => {
      const res = await preflight(open.url, "http://anywhere.example");
      assert.equal(res.status, 204);
      assert.equal(res.headers.get("access-control-allow-origin"), "*");
    });

    it("a real Connect response exposes protocol headers, response metadata and trailer- headers", async () => {
      const res = await curl([http, "-H", `origin: ${ORIGIN}`, "-H", "content-type: application/json", "--data-binary", '{"name":"c"}', `${ws.url}${SAY}`]);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("access-control-allow-origin"), ORIGIN);
      const exposed = res.headers.get("access-control-expose-headers")!.split(", ");
      for (const h of ["grpc-status", "grpc-message", "grpc-status-details-bin", "x-header", "trailer-x-trailer", "x-extra"]) assert.ok(exposed.includes(h), h);
    });

    it("a Connect GET without Origin, or from an origin not allowed, is answered (200) with Vary: Origin and no Access-Control-Allow-Origin", async () => {
      const q = `${SAY}?connect=v1&encoding=json&message=${encodeURIComponent('{"name":"g"}')}`;
      for (const extra of [[], ["-H", "origin: http://evil.example"]]) {
        const res = await curl([http, ...extra, `${ws.url}${q}`]);
        assert.equal(res.status, 200);
        assert.equal(res.headers.get("vary"), "Origin");
        assert.equal(res.headers.has("access-control-allow-origin"), false);
      }
      // origins "*" answers the same to everyone: nothing varies.
      const res = await curl([http, `${open.url}${q}`]);
      assert.equal(res.status, 200);
      assert.equal(res.headers.has("vary"), false);
    });

    it("a real gRPC-Web error in headers (trailers-only) exposes grpc-status and grpc-message", async () => {
      const res = await curl([http, "-X", "POST", "-H", `origin: ${ORIGIN}`, "-H", "content-type: application/grpc-web+proto", "--data-binary", "", `${ws.url}/webtest.v1.WebTestService/Nope`]);
      assert.equal(res.headers.get("grpc-status"), "12");
      assert.equal(res.headers.get("access-control-allow-origin"), ORIGIN);
      assert.ok(res.headers.get("access-control-expose-headers")!.split(", ").includes("grpc-message"));
    });

    it("without cors options an OPTIONS request gets no CORS headers (gRPC's HTTP 405)", async () => {
      const plain = await startWebServer();
      try {
        const res = await preflight(plain.url, ORIGIN);
        assert.equal(res.status, 405);
        assert.equal(res.headers.has("access-control-allow-origin"), false);
      } finally {
        await plain.stop();
      }
    });
  });
}
