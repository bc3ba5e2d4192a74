// The fixed answers of the two engine baselines, bench/servers/bare.ts (node:http2, "ceiling")
// and bench/servers/floor.ts (our engine, src/h2, "floor"). Both run this one handler, so they
// send the same bytes in the same writes and differ only in the HTTP/2 engine underneath.
// Every POST gets a fixed, precomputed gRPC-framed response and trailers `grpc-status: 0`:
//   Unary         the echo of the request (chosen by request size: the workload's 16 B or 64 KiB)
//   ServerStream  STREAM_COUNT messages, precomputed as one buffer and written at once
//   ClientStream  the summary of CLIENT_STREAM_COUNT messages, once the request has ended
//   PingPong      one fixed message per complete request message
//   Hold          one message, then the stream is simply never ended
// Request bytes are read (counted or split into messages) but never decoded.
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

/** The part of a server stream the handler uses; node:http2's and src/h2's streams both have it. */
export interface FixedStream {
  respond(headers: Record<string, string | number>, options?: { endStream?: boolean; waitForTrailers?: boolean }): void;
  write(chunk: Buffer): boolean;
  end(chunk?: Buffer): unknown;
  sendTrailers(headers: Record<string, string>): void;
  resume(): unknown;
  on(event: "data", listener: (chunk: Buffer) => void): unknown;
  on(event: "end" | "error", listener: () => void): unknown;
  once(event: "wantTrailers", listener: () => void): unknown;
}

const HEADERS = { ":status": 200, "content-type": "application/grpc" };
const TRAILERS = { "grpc-status": "0" };
const BAD_SIZE = { ":status": 200, "content-type": "application/grpc", "grpc-status": "13", "grpc-message": "bare server: unexpected request size" };
const UNIMPLEMENTED = { ":status": 200, "content-type": "application/grpc", "grpc-status": "12" };

const unaryBySize = new Map<number, Buffer>();
for (const size of [SMALL, LARGE]) {
  const f = frame(payloadBytes(size));
  unaryBySize.set(f.length, f); // echo: the response bytes are the request bytes
}
const streamResponse = Buffer.concat(Array.from({ length: STREAM_COUNT }, () => frame(payloadBytes(STREAM_SIZE))));
const clientStreamResponse = frame(streamSummaryBytes(CLIENT_STREAM_COUNT, CLIENT_STREAM_COUNT * CLIENT_STREAM_SIZE));
const pong = frame(payloadBytes(SMALL));
const held = frame(payloadBytes(HOLD_SIZE));

// One shared listener instead of a closure per stream.
const sendTrailers = function (this: FixedStream): void {
  this.sendTrailers(TRAILERS);
};

function respond(stream: FixedStream, body: Buffer): void {
  stream.respond(HEADERS, { waitForTrailers: true });
  stream.once("wantTrailers", sendTrailers);
  stream.end(body);
}

const noop = (): void => {};

/** Answers one request stream by its `:path`. */
export function answer(stream: FixedStream, requestPath: string | string[] | undefined): void {
  stream.on("error", noop);
  switch (requestPath) {
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
      stream.respond(UNIMPLEMENTED, { endStream: true });
  }
}
