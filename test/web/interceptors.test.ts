// Service interceptors (grpcio interceptService) run once per call whatever the protocol: the
// web front's own checks before dispatch (405/415) read registered methods only, and dispatch
// runs the interceptor chain once.
import * as assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startWebServer, type WebServer } from "./fixture.js";

let ws: WebServer;
const seen: string[] = [];
before(async () => {
  ws = await startWebServer({
    interceptors: [
      {
        interceptService(next, details) {
          seen.push(details.method);
          return next(details);
        },
      },
    ],
  });
});
after(async () => {
  await ws.stop();
});

const SAY = "/webtest.v1.WebTestService/Say";

describe("service interceptors on the web protocols", () => {
  it("a Connect POST runs the interceptor once (OK)", async () => {
    seen.length = 0;
    const res = await fetch(`${ws.url}${SAY}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ name: "post" }) });
    assert.equal(res.status, 200, await res.clone().text());
    assert.equal(((await res.json()) as { message: string }).message, "hello post");
    assert.deepEqual(seen, [SAY]);
  });

  it("a Connect GET runs the interceptor once (OK)", async () => {
    seen.length = 0;
    const message = encodeURIComponent(JSON.stringify({ name: "get" }));
    const res = await fetch(`${ws.url}${SAY}?connect=v1&encoding=json&message=${message}`);
    assert.equal(res.status, 200, await res.clone().text());
    assert.deepEqual(seen, [SAY]);
  });
});
