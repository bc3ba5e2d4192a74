// connect-node's gRPC-Web and Connect transports, over HTTP/1.1 and HTTP/2, against the same
// registered handlers gRPC clients call: unary, server streaming, client streaming (HTTP/2),
// errors with rich details, deadlines, compression, binary and JSON.
import { after, before, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import { Code as ConnectCode, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { compressionGzip, createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { fromBinary } from "@bufbuild/protobuf";
import { ErrorInfoSchema } from "../../src/gen/google/rpc/error_details_pb.js";
import { startWebServer, type WebServer } from "./fixture.js";
import { WebTestService } from "./gen/webtest_pb.js";

let ws: WebServer;
before(async () => {
  ws = await startWebServer({ compression: "gzip" });
});
after(async () => {
  await ws.stop();
});

const variants: { protocol: "connect" | "grpc-web"; httpVersion: "1.1" | "2"; useBinaryFormat: boolean }[] = [];
for (const protocol of ["connect", "grpc-web"] as const)
  for (const httpVersion of ["1.1", "2"] as const)
    for (const useBinaryFormat of [true, false]) variants.push({ protocol, httpVersion, useBinaryFormat });

function transport(v: (typeof variants)[number], extra: { gzip?: boolean } = {}): Transport {
  const make = v.protocol === "connect" ? createConnectTransport : createGrpcWebTransport;
  const compression = extra.gzip ? { acceptCompression: [compressionGzip], sendCompression: compressionGzip, compressMinBytes: 1 } : {};
  return make({ baseUrl: ws.url, httpVersion: v.httpVersion, useBinaryFormat: v.useBinaryFormat, ...compression });
}

for (const v of variants) {
  describe(`${v.protocol} over HTTP/${v.httpVersion} (${v.useBinaryFormat ? "binary" : "JSON"})`, () => {
    it("unary: the reply, response headers and trailers", async () => {
      const client = createClient(WebTestService, transport(v));
      let header: Headers | undefined;
      let trailer: Headers | undefined;
      const reply = await client.say({ name: "ada" }, { onHeader: (h) => (header = h), onTrailer: (t) => (trailer = t) });
      assert.equal(reply.message, "hello ada");
      assert.equal(header?.get("x-header"), "h1");
      assert.equal(trailer?.get("x-trailer"), "t1");
    });

    it("server streaming: every message in order, then OK", async () => {
      const client = createClient(WebTestService, transport(v));
      const got: string[] = [];
      for await (const m of client.sayMany({ name: "bo", count: 4 })) got.push(m.message);
      assert.deepEqual(got, ["hello bo #0", "hello bo #1", "hello bo #2", "hello bo #3"]);
    });

    it("an error keeps its code, message and ErrorInfo detail (NOT_FOUND)", async () => {
      const client = createClient(WebTestService, transport(v));
      const err = await client.say({ name: "cy", fail: "NOT_FOUND" }).then(
        () => assert.fail("expected an error"),
        (e: unknown) => ConnectError.from(e),
      );
      assert.equal(err.code, ConnectCode.NotFound);
      assert.equal(err.rawMessage, "failed as asked: NOT_FOUND");
      assert.equal(err.details.length, 1);
      const d = err.details[0] as { desc?: unknown; type?: string; value?: Uint8Array };
      assert.equal(d.type, "google.rpc.ErrorInfo");
      const info = fromBinary(ErrorInfoSchema, d.value!);
      assert.equal(info.reason, "ASKED");
      assert.equal(info.metadata["name"], "cy");
    });

    it("an error after streamed messages arrives after them (RESOURCE_EXHAUSTED)", async () => {
      const client = createClient(WebTestService, transport(v));
      const got: string[] = [];
      const err = await (async () => {
        for await (const m of client.sayMany({ name: "di", count: 2, fail: "RESOURCE_EXHAUSTED" })) got.push(m.message);
      })().then(
        () => assert.fail("expected an error"),
        (e: unknown) => ConnectError.from(e),
      );
      assert.deepEqual(got, ["hello di #0", "hello di #1"]);
      assert.equal(err.code, ConnectCode.ResourceExhausted);
    });

    it("a deadline shorter than the handler ends the call with DEADLINE_EXCEEDED", async () => {
      const client = createClient(WebTestService, transport(v));
      const err = await client.say({ name: "ed", delayMs: 5_000 }, { timeoutMs: 150 }).then(
        () => assert.fail("expected an error"),
        (e: unknown) => ConnectError.from(e),
      );
      assert.equal(err.code, ConnectCode.DeadlineExceeded);
    });

    it("gzip both ways: a large reply and request round-trip compressed", async () => {
      const client = createClient(WebTestService, transport(v, { gzip: true }));
      const reply = await client.say({ name: "fa".repeat(2000), count: 50_000 });
      assert.equal(reply.message, `hello ${"fa".repeat(2000)}`);
      assert.equal(reply.padding.length, 50_000);
    });

    if (v.httpVersion === "2") {
      it("client streaming over HTTP/2: every request message reaches the handler", async () => {
        const client = createClient(WebTestService, transport(v));
        async function* names() {
          for (const name of ["a", "b", "c"]) yield { name };
        }
        const reply = await client.collect(names());
        assert.equal(reply.message, "a,b,c");
      });
    }
  });
}
