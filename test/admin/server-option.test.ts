// new Server({ admin }): the admin server starts with the server (both start() forms), closes
// when the server has stopped, and a failure to start it is reported without stopping the server.
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { describe, it } from "node:test";
import { Server } from "../../src/index.js";
import { greeterServer, get, traffic } from "./helpers.js";

const T = { timeout: 30_000 };

describe("Server admin option", () => {
  it("start(host, port) starts it: server.admin resolves, /metrics is 200; after stop() the port is closed", T, async () => {
    const f = await greeterServer({ admin: { port: 0 } });
    let url = "";
    try {
      const admin = await f.server.admin!;
      url = admin.url;
      await traffic(f.client, { ok: 2 });
      const res = await get(`${url}metrics`);
      assert.equal(res.status, 200);
      assert.match(res.body, /^grpc_server_handled_total\{[^}]*grpc_code="OK"[^}]*\} 2$/m);
    } finally {
      await f.close();
    }
    await assert.rejects(get(`${url}metrics`), /fetch failed/);
  });

  it("grpcio start() (no arguments) starts it too", T, async () => {
    const server = new Server({ admin: { port: 0 } });
    assert.equal(server.admin, undefined);
    await server.addInsecurePort("127.0.0.1:0");
    server.start();
    try {
      const admin = await server.admin!;
      assert.equal((await get(`${admin.url}api/snapshot`)).status, 200);
    } finally {
      await server.stop();
    }
  });

  it("bad admin options throw ERR_SB_BAD_OPTION / ERR_SB_ADMIN_UNPROTECTED at construction", () => {
    assert.throws(() => new Server({ admin: { port: -5 } }), /ERR_SB_BAD_OPTION/);
    assert.throws(() => new Server({ admin: { host: "0.0.0.0", port: 0 } }), /ERR_SB_ADMIN_UNPROTECTED/);
  });

  it("a taken admin port is told to onError (ERR_SB_BIND_FAILED) and the server keeps serving calls", T, async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", r));
    const taken = (blocker.address() as { port: number }).port;
    const errors: unknown[] = [];
    const f = await greeterServer({ admin: { port: taken }, onError: (err) => void errors.push(err) });
    try {
      await assert.rejects(f.server.admin!, /ERR_SB_BIND_FAILED/);
      // The report runs in the same rejection's handlers: it is there by now or a tick later.
      await new Promise((r) => setImmediate(r));
      assert.equal(errors.length, 1);
      assert.match(String(errors[0]), /ERR_SB_BIND_FAILED/);
      assert.equal((await f.client.sayHello({ name: "Ada" })).message, "Hello, Ada!");
    } finally {
      await f.close();
      blocker.close();
    }
  });
});
