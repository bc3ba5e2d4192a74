// The package as users get it: `npm pack` of the tree (prepack builds dist/), installed into a
// fresh project outside the repository by a plain `npm install` (from a loopback registry that
// serves the lockfile's packages out of npm's cache: no network), then used there with plain
// node, no loader: ESM, require(), the worker pool, a strict TypeScript consumer and the bin.
// Every script must end by itself; a hang is killed and fails its test.
import assert from "node:assert/strict";
import { cpSync, existsSync, readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { Background, npmInstall, ok, REPO, run, sandbox, type Sandbox } from "./project.js";

const T = { timeout: 120_000 };
const SCRIPT_MS = 60_000;

/** Whether this node parses `await using` (V8 ships it from Node 24). */
function hasAwaitUsing(): boolean {
  try {
    new Function("return async () => { await using x = null; }");
    return true;
  } catch {
    return false;
  }
}

describe("the packed package installed in a fresh project", { timeout: 170_000 }, () => {
  let sb: Sandbox;
  let exec: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number };

  before(async () => {
    sb = await sandbox("consumer");
    exec = { cwd: sb.project, env: sb.env, timeoutMs: SCRIPT_MS };
    await ok("npm", ["init", "-y"], exec);
    await ok("npm", ["pkg", "set", "type=module"], exec);
    await npmInstall(sb, [sb.packed.tarball]);
  }, T);

  after(async () => {
    await sb?.dispose();
  });

  it("the tarball holds dist/ (JS, .d.ts, maps, worker-boot.mjs), bin/, README.md, LICENSE and package.json only", () => {
    const files = sb.packed.files;
    const outside = files.filter((f) => !/^(dist\/|bin\/switchboard\.js$|README\.md$|LICENSE$|package\.json$)/.test(f));
    assert.deepEqual(outside, [], "files outside dist/, bin/, README.md, LICENSE");
    const forbidden = files.filter((f) => /(^|\/)(test|bench|\.ci|fixtures)\//.test(f) || /\.(pem|key|crt|proto)$/.test(f) || (/\.ts$/.test(f) && !/\.d\.ts$/.test(f)));
    assert.deepEqual(forbidden, [], "tests, benchmarks, CI files, keys, protos or TypeScript sources in the tarball");
    for (const needed of ["LICENSE", "README.md", "bin/switchboard.js", "dist/index.js", "dist/index.d.ts", "dist/index.js.map", "dist/sros/index.js", "dist/sros/index.d.ts", "dist/cli/main.js", "dist/execution/worker-boot.mjs", "dist/execution/worker-entry.js"]) {
      assert.ok(files.includes(needed), `${needed} is missing from the tarball`);
    }
    assert.match(readFileSync(path.join(REPO, "LICENSE"), "utf8"), /Apache License\s+Version 2\.0/);
  });

  // prom-client (with tdigest and bintrees) backs ServerMetrics/ClientMetrics and the admin
  // server's /metrics; @opentelemetry/api is the no-op-until-an-SDK-is-installed OTel seam.
  it("installs with @bufbuild/protobuf, @msgpack/msgpack, ws, prom-client and @opentelemetry/api as its only dependencies (zeromq is an optional peer): no tsx, esbuild or src/ at run time", () => {
    const modules = path.join(sb.project, "node_modules");
    const installed = readdirSync(modules).filter((n) => !n.startsWith("."));
    assert.deepEqual(
      installed.sort(),
      ["@bufbuild", "@msgpack", "@opentelemetry", "bintrees", "prom-client", "switchboard", "tdigest", "ws"],
      "a runtime dependency besides @bufbuild/protobuf, @msgpack/msgpack, ws, prom-client (tdigest, bintrees) and @opentelemetry/api (deliberate? then update this test)",
    );
    assert.deepEqual(readdirSync(path.join(modules, "@bufbuild")), ["protobuf"]);
    assert.deepEqual(readdirSync(path.join(modules, "@opentelemetry")), ["api"]);
    assert.equal(existsSync(path.join(modules, "switchboard", "src")), false);
    const pkg = JSON.parse(readFileSync(path.join(modules, "switchboard", "package.json"), "utf8")) as Record<string, unknown>;
    assert.deepEqual(Object.keys(pkg["dependencies"] as object), ["@bufbuild/protobuf", "@msgpack/msgpack", "@opentelemetry/api", "prom-client", "ws"]);
    assert.deepEqual(pkg["peerDependenciesMeta"], { zeromq: { optional: true } });
  });

  it("`switchboard` resolves to the installed dist/ (not to the repository), and tsx cannot be found", async () => {
    const out = await ok(
      "node",
      ["--input-type=module", "-e", "console.log(import.meta.resolve('switchboard')); try { import.meta.resolve('tsx'); console.log('tsx found') } catch { console.log('no tsx') }"],
      exec,
    );
    const [resolved, tsx] = out.trim().split("\n");
    assert.equal(resolved, `file://${path.join(sb.project, "node_modules", "switchboard", "dist", "index.js")}`);
    assert.equal(tsx, "no tsx");
  });

  it("a strict TypeScript consumer (exactOptionalPropertyTypes, skipLibCheck false) type-checks and compiles against the .d.ts", T, async () => {
    await npmInstall(sb, ["--save-dev", "typescript", "@types/node"]);
    cpSync(path.join(REPO, "test", "package", "consumer"), sb.project, { recursive: true });
    const tsc = await run("npx", ["tsc", "-p", "."], exec);
    assert.equal(tsc.code, 0, `tsc failed:\n${tsc.stdout}${tsc.stderr}`);
    assert.ok(existsSync(path.join(sb.project, "out", "consumer.js")));
  });

  it("the compiled consumer (unary + server-streaming, `await using` server and channel) exits 0 by itself", T, async () => {
    const r = await run("node", ["out/consumer.js"], exec);
    assert.equal(r.code, 0, `exit ${r.code ?? r.signal}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
    assert.equal(
      r.stdout,
      "unary: SERVING\nserver-streaming: NOT_SERVING SERVING SERVICE_UNKNOWN\nerror: NOT_FOUND (= sros StatusCode.NOT_FOUND) unknown service nope\njsonrpc ws: 12 -->0 <--0 open=true\nend of script\n",
    );
    assert.equal(r.stderr, "");
  });

  it("plain node ESM: WorkerPool threads boot from dist/ with no loader, serve unary + server-streaming, and the script exits 0", T, async () => {
    const r = await run("node", ["pool.mjs"], exec);
    assert.equal(r.code, 0, `exit ${r.code ?? r.signal}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
    assert.equal(r.stdout, "pool unary: SERVING\npool server-streaming: NOT_SERVING SERVING\npool threads started: 2\n");
  });

  it("plain node ESM: JSON-RPC over HTTP and WebSocket from dist/, ZeroMQ refused with ERR_SB_TRANSPORT naming `npm install zeromq`, and the script exits 0", T, async () => {
    const r = await run("node", ["jsonrpc.mjs"], exec);
    assert.equal(r.code, 0, `exit ${r.code ?? r.signal}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
    assert.equal(r.stdout, "jsonrpc http: 5 42\njsonrpc ws: ab\njsonrpc zmq: ERR_SB_TRANSPORT true\n");
  });

  it("plain node ESM: switchboard/rpyc from dist/ (ThreadedServer, client, kwargs, a callback, an object by reference) and the script exits 0", T, async () => {
    const r = await run("node", ["rpyc.mjs"], exec);
    assert.equal(r.code, 0, `exit ${r.code ?? r.signal}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
    assert.equal(r.stdout, "rpyc: SHOP 5 42 5\n");
  });

  it("plain node ESM: ThreadPoolServer (worker threads) and ForkingServer (child processes) from dist/ serve a service module, and the script exits 0", T, async () => {
    const r = await run("node", ["rpyc-pool.mjs"], exec);
    assert.equal(r.code, 0, `exit ${r.code ?? r.signal}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
    assert.equal(r.stdout, "rpyc threadpool: 3 true\nrpyc forking: 3 true\n");
  });

  it("CommonJS require('switchboard') and require('switchboard/sros') load the ESM build through require(esm) and exit 0", T, async (t) => {
    if (!process.features.require_module) {
      t.skip(`node ${process.version} has no require(esm) (20.19+ and 22.12+ do)`);
      return;
    }
    const r = await run("node", ["require.cjs"], exec);
    assert.equal(r.code, 0, `exit ${r.code ?? r.signal}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
    assert.equal(r.stdout, "require unary: SERVING; sros GrpcServer: function\n");
  });

  it("native `await using` in plain JavaScript disposes the channel and the server and exits 0", T, async (t) => {
    if (!hasAwaitUsing()) {
      t.skip(`node ${process.version} does not parse \`await using\` (Node 24 does); the compiled consumer covers it here`);
      return;
    }
    const r = await run("node", ["using.mjs"], exec);
    assert.equal(r.code, 0, `exit ${r.code ?? r.signal}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
    assert.equal(r.stdout, "native await using: SERVING; SERVING NOT_SERVING\n");
  });

  it("the installed bin: `switchboard --help` (exit 0), `serve --port 0`, then `health` (SERVING) and `call` against it, and SIGTERM stops serve (exit 0)", T, async () => {
    const help = await ok("npx", ["switchboard", "--help"], exec);
    assert.match(help, /^usage: switchboard COMMAND/);
    // The bin itself, not through npx: npx does not forward signals to its child.
    const serve = new Background(path.join(sb.project, "node_modules", ".bin", "switchboard"), ["serve", "--port", "0"], exec);
    try {
      const m = await serve.waitFor(/^Greeter listening on 127\.0\.0\.1:(\d+)$/m, SCRIPT_MS);
      const target = `127.0.0.1:${m[1]}`;
      assert.equal(await ok("npx", ["switchboard", "health", target], exec), "status: SERVING\n");
      const call = await ok("npx", ["switchboard", "call", target, "helloworld.Greeter/SayHello", '{"name":"Ada"}'], exec);
      assert.deepEqual(JSON.parse(call), { message: "Hello, Ada!" });
      serve.signal("SIGTERM");
      const exited = await serve.exited;
      assert.equal(exited.code, 0, `serve exited ${exited.code ?? exited.signal}\nstderr: ${serve.stderr}`);
      assert.match(serve.stdout, /^stopped$/m);
    } finally {
      serve.kill();
    }
  });
});
