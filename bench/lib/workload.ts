// The benchmark workload: payload sizes, message counts and the exact request and response
// bytes, shared by the harness (h2load body files, response checks) and the bare server
// (its precomputed responses).
import { create, toBinary } from "@bufbuild/protobuf";
import { PayloadSchema, StreamRequestSchema, StreamSummarySchema } from "../gen/bench_pb.js";

export const SERVICE = "bench.Bench";
export const path = (method: "Unary" | "ServerStream" | "ClientStream" | "PingPong" | "Hold") => `/${SERVICE}/${method}`;

/** Unary small: request and (echoed) response body size. */
export const SMALL = 16;
/** Unary large. */
export const LARGE = 64 * 1024;
/** Server streaming: messages per call and body bytes per message. */
export const STREAM_COUNT = 1000;
export const STREAM_SIZE = 16;
/** Client streaming: messages per call and body bytes per message. */
export const CLIENT_STREAM_COUNT = 100;
export const CLIENT_STREAM_SIZE = 16;
/** Hold: body bytes of the one message sent before waiting for cancellation. */
export const HOLD_SIZE = 0;

/** The 5-byte gRPC message prefix (uncompressed) followed by the message. */
export function frame(message: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(5 + message.length);
  out[0] = 0;
  out.writeUInt32BE(message.length, 1);
  out.set(message, 5);
  return out;
}

/** `size` body bytes (a recognisable pattern, not zeros). */
export function body(size: number): Uint8Array {
  const b = new Uint8Array(size);
  for (let i = 0; i < size; i++) b[i] = (i * 31 + 7) & 0xff;
  return b;
}

/** A serialized Payload with a `size`-byte body. */
export const payloadBytes = (size: number) => toBinary(PayloadSchema, create(PayloadSchema, { body: body(size) }));

export const streamRequestBytes = (count: number, size: number) => toBinary(StreamRequestSchema, create(StreamRequestSchema, { count, size }));
export const streamSummaryBytes = (messages: number, bytes: number) => toBinary(StreamSummarySchema, create(StreamSummarySchema, { messages, bytes }));

/** Request bodies (gRPC-framed) exactly as h2load sends them with `-d`. */
export const requests = {
  unarySmall: () => frame(payloadBytes(SMALL)),
  unaryLarge: () => frame(payloadBytes(LARGE)),
  serverStream: () => frame(streamRequestBytes(STREAM_COUNT, STREAM_SIZE)),
  clientStream: () => {
    const one = frame(payloadBytes(CLIENT_STREAM_SIZE));
    return Buffer.concat(Array.from({ length: CLIENT_STREAM_COUNT }, () => one));
  },
  hold: () => frame(streamRequestBytes(1, HOLD_SIZE)),
};
