// After a complete answer to a request whose body is still arriving. HTTP/2 lets a server say
// "stop sending" with RST_STREAM NO_ERROR (RFC 9113 8.1), and gRPC clients take it so; but web
// clients (curl 7.x among them) report it as a failed request while they are still uploading.
// So the rest of a small body is read and dropped instead, and only a large or stalled one is
// reset after all.
import type { ServerStreamLike } from "../grpc/transport.js";

/** Request bytes read and dropped after the answer before the stream is reset anyway. */
const DRAIN_BYTES = 1024 * 1024;
/** How long the rest of the body may take before the stream is reset anyway. */
const DRAIN_MS = 2000;

/** Reads and drops what is left of the request (bounded), then resets it NO_ERROR if it is still open. */
export function drainThenStop(stream: ServerStreamLike, callback?: () => void): void {
  if (callback) stream.once("close", callback);
  if (stream.destroyed || stream.closed) return;
  let left = DRAIN_BYTES;
  const count = (chunk: Buffer) => {
    left -= chunk.length;
    if (left < 0) stop();
  };
  const done = () => {
    clearTimeout(timer);
    stream.off("data", count);
  };
  const stop = () => {
    done();
    resetAfterFlush(stream);
  };
  const timer = setTimeout(stop, DRAIN_MS);
  timer.unref();
  stream.on("data", count);
  stream.once("close", done);
  stream.resume();
}

/** RST_STREAM NO_ERROR once the answer is flushed: node:http2 would let the reset overtake queued DATA. */
function resetAfterFlush(stream: ServerStreamLike): void {
  if (stream.destroyed || stream.closed) return;
  const w = stream as { writableEnded?: boolean; writableFinished?: boolean };
  if (w.writableEnded === true && w.writableFinished === false) stream.once("finish", () => resetAfterFlush(stream));
  else stream.close(0);
}
