// Request header validation seen from the wire: the HTTP-level refusals (405/415/400),
// their order, routing of unknown or malformed paths, metadata validation before dispatch,
// and what the HTTP/2 layer itself resets.
import { after, before, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import { unaryUnaryRpcMethodHandler, type ServerCallContext } from "../../src/index.js";
import { defaultTransport } from "../../src/server/options.js";
import { assertAnswersNormalCall, startServer, type WireServer } from "./fixture.js";
import { call, callOnce, grpcFrame, grpcHeaders, H2_ERROR, RawH2Connection, type HeaderInput, type RawResponse } from "./raw-h2.js";

const ECHO = "/wire.Headers/Echo";
const META = "/wire.Headers/Meta";
const BODY = grpcFrame(Buffer.from("ping"));

let ws: WireServer;
/** Times a handler body actually ran (echo, metadata or the catch-all). */
let handlerRuns = 0;

/** The request metadata as the handler saw it: text values as strings, -bin values as hex. */
function metadataJson(ctx: ServerCallContext): Uint8Array {
  const out: Record<string, string[]> = {};
  for (const [k, v] of ctx.metadata) (out[k] ??= []).push(typeof v === "string" ? v : Buffer.from(v).toString("hex"));
  return Buffer.from(JSON.stringify(out));
}

before(async () => {
  ws = await startServer((server) => {
    server.addRegisteredMethodHandlers("wire.Headers", {
      Echo: unaryUnaryRpcMethodHandler((req: Uint8Array) => {
        handlerRuns++;
        return req;
      }),
      Meta: unaryUnaryRpcMethodHandler((_req: Uint8Array, ctx) => {
        handlerRuns++;
        return metadataJson(ctx);
      }),
    });
    // A loose generic handler: it offers a handler for any path containing "catchall",
    // so malformed paths must be refused by the router, not by a lookup miss.
    server.addGenericRpcHandlers([
      (details) =>
        details.method.includes("catchall")
          ? unaryUnaryRpcMethodHandler((req: Uint8Array) => {
              handlerRuns++;
              return req;
            })
          : null,
    ]);
  });
});

after(async () => {
  await ws.stop();
});

/** Runs one exchange and checks that no handler ran and nothing was dispatched. */
async function refused(path: string, options: Parameters<typeof callOnce>[2]): Promise<RawResponse> {
  const runs = handlerRuns;
  const dispatched = ws.dispatched;
  const res = await callOnce(ws.port, path, options);
  assert.equal(handlerRuns, runs, "the handler must not run");
  assert.equal(ws.dispatched, dispatched, "the call must not be dispatched");
  return res;
}

function assertTrailersOnly(res: RawResponse, grpcStatus: number): void {
  assert.equal(res.status, 200, res.describe());
  assert.ok(res.trailersOnly, `expected a trailers-only response: ${res.describe()}`);
  assert.equal(res.grpcStatus, grpcStatus, res.describe());
  assert.equal(res.header("content-type"), "application/grpc", res.describe());
}

/** Headers of a gRPC request with some standard ones replaced or dropped. */
function requestHeaders(path: string, replace: Record<string, string | null>, extra: HeaderInput[] = []): HeaderInput[] {
  const out: HeaderInput[] = [];
  for (const [name, value] of grpcHeaders(path)) {
    if (!(name in replace)) out.push([name, value]);
    else if (replace[name] !== null) out.push([name, replace[name]!]);
  }
  return [...out, ...extra];
}

describe("HTTP-level refusals", () => {
  for (const method of ["GET", "PUT", "DELETE"]) {
    it(`${method} is answered HTTP 405`, async () => {
      const res = await refused(ECHO, { headers: requestHeaders(ECHO, { ":method": method }) });
      assert.equal(res.status, 405, res.describe());
    });
  }

  it("content-type text/plain is answered HTTP 415", async () => {
    const res = await refused(ECHO, { headers: requestHeaders(ECHO, { "content-type": "text/plain" }), body: BODY });
    assert.equal(res.status, 415, res.describe());
  });

  it("a missing content-type is answered HTTP 415", async () => {
    const res = await refused(ECHO, { headers: requestHeaders(ECHO, { "content-type": null }), body: BODY });
    assert.equal(res.status, 415, res.describe());
  });

  // application/grpc-web is served by the web front (test/web); a look-alike is not a gRPC subtype.
  it("content-type application/grpc-foo (not a gRPC subtype) is answered HTTP 415", async () => {
    const res = await refused(ECHO, { headers: requestHeaders(ECHO, { "content-type": "application/grpc-foo" }), body: BODY });
    assert.equal(res.status, 415, res.describe());
  });

  it("a missing te: trailers is answered HTTP 400", async () => {
    const res = await refused(ECHO, { headers: requestHeaders(ECHO, { te: null }), body: BODY });
    assert.equal(res.status, 400, res.describe());
  });

  it("content-type application/grpc+proto is served and echoed back", async () => {
    const res = await callOnce(ws.port, ECHO, { headers: requestHeaders(ECHO, { "content-type": "application/grpc+proto" }), body: BODY });
    assert.equal(res.status, 200);
    assert.equal(res.grpcStatus, 0, res.describe());
    assert.equal(res.header("content-type"), "application/grpc+proto");
  });
});

describe("rejection order", () => {
  // Each row breaks several rules at once; the first failing check in dispatch order answers.
  const rows: { rule: string; path: string; replace: Record<string, string | null>; extra?: HeaderInput[]; http: number; grpc?: number }[] = [
    { rule: "method before content-type and te -> 405", path: "/no.Such/Method", replace: { ":method": "GET", "content-type": "text/plain", te: null }, http: 405 },
    { rule: "content-type before te -> 415", path: "/no.Such/Method", replace: { "content-type": "text/plain", te: null }, http: 415 },
    { rule: "te before routing -> 400", path: "/no.Such/Method", replace: { te: null }, http: 400 },
    { rule: "bad metadata before routing -> INTERNAL", path: "/no.Such/Method", replace: {}, extra: [["x-bad", Buffer.from([0xff])]], http: 200, grpc: 13 },
    { rule: "routing before grpc-timeout -> UNIMPLEMENTED", path: "/no.Such/Method", replace: {}, extra: [["grpc-timeout", "1X"]], http: 200, grpc: 12 },
    { rule: "grpc-timeout before grpc-encoding -> INTERNAL", path: ECHO, replace: {}, extra: [["grpc-timeout", "1X"], ["grpc-encoding", "br"]], http: 200, grpc: 13 },
  ];
  for (const row of rows) {
    it(`${row.rule}`, async () => {
      const res = await refused(row.path, { headers: requestHeaders(row.path, row.replace, row.extra), body: BODY });
      assert.equal(res.status, row.http, res.describe());
      if (row.grpc !== undefined) assertTrailersOnly(res, row.grpc);
    });
  }
});

describe("routing", () => {
  it("an unknown service is answered 200 trailers-only with grpc-status 12 (UNIMPLEMENTED)", async () => {
    assertTrailersOnly(await refused("/no.Such/Method", { body: BODY }), 12);
  });

  it("an unknown method of a known service is answered 200 trailers-only with grpc-status 12 (UNIMPLEMENTED)", async () => {
    assertTrailersOnly(await refused("/wire.Headers/Nope", { body: BODY }), 12);
  });

  it("the method name is case-sensitive: /wire.Headers/echo -> UNIMPLEMENTED", async () => {
    assertTrailersOnly(await refused("/wire.Headers/echo", { body: BODY }), 12);
  });

  it("the catch-all generic handler serves a well-formed path (control)", async () => {
    const res = await callOnce(ws.port, "/wire.Any/catchall", { body: BODY });
    assert.equal(res.grpcStatus, 0, res.describe());
    assert.deepEqual(res.messages[0]?.data, Buffer.from("ping"));
  });

  // These reach the application, which must refuse them even when a generic handler offers one.
  for (const path of ["/", "//", "/svc", "/svc/", "/a/b/c", "/catchall", "/catchall/", "//catchall", "/a/catchall/c", "/catchall/x/"]) {
    it(`malformed path ${JSON.stringify(path)} -> UNIMPLEMENTED`, async () => {
      assertTrailersOnly(await refused(path, { headers: requestHeaders(path, {}), body: BODY }), 12);
    });
  }

  // An empty :path, or one not starting with "/", is malformed HTTP/2 for an http(s) scheme
  // (RFC 9113 8.3.1): nghttp2 resets the stream before the application sees it.
  for (const path of ["", "noslash", "catchall/x"]) {
    it(`malformed path ${JSON.stringify(path)} -> stream reset PROTOCOL_ERROR (never dispatched)`, async () => {
      const res = await refused(path, { headers: requestHeaders(path, {}), body: BODY });
      assert.equal(res.rstCode, H2_ERROR.PROTOCOL_ERROR, res.describe());
      assert.equal(res.blocks.length, 0, res.describe());
    });
  }
});

describe("metadata validation", () => {
  it("a metadata value with byte 0xFF -> INTERNAL, never dispatched", async () => {
    const res = await refused(ECHO, { extra: [["x-text", Buffer.from([0x61, 0xff, 0x62])]], body: BODY });
    assertTrailersOnly(res, 13);
  });

  it("a metadata value with a tab (outside 0x20-0x7E) -> INTERNAL, never dispatched", async () => {
    assertTrailersOnly(await refused(ECHO, { extra: [["x-text", "a\tb"]], body: BODY }), 13);
  });

  // RFC 9113 8.2.1: NUL, CR and LF make a request malformed. Our engine resets the stream;
  // nghttp2 drops the field instead and the call runs without it.
  for (const [label, value] of [["NUL", Buffer.from([0x61, 0x00, 0x62])], ["LF", Buffer.from("a\nb")], ["CR", Buffer.from("a\rb")]] as const) {
    it(`our engine: a metadata value with ${label} -> stream reset PROTOCOL_ERROR, never dispatched`, { skip: defaultTransport() === "node" ? "our engine only" : false }, async () => {
      const res = await callOnce(ws.port, META, { extra: [["x-bad", value]], body: BODY });
      assert.equal(res.rstCode, H2_ERROR.PROTOCOL_ERROR, res.describe());
      assert.equal(res.blocks.length, 0, res.describe());
    });
  }

  it("a metadata value with DEL (legal HTTP/2, not gRPC) -> INTERNAL, never dispatched", { skip: defaultTransport() === "node" ? "node:http2 drops the field: see the next test" : false }, async () => {
    assertTrailersOnly(await refused(META, { extra: [["x-del", Buffer.from([0x61, 0x7f])]], body: BODY }), 13);
  });

  it("node:http2: a metadata value with NUL, CR/LF or DEL never reaches the handler (nghttp2 drops the field)", { skip: defaultTransport() === "node" ? false : "node:http2 only" }, async () => {
    // nghttp2 ignores such fields as invalid HTTP, so the call is served without them.
    const res = await callOnce(ws.port, META, {
      extra: [
        ["x-nul", Buffer.from([0x61, 0x00, 0x62])],
        ["x-lf", Buffer.from("a\nb")],
        ["x-del", Buffer.from([0x61, 0x7f])],
        ["x-kept", "ok"],
      ],
      body: BODY,
    });
    assert.equal(res.grpcStatus, 0, res.describe());
    assert.deepEqual(JSON.parse(res.messages[0]!.data.toString()), { "x-kept": ["ok"] });
  });

  for (const bad of ["!!!!", "A", "AAAAA", "A=AA", "-_-_", "AAE C"]) {
    it(`a malformed -bin value ${JSON.stringify(bad)} -> INTERNAL, never dispatched`, async () => {
      assertTrailersOnly(await refused(ECHO, { extra: [["x-data-bin", bad]], body: BODY }), 13);
    });
  }

  // '=' padding that does not complete a 4-char group ("AA=", "AAAA==") is malformed, as
  // grpc-go and grpc-core also judge it.
  for (const bad of ["AA=", "AAAA=="]) {
    it(`a -bin value with broken padding ${JSON.stringify(bad)} -> INTERNAL, never dispatched`, async () => {
      assertTrailersOnly(await refused(ECHO, { extra: [["x-data-bin", bad]], body: BODY }), 13);
    });
  }

  it("-bin padded and unpadded values are both accepted and decode to the same bytes", async () => {
    const res = await callOnce(ws.port, META, {
      extra: [
        ["x-padded-bin", "AAEC/w=="],
        ["x-unpadded-bin", "AAEC/w"],
        ["x-one-bin", "/w=="],
        ["x-one-raw-bin", "/w"],
      ],
      body: BODY,
    });
    assert.equal(res.grpcStatus, 0, res.describe());
    const md = JSON.parse(res.messages[0]!.data.toString());
    assert.deepEqual(md["x-padded-bin"], ["000102ff"]);
    assert.deepEqual(md["x-unpadded-bin"], ["000102ff"]);
    assert.deepEqual(md["x-one-bin"], ["ff"]);
    assert.deepEqual(md["x-one-raw-bin"], ["ff"]);
  });

  it("repeated keys arrive as several values, in order; a comma inside a text value is not split", async () => {
    const res = await callOnce(ws.port, META, {
      extra: [
        ["x-rep", "first"],
        ["x-other", "between"],
        ["x-rep", "second"],
        ["x-list", "a,b"],
        ["x-rep-bin", "AAE"],
        ["x-rep-bin", "AgM="],
        ["x-joined-bin", "AAE,AgM"],
      ],
      body: BODY,
    });
    assert.equal(res.grpcStatus, 0, res.describe());
    const md = JSON.parse(res.messages[0]!.data.toString());
    assert.deepEqual(md["x-rep"], ["first", "second"]);
    assert.deepEqual(md["x-list"], ["a,b"]);
    assert.deepEqual(md["x-rep-bin"], ["0001", "0203"]);
    assert.deepEqual(md["x-joined-bin"], ["0001", "0203"]);
  });

  it("protocol headers (te, content-type, grpc-*, pseudo-headers) are not application metadata", async () => {
    const res = await callOnce(ws.port, META, { extra: [["grpc-timeout", "10S"], ["user-agent", "wire-test/1"]], body: BODY });
    const md = JSON.parse(res.messages[0]!.data.toString());
    for (const key of Object.keys(md)) assert.ok(!key.startsWith(":") && !key.startsWith("grpc-") && key !== "te" && key !== "content-type", key);
  });
});

describe("header list size", () => {
  it("a header list just under the 16 KiB default is served", async () => {
    const res = await callOnce(ws.port, ECHO, { extra: [["x-big", "a".repeat(16_000)]], body: BODY });
    assert.equal(res.grpcStatus, 0, res.describe());
  });

  it("a header list over the 16 KiB default -> RESOURCE_EXHAUSTED or stream reset, handler never ran", async () => {
    // node enforces the advertised SETTINGS_MAX_HEADER_LIST_SIZE itself (RST_STREAM
    // ENHANCE_YOUR_CALM) before the application's own check could answer RESOURCE_EXHAUSTED.
    const res = await refused(ECHO, { extra: [["x-big", "a".repeat(17_000)]], body: BODY });
    if (res.rstCode !== undefined && res.blocks.length === 0) {
      assert.ok(res.rstCode === H2_ERROR.ENHANCE_YOUR_CALM || res.rstCode === H2_ERROR.PROTOCOL_ERROR, res.describe());
    } else {
      assertTrailersOnly(res, 8);
    }
  });

  it("many small headers over 16 KiB in total -> RESOURCE_EXHAUSTED or stream reset, handler never ran", async () => {
    const extra: HeaderInput[] = [];
    for (let i = 0; i < 100; i++) extra.push([`x-h${String(i).padStart(3, "0")}`, "v".repeat(140)]);
    const res = await refused(ECHO, { extra, body: BODY });
    if (res.rstCode !== undefined && res.blocks.length === 0) {
      assert.ok(res.rstCode === H2_ERROR.ENHANCE_YOUR_CALM || res.rstCode === H2_ERROR.PROTOCOL_ERROR, res.describe());
    } else {
      assertTrailersOnly(res, 8);
    }
  });
});

describe("malformed HTTP/2 header blocks", () => {
  async function resetThenServed(bad: HeaderInput[]): Promise<void> {
    const conn = await RawH2Connection.connect(ws.port);
    try {
      const runs = handlerRuns;
      const res = await call(conn, ECHO, { headers: bad, body: BODY });
      assert.equal(res.rstCode, H2_ERROR.PROTOCOL_ERROR, res.describe());
      assert.equal(res.blocks.length, 0, res.describe());
      assert.equal(handlerRuns, runs, "the handler must not run");
      // The stream error must not take the connection down: the next call on it is served.
      const next = await call(conn, ECHO, { body: BODY });
      assert.equal(next.grpcStatus, 0, next.describe());
      assert.deepEqual(next.messages[0]?.data, Buffer.from("ping"));
      assert.equal(conn.goaway, undefined);
    } finally {
      conn.close();
    }
  }

  it("an upper-case header name -> stream reset PROTOCOL_ERROR; the next call on the connection is served", async () => {
    await resetThenServed(grpcHeaders(ECHO, [["X-Upper", "1"]]));
  });

  it("a duplicate :path -> stream reset PROTOCOL_ERROR; the next call on the connection is served", async () => {
    await resetThenServed([...grpcHeaders(ECHO), [":path", ECHO]]);
  });

  it("a pseudo-header after a regular header -> stream reset PROTOCOL_ERROR; the next call is served", async () => {
    const headers = grpcHeaders(ECHO);
    await resetThenServed([...headers.filter(([n]) => n !== ":authority"), [":authority", "127.0.0.1"]]);
  });

  it("a connection-specific header (connection: keep-alive) -> stream reset PROTOCOL_ERROR; the next call is served", async () => {
    await resetThenServed(grpcHeaders(ECHO, [["connection", "keep-alive"]]));
  });
});

describe("after the request-header tests", () => {
  it("the server is still alive and answers a normal call", async () => {
    await assertAnswersNormalCall(ws.port);
  });
});
