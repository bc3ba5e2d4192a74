// Reliability rows 5-11 (../shared/design/RELIABILITY.md): hostile request headers —
// oversized lists (before and after the SETTINGS ack), an HPACK bomb, too many pairs,
// illegal names and values, HTTP-level refusals and grpc-timeout abuse — against a
// server in a child process. test/wire/request-headers.test.ts and timeouts.test.ts cover
// the same rules in-process and in more detail; these repeat the table's cases with the
// crash, dispatch and memory checks of the reliability bar.
import { describe, it, type TestContext } from "node:test";
import * as assert from "node:assert/strict";
import { assertMemoryReturns, assertServes, grpcMessage, PATH, waitForStats } from "./harness.js";
import { serverForSuite } from "./suite-server.js";
import { defaultTransport } from "../../src/server/options.js";
import { dataFrames, FrameSocket, grpcHeaders, H2_ERROR, headerBlockFrames, headersFrame, hpackEncode, requestBlock, type GoAway, type HeaderInput } from "./frames.js";

const T = { timeout: 30_000 };
const LIMIT = 16 * 1024;
const GRPC = { OK: 0, DEADLINE_EXCEEDED: 4, RESOURCE_EXHAUSTED: 8, UNIMPLEMENTED: 12, INTERNAL: 13 } as const;

const server = serverForSuite({});
/** The suite's child servers run on the default engine; a few rows differ by engine. */
const ENGINE = defaultTransport();
const NODE_ONLY = ENGINE === "node" ? false : "node:http2 only: nghttp2 abandons this session by itself; our engine resets the stream and keeps serving";

interface Exchange {
  status: number | undefined;
  grpcStatus: number | undefined;
  grpcMessage: string | undefined;
  rst: number | undefined;
  goaway: GoAway | undefined;
  /** Handler bodies that ran during the exchange. */
  handlerRuns: number;
  /** The same connection serves a normal Echo afterwards (undefined when the connection is gone). */
  connectionServes: boolean | undefined;
}

/**
 * One request on a fresh raw connection: `block` (a header block) on stream 1 with `body`.
 * With `beforeAck` the preface, our SETTINGS and the request go out in one write, before
 * the server's SETTINGS are even read (so its header limits are not yet acknowledged).
 */
async function exchange(block: Buffer, o: { body?: Buffer; beforeAck?: boolean } = {}): Promise<Exchange> {
  const body = o.body ?? grpcMessage(Buffer.from("x"));
  const frames = Buffer.concat([headerBlockFrames(1, block), dataFrames(1, body, true)]);
  const s0 = await server.proc.stats();
  const fs = await FrameSocket.connect(server.proc.port, o.beforeAck ? { first: frames } : {});
  try {
    if (!o.beforeAck) {
      await fs.serverSettings();
      fs.write(frames);
    }
    assert.ok(await fs.streamDone(1, 5000), "the server must answer or reset the stream");
    let connectionServes: boolean | undefined;
    if (!fs.isClosed && !fs.goaway) {
      const next = Buffer.concat([headerBlockFrames(3, hpackEncode(grpcHeaders(PATH.echo))), dataFrames(3, grpcMessage(Buffer.from("next")), true)]);
      fs.write(next);
      connectionServes = (await fs.streamDone(3, 5000)) && fs.grpcStatus(3) === GRPC.OK;
    }
    const s1 = await server.proc.stats();
    const headers = fs.headers.get(1)?.[0] ?? [];
    const status = headers.find(([n]) => n === ":status")?.[1];
    return {
      status: status === undefined ? undefined : Number(status),
      grpcStatus: fs.grpcStatus(1),
      grpcMessage: fs.trailer(1, "grpc-message"),
      rst: fs.rst.get(1),
      goaway: fs.goaway,
      handlerRuns: s1.handlersStarted - s0.handlersStarted - (connectionServes ? 1 : 0),
      connectionServes,
    };
  } finally {
    fs.destroy();
  }
}

function describeExchange(e: Exchange): string {
  return JSON.stringify({ status: e.status, grpcStatus: e.grpcStatus, grpcMessage: e.grpcMessage, rst: e.rst, goaway: e.goaway && { code: e.goaway.code, debug: e.goaway.debug }, handlerRuns: e.handlerRuns, connectionServes: e.connectionServes });
}

/** The HTTP/2 size of a header list: name + value + 32 per field (RFC 9113 6.5.2). */
function listSize(headers: readonly HeaderInput[]): number {
  return headers.reduce((n, [name, value]) => n + name.length + value.length + 32, 0);
}

/** Echo request headers padded with x-pad to exactly `size` bytes (HTTP/2 count). */
function headersOfSize(size: number): HeaderInput[] {
  const base = grpcHeaders(PATH.echo);
  const pad = size - listSize(base) - ("x-pad".length + 32);
  return [...base, ["x-pad", "p".repeat(pad)]];
}

/** A refusal: a stream reset, or a trailers-only RESOURCE_EXHAUSTED, and no handler ran. */
function assertRejected(e: Exchange, what: string): void {
  assert.ok(e.rst !== undefined || e.grpcStatus === GRPC.RESOURCE_EXHAUSTED || (e.goaway && e.goaway.code !== 0), `${what} must be rejected: ${describeExchange(e)}`);
  assert.notEqual(e.grpcStatus, GRPC.OK, `${what}: ${describeExchange(e)}`);
  assert.equal(e.handlerRuns, 0, `${what}: no handler may run`);
}

describe("row 5: 80 KB of metadata, before and after the SETTINGS ack", () => {
  const big = hpackEncode(grpcHeaders(PATH.echo, Array.from({ length: 20 }, (_, i) => [`x-big-${i}`, "a".repeat(4096)] as const)));

  it("after the ack: 20 x 4 KiB values (82 KB list) are rejected, no handler runs, the connection still serves", T, async (t: TestContext) => {
    const e = await exchange(big);
    t.diagnostic(`80 KB after ack: ${describeExchange(e)}`);
    assertRejected(e, "an 82 KB header list");
    assert.equal(e.connectionServes, true, "the connection must still serve the next call");
  });

  it("before the ack: the same list is rejected by the framework with RESOURCE_EXHAUSTED, no handler runs", T, async (t: TestContext) => {
    const e = await exchange(big, { beforeAck: true });
    t.diagnostic(`80 KB before ack: ${describeExchange(e)}`);
    assertRejected(e, "an 82 KB header list before the ack");
  });

  for (const beforeAck of [false, true]) {
    it(`the limit is exact ${beforeAck ? "before" : "after"} the ack: a ${LIMIT}-byte list is served, ${LIMIT + 1} bytes are rejected`, T, async (t: TestContext) => {
      const ok = await exchange(hpackEncode(headersOfSize(LIMIT)), { beforeAck });
      const over = await exchange(hpackEncode(headersOfSize(LIMIT + 1)), { beforeAck });
      t.diagnostic(`${LIMIT} bytes: ${describeExchange(ok)}; ${LIMIT + 1} bytes: ${describeExchange(over)}`);
      assert.equal(ok.grpcStatus, GRPC.OK, `a ${LIMIT}-byte list must be served: ${describeExchange(ok)}`);
      assertRejected(over, `a ${LIMIT + 1}-byte list`);
    });
  }

});

describe("row 5, one field: a single 80 KB value (over nghttp2's 64 KiB per-field limit)", () => {
  // A server of its own, with short handshake and keepalive timeouts so that its handling of
  // the session nghttp2 abandons can be seen within the test.
  const own = serverForSuite({ handshakeTimeoutMs: 1000, keepaliveTimeoutMs: 1000 });
  const huge = Buffer.concat([headerBlockFrames(1, hpackEncode(grpcHeaders(PATH.echo, [["x-huge", "a".repeat(80 * 1024)]]))), dataFrames(1, grpcMessage(Buffer.from("x")), true)]);

  it("our engine: the stream is reset ENHANCE_YOUR_CALM (the list is far over the limit), no handler runs, the connection still serves", { ...T, skip: ENGINE === "node" ? "our engine only" : false }, async () => {
    const e = await exchange(hpackEncode(grpcHeaders(PATH.echo, [["x-huge", "a".repeat(80 * 1024)]])));
    assert.equal(e.rst, H2_ERROR.ENHANCE_YOUR_CALM, describeExchange(e));
    assert.equal(e.handlerRuns, 0);
    assert.equal(e.connectionServes, true);
  });

  it("node:http2: the connection gets GOAWAY COMPRESSION_ERROR, no handler runs, the process serves", { ...T, skip: NODE_ONLY }, async () => {
    const s0 = await own.proc.stats();
    const fs = await FrameSocket.connect(own.proc.port);
    try {
      await fs.serverSettings();
      fs.write(huge);
      assert.ok(await fs.waitFor(() => fs.goaway !== undefined, 3000), "GOAWAY expected");
      assert.equal(fs.goaway?.code, 9, "COMPRESSION_ERROR");
    } finally {
      fs.destroy();
    }
    assert.equal((await own.proc.stats()).handlersStarted, s0.handlersStarted, "no handler may run");
    await assertServes(own.proc);
  });

  // Was BUG 2 (docs/reliability.md), fixed in b511980: nghttp2 ends this session by itself,
  // and node neither closes the socket nor notices the client leaving (it stops reading), so
  // one cheap HEADERS frame leaked a session, a socket and a file descriptor until a keepalive
  // ping timed out (2 h + 20 s by default). Now a silent session is pinged after
  // handshakeTimeoutMs and destroyed when the ping goes unanswered for keepaliveTimeoutMs.
  it("the abandoned session is destroyed within handshakeTimeoutMs + keepaliveTimeoutMs (1 s + 1 s), even with the client still connected", { ...T, skip: NODE_ONLY }, async (t: TestContext) => {
    const s0 = await own.proc.stats();
    const fs = await FrameSocket.connect(own.proc.port);
    try {
      await fs.serverSettings();
      fs.write(huge);
      // The bound only turns a leak (2 h by default) into a failure; the time is reported.
      const closed = await fs.waitFor(() => fs.isClosed, 10_000);
      t.diagnostic(`GOAWAY code ${fs.goaway?.code}; TCP closed by the server ${closed ? `after ${(fs.closedAt! - fs.openedAt).toFixed(0)} ms` : "not within 10 s"}`);
      assert.ok(closed, "the server must close the abandoned connection");
    } finally {
      fs.destroy();
    }
    await waitForStats(own.proc, (s) => s.sessions <= s0.sessions && s.fds <= s0.fds, 3000, "the session released");
  });

  it("the same after the connection first made a normal call (the probe is re-armed when its calls end)", { ...T, skip: NODE_ONLY }, async (t: TestContext) => {
    const s0 = await own.proc.stats();
    const fs = await FrameSocket.connect(own.proc.port);
    try {
      await fs.serverSettings();
      fs.write(Buffer.concat([headerBlockFrames(1, hpackEncode(grpcHeaders(PATH.echo))), dataFrames(1, grpcMessage(Buffer.from("x")), true)]));
      assert.ok(await fs.streamDone(1));
      assert.equal(fs.grpcStatus(1), 0);
      const sentAt = performance.now();
      fs.write(Buffer.concat([headerBlockFrames(3, hpackEncode(grpcHeaders(PATH.echo, [["x-huge", "a".repeat(80 * 1024)]]))), dataFrames(3, grpcMessage(Buffer.from("x")), true)]));
      const closed = await fs.waitFor(() => fs.isClosed, 10_000);
      t.diagnostic(`GOAWAY code ${fs.goaway?.code}; TCP closed by the server ${closed ? `${(fs.closedAt! - sentAt).toFixed(0)} ms after the bad HEADERS` : "not within 10 s"}`);
      assert.ok(closed, "the server must close the abandoned connection");
    } finally {
      fs.destroy();
    }
    await waitForStats(own.proc, (s) => s.sessions <= s0.sessions && s.fds <= s0.fds, 3000, "the session released");
  });

  it("control: on the same server a silent but healthy connection (it answers pings) and one holding a call stay open", { ...T, skip: NODE_ONLY }, async (t: TestContext) => {
    const idle = await FrameSocket.connect(own.proc.port);
    const busy = await FrameSocket.connect(own.proc.port);
    let yardstick: FrameSocket | undefined;
    try {
      await Promise.all([idle.serverSettings(), busy.serverSettings()]);
      busy.write(headersFrame(1, requestBlock(PATH.holdStream)));
      // The yardstick instead of a timer: a connection opened after these two whose session
      // nghttp2 abandons (the 80 KB field). The same timers ping it and, the ping unanswered,
      // close it; once it is closed they have had every chance to close the other two.
      yardstick = await FrameSocket.connect(own.proc.port);
      await yardstick.serverSettings();
      yardstick.write(huge);
      assert.ok(await yardstick.waitFor(() => yardstick!.isClosed, 10_000), "the abandoned yardstick connection must be closed");
      const pings = idle.frames.filter((f) => f.type === 6 && !(f.flags & 1)).length;
      t.diagnostic(`when the abandoned one closed (${(yardstick.closedAt! - yardstick.openedAt).toFixed(0)} ms): idle connection open ${!idle.isClosed} (${pings} pings answered), busy connection open ${!busy.isClosed}`);
      assert.ok(!idle.isClosed && idle.goaway === undefined, "the idle connection stays");
      assert.ok(!busy.isClosed && busy.goaway === undefined, "the connection with a call stays");
    } finally {
      idle.destroy();
      busy.destroy();
      yardstick?.destroy();
    }
  });
});

/** HPACK: one literal with incremental indexing (a 4,000-byte value enters the dynamic table), then `refs` one-byte references to it (index 62). */
function hpackBomb(refs: number): Buffer {
  const value = "b".repeat(4000);
  const len: number[] = [0x7f];
  let n = value.length - 127;
  while (n >= 128) {
    len.push((n % 128) | 0x80);
    n = Math.floor(n / 128);
  }
  len.push(n);
  const literal = Buffer.concat([Buffer.from([0x40, 6]), Buffer.from("x-bomb"), Buffer.from(len), Buffer.from(value)]);
  return Buffer.concat([hpackEncode(grpcHeaders(PATH.echo)), literal, Buffer.alloc(refs, 0x80 | 62)]);
}

describe("row 6: HPACK bomb (one 4 KB entry referenced 127 times: 4.3 KB on the wire, ~520 KB decoded)", () => {
  for (const beforeAck of [false, true]) {
    for (const refs of [127, 60]) {
      it(`${refs} references ${beforeAck ? "before" : "after"} the SETTINGS ack: rejected, no handler call`, T, async (t: TestContext) => {
        const block = hpackBomb(refs);
        const s0 = await server.proc.resetPeak();
        const e = await exchange(block, { beforeAck });
        const s1 = await server.proc.stats();
        t.diagnostic(`${refs} refs (${block.length} bytes on the wire, ${((refs + 1) * 4038 / 1024).toFixed(0)} KiB decoded), ${beforeAck ? "before" : "after"} ack: ${describeExchange(e)}; peak RSS +${((s1.peakRss - s0.rss) / 1024).toFixed(0)} KiB`);
        assertRejected(e, "an HPACK bomb");
      });
    }
  }
});

describe("row 7: 200 header pairs", () => {
  it("the stream is reset, no handler runs, the connection still serves", T, async (t: TestContext) => {
    const e = await exchange(hpackEncode(grpcHeaders(PATH.echo, Array.from({ length: 200 }, (_, i) => [`x-h${i}`, "v"] as const))));
    t.diagnostic(`200 pairs: ${describeExchange(e)}`);
    assert.ok(e.rst !== undefined, `a stream reset is expected: ${describeExchange(e)}`);
    assert.equal(e.handlerRuns, 0);
    assert.equal(e.connectionServes, true);
  });
});

describe("row 8: malformed header fields", () => {
  const cases: [string, HeaderInput[]][] = [
    ["an upper-case header name", grpcHeaders(PATH.echo, [["X-Upper", "v"]])],
    ["a duplicate :path", [...grpcHeaders(PATH.echo).slice(0, 3), [":path", PATH.echo], ...grpcHeaders(PATH.echo).slice(3)]],
  ];
  for (const [label, headers] of cases) {
    it(`${label}: stream reset PROTOCOL_ERROR, no handler, the connection still serves`, T, async () => {
      const e = await exchange(hpackEncode(headers));
      assert.equal(e.rst, H2_ERROR.PROTOCOL_ERROR, describeExchange(e));
      assert.equal(e.handlerRuns, 0);
      assert.equal(e.connectionServes, true);
    });
  }
});

describe("row 9: illegal metadata values", () => {
  const internal: [string, HeaderInput][] = [
    ["a value with byte 0xFF", ["x-bad", "a\xffb"]],
    ["a malformed -bin value (not base64)", ["x-bad-bin", "!!!"]],
    ["a malformed -bin value (one base64 char)", ["x-bad-bin", "a"]],
  ];
  for (const [label, header] of internal) {
    it(`${label}: INTERNAL, not dispatched`, T, async () => {
      const e = await exchange(hpackEncode(grpcHeaders(PATH.echo, [header])));
      assert.equal(e.grpcStatus, GRPC.INTERNAL, describeExchange(e));
      assert.equal(e.handlerRuns, 0);
    });
  }

  it("a value with NUL, CR, LF or DEL never reaches the handler (nghttp2 drops the field)", T, async () => {
    for (const value of ["a\x00b", "a\rb", "a\nb", "a\x7fb"]) {
      // Meta answers with the metadata it saw; node's client cannot send these bytes, so raw frames again.
      const frames = Buffer.concat([headerBlockFrames(1, hpackEncode(grpcHeaders(PATH.meta, [["x-bad", value], ["x-ok", "fine"]]))), dataFrames(1, grpcMessage(Buffer.from("x")), true)]);
      const fs = await FrameSocket.connect(server.proc.port, { first: frames });
      try {
        assert.ok(await fs.streamDone(1));
        const status = fs.grpcStatus(1);
        if (status === GRPC.OK) {
          // Dispatched without the field: the handler saw x-ok only.
          assert.equal(fs.dataBytes.get(1), 5 + JSON.stringify({ "x-ok": ["fine"] }).length, `value ${JSON.stringify(value)}`);
        } else {
          assert.ok(status === GRPC.INTERNAL || fs.rst.get(1) !== undefined, `value ${JSON.stringify(value)}`);
        }
      } finally {
        fs.destroy();
      }
    }
  });

  // BUG (node/nghttp2, cannot be fixed in src/ alone): nghttp2 drops a field whose value holds
  // NUL/CR/LF (RFC 9113 8.2.1 says such a request is malformed) unless an
  // on_invalid_header callback is set, and node sets none, so the framework never sees the
  // field and the call runs without it — the table wants INTERNAL and no dispatch. Options:
  // accept the deviation (the bad value never reaches the handler), or ask node for a strict
  // mode (nghttp2_option_set_no_rfc9113_leading_and_trailing_ws_validation has no NUL analogue).
  // Marked todo with a body that asserts what happens today, so it passes (and the reporter
  // lists it as a todo, not as a failure) until node changes; then it fails and is looked at.
  it("our engine: a value with NUL -> stream reset PROTOCOL_ERROR (RFC 9113 8.2.1), no dispatch", { ...T, skip: ENGINE === "node" ? "our engine only" : false }, async () => {
    const e = await exchange(hpackEncode(grpcHeaders(PATH.echo, [["x-bad", "a\x00b"]])));
    assert.equal(e.rst, H2_ERROR.PROTOCOL_ERROR, describeExchange(e));
    assert.equal(e.handlerRuns, 0);
    assert.equal(e.connectionServes, true);
  });

  it(
    "node:http2: a value with NUL: wanted INTERNAL (or a stream reset) and no dispatch; today the field is dropped and the call runs (OK)",
    { ...T, skip: NODE_ONLY, todo: "BUG (node/nghttp2): wanted INTERNAL or RST_STREAM with no dispatch; node drops the field and the call is dispatched" },
    async () => {
      const e = await exchange(hpackEncode(grpcHeaders(PATH.echo, [["x-bad", "a\x00b"]])));
      // Today's behaviour (the deviation), not the rule.
      assert.equal(e.grpcStatus, GRPC.OK, describeExchange(e));
      assert.equal(e.rst, undefined, describeExchange(e));
      assert.equal(e.handlerRuns, 1, "dispatched without the field");
    },
  );
});

describe("row 10: HTTP-level refusals", () => {
  const cases: [string, HeaderInput[], number | undefined, number | undefined][] = [
    ["content-type text/plain", [[":method", "POST"], [":scheme", "http"], [":path", PATH.echo], [":authority", "127.0.0.1"], ["content-type", "text/plain"], ["te", "trailers"]], 415, undefined],
    ["GET", [[":method", "GET"], [":scheme", "http"], [":path", PATH.echo], [":authority", "127.0.0.1"], ["content-type", "application/grpc"], ["te", "trailers"]], 405, undefined],
    ["an unknown service", grpcHeaders("/no.Such/Echo"), 200, GRPC.UNIMPLEMENTED],
    ["an unknown method", grpcHeaders("/rel.Test/NoSuchMethod"), 200, GRPC.UNIMPLEMENTED],
  ];
  for (const [label, headers, status, grpcStatus] of cases) {
    it(`${label} -> HTTP ${status}${grpcStatus === undefined ? "" : `, grpc-status ${grpcStatus}`}; no handler`, T, async () => {
      const e = await exchange(hpackEncode(headers));
      assert.equal(e.status, status, describeExchange(e));
      if (grpcStatus !== undefined) assert.equal(e.grpcStatus, grpcStatus, describeExchange(e));
      assert.equal(e.handlerRuns, 0);
    });
  }
});

describe("row 11: grpc-timeout abuse", () => {
  for (const value of ["123456789S", "1X", "-1S"]) {
    it(`grpc-timeout ${value} -> INTERNAL, no handler`, T, async () => {
      const e = await exchange(hpackEncode(grpcHeaders(PATH.sleep, [["grpc-timeout", value]])), { body: grpcMessage(Buffer.from("10")) });
      assert.equal(e.grpcStatus, GRPC.INTERNAL, describeExchange(e));
      assert.equal(e.handlerRuns, 0);
    });
  }

  it("grpc-timeout 0n -> DEADLINE_EXCEEDED at once, no handler", T, async () => {
    // The Sleep handler would take a minute: the answer within exchange()'s 5 s is not its.
    const e = await exchange(hpackEncode(grpcHeaders(PATH.sleep, [["grpc-timeout", "0n"]])), { body: grpcMessage(Buffer.from("60000")) });
    assert.equal(e.grpcStatus, GRPC.DEADLINE_EXCEEDED, describeExchange(e));
    assert.equal(e.handlerRuns, 0);
  });

  it("grpc-timeout 99999999H (the largest legal value) -> OK, no overflow into an expired deadline", T, async () => {
    const e = await exchange(hpackEncode(grpcHeaders(PATH.sleep, [["grpc-timeout", "99999999H"]])), { body: grpcMessage(Buffer.from("50")) });
    assert.equal(e.grpcStatus, GRPC.OK, describeExchange(e));
  });
});

describe("after every header attack", () => {
  it("the process is alive, serves, and its RSS is back near the baseline", T, async (t: TestContext) => {
    await assertServes(server.proc);
    await waitForStats(server.proc, (s) => s.sessions === 0 && s.sockets === 0, 3000, "every connection released");
    const s = await assertMemoryReturns(server.proc, server.baseline.rss, 15 * 1024 * 1024);
    t.diagnostic(`RSS ${(server.baseline.rss / 1048576).toFixed(1)} -> ${(s.rss / 1048576).toFixed(1)} MB; sessions ${s.sessions}; fds ${server.baseline.fds} -> ${s.fds}`);
    assert.ok(s.fds <= server.baseline.fds, `fds ${server.baseline.fds} -> ${s.fds}`);
  });
});
