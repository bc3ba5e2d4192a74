// GET /events: Server-Sent Events with a snapshot at once on connect and then one per interval,
// each carrying the calls made since; closing the admin server ends the stream.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { DashboardSnapshot } from "../../src/admin/index.js";
import { SAY_HELLO, traffic, withAdmin } from "./helpers.js";

const T = { timeout: 30_000 };

/** Reads `snapshot` events from an event stream response. */
async function* snapshots(body: ReadableStream<Uint8Array>): AsyncGenerator<DashboardSnapshot> {
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true });
    let end: number;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const lines = block.split("\n");
      if (!lines.includes("event: snapshot")) continue;
      const data = lines.filter((l) => l.startsWith("data: ")).map((l) => l.slice(6)).join("\n");
      yield JSON.parse(data) as DashboardSnapshot;
    }
  }
}

describe("admin event stream", () => {
  it("GET /events is 200 text/event-stream with a snapshot at once, then new ones carrying new calls", T, async () => {
    const f = await withAdmin({ intervalMs: 100 });
    const abort = new AbortController();
    try {
      const res = await fetch(`${f.admin.url}events`, { signal: abort.signal });
      assert.equal(res.status, 200);
      assert.match(res.headers.get("content-type")!, /^text\/event-stream/);
      assert.equal(res.headers.get("cache-control"), "no-cache, no-store");
      const events = snapshots(res.body!);
      const first = (await events.next()).value as DashboardSnapshot;
      assert.equal(first.calls.calls, 0);
      assert.equal(first.server.state, "serving");
      await traffic(f.client, { ok: 3, notFound: 1 });
      // Later snapshots arrive by themselves; one of the next (bounded) shows the calls.
      let seen: DashboardSnapshot | undefined;
      for (let i = 0; i < 50 && !seen; i++) {
        const next = (await events.next()).value as DashboardSnapshot;
        assert.ok(next.seq > first.seq);
        if (next.calls.calls === 4) seen = next;
      }
      assert.ok(seen, "no snapshot with the 4 calls arrived");
      assert.deepEqual(seen.calls.methods.find((m) => m.method === SAY_HELLO)?.codes, { OK: 3, NOT_FOUND: 1 });
      assert.ok(seen.server.connections >= 1);
    } finally {
      abort.abort();
      await f.close();
    }
  });

  it("closing the admin server ends open event streams (the read finishes)", T, async () => {
    const f = await withAdmin({ intervalMs: 100 });
    try {
      const res = await fetch(`${f.admin.url}events`);
      assert.equal(res.status, 200);
      const events = snapshots(res.body!);
      await events.next();
      await f.admin.close();
      // Drain whatever was in flight; the stream must end (bounded: a snapshot per 100 ms at most).
      let n = 0;
      for await (const _ of events) if (++n > 50) break;
      assert.ok(n <= 50, "the stream kept going after close()");
    } finally {
      await f.close();
    }
  });
});
