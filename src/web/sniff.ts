// One cleartext port for HTTP/2 and HTTP/1.1: an HTTP/2 client with prior knowledge opens
// with the connection preface (RFC 9113 3.4); anything else is HTTP/1.1.
import { Duplex } from "node:stream";
import type { Socket } from "node:net";

const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");

/** What a connection's first bytes say it speaks. */
export type Sniffed = "h2" | "http1";

/**
 * Reads until the first bytes match the HTTP/2 preface or differ from it, puts them back
 * (`unshift`) and calls `then` with the answer, synchronously, so the new owner takes the
 * socket before any further byte is read. A connection that closes first, or stays silent
 * for `timeoutMs`, is destroyed and `then` is never called.
 */
export function sniffProtocol(socket: Duplex, timeoutMs: number, then: (kind: Sniffed) => void): void {
  let seen: Buffer = Buffer.alloc(0);
  const timer = setTimeout(() => finish(undefined), timeoutMs);
  timer.unref?.();
  const onData = (chunk: Buffer): void => {
    seen = seen.length === 0 ? chunk : Buffer.concat([seen, chunk]);
    const n = Math.min(seen.length, PREFACE.length);
    if (seen.compare(PREFACE, 0, n, 0, n) !== 0) return finish("http1");
    if (seen.length >= PREFACE.length) finish("h2");
  };
  const onClose = (): void => finish(undefined);
  // Nobody else listens yet: a reset during sniffing (ECONNRESET) would be an uncaught 'error'.
  const onError = (): void => finish(undefined);
  function finish(kind: Sniffed | undefined): void {
    clearTimeout(timer);
    socket.off("data", onData);
    socket.off("close", onClose);
    socket.off("end", onClose);
    socket.off("error", onError);
    if (kind === undefined) return void socket.destroy();
    socket.pause();
    if (seen.length > 0) socket.unshift(seen);
    then(kind);
    // The new owner reads on ('data' or the native handle); a paused socket would hold its bytes.
    if (!socket.destroyed) socket.resume();
  }
  socket.on("data", onData);
  socket.once("close", onClose);
  socket.once("end", onClose);
  socket.on("error", onError);
}

/**
 * node:http2 reads a net.Socket through its native handle and never sees bytes put back with
 * unshift(); after sniffing, it gets this Duplex over the socket instead (node:http2 drives
 * any Duplex), which replays the sniffed bytes first. Peer address fields are the socket's.
 */
export function replaySocket(socket: Socket): Duplex {
  const head = socket.read() as Buffer | null;
  const replay = new Duplex({
    allowHalfOpen: true,
    read() {
      socket.resume();
    },
    write(chunk: Buffer, _encoding, callback) {
      socket.write(chunk, callback);
    },
    final(callback) {
      socket.end(callback);
    },
    destroy(err, callback) {
      socket.destroy(err ?? undefined);
      callback(err);
    },
  });
  REPLAYS.add(replay);
  if (head !== null) replay.push(head);
  socket.on("data", (chunk: Buffer) => {
    if (!replay.push(chunk)) socket.pause();
  });
  socket.once("end", () => replay.push(null));
  socket.once("close", () => replay.destroy());
  socket.on("error", (err: Error) => replay.destroy(err));
  for (const key of ["remoteAddress", "remotePort", "remoteFamily", "localAddress", "localPort"] as const) {
    Object.defineProperty(replay, key, { get: () => socket[key] });
  }
  Object.defineProperty(replay, "setNoDelay", { value: (v?: boolean) => socket.setNoDelay(v) });
  return replay;
}

/**
 * node:http2 wraps a replaying Duplex in a socket of its own (JSStreamSocket), which knows no
 * peer address: its `_peername` (what net.Socket's address getters fall back to without a
 * native handle) is set from the real socket. Listen to 'session' before anyone reads peers.
 */
export function adoptReplayedPeer(session: { socket: unknown }): void {
  const wrapper = session.socket as { stream?: unknown; _peername?: unknown } | undefined;
  const replay = wrapper?.stream as Record<string, unknown> | undefined;
  if (wrapper === undefined || replay === undefined || !REPLAYS.has(replay)) return;
  wrapper._peername = { address: replay["remoteAddress"], port: replay["remotePort"], family: replay["remoteFamily"] };
}

const REPLAYS = new WeakSet<object>();
