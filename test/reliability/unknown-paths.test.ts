// Row 31 of the reliability bar: 20,000 requests to distinct unknown method paths. Every one
// is answered UNIMPLEMENTED and the server keeps no state per path: the router's cache of
// definitions for generic handlers stays within its bound, and RSS grows < 50 MB. The server
// runs in a child process (unknown-paths-server.ts) so its memory is its own.
import { after, before, describe, it, type TestContext } from "node:test";
import * as assert from "node:assert/strict";
import { connect, type ClientHttp2Session } from "node:http2";
import { setTimeout as sleep } from "node:timers/promises";
import { mb, MiB, sessionUnary, type SessionAnswer } from "./harness.js";
import { ChildServer } from "./child-server.js";
import type { PathServerStats } from "./unknown-paths-server.js";
import { Router } from "../../src/service/router.js";

const T = { timeout: 120_000 };
const REQUESTS = 20_000;
const CONNECTIONS = 4;
/** Requests in flight per connection (below the advertised 256 streams). */
const IN_FLIGHT = 64;
const UNIMPLEMENTED = 12;

/** One unary call with a 1-byte body on an open connection. */
function call(session: ClientHttp2Session, path: string): Promise<SessionAnswer> {
  return sessionUnary(session, path, Buffer.from("x"), 10_000);
}

/**
 * The i-th unknown path, in three kinds taking turns: an unknown service (no handler answers),
 * an unknown method of a registered service, and a method of rel.Dyn that its catch-all
 * generic handler answers and then refuses (the case that used to leave a cache entry).
 */
function unknownPath(i: number): string {
  switch (i % 3) {
    case 0:
      return `/rel.Nope${i}/Method${i}`;
    case 1:
      return `/rel.Paths/Method${i}`;
    default:
      return `/rel.Dyn/Method${i}`;
  }
}

/** Sends `count` requests to distinct unknown paths (starting at `from`); returns how each was answered. */
async function flood(sessions: ClientHttp2Session[], from: number, count: number): Promise<{ unimplemented: number; other: string[]; ms: number }> {
  let next = from;
  const end = from + count;
  let unimplemented = 0;
  const other: string[] = [];
  const started = performance.now();
  const worker = async (session: ClientHttp2Session) => {
    while (next < end) {
      const i = next++;
      const path = unknownPath(i);
      const r = await call(session, path);
      if (r.grpcStatus === UNIMPLEMENTED) unimplemented++;
      else if (other.length < 10) other.push(`${path}: grpc-status ${r.grpcStatus} ${r.grpcMessage ?? ""}`);
    }
  };
  await Promise.all(sessions.flatMap((s) => Array.from({ length: IN_FLIGHT }, () => worker(s))));
  return { unimplemented, other, ms: performance.now() - started };
}

/** GCs (bounded) until RSS is within `slack` of `baseline`; the last stats and how long it took. */
async function settle(server: ChildServer<PathServerStats>, baseline: number, slack: number, withinMs: number): Promise<{ stats: PathServerStats; ms: number }> {
  const started = performance.now();
  let stats = await server.command("gc");
  while (stats.rss > baseline + slack && performance.now() - started < withinMs) {
    await sleep(250);
    stats = await server.command("gc");
  }
  return { stats, ms: performance.now() - started };
}

function openSessions(port: number): Promise<ClientHttp2Session[]> {
  return Promise.all(
    Array.from({ length: CONNECTIONS }, () => {
      const s = connect(`http://127.0.0.1:${port}`);
      s.on("error", () => {});
      return new Promise<ClientHttp2Session>((resolve, reject) => {
        s.once("connect", () => resolve(s));
        s.once("error", reject);
      });
    }),
  );
}

let server: ChildServer<PathServerStats>;
let sessions: ClientHttp2Session[] = [];

before(async () => {
  server = await ChildServer.launch<PathServerStats>("test/reliability/unknown-paths-server.ts", { nodeFlags: ["--expose-gc"] });
  sessions = await openSessions(server.port);
});

after(async () => {
  for (const s of sessions) s.destroy();
  await server?.close();
});

describe("row 31: 20,000 requests to distinct unknown method paths", () => {
  it("every one is UNIMPLEMENTED; the router cache stays within Router.CACHE_LIMIT and RSS grows < 50 MB", T, async (t: TestContext) => {
    // Warm-up: code paths compiled and buffers grown before the baseline.
    const warm = await flood(sessions, 0, 1_000);
    assert.equal(warm.unimplemented, 1_000, warm.other.join("\n"));
    const s0 = await server.command("gc");
    const r = await flood(sessions, 1_000_000, REQUESTS);
    const s1 = await server.command("stats");
    const s2 = await server.command("gc");
    t.diagnostic(
      `${REQUESTS} distinct unknown paths in ${r.ms.toFixed(0)} ms (${((REQUESTS / r.ms) * 1000).toFixed(0)}/s) on ${CONNECTIONS} connections x ${IN_FLIGHT} in flight: ` +
        `${r.unimplemented} UNIMPLEMENTED; rel.Dyn handler calls ${s2.dynamicCalls - s0.dynamicCalls}; router cache ${s0.routerCache} -> ${s2.routerCache} (limit ${Router.CACHE_LIMIT}); ` +
        `RSS ${mb(s0.rss)} -> ${mb(s1.rss)} MB right after, ${mb(s2.rss)} MB after GC; heap used after GC ${mb(s0.heapUsed)} -> ${mb(s2.heapUsed)} MB`,
    );
    assert.equal(r.unimplemented, REQUESTS, `every request must be UNIMPLEMENTED; others:\n${r.other.join("\n")}`);
    assert.ok(s2.dynamicCalls - s0.dynamicCalls >= Math.floor(REQUESTS / 3), "the catch-all generic handler answered its share");
    assert.ok(s2.routerCache <= Router.CACHE_LIMIT, `router cache holds ${s2.routerCache} definitions (limit ${Router.CACHE_LIMIT})`);
    assert.ok(s2.rss - s0.rss < 50 * MiB, `RSS grew ${mb(s2.rss - s0.rss)} MB (bar: < 50 MB)`);
    assert.equal(s2.activeCalls, 0, "no call left behind");
    // The bar for every row: memory back near the baseline within a few seconds (V8 keeps its
    // young generation grown for a while after a burst of allocations; GCs until it shrinks).
    const settled = await settle(server, s0.rss, 15 * MiB, 10_000);
    t.diagnostic(`RSS ${mb(settled.stats.rss)} MB ${settled.ms.toFixed(0)} ms after the flood (baseline ${mb(s0.rss)} MB)`);
    assert.ok(settled.stats.rss <= s0.rss + 15 * MiB, `RSS ${mb(settled.stats.rss)} MB did not return within 15 MB of the baseline ${mb(s0.rss)} MB in 10 s`);

    // Still serving: a registered method, a grpcio generic handler's method, the catch-all's known method.
    const echo = await call(sessions[0]!, "/rel.Paths/Echo");
    assert.equal(echo.grpcStatus, 0, echo.grpcMessage);
    assert.equal(echo.body.toString(), "x");
    const hello = await call(sessions[0]!, "/rel.Known/Hello");
    assert.equal(hello.grpcStatus, 0, hello.grpcMessage);
    const ping = await call(sessions[0]!, "/rel.Dyn/Ping");
    assert.equal(ping.grpcStatus, 0, ping.grpcMessage);
    assert.equal(ping.body.toString(), "pong");
    assert.ok(server.alive, `server exited\n${server.stderr}`);
  });
});
