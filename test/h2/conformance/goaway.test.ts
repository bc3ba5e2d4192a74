// RFC 9113 6.8: graceful shutdown. server.stop(graceMs) with a call in flight sends GOAWAY
// NO_ERROR (optionally first with last-stream-id 2^31-1, then the real one), never raises the
// last-stream-id, finishes the in-flight call, and does not process streams above the last id.
import * as assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { CODE, data, FRAME, goawayFrame, H2Conn, headers, M, MAX_WINDOW, message, parseGoaway, requestBlock, startServer, T, type ConformanceServer } from "./harness.js";

let server: ConformanceServer | undefined;
const conns: H2Conn[] = [];
afterEach(async () => {
  for (const c of conns.splice(0)) c.close();
  server?.release();
  await server?.stop(0);
  server = undefined;
});

/** A fresh server and one connection to it, both cleaned up after the test. */
async function connect(): Promise<{ s: ConformanceServer; c: H2Conn }> {
  const s = (server = await startServer());
  const c = await H2Conn.connect(s.port);
  conns.push(c);
  return { s, c };
}

/** Waits (up to 8 s) for the server to close the TCP connection. */
async function closedSoon(c: H2Conn): Promise<void> {
  await Promise.race([c.closed, new Promise((res) => setTimeout(res, 8000).unref())]);
}

describe("graceful shutdown (9113 6.8)", () => {
  it("stop(grace) with a call in flight -> GOAWAY NO_ERROR, the call completes, later streams are not processed, then TCP closed (9113 6.8)", T, async () => {
    const { s, c } = await connect();
    const held = c.startCall(M.hold, "in-flight");
    assert.ok(await c.waitFor(() => s.held === 1), "the call never reached the handler");
    const stopped = s.stop(10_000);
    // Wait for a GOAWAY that names a real last stream (a first one may say 2^31-1: "stop opening streams soon").
    const final = await c.waitFrame((f) => f.type === FRAME.GOAWAY && parseGoaway(f).lastStreamId !== MAX_WINDOW);
    assert.ok(final, `no GOAWAY with a real last-stream-id: ${c.describe()}`);
    const last = parseGoaway(final).lastStreamId;
    assert.ok(last >= held, `the in-flight stream ${held} must be covered by last-stream-id ${last}: ${c.describe()}`);
    // A stream above last-stream-id: the server must not process it (no response HEADERS).
    const late = Math.max(last, held) + 2;
    c.nextId = late + 2;
    c.send(headers(late, requestBlock(M.echo)), data(late, message("too-late"), { endStream: true }));
    s.release();
    const r = await c.response(held);
    assert.equal(r.grpcStatus, "0", `the in-flight call must complete: ${c.describe()}`);
    await closedSoon(c);
    assert.ok(c.isClosed, `the server did not close the connection after the last call: ${c.describe()}`);
    await stopped;
    const goaways = c.goaways;
    for (const g of goaways) assert.equal(g.code, CODE.NO_ERROR, c.describe());
    for (let i = 1; i < goaways.length; i++) assert.ok(goaways[i]!.lastStreamId <= goaways[i - 1]!.lastStreamId, `last-stream-id increased: ${c.describe()}`);
    assert.ok(goaways.length <= 2, `more than two GOAWAYs: ${c.describe()}`);
    assert.ok(!c.frames.some((f) => f.type === FRAME.HEADERS && f.streamId === late), `stream ${late} above last-stream-id ${last} was processed: ${c.describe()}`);
  });

  it("a stream sent between the two GOAWAYs is reset REFUSED_STREAM, and the connection stays open until the final GOAWAY covers it (9113 6.8)", T, async () => {
    const { s, c } = await connect();
    await c.expectCallOk();
    // Unanswered PINGs keep the server in its first phase (GOAWAY 2^31-1 only).
    c.holdPings = true;
    const stopped = s.stop(10_000);
    const first = await c.waitFrame((f) => f.type === FRAME.GOAWAY);
    assert.ok(first, `no GOAWAY after stop(): ${c.describe()}`);
    assert.equal(parseGoaway(first).lastStreamId, MAX_WINDOW, `the first GOAWAY must say 2^31-1: ${c.describe()}`);
    // Opened before the client could act on that GOAWAY: never processed, so the client may retry it.
    const between = c.startCall(M.echo, "between");
    const reset = await c.waitFrame((f) => f.type === FRAME.RST_STREAM && f.streamId === between);
    assert.ok(reset, `stream ${between} was not reset: ${c.describe()}`);
    assert.equal(reset.payload.readUInt32BE(0), CODE.REFUSED_STREAM, `stream ${between} must be reset REFUSED_STREAM: ${c.describe()}`);
    c.releasePings();
    // Ending the connection without the final GOAWAY would leave the client guessing which streams were processed.
    const final = await c.waitFrame((f) => f.type === FRAME.GOAWAY && parseGoaway(f).lastStreamId !== MAX_WINDOW);
    assert.ok(final, `no final GOAWAY before the connection ended: ${c.describe()}`);
    assert.ok(parseGoaway(final).lastStreamId >= between, `the final GOAWAY must cover stream ${between}: ${c.describe()}`);
    await closedSoon(c);
    assert.ok(c.isClosed, `the server did not close the connection after the final GOAWAY: ${c.describe()}`);
    await stopped;
  });

  it("stop() on an idle connection -> GOAWAY NO_ERROR and TCP closed (9113 6.8)", T, async () => {
    const { s, c } = await connect();
    await c.expectCallOk();
    const stopped = s.stop(5000);
    await closedSoon(c);
    assert.ok(c.isClosed, `connection not closed: ${c.describe()}`);
    await stopped;
    assert.ok(c.goaways.length >= 1, `no GOAWAY before close: ${c.describe()}`);
    for (const g of c.goaways) assert.equal(g.code, CODE.NO_ERROR, c.describe());
    assert.equal(c.goaways[c.goaways.length - 1]!.lastStreamId, 1, c.describe());
  });

  it("a client GOAWAY NO_ERROR lets the in-flight call finish (9113 6.8)", T, async () => {
    const { s, c } = await connect();
    const held = c.startCall(M.hold, "in-flight");
    assert.ok(await c.waitFor(() => s.held === 1), "the call never reached the handler");
    // The client never accepts pushes, so its last-stream-id is 0.
    c.send(goawayFrame(0, CODE.NO_ERROR));
    s.release();
    const r = await c.response(held);
    assert.equal(r.grpcStatus, "0", c.describe());
  });
});
