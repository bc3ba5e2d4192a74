// A real browser: headless Chromium loads a page from another origin (a small node:http
// server on its own port) whose script, bundled by esbuild at test time, calls the server with
// connect-web's gRPC-Web and Connect transports — unary, server streaming, an error, a
// deadline — so CORS (preflights, exposed headers) is exercised as browsers enforce it.
import { after, before, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as http from "node:http";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { chromiumMissing, launchChromium } from "../browser/chromium.js";
import { startWebServer, type WebServer } from "./fixture.js";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const missing = chromiumMissing();

/** The page's script: runs every case with both transports and returns what it saw. */
const PAGE_SCRIPT = `
import { createClient, ConnectError } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-web";
import { WebTestService } from "./gen/webtest_pb.js";

async function run(transport) {
  const client = createClient(WebTestService, transport);
  const out = {};
  let trailer;
  out.unary = (await client.say({ name: "browser" }, { onTrailer: (t) => (trailer = t) })).message;
  out.trailer = trailer?.get("x-trailer") ?? null;
  out.stream = [];
  for await (const m of client.sayMany({ name: "tab", count: 3 })) out.stream.push(m.message);
  try { await client.say({ name: "x", fail: "PERMISSION_DENIED" }); out.error = "none"; }
  catch (e) { const err = ConnectError.from(e); out.error = err.code + ":" + err.rawMessage + ":" + err.details.length; }
  try { await client.say({ name: "slow", delayMs: 5000 }, { timeoutMs: 200 }); out.deadline = "none"; }
  catch (e) { out.deadline = ConnectError.from(e).code; }
  return out;
}

globalThis.runAll = async (baseUrl) => ({
  grpcWeb: await run(createGrpcWebTransport({ baseUrl })),
  connect: await run(createConnectTransport({ baseUrl })),
  connectGet: await run(createConnectTransport({ baseUrl, useHttpGet: true })),
});
`;

let ws: WebServer;
let page: http.Server;
let dir: string;
let pageOrigin = "";

before(async () => {
  if (missing) return;
  dir = mkdtempSync(path.join(tmpdir(), "sb-web-"));
  await build({ stdin: { contents: PAGE_SCRIPT, resolveDir: HERE, loader: "js" }, bundle: true, format: "esm", platform: "browser", outfile: path.join(dir, "page.js"), logLevel: "error" });
  page = http.createServer((req, res) => {
    if (req.url === "/page.js") {
      res.writeHead(200, { "content-type": "text/javascript" });
      return void res.end(readFileSync(path.join(dir, "page.js")));
    }
    res.writeHead(200, { "content-type": "text/html" });
    res.end('<!doctype html><title>web test</title><script type="module" src="/page.js"></script>');
  });
  await new Promise<void>((resolve) => page.listen(0, "127.0.0.1", resolve));
  pageOrigin = `http://127.0.0.1:${(page.address() as { port: number }).port}`;
  // The API server allows exactly the page's origin (a different port is a different origin).
  ws = await startWebServer({ web: { cors: { origins: (o) => o === pageOrigin } } });
});

after(async () => {
  if (missing) return;
  await ws.stop();
  await new Promise<void>((resolve) => page.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

describe("connect-web in headless Chromium, page on another origin", { skip: missing }, () => {
  it("gRPC-Web, Connect POST and Connect GET: unary, streaming, PERMISSION_DENIED with details, DEADLINE_EXCEEDED", async () => {
    const browser = await launchChromium();
    try {
      const tab = await browser.newPage();
      await tab.goto(`${pageOrigin}/`);
      await tab.waitForFunction("typeof globalThis.runAll === 'function'");
      const results = (await tab.evaluate(`globalThis.runAll(${JSON.stringify(ws.url)})`)) as Record<string, Record<string, unknown>>;
      for (const [name, r] of Object.entries(results)) {
        assert.equal(r["unary"], "hello browser", name);
        assert.equal(r["trailer"], "t1", name);
        assert.deepEqual(r["stream"], ["hello tab #0", "hello tab #1", "hello tab #2"], name);
        // connect-es Code.PermissionDenied = 7, Code.DeadlineExceeded = 4
        assert.equal(r["error"], "7:failed as asked: PERMISSION_DENIED:1", name);
        assert.equal(r["deadline"], 4, name);
      }
    } finally {
      await browser.cleanup();
    }
  });
});
