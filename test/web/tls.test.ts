// Over TLS one port serves both HTTP versions by ALPN: `h2` to the HTTP/2 engine (gRPC,
// gRPC-Web, Connect), `http/1.1` to the HTTP/1.1 parser (gRPC-Web, Connect).
import { after, before, it } from "node:test";
import * as assert from "node:assert/strict";
import * as path from "node:path";
import { ServerCredentials } from "../../src/index.js";
import { curl } from "./curl.js";
import { startWebServer, type WebServer } from "./fixture.js";
import { tls } from "../server/helpers.js";
import { ROOT } from "../interop/peers.js";

let ws: WebServer;
let port = 0;
before(async () => {
  ws = await startWebServer();
  port = await ws.server.addSecurePort("127.0.0.1:0", ServerCredentials.ssl({ keyCertPairs: [{ privateKey: tls.serverKey, certChain: tls.serverCert }] }));
});
after(async () => {
  await ws.stop();
});

const CA = path.join(ROOT, "test/fixtures/tls/ca.pem");

for (const [flag, version] of [["--http1.1", "1.1"], ["--http2", "2"]] as const) {
  it(`TLS with ALPN ${version === "2" ? "h2" : "http/1.1"}: a Connect call answers 200 over HTTP/${version}`, async () => {
    // The test certificate is for localhost; --resolve keeps curl on 127.0.0.1.
    const res = await curl([flag, "--cacert", CA, "--resolve", `localhost:${port}:127.0.0.1`, "-H", "content-type: application/json", "--data-binary", '{"name":"tls"}', `https://localhost:${port}/webtest.v1.WebTestService/Say`]);
    assert.equal(res.status, 200);
    assert.deepEqual(JSON.parse(res.body.toString()), { message: "hello tls" });
  });
}
