// RFC 9113 8.1, 8.2 and 8.3: malformed requests (field names and values, pseudo-headers,
// connection-specific fields, te, content-length, trailers) are stream errors of type
// PROTOCOL_ERROR (8.1.1); the connection stays usable, which each test proves with a good
// call on the same connection afterwards.
import * as assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import { CODE, data, grpcHeaders, headers, hpackEncode, M, message, Suite, T, type H2Conn, type HeaderInput } from "./harness.js";

const suite = new Suite();
before(() => suite.start());
afterEach(() => suite.closeConnections());
after(() => suite.stop());

const BASE: HeaderInput[] = [
  [":method", "POST"],
  [":scheme", "http"],
  [":path", M.echo],
  [":authority", "127.0.0.1"],
  ["content-type", "application/grpc"],
  ["te", "trailers"],
];

/** Sends `fields` as a request (with a one-message body) and expects RST_STREAM PROTOCOL_ERROR, then a good call. */
async function expectMalformed(fields: readonly HeaderInput[], body: Buffer | undefined = message("m")): Promise<H2Conn> {
  const c = await suite.connect();
  const id = c.newStreamId();
  if (body === undefined) c.send(headers(id, hpackEncode(fields), { endStream: true }));
  else c.send(headers(id, hpackEncode(fields)), data(id, body, { endStream: true }));
  await c.expectRst(id, CODE.PROTOCOL_ERROR);
  await c.expectCallOk();
  assert.equal(c.goaways.length, 0, `a malformed request must not cost the connection: ${c.describe()}`);
  return c;
}

function without(name: string): HeaderInput[] {
  return BASE.filter(([n]) => n !== name);
}

describe("field names (9113 8.2.1)", () => {
  it("upper-case field name -> RST_STREAM PROTOCOL_ERROR (9113 8.2.1)", T, async () => {
    await expectMalformed([...BASE, ["X-Upper", "v"]]);
  });

  it("upper-case pseudo-header name (:Path) -> RST_STREAM PROTOCOL_ERROR (9113 8.2.1)", T, async () => {
    await expectMalformed([[":method", "POST"], [":scheme", "http"], [":Path", M.echo], ["content-type", "application/grpc"]]);
  });

  for (const [label, name] of [
    ["a space", "x y"],
    ["NUL", "x\x00y"],
    ["a control char (0x01)", "x\x01y"],
    ["DEL (0x7f)", "x\x7fy"],
    ["a byte above 0x7f (0xff)", "x\xffy"],
    ["a colon inside", "x:y"],
  ] as const) {
    it(`field name with ${label} -> RST_STREAM PROTOCOL_ERROR (9113 8.2.1)`, T, async () => {
      await expectMalformed([...BASE, [name, "v"]]);
    });
  }

  it("empty field name -> RST_STREAM PROTOCOL_ERROR (9113 8.2.1)", T, async () => {
    await expectMalformed([...BASE, ["", "v"]]);
  });
});

describe("field values (9113 8.2.1)", () => {
  for (const [label, value] of [
    ["NUL", "a\x00b"],
    ["CR", "a\rb"],
    ["LF", "a\nb"],
    ["a leading space", " v"],
    ["a trailing space", "v "],
    ["a leading tab", "\tv"],
    ["a trailing tab", "v\t"],
  ] as const) {
    it(`field value with ${label} -> RST_STREAM PROTOCOL_ERROR (9113 8.2.1)`, T, async () => {
      await expectMalformed([...BASE, ["x-value", value]]);
    });
  }

  it("empty values and inner spaces are valid (9113 8.2.1)", T, async () => {
    const c = await suite.connect();
    const id = c.newStreamId();
    c.send(headers(id, hpackEncode(grpcHeaders(M.echo, [["x-empty", ""], ["x-inner", "a b c"]]))), data(id, message("ok"), { endStream: true }));
    const r = await c.response(id);
    assert.equal(r.grpcStatus, "0", c.describe());
  });

  it("a value byte above 0x7f (obs-text) is not an HTTP/2 error: the stream is answered, not reset (9113 8.2.1)", T, async () => {
    // gRPC may refuse such metadata with a status; HTTP/2 itself only forbids NUL, CR, LF and edge whitespace.
    const c = await suite.connect();
    const id = c.newStreamId();
    c.send(headers(id, hpackEncode(grpcHeaders(M.echo, [["x-high", "caf\xe9"]]))), data(id, message("ok"), { endStream: true }));
    const r = await c.response(id);
    assert.equal(r.rst, undefined, c.describe());
    assert.equal(r.status, "200", c.describe());
    assert.equal(c.goaways.length, 0, c.describe());
  });
});

describe("pseudo-header fields (9113 8.3)", () => {
  it("pseudo-header after a regular field -> RST_STREAM PROTOCOL_ERROR (9113 8.3)", T, async () => {
    await expectMalformed([[":method", "POST"], [":scheme", "http"], ["content-type", "application/grpc"], [":path", M.echo], ["te", "trailers"]]);
  });

  it("unknown pseudo-header (:foo) -> RST_STREAM PROTOCOL_ERROR (9113 8.3)", T, async () => {
    await expectMalformed([[":foo", "bar"], ...BASE]);
  });

  it("response pseudo-header (:status) in a request -> RST_STREAM PROTOCOL_ERROR (9113 8.3)", T, async () => {
    await expectMalformed([[":status", "200"], ...BASE]);
  });

  it("duplicate :path -> RST_STREAM PROTOCOL_ERROR (9113 8.3.1)", T, async () => {
    await expectMalformed([[":path", M.echo], ...BASE]);
  });

  it("duplicate :method -> RST_STREAM PROTOCOL_ERROR (9113 8.3.1)", T, async () => {
    await expectMalformed([[":method", "POST"], ...BASE]);
  });

  it("duplicate :scheme -> RST_STREAM PROTOCOL_ERROR (9113 8.3.1)", T, async () => {
    await expectMalformed([[":scheme", "http"], ...BASE]);
  });

  it("missing :method -> RST_STREAM PROTOCOL_ERROR (9113 8.3.1)", T, async () => {
    await expectMalformed(without(":method"));
  });

  it("missing :scheme -> RST_STREAM PROTOCOL_ERROR (9113 8.3.1)", T, async () => {
    await expectMalformed(without(":scheme"));
  });

  it("missing :path -> RST_STREAM PROTOCOL_ERROR (9113 8.3.1)", T, async () => {
    await expectMalformed(without(":path"));
  });

  it("empty :path -> RST_STREAM PROTOCOL_ERROR (9113 8.3.1)", T, async () => {
    await expectMalformed(BASE.map(([n, v]) => (n === ":path" ? [n, ""] : [n, v]) as HeaderInput));
  });

  it("a request without :authority (it is optional) is served (9113 8.3.1)", T, async () => {
    const c = await suite.connect();
    const id = c.newStreamId();
    c.send(headers(id, hpackEncode(without(":authority"))), data(id, message("no-authority"), { endStream: true }));
    const r = await c.response(id);
    assert.equal(r.grpcStatus, "0", c.describe());
  });
});

describe("connection-specific fields (9113 8.2.2)", () => {
  for (const [name, value] of [
    ["connection", "keep-alive"],
    ["keep-alive", "timeout=5"],
    ["proxy-connection", "keep-alive"],
    ["transfer-encoding", "chunked"],
    ["upgrade", "h2c"],
  ] as const) {
    it(`${name} field -> RST_STREAM PROTOCOL_ERROR (9113 8.2.2)`, T, async () => {
      await expectMalformed([...BASE, [name, value]]);
    });
  }

  it("te other than \"trailers\" (gzip) -> RST_STREAM PROTOCOL_ERROR (9113 8.2.2)", T, async () => {
    await expectMalformed([...without("te"), ["te", "gzip"]]);
  });

  it("te listing trailers and another value -> RST_STREAM PROTOCOL_ERROR (9113 8.2.2)", T, async () => {
    await expectMalformed([...without("te"), ["te", "trailers, deflate"]]);
  });
});

describe("content-length (9113 8.1.1)", () => {
  it("content-length larger than the DATA received -> RST_STREAM PROTOCOL_ERROR (9113 8.1.1)", T, async () => {
    await expectMalformed([...BASE, ["content-length", "100"]], message("short"));
  });

  it("content-length smaller than the DATA received -> RST_STREAM PROTOCOL_ERROR (9113 8.1.1)", T, async () => {
    await expectMalformed([...BASE, ["content-length", "3"]], message("longer than three"));
  });

  it("content-length with HEADERS ending the stream and no DATA -> RST_STREAM PROTOCOL_ERROR (9113 8.1.1)", T, async () => {
    await expectMalformed([...BASE, ["content-length", "10"]], undefined);
  });

  it("content-length equal to the DATA length is accepted (9113 8.1.1)", T, async () => {
    const c = await suite.connect();
    const body = message("exact");
    const id = c.newStreamId();
    c.send(headers(id, hpackEncode([...BASE, ["content-length", String(body.length)]])), data(id, body, { endStream: true }));
    const r = await c.response(id);
    assert.equal(r.grpcStatus, "0", c.describe());
  });
});

describe("trailers (9113 8.1)", () => {
  it("trailers with END_STREAM are accepted (9113 8.1)", T, async () => {
    const c = await suite.connect();
    const id = c.newStreamId();
    c.send(headers(id, hpackEncode(BASE)), data(id, message("with-trailers")), headers(id, hpackEncode([["x-trailer", "t"]]), { endStream: true }));
    const r = await c.response(id);
    assert.equal(r.grpcStatus, "0", c.describe());
  });

  it("trailers without END_STREAM -> RST_STREAM PROTOCOL_ERROR (9113 8.1)", T, async () => {
    const c = await suite.connect();
    const id = c.newStreamId();
    c.send(headers(id, hpackEncode(BASE)), data(id, message("x")), headers(id, hpackEncode([["x-trailer", "t"]])));
    await c.expectRst(id, CODE.PROTOCOL_ERROR);
    await c.expectCallOk();
  });

  it("pseudo-header in trailers -> RST_STREAM PROTOCOL_ERROR (9113 8.1, 8.3)", T, async () => {
    const c = await suite.connect();
    const id = c.newStreamId();
    c.send(headers(id, hpackEncode(BASE)), data(id, message("x")), headers(id, hpackEncode([[":path", M.echo]]), { endStream: true }));
    await c.expectRst(id, CODE.PROTOCOL_ERROR);
    await c.expectCallOk();
  });

  it("invalid field in trailers (upper case) -> RST_STREAM PROTOCOL_ERROR (9113 8.2.1)", T, async () => {
    const c = await suite.connect();
    const id = c.newStreamId();
    c.send(headers(id, hpackEncode(BASE)), data(id, message("x")), headers(id, hpackEncode([["X-Trailer", "t"]]), { endStream: true }));
    await c.expectRst(id, CODE.PROTOCOL_ERROR);
    await c.expectCallOk();
  });
});
