// The admin server's bounds: unknown paths 404, methods other than GET 405, event streams
// beyond the cap 503, a taken port ERR_SB_BIND_FAILED, bad options ERR_SB_BAD_OPTION.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { startAdmin } from "../../src/admin/index.js";
import { get, greeterServer, withAdmin } from "./helpers.js";

const T = { timeout: 30_000 };

describe("admin limits", () => {
  it("unknown paths are 404 naming the known ones (also /constructor and /__proto__)", T, async () => {
    const f = await withAdmin();
    try {
      for (const path of ["nope", "metrics/", "constructor", "__proto__", "toString"]) {
        const res = await get(`${f.admin.url}${path}`);
        assert.equal(res.status, 404, path);
        assert.match(res.body, /no such admin page: .*\(try \/, \/metrics, \/health, \/events, \/api\/snapshot\)/);
      }
    } finally {
      await f.close();
    }
  });

  it("POST, PUT, DELETE and HEAD are 405 with Allow: GET", T, async () => {
    const f = await withAdmin();
    try {
      for (const method of ["POST", "PUT", "DELETE", "HEAD"]) {
        const res = await get(`${f.admin.url}metrics`, { method, ...(method === "HEAD" ? {} : { body: "x" }) });
        assert.equal(res.status, 405, method);
        assert.equal(res.headers.get("allow"), "GET");
      }
    } finally {
      await f.close();
    }
  });

  it("event streams beyond maxEventClients are 503 with Retry-After; a freed slot is usable again (200)", T, async () => {
    const f = await withAdmin({ maxEventClients: 2 });
    const controllers = [new AbortController(), new AbortController()];
    try {
      const open = await Promise.all(controllers.map((c) => fetch(`${f.admin.url}events`, { signal: c.signal })));
      assert.deepEqual(open.map((r) => r.status), [200, 200]);
      const third = await get(`${f.admin.url}events`);
      assert.equal(third.status, 503);
      assert.equal(third.headers.get("retry-after"), "5");
      assert.match(third.body, /too many dashboard event streams/);
      controllers[0]!.abort();
      // The server sees the close a moment later: bounded retries.
      let status = 503;
      const retry = new AbortController();
      for (let i = 0; i < 100 && status === 503; i++) {
        const res = await fetch(`${f.admin.url}events`, { signal: retry.signal });
        status = res.status;
        if (status === 503) {
          await res.text();
          await new Promise((r) => setTimeout(r, 20));
        }
      }
      assert.equal(status, 200);
      retry.abort();
    } finally {
      for (const c of controllers) c.abort();
      await f.close();
    }
  });

  it("a taken port is ERR_SB_BIND_FAILED; bad ports and intervals are ERR_SB_BAD_OPTION", T, async () => {
    const f = await withAdmin();
    try {
      await assert.rejects(startAdmin(f.server, { port: f.admin.port }), /ERR_SB_BIND_FAILED/);
      await assert.rejects(startAdmin(f.server, { port: -1 }), /ERR_SB_BAD_OPTION/);
      await assert.rejects(startAdmin(f.server, { port: 70000 }), /ERR_SB_BAD_OPTION/);
      await assert.rejects(startAdmin(f.server, { port: 0, intervalMs: 1 }), /ERR_SB_BAD_OPTION/);
      await assert.rejects(startAdmin(f.server, { port: 0, maxEventClients: 0 }), /ERR_SB_BAD_OPTION/);
      // A start that fails to bind leaves nothing observing the server.
      const g = await greeterServer();
      try {
        await assert.rejects(startAdmin(g.server, { port: f.admin.port }), /ERR_SB_BIND_FAILED/);
        assert.equal(g.server.observers.active, false);
      } finally {
        await g.close();
      }
    } finally {
      await f.close();
    }
  });
});
