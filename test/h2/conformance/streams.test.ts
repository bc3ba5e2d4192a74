// RFC 9113 5.1 (stream states), 5.1.1 (stream identifiers), 5.1.2 (concurrency) and 5.4.1 / 6.8
// (what a connection error looks like: one GOAWAY with the last processed stream, then close).
import * as assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import { CODE, data, FRAME, headers, M, message, priority, requestBlock, rst, SETTING, Suite, T, windowUpdate } from "./harness.js";

const suite = new Suite();
before(() => suite.start());
afterEach(() => suite.closeConnections());
after(() => suite.stop());

describe("stream identifiers (9113 5.1.1)", () => {
  it("HEADERS on an even (server-initiated) stream id -> GOAWAY PROTOCOL_ERROR (9113 5.1.1)", T, async () => {
    const c = await suite.connect();
    c.send(headers(2, requestBlock(), { endStream: true }));
    await c.expectGoaway(CODE.PROTOCOL_ERROR);
  });

  it("HEADERS with a stream id lower than one already opened -> GOAWAY PROTOCOL_ERROR (9113 5.1.1)", T, async () => {
    const c = await suite.connect();
    c.send(headers(5, requestBlock()), data(5, message("five"), { endStream: true }));
    const r = await c.response(5);
    assert.equal(r.grpcStatus, "0", c.describe());
    // Opening 5 implicitly closed idle stream 3, but the rule that applies is 5.1.1's: a new
    // stream's id must exceed every id opened before, and an unexpected id is a PROTOCOL_ERROR.
    c.send(headers(3, requestBlock()), data(3, message("three"), { endStream: true }));
    await c.expectGoaway(CODE.PROTOCOL_ERROR, { lastStreamId: 5 });
  });

  it("stream ids may skip values (1 then 7) (9113 5.1.1)", T, async () => {
    const c = await suite.connect();
    c.nextId = 7;
    await c.expectCallOk();
    await c.expectCallOk();
  });
});

describe("stream states (9113 5.1)", () => {
  it("HEADERS on a half-closed (remote) stream -> RST_STREAM STREAM_CLOSED (9113 5.1)", T, async () => {
    const c = await suite.connect();
    const id = c.startCall(M.hold, "held");
    c.send(headers(id, requestBlock(M.hold), { endStream: true }));
    await c.expectRst(id, CODE.STREAM_CLOSED);
    await c.expectCallOk();
  });

  it("DATA on a half-closed (remote) stream -> RST_STREAM STREAM_CLOSED (9113 5.1, 6.1)", T, async () => {
    const c = await suite.connect();
    const id = c.startCall(M.hold, "held");
    c.send(data(id, message("late"), { endStream: true }));
    await c.expectRst(id, CODE.STREAM_CLOSED);
    await c.expectCallOk();
  });

  it("DATA after END_STREAM on a closed stream -> STREAM_CLOSED (stream or connection error) (9113 5.1)", T, async () => {
    const c = await suite.connect();
    const done = await c.expectCallOk();
    c.send(data(done.streamId, message("late"), { endStream: true }));
    await c.expectStreamOrConnectionError(done.streamId, CODE.STREAM_CLOSED);
  });

  it("DATA after the client's RST_STREAM -> STREAM_CLOSED (stream or connection error) (9113 5.1)", T, async () => {
    const c = await suite.connect();
    const id = c.openStream(M.hold);
    c.send(rst(id, CODE.CANCEL));
    await c.expectPing();
    c.send(data(id, message("late"), { endStream: true }));
    await c.expectStreamOrConnectionError(id, CODE.STREAM_CLOSED);
  });

  it("WINDOW_UPDATE, PRIORITY and RST_STREAM on a half-closed (remote) stream are accepted (9113 5.1)", T, async () => {
    const c = await suite.connect();
    const id = c.startCall(M.hold, "held");
    c.send(windowUpdate(id, 1000), priority(id, 0));
    await c.expectPing();
    assert.ok(!c.frames.some((f) => f.type === FRAME.RST_STREAM || f.type === FRAME.GOAWAY), c.describe());
    c.send(rst(id, CODE.CANCEL));
    await c.expectCallOk();
    assert.equal(c.goaways.length, 0, c.describe());
  });

  it("a half-closed (remote) stream still receives its response (9113 5.1)", T, async () => {
    const c = await suite.connect();
    const id = c.startCall(M.hold, "held-reply");
    assert.ok(await c.waitFor(() => suite.server.held > 0), "the call never reached the handler");
    suite.server.release();
    const r = await c.response(id);
    assert.equal(r.grpcStatus, "0", c.describe());
  });
});

describe("connection errors (9113 5.4.1, 6.8)", () => {
  it("after a connection error: exactly one GOAWAY, last-stream-id = highest processed stream, TCP closed (9113 5.4.1)", T, async () => {
    const c = await suite.connect();
    await c.expectCallOk();
    await c.expectCallOk();
    const inFlight = c.startCall(M.hold, "in-flight");
    assert.ok(await c.waitFor(() => suite.server.held > 0), "the held call never reached the handler");
    c.send(windowUpdate(0, 0));
    await c.expectGoaway(CODE.PROTOCOL_ERROR, { lastStreamId: inFlight });
  });

  it("after a connection error no new stream is processed (9113 6.8)", T, async () => {
    const c = await suite.connect();
    c.send(windowUpdate(0, 0), headers(1, requestBlock(), { endStream: true }));
    await c.expectGoaway(CODE.PROTOCOL_ERROR, { lastStreamId: 0 });
    assert.ok(!c.frames.some((f) => f.type === FRAME.HEADERS), `a stream sent after the error was answered: ${c.describe()}`);
  });
});

describe("concurrency (9113 5.1.2)", () => {
  const limited = new Suite({ maxConcurrentStreams: 4 });
  before(() => limited.start());
  afterEach(() => limited.closeConnections());
  after(() => limited.stop());

  it("the server advertises SETTINGS_MAX_CONCURRENT_STREAMS (9113 6.5.2)", T, async () => {
    const c = await limited.connect();
    assert.equal(c.serverSettings.get(SETTING.MAX_CONCURRENT_STREAMS), 4, c.describe());
  });

  it("a stream beyond SETTINGS_MAX_CONCURRENT_STREAMS -> RST_STREAM REFUSED_STREAM or PROTOCOL_ERROR; the connection keeps working (9113 5.1.2)", T, async () => {
    const c = await limited.connect();
    const max = c.serverSettings.get(SETTING.MAX_CONCURRENT_STREAMS);
    assert.ok(max !== undefined && max < 100, `needs a small advertised limit, got ${max}`);
    const held: number[] = [];
    for (let i = 0; i < max; i++) held.push(c.startCall(M.hold, `held-${i}`));
    assert.ok(await c.waitFor(() => limited.server.held === max), `only ${limited.server.held} of ${max} calls reached the handler`);
    const extra = c.startCall(M.echo, "one-too-many");
    const f = await c.waitFrame((x) => (x.type === FRAME.RST_STREAM && x.streamId === extra) || x.type === FRAME.GOAWAY || (x.type === FRAME.HEADERS && x.streamId === extra));
    assert.ok(f && f.type === FRAME.RST_STREAM, `expected RST_STREAM on stream ${extra}: ${c.describe()}`);
    const code = f.payload.readUInt32BE(0);
    assert.ok(code === CODE.REFUSED_STREAM || code === CODE.PROTOCOL_ERROR, `RST_STREAM code ${code}: ${c.describe()}`);
    limited.server.release();
    for (const id of held) assert.equal((await c.response(id)).grpcStatus, "0", c.describe());
    await c.expectCallOk();
    assert.equal(c.goaways.length, 0, c.describe());
  });

  it("closed streams free their slot: many sequential calls under a limit of 4 (9113 5.1.2)", T, async () => {
    const c = await limited.connect();
    for (let i = 0; i < 20; i++) await c.expectCallOk(M.echo, `seq-${i}`);
  });
});
