// RFC 9113 3.4 (connection preface) and 6.5 (SETTINGS): what the server sends first, what it
// requires of the client's first bytes, and how it validates SETTINGS frames and values.
import * as assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import { CODE, encodeFrame, FLAG, FRAME, H2Conn, PREFACE, rawFrame, SETTING, settings, settingsPayload, Suite, T } from "./harness.js";

const suite = new Suite();
before(() => suite.start());
afterEach(() => suite.closeConnections());
after(() => suite.stop());

describe("connection preface (9113 3.4)", () => {
  it("server's first frame is SETTINGS (9113 3.4)", T, async () => {
    const c = await suite.connect();
    const first = c.frames[0];
    assert.ok(first, "no frame");
    assert.equal(first.type, FRAME.SETTINGS, `first frame: ${c.describe()}`);
    assert.equal(first.flags & FLAG.ACK, 0, "first SETTINGS must not be an ACK");
    assert.equal(first.streamId, 0);
  });

  it("server ACKs the client's SETTINGS (9113 6.5.3)", T, async () => {
    const c = await suite.connect();
    assert.ok(await c.waitFor(() => c.settingsAcks >= 1), `no SETTINGS ACK: ${c.describe()}`);
    const ack = c.frames.find((f) => f.type === FRAME.SETTINGS && f.flags & FLAG.ACK)!;
    assert.equal(ack.payload.length, 0, "a SETTINGS ACK carries no payload");
  });

  it("every client SETTINGS frame gets its own ACK (9113 6.5.3)", T, async () => {
    const c = await suite.connect();
    c.send(settings([[SETTING.MAX_HEADER_LIST_SIZE, 65536]]), settings([[SETTING.HEADER_TABLE_SIZE, 4096]]));
    assert.ok(await c.waitFor(() => c.settingsAcks >= 3), `expected 3 ACKs, got ${c.settingsAcks}: ${c.describe()}`);
  });

  it("invalid connection preface -> connection closed (GOAWAY PROTOCOL_ERROR if any) (9113 3.4)", T, async () => {
    const c = await H2Conn.connect(suite.port, { opening: Buffer.from("PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n", "latin1"), waitSettings: false });
    await Promise.race([c.closed, new Promise((r) => setTimeout(r, 5000).unref())]);
    assert.ok(c.isClosed, `server kept the connection after a bad preface: ${c.describe()}`);
    const goaways = c.goaways;
    assert.ok(goaways.length <= 1, `more than one GOAWAY: ${c.describe()}`);
    if (goaways.length === 1) assert.equal(goaways[0]!.code, CODE.PROTOCOL_ERROR, c.describe());
  });

  it("HTTP/1.1 request instead of the preface -> connection closed (9113 3.4)", T, async () => {
    const c = await H2Conn.connect(suite.port, { opening: Buffer.from("GET / HTTP/1.1\r\nHost: x\r\n\r\n", "latin1"), waitSettings: false });
    await Promise.race([c.closed, new Promise((r) => setTimeout(r, 5000).unref())]);
    assert.ok(c.isClosed, `server kept the connection: ${c.describe()}`);
    for (const g of c.goaways) assert.equal(g.code, CODE.PROTOCOL_ERROR, c.describe());
  });

  it("first client frame not SETTINGS (PING) -> GOAWAY PROTOCOL_ERROR (9113 3.4)", T, async () => {
    const c = await H2Conn.connect(suite.port, { opening: Buffer.concat([PREFACE, encodeFrame(FRAME.PING, 0, 0, Buffer.alloc(8))]), waitSettings: false });
    await c.expectGoaway(CODE.PROTOCOL_ERROR, { lastStreamId: 0 });
  });

  it("first client frame is a SETTINGS ACK -> GOAWAY PROTOCOL_ERROR (9113 3.4)", T, async () => {
    // The preface's SETTINGS carries the client's settings; an ACK carries none and acknowledges
    // frames the client cannot yet have processed, so it is not the required first SETTINGS.
    const c = await H2Conn.connect(suite.port, { opening: Buffer.concat([PREFACE, encodeFrame(FRAME.SETTINGS, FLAG.ACK, 0)]), waitSettings: false });
    await c.expectGoaway(CODE.PROTOCOL_ERROR);
  });
});

describe("SETTINGS frame (9113 6.5)", () => {
  it("SETTINGS with ACK and a payload -> GOAWAY FRAME_SIZE_ERROR (9113 6.5)", T, async () => {
    const c = await suite.connect();
    c.send(encodeFrame(FRAME.SETTINGS, FLAG.ACK, 0, settingsPayload([[SETTING.ENABLE_PUSH, 0]])));
    await c.expectGoaway(CODE.FRAME_SIZE_ERROR);
  });

  it("SETTINGS length not a multiple of 6 -> GOAWAY FRAME_SIZE_ERROR (9113 6.5)", T, async () => {
    const c = await suite.connect();
    c.send(encodeFrame(FRAME.SETTINGS, 0, 0, Buffer.alloc(7)));
    await c.expectGoaway(CODE.FRAME_SIZE_ERROR);
  });

  it("SETTINGS on stream 1 -> GOAWAY PROTOCOL_ERROR (9113 6.5)", T, async () => {
    const c = await suite.connect();
    c.send(encodeFrame(FRAME.SETTINGS, 0, 1, settingsPayload([[SETTING.ENABLE_PUSH, 0]])));
    await c.expectGoaway(CODE.PROTOCOL_ERROR);
  });

  it("SETTINGS_ENABLE_PUSH = 2 -> GOAWAY PROTOCOL_ERROR (9113 6.5.2)", T, async () => {
    const c = await suite.connect();
    c.send(settings([[SETTING.ENABLE_PUSH, 2]]));
    await c.expectGoaway(CODE.PROTOCOL_ERROR);
  });

  it("SETTINGS_ENABLE_PUSH = 1 from a client is accepted (9113 6.5.2)", T, async () => {
    const c = await suite.connect();
    c.send(settings([[SETTING.ENABLE_PUSH, 1]]));
    await c.expectPing();
    await c.expectCallOk();
  });

  it("SETTINGS_INITIAL_WINDOW_SIZE = 2^31 -> GOAWAY FLOW_CONTROL_ERROR (9113 6.5.2)", T, async () => {
    const c = await suite.connect();
    c.send(settings([[SETTING.INITIAL_WINDOW_SIZE, 2 ** 31]]));
    await c.expectGoaway(CODE.FLOW_CONTROL_ERROR);
  });

  it("SETTINGS_INITIAL_WINDOW_SIZE = 2^31-1 is accepted (9113 6.5.2)", T, async () => {
    const c = await suite.connect();
    c.send(settings([[SETTING.INITIAL_WINDOW_SIZE, 2 ** 31 - 1]]));
    await c.expectPing();
    await c.expectCallOk();
  });

  it("SETTINGS_MAX_FRAME_SIZE = 16383 -> GOAWAY PROTOCOL_ERROR (9113 6.5.2)", T, async () => {
    const c = await suite.connect();
    c.send(settings([[SETTING.MAX_FRAME_SIZE, 16383]]));
    await c.expectGoaway(CODE.PROTOCOL_ERROR);
  });

  it("SETTINGS_MAX_FRAME_SIZE = 2^24 -> GOAWAY PROTOCOL_ERROR (9113 6.5.2)", T, async () => {
    const c = await suite.connect();
    c.send(settings([[SETTING.MAX_FRAME_SIZE, 2 ** 24]]));
    await c.expectGoaway(CODE.PROTOCOL_ERROR);
  });

  it("SETTINGS_MAX_FRAME_SIZE at both bounds (16384, 2^24-1) is accepted (9113 6.5.2)", T, async () => {
    const c = await suite.connect();
    c.send(settings([[SETTING.MAX_FRAME_SIZE, 16384]]), settings([[SETTING.MAX_FRAME_SIZE, 2 ** 24 - 1]]));
    await c.expectPing();
    await c.expectCallOk();
  });

  it("unknown SETTINGS identifier is ignored (9113 6.5.2)", T, async () => {
    const c = await suite.connect();
    c.send(settings([[0xff, 1], [0x7a7a, 0xffffffff]]));
    assert.ok(await c.waitFor(() => c.settingsAcks >= 2), `unknown setting not ACKed: ${c.describe()}`);
    await c.expectCallOk();
  });

  it("SETTINGS_HEADER_TABLE_SIZE = 0 from the client is honoured (the server's header blocks still decode) (9113 6.5.2, 7541 4.2)", T, async () => {
    const c = await suite.connect({ settings: [[SETTING.ENABLE_PUSH, 0], [SETTING.HEADER_TABLE_SIZE, 0]] });
    await c.expectCallOk();
    await c.expectCallOk();
    assert.equal(c.parseError, undefined);
  });

  it("SETTINGS frame with an unknown flag is processed as SETTINGS (9113 4.1)", T, async () => {
    const c = await suite.connect();
    c.send(rawFrame(FRAME.SETTINGS, 0xf0, 0, settingsPayload([[SETTING.MAX_HEADER_LIST_SIZE, 65536]])));
    assert.ok(await c.waitFor(() => c.settingsAcks >= 2), `not ACKed: ${c.describe()}`);
  });

  it("server SETTINGS values are within the RFC ranges (9113 6.5.2)", T, async () => {
    const c = await suite.connect();
    const s = c.serverSettings;
    const push = s.get(SETTING.ENABLE_PUSH);
    assert.ok(push === undefined || push === 0, `a server must not advertise ENABLE_PUSH=${push}`);
    const win = s.get(SETTING.INITIAL_WINDOW_SIZE);
    assert.ok(win === undefined || win <= 2 ** 31 - 1);
    const mfs = s.get(SETTING.MAX_FRAME_SIZE);
    assert.ok(mfs === undefined || (mfs >= 16384 && mfs <= 2 ** 24 - 1));
  });
});
