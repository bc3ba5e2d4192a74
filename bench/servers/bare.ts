// The ceiling: a bare node:http2 server with no gRPC framework. Every POST gets a fixed,
// precomputed gRPC-framed response and trailers `grpc-status: 0`:
//   Unary         the echo of the request (chosen by request size: the workload's 16 B or 64 KiB)
//   ServerStream  STREAM_COUNT messages, precomputed as one buffer and written at once
//   ClientStream  the summary of CLIENT_STREAM_COUNT messages, once the request has ended
//   PingPong      one fixed message per complete request message
//   Hold          one message, then the stream is simply never ended
// Request bytes are read (counted or split into messages) but never decoded.
//   node --expose-gc --import tsx bench/servers/bare.ts --port 0
import http2 from "node:http2";
import {
  CLIENT_STREAM_COUNT,
  CLIENT_STREAM_SIZE,
  HOLD_SIZE,
  LARGE,
  SMALL,
  STREAM_COUNT,
  STREAM_SIZE,
  frame,
  path,
  payloadBytes,
  streamSummaryBytes,
} from "../lib/workload.js";
import { portArg, serveControl } from "./control.js";

const HEADERS = { ":status": 200, "content-type": "application/grpc" };
const TRAILERS = { "grpc-status": "0" };
const BAD_SIZE = { ":status": 200, "content-type": "application/grpc", "grpc-status": "13", "grpc-message": "bare server: unexpected request size" };

const unaryBySize = new Map<number, Buffer>();
for (const size of [SMALL, LARGE]) {
  const f = frame(payloadBytes(size));
  unaryBySize.set(f.length, f); // echo: the response bytes are the request bytes
}
const streamResponse = Buffer.concat(Array.from({ length: STREAM_COUNT }, () => frame(payloadBytes(STREAM_SIZE))));
const clientStreamResponse = frame(streamSummaryBytes(CLIENT_STREAM_COUNT, CLIENT_STREAM_COUNT * CLIENT_STREAM_SIZE));
const pong = frame(payloadBytes(SMALL));
const held = frame(payloadBytes(HOLD_SIZE));

const sendTrailers = function (this: http2.ServerHttp2Stream): void {
  this.sendTrailers(TRAILERS);
};

function respond(stream: http2.ServerHttp2Stream, body: Buffer): void {
  stream.respond(HEADERS, { waitForTrailers: true });
  stream.once("wantTrailers", sendTrailers);
  stream.end(body);
}

const noop = (): void => {};

const server = http2.createServer();
server.on("sessionError", noop);
server.on("stream", (stream, headers) => {
  stream.on("error", noop);
  switch (headers[":path"]) {
    case path("Unary"): {
      let n = 0;
      stream.on("data", (chunk: Buffer) => (n += chunk.length));
      stream.on("end", () => {
        const response = unaryBySize.get(n);
        if (response) respond(stream, response);
        else stream.respond(BAD_SIZE, { endStream: true });
      });
      return;
    }
    case path("ServerStream"):
      stream.resume();
      stream.on("end", () => respond(stream, streamResponse));
      return;
    case path("ClientStream"):
      stream.resume();
      stream.on("end", () => respond(stream, clientStreamResponse));
      return;
    case path("PingPong"): {
      stream.respond(HEADERS, { waitForTrailers: true });
      stream.once("wantTrailers", sendTrailers);
      let pending: Buffer = Buffer.alloc(0);
      stream.on("data", (chunk: Buffer) => {
        pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
        while (pending.length >= 5) {
          const end = 5 + pending.readUInt32BE(1);
          if (pending.length < end) break;
          pending = pending.subarray(end);
          stream.write(pong);
        }
      });
      stream.on("end", () => stream.end());
      return;
    }
    case path("Hold"):
      stream.resume();
      stream.respond(HEADERS);
      stream.write(held);
      return;
    default:
      stream.respond({ ":status": 200, "content-type": "application/grpc", "grpc-status": "12" }, { endStream: true });
  }
});
server.listen(portArg(), "127.0.0.1", () => {
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  serveControl(port, () => {
    server.close();
    process.exit(0);
  });
});
