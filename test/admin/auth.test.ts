// Who may read the admin server: the optional token (header or query, 401 otherwise), the
// loopback default, the Host check that stops DNS rebinding, and the refusal to expose an
// unprotected admin server beyond loopback.
import assert from "node:assert/strict";
import { request } from "node:http";
import { describe, it } from "node:test";
import { startAdmin } from "../../src/admin/index.js";
import { get, greeterServer, withAdmin } from "./helpers.js";

const T = { timeout: 30_000 };

/** A GET with a Host header of our choosing (fetch will not send one). */
function getWithHost(port: number, path: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, headers: { host }, timeout: 10_000 }, (res) => {
      res.resume();
      resolve(res.statusCode!);
    });
    req.on("timeout", () => req.destroy(new Error("no answer")));
    req.on("error", reject);
    req.end();
  });
}

describe("admin token", () => {
  for (const path of ["", "metrics", "health", "api/snapshot", "events", "no-such-page"]) {
    it(`GET /${path} without the token is 401 with a body saying how to send it`, T, async () => {
      const f = await withAdmin({ token: "s3cret" });
      try {
        const res = await get(`${f.admin.url}${path}`);
        assert.equal(res.status, 401);
        assert.equal(res.headers.get("www-authenticate"), 'Bearer realm="switchboard-admin"');
        assert.match(res.body, /admin token required: send Authorization: Bearer <token> or add \?token=<token>/);
      } finally {
        await f.close();
      }
    });
  }

  it("a wrong token is 401 \"does not match\" (header and query, shorter, longer and same length)", T, async () => {
    const f = await withAdmin({ token: "s3cret" });
    try {
      for (const wrong of ["s3cre", "s3cret!", "S3CRET", "x"]) {
        const byHeader = await get(`${f.admin.url}api/snapshot`, { headers: { authorization: `Bearer ${wrong}` } });
        assert.equal(byHeader.status, 401, wrong);
        assert.match(byHeader.body, /admin token does not match/);
        assert.equal((await get(`${f.admin.url}api/snapshot?token=${encodeURIComponent(wrong)}`)).status, 401, wrong);
      }
    } finally {
      await f.close();
    }
  });

  it("the right token is 200 as a Bearer header or as ?token=", T, async () => {
    const f = await withAdmin({ token: "s3cret" });
    try {
      assert.equal((await get(`${f.admin.url}metrics`, { headers: { authorization: "Bearer s3cret" } })).status, 200);
      assert.equal((await get(`${f.admin.url}metrics?token=s3cret`)).status, 200);
      assert.equal((await get(`${f.admin.url}?token=s3cret`)).status, 200);
    } finally {
      await f.close();
    }
  });

  it("an empty token or one with whitespace is ERR_SB_BAD_OPTION", T, async () => {
    const f = await greeterServer();
    try {
      await assert.rejects(startAdmin(f.server, { port: 0, token: "" }), /ERR_SB_BAD_OPTION/);
      await assert.rejects(startAdmin(f.server, { port: 0, token: "a b" }), /ERR_SB_BAD_OPTION/);
    } finally {
      await f.close();
    }
  });
});

describe("admin loopback default", () => {
  it("without a token, a Host that is not a loopback name is 403 (DNS rebinding); loopback names are 200", T, async () => {
    const f = await withAdmin();
    try {
      assert.equal(await getWithHost(f.admin.port, "/api/snapshot", `evil.example:${f.admin.port}`), 403);
      assert.equal(await getWithHost(f.admin.port, "/api/snapshot", `127.0.0.1:${f.admin.port}`), 200);
      assert.equal(await getWithHost(f.admin.port, "/api/snapshot", `localhost:${f.admin.port}`), 200);
      assert.equal(await getWithHost(f.admin.port, "/api/snapshot", `[::1]:${f.admin.port}`), 200);
    } finally {
      await f.close();
    }
  });

  it("with a token, any Host is fine once the token matches (200)", T, async () => {
    const f = await withAdmin({ token: "t0k" });
    try {
      assert.equal(await getWithHost(f.admin.port, "/api/snapshot?token=t0k", `dash.example:${f.admin.port}`), 200);
    } finally {
      await f.close();
    }
  });

  it("binding beyond loopback without a token is ERR_SB_ADMIN_UNPROTECTED unless allowUnauthenticated", T, async () => {
    const f = await greeterServer();
    try {
      await assert.rejects(startAdmin(f.server, { host: "0.0.0.0", port: 0 }), /ERR_SB_ADMIN_UNPROTECTED/);
      const withToken = await startAdmin(f.server, { host: "0.0.0.0", port: 0, token: "t" });
      await withToken.close();
      const open = await startAdmin(f.server, { host: "0.0.0.0", port: 0, allowUnauthenticated: true });
      try {
        assert.equal((await get(`http://127.0.0.1:${open.port}/health`)).status, 200);
      } finally {
        await open.close();
      }
    } finally {
      await f.close();
    }
  });
});
