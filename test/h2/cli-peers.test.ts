// Stock HTTP/2 command-line peers against the server: nghttp (nghttp2-client) and
// curl --http2-prior-knowledge each make a raw gRPC unary POST (5-byte envelope + protobuf
// bytes from a file) and must see :status 200, the echoed body and a grpc-status: 0 trailer;
// h2load pushes 2000 requests over 4 connections x 16 streams and must see no error.
// A missing binary skips visibly; with CI=true it fails.
import * as assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { after, before, describe, it, type TestContext } from "node:test";
import { M, startServer, TRANSPORT, type ConformanceServer } from "./conformance/harness.js";

const run = promisify(execFile);
const mustRun = process.env["CI"] === "true";

// HelloRequest{name: "cli-peer"} as protobuf (field 1, length-delimited), in a gRPC envelope.
const PROTO = Buffer.concat([Buffer.from([0x0a, 8]), Buffer.from("cli-peer")]);
const ENVELOPE = Buffer.concat([Buffer.from([0, 0, 0, 0, PROTO.length]), PROTO]);

async function which(bin: string): Promise<boolean> {
  try {
    await run("sh", ["-c", `command -v ${bin}`]);
    return true;
  } catch {
    return false;
  }
}

/** Skips (locally) or fails (CI=true) when `bin` is not installed; true when the test may go on. */
async function need(t: TestContext, bin: string, pkg: string): Promise<boolean> {
  if (await which(bin)) return true;
  if (mustRun) assert.fail(`${bin} is not installed (apt-get install ${pkg}); required when CI=true`);
  t.skip(`${bin} not installed (apt-get install ${pkg})`);
  return false;
}

describe(`command-line HTTP/2 peers (transport ${TRANSPORT})`, () => {
  let server: ConformanceServer;
  let dir: string;
  let bodyFile: string;
  before(async () => {
    server = await startServer();
    dir = mkdtempSync(path.join(tmpdir(), "sb-h2-cli-"));
    bodyFile = path.join(dir, "request.bin");
    writeFileSync(bodyFile, ENVELOPE);
  });
  after(async () => {
    await server.stop(0);
    rmSync(dir, { recursive: true, force: true });
  });

  it("curl --http2-prior-knowledge: gRPC unary POST -> 200, echoed body, grpc-status: 0 trailer", { timeout: 30_000 }, async (t) => {
    if (!(await need(t, "curl", "curl"))) return;
    const out = path.join(dir, "curl.out");
    const dump = path.join(dir, "curl.headers");
    const url = `http://127.0.0.1:${server.port}${M.echo}`;
    await run("curl", ["--http2-prior-knowledge", "-sS", "--max-time", "20", "-X", "POST", "-H", "content-type: application/grpc", "-H", "te: trailers", "--data-binary", `@${bodyFile}`, "-o", out, "-D", dump, url], { timeout: 25_000 });
    const headerText = readFileSync(dump, "latin1");
    assert.match(headerText, /^HTTP\/2 200/m, headerText);
    assert.match(headerText, /^grpc-status: 0\r?$/m, `no grpc-status: 0 in headers/trailers:\n${headerText}`);
    assert.deepEqual(readFileSync(out), ENVELOPE);
  });

  it("nghttp: gRPC unary POST -> 200, grpc-status: 0 trailer, no RST_STREAM or GOAWAY error", { timeout: 30_000 }, async (t) => {
    if (!(await need(t, "nghttp", "nghttp2-client"))) return;
    const url = `http://127.0.0.1:${server.port}${M.echo}`;
    const { stdout } = await run("nghttp", ["-v", "-t", "20", "-H", "content-type: application/grpc", "-H", "te: trailers", "-d", bodyFile, url], { timeout: 25_000, encoding: "latin1", maxBuffer: 1 << 20 });
    assert.match(stdout, /:status: 200/, stdout);
    assert.match(stdout, /grpc-status: 0/, stdout);
    assert.doesNotMatch(stdout, /recv RST_STREAM/, stdout);
    assert.doesNotMatch(stdout, /recv GOAWAY[^\n]*\n[^\n]*error_code=(?!NO_ERROR)/, stdout);
    assert.ok(stdout.includes("cli-peer"), "echoed protobuf bytes in the body");
  });

  it("h2load -n 2000 -c 4 -m 16 against a gRPC method: 2000 succeeded, 0 failed, 0 errored", { timeout: 60_000 }, async (t) => {
    if (!(await need(t, "h2load", "nghttp2-client"))) return;
    const url = `http://127.0.0.1:${server.port}${M.echo}`;
    const { stdout } = await run("h2load", ["-n", "2000", "-c", "4", "-m", "16", "-T", "20", "-H", "content-type: application/grpc", "-H", "te: trailers", "-d", bodyFile, url], { timeout: 55_000, maxBuffer: 1 << 20 });
    const m = /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/.exec(stdout);
    assert.ok(m, stdout);
    assert.equal(Number(m[4]), 2000, `succeeded: ${stdout}`);
    assert.equal(Number(m[5]), 0, `failed: ${stdout}`);
    assert.equal(Number(m[6]), 0, `errored: ${stdout}`);
    assert.equal(Number(m[7]), 0, `timeout: ${stdout}`);
  });
});
