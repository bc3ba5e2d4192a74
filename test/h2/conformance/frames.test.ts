// RFC 9113 4 and 6: the rules of every frame type as a server must enforce them (stream 0 or
// not, fixed lengths, padding, CONTINUATION sequencing, unknown types and flags), and 5.5
// (extensions) with the RFC's exact error codes.
import * as assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import {
  CODE,
  continuation,
  data,
  encodeFrame,
  FLAG,
  FRAME,
  goawayFrame,
  headers,
  hpackEncode,
  grpcHeaders,
  M,
  message,
  ping,
  priority,
  priorityPayload,
  rawFrame,
  requestBlock,
  rst,
  Suite,
  T,
  u32,
  windowUpdate,
} from "./harness.js";

const suite = new Suite();
before(() => suite.start());
afterEach(() => suite.closeConnections());
after(() => suite.stop());

describe("DATA (9113 6.1)", () => {
  it("DATA on stream 0 -> GOAWAY PROTOCOL_ERROR (9113 6.1)", T, async () => {
    const c = await suite.connect();
    c.send(data(0, message("x")));
    await c.expectGoaway(CODE.PROTOCOL_ERROR);
  });

  it("DATA on an idle stream -> GOAWAY PROTOCOL_ERROR (9113 5.1)", T, async () => {
    const c = await suite.connect();
    c.send(data(1, message("x"), { endStream: true }));
    await c.expectGoaway(CODE.PROTOCOL_ERROR);
  });

  it("DATA whose pad length equals the payload length -> GOAWAY PROTOCOL_ERROR (9113 6.1)", T, async () => {
    const c = await suite.connect();
    const id = c.openStream();
    // Payload = pad length byte + 2 body bytes = 3 octets; declared padding 3 >= 3.
    c.send(data(id, Buffer.from("ab"), { pad: 0, padDeclared: 3, endStream: true }));
    await c.expectGoaway(CODE.PROTOCOL_ERROR);
  });

  it("DATA whose pad length exceeds the payload -> GOAWAY PROTOCOL_ERROR (9113 6.1)", T, async () => {
    const c = await suite.connect();
    const id = c.openStream();
    c.send(data(id, Buffer.from("ab"), { pad: 0, padDeclared: 200, endStream: true }));
    await c.expectGoaway(CODE.PROTOCOL_ERROR);
  });

  it("padded DATA is accepted and its padding is not part of the content (9113 6.1)", T, async () => {
    const c = await suite.connect();
    const id = c.openStream();
    c.send(data(id, message("padded-body"), { pad: 40, endStream: true }));
    const r = await c.response(id);
    assert.equal(r.grpcStatus, "0", c.describe());
    assert.ok(r.data.includes(Buffer.from("padded-body")), "echo carries the body without padding");
    assert.ok(!r.data.includes(Buffer.alloc(40)), "padding was treated as content");
  });

  it("DATA of exactly SETTINGS_MAX_FRAME_SIZE (16384) is accepted (9113 4.2)", T, async () => {
    const c = await suite.connect();
    const id = c.openStream();
    const body = message(Buffer.alloc(16384 - 5, 0x62));
    assert.equal(body.length, 16384);
    c.send(data(id, body, { endStream: true }));
    const r = await c.response(id);
    assert.equal(r.grpcStatus, "0", c.describe());
  });

  it("DATA larger than SETTINGS_MAX_FRAME_SIZE -> FRAME_SIZE_ERROR (stream or connection) (9113 4.2)", T, async () => {
    const c = await suite.connect();
    const id = c.openStream();
    c.send(data(id, Buffer.alloc(16385), { endStream: true }));
    await c.expectStreamOrConnectionError(id, CODE.FRAME_SIZE_ERROR);
  });
});

describe("HEADERS (9113 6.2)", () => {
  it("HEADERS on stream 0 -> GOAWAY PROTOCOL_ERROR (9113 6.2)", T, async () => {
    const c = await suite.connect();
    c.send(headers(0, requestBlock(), { endStream: true }));
    await c.expectGoaway(CODE.PROTOCOL_ERROR);
  });

  it("HEADERS whose pad length equals the payload length -> GOAWAY PROTOCOL_ERROR (9113 6.2)", T, async () => {
    const c = await suite.connect();
    const block = requestBlock();
    c.send(headers(1, block, { pad: 0, padDeclared: block.length + 1, endStream: true }));
    await c.expectGoaway(CODE.PROTOCOL_ERROR);
  });

  it("padded HEADERS with the PRIORITY flag are accepted (9113 6.2)", T, async () => {
    const c = await suite.connect();
    const id = c.newStreamId();
    c.send(headers(id, requestBlock(), { pad: 16, dependsOn: 0 }), data(id, message("p"), { endStream: true }));
    const r = await c.response(id);
    assert.equal(r.grpcStatus, "0", c.describe());
  });

  it("HEADERS larger than SETTINGS_MAX_FRAME_SIZE -> GOAWAY FRAME_SIZE_ERROR (9113 4.2)", T, async () => {
    const c = await suite.connect();
    // A frame carrying a field block can change connection state (HPACK), so this is a connection error.
    const block = hpackEncode(grpcHeaders(M.echo, [["x-big", "v".repeat(16400)]]));
    assert.ok(block.length > 16384);
    c.send(headers(1, block, { endStream: true }));
    await c.expectGoaway(CODE.FRAME_SIZE_ERROR);
  });

  it("HEADERS with a priority depending on its own stream -> RST_STREAM PROTOCOL_ERROR (9113 5.3.1)", T, async () => {
    const c = await suite.connect();
    const id = c.newStreamId();
    c.send(headers(id, requestBlock(), { dependsOn: id, endStream: true }));
    await c.expectRst(id, CODE.PROTOCOL_ERROR);
    await c.expectCallOk();
  });
});

describe("PRIORITY (9113 6.3)", () => {
  it("PRIORITY on stream 0 -> GOAWAY PROTOCOL_ERROR (9113 6.3)", T, async () => {
    const c = await suite.connect();
    c.send(priority(0, 1));
    await c.expectGoaway(CODE.PROTOCOL_ERROR);
  });

  it("PRIORITY of length 4 -> RST_STREAM FRAME_SIZE_ERROR (9113 6.3)", T, async () => {
    const c = await suite.connect();
    const id = c.openStream();
    c.send(encodeFrame(FRAME.PRIORITY, 0, id, priorityPayload(0).subarray(0, 4)));
    await c.expectRst(id, CODE.FRAME_SIZE_ERROR);
    await c.expectCallOk();
  });

  it("PRIORITY of length 6 -> RST_STREAM FRAME_SIZE_ERROR (9113 6.3)", T, async () => {
    const c = await suite.connect();
    const id = c.openStream();
    c.send(encodeFrame(FRAME.PRIORITY, 0, id, Buffer.concat([priorityPayload(0), Buffer.from([0])])));
    await c.expectRst(id, CODE.FRAME_SIZE_ERROR);
    await c.expectCallOk();
  });

  it("PRIORITY on an idle stream is accepted and the stream can still be opened (9113 5.1)", T, async () => {
    const c = await suite.connect();
    c.send(priority(1, 0), priority(5, 1));
    await c.expectPing();
    await c.expectCallOk();
  });

  it("PRIORITY on an open, a half-closed and a closed stream is accepted (9113 6.3)", T, async () => {
    const c = await suite.connect();
    const closed = (await c.expectCallOk()).streamId;
    const open = c.openStream(M.hold);
    const half = c.newStreamId();
    c.send(headers(half, requestBlock(M.hold)), data(half, message("h"), { endStream: true }));
    c.send(priority(closed, 0), priority(open, 0), priority(half, open));
    await c.expectPing();
    await c.expectCallOk();
    assert.equal(c.goaways.length, 0, c.describe());
    assert.ok(!c.frames.some((f) => f.type === FRAME.RST_STREAM), c.describe());
  });

  it("PRIORITY depending on its own stream -> RST_STREAM PROTOCOL_ERROR (9113 5.3.1)", T, async () => {
    const c = await suite.connect();
    const id = c.openStream();
    c.send(priority(id, id));
    await c.expectRst(id, CODE.PROTOCOL_ERROR);
    await c.expectCallOk();
  });
});

describe("RST_STREAM (9113 6.4)", () => {
  it("RST_STREAM on stream 0 -> GOAWAY PROTOCOL_ERROR (9113 6.4)", T, async () => {
    const c = await suite.connect();
    c.send(rst(0, CODE.CANCEL));
    await c.expectGoaway(CODE.PROTOCOL_ERROR);
  });

  it("RST_STREAM on an idle stream -> GOAWAY PROTOCOL_ERROR (9113 6.4, 5.1)", T, async () => {
    const c = await suite.connect();
    c.send(rst(1, CODE.CANCEL));
    await c.expectGoaway(CODE.PROTOCOL_ERROR);
  });

  it("RST_STREAM of length 3 -> GOAWAY FRAME_SIZE_ERROR (9113 6.4)", T, async () => {
    const c = await suite.connect();
    const id = c.openStream();
    c.send(encodeFrame(FRAME.RST_STREAM, 0, id, Buffer.alloc(3)));
    await c.expectGoaway(CODE.FRAME_SIZE_ERROR);
  });

  it("RST_STREAM of length 5 -> GOAWAY FRAME_SIZE_ERROR (9113 6.4)", T, async () => {
    const c = await suite.connect();
    const id = c.openStream();
    c.send(encodeFrame(FRAME.RST_STREAM, 0, id, Buffer.alloc(5)));
    await c.expectGoaway(CODE.FRAME_SIZE_ERROR);
  });

  it("RST_STREAM CANCEL on an open stream ends it and the connection keeps working (9113 6.4)", T, async () => {
    const c = await suite.connect();
    const id = c.openStream(M.hold);
    c.send(rst(id, CODE.CANCEL));
    await c.expectCallOk();
    assert.equal(c.goaways.length, 0, c.describe());
    assert.ok(!c.frames.some((f) => f.type === FRAME.RST_STREAM && f.streamId === id), `a server must not answer RST_STREAM with RST_STREAM: ${c.describe()}`);
  });
});

describe("PING (9113 6.7)", () => {
  it("PING is answered with PING ACK carrying the identical payload (9113 6.7)", T, async () => {
    const c = await suite.connect();
    await c.expectPing(Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]));
  });

  it("PING ACK from the client is not answered (9113 6.7)", T, async () => {
    const c = await suite.connect();
    const unsolicited = Buffer.from("ack-only");
    c.send(ping(unsolicited, true));
    // A later PING's answer proves the ACK was processed; nothing may echo it.
    await c.expectPing(Buffer.from("after-ak"));
    assert.ok(!c.frames.some((f) => f.type === FRAME.PING && f.payload.equals(unsolicited)), c.describe());
    assert.equal(c.goaways.length, 0, c.describe());
  });

  it("PING on stream 1 -> GOAWAY PROTOCOL_ERROR (9113 6.7)", T, async () => {
    const c = await suite.connect();
    c.send(encodeFrame(FRAME.PING, 0, 1, Buffer.alloc(8)));
    await c.expectGoaway(CODE.PROTOCOL_ERROR);
  });

  it("PING of length 7 -> GOAWAY FRAME_SIZE_ERROR (9113 6.7)", T, async () => {
    const c = await suite.connect();
    c.send(encodeFrame(FRAME.PING, 0, 0, Buffer.alloc(7)));
    await c.expectGoaway(CODE.FRAME_SIZE_ERROR);
  });

  it("PING of length 9 -> GOAWAY FRAME_SIZE_ERROR (9113 6.7)", T, async () => {
    const c = await suite.connect();
    c.send(encodeFrame(FRAME.PING, 0, 0, Buffer.alloc(9)));
    await c.expectGoaway(CODE.FRAME_SIZE_ERROR);
  });
});

describe("GOAWAY (9113 6.8)", () => {
  it("GOAWAY on stream 1 -> GOAWAY PROTOCOL_ERROR (9113 6.8)", T, async () => {
    const c = await suite.connect();
    c.send(goawayFrame(0, CODE.NO_ERROR, 1));
    await c.expectGoaway(CODE.PROTOCOL_ERROR);
  });
});

describe("WINDOW_UPDATE (9113 6.9)", () => {
  it("WINDOW_UPDATE of length 3 -> GOAWAY FRAME_SIZE_ERROR (9113 6.9)", T, async () => {
    const c = await suite.connect();
    c.send(encodeFrame(FRAME.WINDOW_UPDATE, 0, 0, Buffer.alloc(3)));
    await c.expectGoaway(CODE.FRAME_SIZE_ERROR);
  });

  it("WINDOW_UPDATE of length 5 -> GOAWAY FRAME_SIZE_ERROR (9113 6.9)", T, async () => {
    const c = await suite.connect();
    c.send(encodeFrame(FRAME.WINDOW_UPDATE, 0, 0, Buffer.concat([u32(1), Buffer.alloc(1)])));
    await c.expectGoaway(CODE.FRAME_SIZE_ERROR);
  });

  it("WINDOW_UPDATE with increment 0 on the connection -> GOAWAY PROTOCOL_ERROR (9113 6.9)", T, async () => {
    const c = await suite.connect();
    c.send(windowUpdate(0, 0));
    await c.expectGoaway(CODE.PROTOCOL_ERROR);
  });

  it("WINDOW_UPDATE with increment 0 on a stream -> RST_STREAM PROTOCOL_ERROR (9113 6.9)", T, async () => {
    const c = await suite.connect();
    const id = c.openStream();
    c.send(windowUpdate(id, 0));
    await c.expectRst(id, CODE.PROTOCOL_ERROR);
    await c.expectCallOk();
  });

  it("WINDOW_UPDATE on an idle stream -> GOAWAY PROTOCOL_ERROR (9113 5.1)", T, async () => {
    const c = await suite.connect();
    c.send(windowUpdate(1, 100));
    await c.expectGoaway(CODE.PROTOCOL_ERROR);
  });

  it("WINDOW_UPDATE's reserved bit is ignored (9113 6.9)", T, async () => {
    const c = await suite.connect();
    c.send(encodeFrame(FRAME.WINDOW_UPDATE, 0, 0, u32(0x80000001)));
    await c.expectPing();
    await c.expectCallOk();
  });
});

describe("CONTINUATION (9113 6.10, 4.3)", () => {
  it("a field block split over HEADERS and two CONTINUATION frames is accepted (9113 6.10)", T, async () => {
    const c = await suite.connect();
    const id = c.newStreamId();
    const block = requestBlock();
    const a = Math.floor(block.length / 3);
    c.send(headers(id, block.subarray(0, a), { endHeaders: false }), continuation(id, block.subarray(a, 2 * a), false), continuation(id, block.subarray(2 * a), true));
    c.send(data(id, message("split"), { endStream: true }));
    const r = await c.response(id);
    assert.equal(r.grpcStatus, "0", c.describe());
  });

  it("CONTINUATION without a preceding HEADERS -> GOAWAY PROTOCOL_ERROR (9113 6.10)", T, async () => {
    const c = await suite.connect();
    c.send(continuation(1, requestBlock(), true));
    await c.expectGoaway(CODE.PROTOCOL_ERROR);
  });

  it("CONTINUATION after HEADERS with END_HEADERS -> GOAWAY PROTOCOL_ERROR (9113 6.10)", T, async () => {
    const c = await suite.connect();
    const id = c.openStream();
    c.send(continuation(id, hpackEncode([["x-late", "1"]]), true));
    await c.expectGoaway(CODE.PROTOCOL_ERROR);
  });

  it("CONTINUATION on stream 0 -> GOAWAY PROTOCOL_ERROR (9113 6.10)", T, async () => {
    const c = await suite.connect();
    const block = requestBlock();
    c.send(headers(1, block.subarray(0, 10), { endHeaders: false }), continuation(0, block.subarray(10), true));
    await c.expectGoaway(CODE.PROTOCOL_ERROR);
  });

  it("CONTINUATION on another stream inside a field block -> GOAWAY PROTOCOL_ERROR (9113 6.10)", T, async () => {
    const c = await suite.connect();
    const block = requestBlock();
    c.send(headers(1, block.subarray(0, 10), { endHeaders: false }), continuation(3, block.subarray(10), true));
    await c.expectGoaway(CODE.PROTOCOL_ERROR);
  });

  it("DATA inside a field block -> GOAWAY PROTOCOL_ERROR (9113 4.3)", T, async () => {
    const c = await suite.connect();
    const block = requestBlock();
    c.send(headers(1, block.subarray(0, 10), { endHeaders: false }), data(1, message("x")));
    await c.expectGoaway(CODE.PROTOCOL_ERROR);
  });

  it("HEADERS on another stream inside a field block -> GOAWAY PROTOCOL_ERROR (9113 4.3)", T, async () => {
    const c = await suite.connect();
    const block = requestBlock();
    c.send(headers(1, block.subarray(0, 10), { endHeaders: false }), headers(3, block, { endStream: true }));
    await c.expectGoaway(CODE.PROTOCOL_ERROR);
  });

  it("PING inside a field block -> GOAWAY PROTOCOL_ERROR (9113 4.3)", T, async () => {
    const c = await suite.connect();
    const block = requestBlock();
    c.send(headers(1, block.subarray(0, 10), { endHeaders: false }), ping());
    await c.expectGoaway(CODE.PROTOCOL_ERROR);
  });

  it("PRIORITY inside a field block -> GOAWAY PROTOCOL_ERROR (9113 4.3)", T, async () => {
    const c = await suite.connect();
    const block = requestBlock();
    c.send(headers(1, block.subarray(0, 10), { endHeaders: false }), priority(1, 0));
    await c.expectGoaway(CODE.PROTOCOL_ERROR);
  });

  it("unknown frame type inside a field block -> GOAWAY PROTOCOL_ERROR (9113 5.5)", T, async () => {
    const c = await suite.connect();
    const block = requestBlock();
    c.send(headers(1, block.subarray(0, 10), { endHeaders: false }), rawFrame(0x21, 0, 1, Buffer.from("ext")));
    await c.expectGoaway(CODE.PROTOCOL_ERROR);
  });
});

describe("PUSH_PROMISE (9113 6.6, 8.4)", () => {
  it("PUSH_PROMISE from a client -> GOAWAY PROTOCOL_ERROR (9113 8.4)", T, async () => {
    const c = await suite.connect();
    const id = c.openStream();
    c.send(encodeFrame(FRAME.PUSH_PROMISE, FLAG.END_HEADERS, id, Buffer.concat([u32(2), requestBlock()])));
    await c.expectGoaway(CODE.PROTOCOL_ERROR);
  });
});

describe("unknown frame types, unknown flags, reserved bits (9113 4.1, 5.5)", () => {
  it("unknown frame type on stream 0 is ignored (9113 4.1)", T, async () => {
    const c = await suite.connect();
    c.send(rawFrame(0x20, 0xff, 0, Buffer.from("extension payload")));
    await c.expectPing();
    await c.expectCallOk();
  });

  it("unknown frame type on an idle stream is ignored (9113 5.5)", T, async () => {
    const c = await suite.connect();
    c.send(rawFrame(0xfa, 0, 1, Buffer.alloc(10)));
    await c.expectPing();
    await c.expectCallOk();
  });

  it("unknown frame type between a stream's HEADERS and DATA is ignored (9113 5.5)", T, async () => {
    const c = await suite.connect();
    const id = c.openStream();
    c.send(rawFrame(0x30, 0, id, Buffer.alloc(4)), data(id, message("after-ext"), { endStream: true }));
    const r = await c.response(id);
    assert.equal(r.grpcStatus, "0", c.describe());
  });

  it("unknown flags on PING are ignored (answered as a plain PING) (9113 4.1)", T, async () => {
    const c = await suite.connect();
    const payload = Buffer.from("flagsfe!");
    c.send(rawFrame(FRAME.PING, 0xfe, 0, payload));
    const f = await c.waitFrame((x) => x.type === FRAME.PING && (x.flags & FLAG.ACK) !== 0 && x.payload.equals(payload));
    assert.ok(f, c.describe());
  });

  it("unknown flags on HEADERS and DATA are ignored (9113 4.1)", T, async () => {
    const c = await suite.connect();
    const id = c.newStreamId();
    // 0x02, 0x10, 0x40, 0x80 have no meaning on HEADERS; 0x02..0x80 except 0x08 none on DATA.
    c.send(rawFrame(FRAME.HEADERS, FLAG.END_HEADERS | 0x02 | 0x10 | 0x40 | 0x80, id, requestBlock()));
    c.send(rawFrame(FRAME.DATA, FLAG.END_STREAM | 0x02 | 0x04 | 0x10 | 0x20 | 0x40 | 0x80, id, message("flags")));
    const r = await c.response(id);
    assert.equal(r.grpcStatus, "0", c.describe());
  });

  it("the reserved bit of the stream identifier is ignored (9113 4.1)", T, async () => {
    const c = await suite.connect();
    const id = c.newStreamId();
    c.send(rawFrame(FRAME.HEADERS, FLAG.END_HEADERS, id, requestBlock(), { reservedBit: true }), rawFrame(FRAME.DATA, FLAG.END_STREAM, id, message("r"), { reservedBit: true }));
    const r = await c.response(id);
    assert.equal(r.grpcStatus, "0", c.describe());
  });
});
