// RFC 9113 5.2 and 6.9: the server's sending stays inside the client's windows (initial,
// WINDOW_UPDATE, SETTINGS changes that shrink a window below zero), it polices the windows it
// advertised, window overflow past 2^31-1 is an error, and it replenishes its receive windows.
import * as assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import { CODE, data, FRAME, grpcFrame, headers, M, MAX_WINDOW, message, requestBlock, SETTING, settings, Suite, T, windowUpdate, type H2Conn } from "./harness.js";

const suite = new Suite();
before(() => suite.start());
afterEach(() => suite.closeConnections());
after(() => suite.stop());

/** Resolves once the server has processed everything sent before (its PING ACK came back). */
async function fence(c: H2Conn): Promise<void> {
  await c.expectPing();
}

function maxDataFrame(c: H2Conn, streamId: number): number {
  return Math.max(0, ...c.frames.filter((f) => f.type === FRAME.DATA && f.streamId === streamId).map((f) => f.payload.length));
}

describe("the server respects the client's windows (9113 5.2, 6.9)", () => {
  it("response DATA never exceeds the client's SETTINGS_INITIAL_WINDOW_SIZE; WINDOW_UPDATE releases the rest (9113 6.9.1)", T, async () => {
    const c = await suite.connect({ settings: [[SETTING.ENABLE_PUSH, 0], [SETTING.INITIAL_WINDOW_SIZE, 100]], autoWindowUpdate: false });
    const id = c.startCall(M.echo, Buffer.alloc(1000, 0x41));
    assert.ok(await c.waitFor(() => c.dataReceived(id) >= 100), `the server did not use its 100-byte window: ${c.describe()}`);
    await fence(c);
    assert.equal(c.dataReceived(id), 100, `DATA beyond the 100-byte stream window: ${c.describe()}`);
    c.send(windowUpdate(id, 2000));
    const r = await c.response(id);
    assert.equal(r.grpcStatus, "0", c.describe());
    assert.equal(c.dataReceived(id), 1005, "1000-byte message + 5-byte prefix");
  });

  it("response DATA never exceeds the connection window of 65535; a connection WINDOW_UPDATE releases the rest (9113 6.9.1)", T, async () => {
    const c = await suite.connect({ settings: [[SETTING.ENABLE_PUSH, 0], [SETTING.INITIAL_WINDOW_SIZE, 1 << 20]], autoWindowUpdate: false });
    const id = c.startCall(M.stream, "100 1000");
    assert.ok(await c.waitFor(() => c.dataReceived() >= 65535), `the server did not fill the connection window: ${c.dataReceived()} ${c.describe()}`);
    await fence(c);
    assert.equal(c.dataReceived(), 65535, `DATA beyond the connection window: ${c.describe()}`);
    c.send(windowUpdate(0, 1 << 20));
    const r = await c.response(id);
    assert.equal(r.grpcStatus, "0", c.describe());
    assert.equal(c.dataReceived(id), 100 * 1005);
  });

  it("SETTINGS_INITIAL_WINDOW_SIZE changes adjust open streams, below zero too (9113 6.9.2)", T, async () => {
    const c = await suite.connect({ settings: [[SETTING.ENABLE_PUSH, 0], [SETTING.INITIAL_WINDOW_SIZE, 100]], autoWindowUpdate: false });
    const id = c.startCall(M.echo, Buffer.alloc(1000, 0x42));
    assert.ok(await c.waitFor(() => c.dataReceived(id) >= 100), c.describe());
    // Window 0 -> 100 - 150 = -50 after the change; +50 brings it back to 0: nothing may be sent.
    let acks = c.settingsAcks;
    c.send(settings([[SETTING.INITIAL_WINDOW_SIZE, 50]]));
    assert.ok(await c.waitFor(() => c.settingsAcks > acks), c.describe());
    c.send(windowUpdate(id, 50));
    await fence(c);
    assert.equal(c.dataReceived(id), 100, `DATA sent while the stream window was <= 0: ${c.describe()}`);
    // 50 -> 150 adds 100: exactly 100 more bytes may go out.
    acks = c.settingsAcks;
    c.send(settings([[SETTING.INITIAL_WINDOW_SIZE, 150]]));
    assert.ok(await c.waitFor(() => c.settingsAcks > acks), c.describe());
    assert.ok(await c.waitFor(() => c.dataReceived(id) >= 200), `the window grown by SETTINGS was not used: ${c.describe()}`);
    await fence(c);
    assert.equal(c.dataReceived(id), 200, `DATA beyond the adjusted window: ${c.describe()}`);
    c.send(windowUpdate(id, 5000));
    const r = await c.response(id);
    assert.equal(r.grpcStatus, "0", c.describe());
    assert.equal(c.dataReceived(id), 1005);
  });

  it("with a 100-byte stream window, a server stream of 50 x 1000 bytes completes through WINDOW_UPDATEs, no DATA frame above 100 (9113 6.9)", T, async () => {
    const c = await suite.connect({ settings: [[SETTING.ENABLE_PUSH, 0], [SETTING.INITIAL_WINDOW_SIZE, 100]] });
    const id = c.startCall(M.stream, "50 1000");
    const r = await c.response(id, 15_000);
    assert.equal(r.grpcStatus, "0", c.describe());
    assert.equal(c.dataReceived(id), 50 * 1005);
    assert.ok(maxDataFrame(c, id) <= 100, `a DATA frame of ${maxDataFrame(c, id)} bytes exceeded the window`);
  });

  it("response DATA frames never exceed the client's SETTINGS_MAX_FRAME_SIZE (16384) (9113 4.2)", T, async () => {
    const c = await suite.connect();
    const id = c.startCall(M.stream, "2 100000");
    const r = await c.response(id);
    assert.equal(r.grpcStatus, "0", c.describe());
    assert.ok(maxDataFrame(c, id) <= 16384, `DATA frame of ${maxDataFrame(c, id)} bytes`);
    assert.ok(!c.frames.some((f) => f.payload.length > 16384), c.describe());
  });
});

describe("WINDOW_UPDATE overflow (9113 6.9.1, 6.9.2)", () => {
  it("stream WINDOW_UPDATE past 2^31-1 -> RST_STREAM FLOW_CONTROL_ERROR (9113 6.9.1)", T, async () => {
    const c = await suite.connect();
    const id = c.openStream(M.hold);
    c.send(windowUpdate(id, MAX_WINDOW));
    await c.expectRst(id, CODE.FLOW_CONTROL_ERROR);
    await c.expectCallOk();
  });

  it("two stream WINDOW_UPDATEs summing past 2^31-1 -> RST_STREAM FLOW_CONTROL_ERROR (9113 6.9.1)", T, async () => {
    const c = await suite.connect();
    const id = c.openStream(M.hold);
    c.send(windowUpdate(id, MAX_WINDOW - 65535), windowUpdate(id, 1));
    await c.expectRst(id, CODE.FLOW_CONTROL_ERROR);
    await c.expectCallOk();
  });

  it("connection WINDOW_UPDATE past 2^31-1 -> GOAWAY FLOW_CONTROL_ERROR (9113 6.9.1)", T, async () => {
    const c = await suite.connect();
    c.send(windowUpdate(0, MAX_WINDOW));
    await c.expectGoaway(CODE.FLOW_CONTROL_ERROR);
  });

  it("connection window raised exactly to 2^31-1 is accepted (9113 6.9.1)", T, async () => {
    const c = await suite.connect();
    c.send(windowUpdate(0, MAX_WINDOW - 65535));
    await fence(c);
    await c.expectCallOk();
  });

  it("SETTINGS_INITIAL_WINDOW_SIZE change pushing an open stream past 2^31-1 -> GOAWAY FLOW_CONTROL_ERROR (9113 6.9.2)", T, async () => {
    const c = await suite.connect();
    const id = c.openStream(M.hold);
    c.send(windowUpdate(id, MAX_WINDOW - 65535));
    await fence(c);
    assert.equal(c.goaways.length, 0, c.describe());
    c.send(settings([[SETTING.INITIAL_WINDOW_SIZE, 65536]]));
    await c.expectGoaway(CODE.FLOW_CONTROL_ERROR);
  });
});

describe("the server polices the windows it advertised (9113 6.9)", () => {
  const small = new Suite({ initialWindowSize: 1000 });
  before(() => small.start());
  afterEach(() => small.closeConnections());
  after(() => small.stop());

  it("one DATA frame larger than the server's stream window -> FLOW_CONTROL_ERROR (stream or connection) (9113 6.9.1)", T, async () => {
    const c = await small.connect();
    const win = c.serverSettings.get(SETTING.INITIAL_WINDOW_SIZE) ?? 65535;
    assert.ok(win < 16384, `the server must advertise a stream window below a frame's size, got ${win}`);
    const id = c.openStream(M.collect);
    c.send(data(id, Buffer.alloc(win + 1)));
    await c.expectStreamOrConnectionError(id, CODE.FLOW_CONTROL_ERROR);
  });

  it("padding counts against the server's stream window (9113 6.1, 6.9.1)", T, async () => {
    const c = await small.connect();
    const win = c.serverSettings.get(SETTING.INITIAL_WINDOW_SIZE) ?? 65535;
    const id = c.openStream(M.collect);
    // Body win - 100 bytes fits; with 200 bytes of padding (and the pad length byte) it does not.
    c.send(data(id, Buffer.alloc(win - 100), { pad: 200 }));
    await c.expectStreamOrConnectionError(id, CODE.FLOW_CONTROL_ERROR);
  });

  const bigFrames = new Suite({ maxFrameSize: 1 << 20, initialWindowSize: 1 << 21, connectionWindowSize: 65535 });
  before(() => bigFrames.start());
  afterEach(() => bigFrames.closeConnections());
  after(() => bigFrames.stop());

  it("one DATA frame larger than the server's connection window -> GOAWAY FLOW_CONTROL_ERROR (9113 6.9.1)", T, async () => {
    const c = await bigFrames.connect();
    await fence(c);
    // The connection window starts at 65535 whatever SETTINGS say (6.9.2); add what the server granted since.
    let connWindow = 65535;
    for (const f of c.frames) if (f.type === FRAME.WINDOW_UPDATE && f.streamId === 0) connWindow += f.payload.readUInt32BE(0) & 0x7fffffff;
    const maxFrame = c.serverSettings.get(SETTING.MAX_FRAME_SIZE) ?? 16384;
    assert.ok(connWindow + 1 <= maxFrame, `needs SETTINGS_MAX_FRAME_SIZE (${maxFrame}) above the connection window (${connWindow})`);
    const id = c.openStream(M.collect);
    c.send(data(id, Buffer.alloc(connWindow + 1)));
    await c.expectGoaway(CODE.FLOW_CONTROL_ERROR);
  });
});

describe("the server replenishes its receive windows (9113 6.9)", () => {
  it("a client streaming 8 MiB on one stream, inside the granted windows, keeps going to the end (9113 6.9)", { timeout: 40_000 }, async () => {
    const c = await suite.connect();
    const id = c.openStream(M.collect);
    const chunk = grpcFrame(Buffer.alloc(64 * 1024, 0x63));
    const body = Buffer.concat(Array.from({ length: 128 }, () => chunk));
    await c.sendBody(id, body, true, 30_000);
    const r = await c.response(id, 15_000);
    assert.equal(r.grpcStatus, "0", c.describe());
    assert.equal(r.data.subarray(5).toString("latin1"), String(128 * 64 * 1024));
  });

  it("many calls on one connection, each inside the windows, never stall (9113 6.9)", { timeout: 40_000 }, async () => {
    const c = await suite.connect();
    for (let i = 0; i < 12; i++) {
      const id = c.openStream(M.collect);
      await c.sendBody(id, grpcFrame(Buffer.alloc(100_000, i)), true);
      const r = await c.response(id);
      assert.equal(r.grpcStatus, "0", c.describe());
    }
  });

  it("a bidi stream echoing 2 MiB in 64 KiB messages completes (9113 6.9)", { timeout: 40_000 }, async () => {
    const c = await suite.connect();
    const id = c.newStreamId();
    c.send(headers(id, requestBlock(M.bidi)));
    const msg = message(Buffer.alloc(64 * 1024, 0x64));
    await c.sendBody(id, Buffer.concat(Array.from({ length: 32 }, () => msg)), true);
    const r = await c.response(id, 20_000);
    assert.equal(r.grpcStatus, "0", c.describe());
    assert.equal(r.data.length, 32 * msg.length);
  });
});
