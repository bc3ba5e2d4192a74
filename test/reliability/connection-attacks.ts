// The connection-level attacks of rows 29, 30 and 33 (../shared/design/RELIABILITY.md):
// half-open calls (HEADERS without END_STREAM) held on many connections, and many
// connections that finish their handshake and then idle. Shared by the reliability tests
// and bench/attack.ts; bounded in count and time, 127.0.0.x only.
import { FrameSocket, FRAME, FLAG, headersFrame, requestBlock } from "./frames.js";
import { pool } from "./harness.js";

/** The value of one setting in the server's first SETTINGS frame (undefined when not sent). */
export function advertisedSetting(fs: FrameSocket, id: number): number | undefined {
  const frame = fs.frames.find((f) => f.type === FRAME.SETTINGS && !(f.flags & FLAG.ACK));
  const p = frame?.payload;
  if (!p) return undefined;
  let value: number | undefined;
  for (let off = 0; off + 6 <= p.length; off += 6) if (p.readUInt16BE(off) === id) value = p.readUInt32BE(off + 2);
  return value;
}

export const SETTINGS_MAX_CONCURRENT_STREAMS = 0x3;
export const SETTINGS_INITIAL_WINDOW_SIZE = 0x4;

/** One attacker connection holding half-open calls: its socket, its stream ids and when they were sent. */
export interface HalfOpenConnection {
  fs: FrameSocket;
  streamIds: number[];
  sentAt: number;
}

/**
 * `connections` connections, each opening `streams` calls to `path` (default: the server's
 * advertised SETTINGS_MAX_CONCURRENT_STREAMS) with HEADERS and nothing else: no DATA, no
 * END_STREAM. Sent after the server's SETTINGS arrive, so the count is the advertised maximum.
 */
export async function halfOpenCalls(
  port: number,
  o: { connections: number; path: string; streams?: number; localAddress?: string; concurrency?: number },
): Promise<HalfOpenConnection[]> {
  const block = requestBlock(o.path);
  return pool(
    Array.from({ length: o.connections }, (_, i) => i),
    o.concurrency ?? 20,
    async () => {
      const fs = await FrameSocket.connect(port, { localAddress: o.localAddress, timeoutMs: 10_000 });
      await fs.serverSettings();
      const n = o.streams ?? advertisedSetting(fs, SETTINGS_MAX_CONCURRENT_STREAMS) ?? 100;
      const streamIds = Array.from({ length: n }, (_, i) => 1 + 2 * i);
      const sentAt = performance.now();
      await fs.writeAndDrain(Buffer.concat(streamIds.map((id) => headersFrame(id, block))));
      return { fs, streamIds, sentAt };
    },
  );
}

/** When each of the connection's streams ended (END_STREAM or RST), in ms after they were sent; undefined while open. */
export function streamEndTimes(c: HalfOpenConnection): (number | undefined)[] {
  const endedAt = new Map<number, number>();
  for (const f of c.fs.frames) {
    const ends = (f.type === FRAME.HEADERS || f.type === FRAME.DATA) && f.flags & FLAG.END_STREAM;
    if ((ends || f.type === FRAME.RST_STREAM) && !endedAt.has(f.streamId)) endedAt.set(f.streamId, f.at);
  }
  return c.streamIds.map((id) => {
    const at = endedAt.get(id);
    return at === undefined ? undefined : at - c.sentAt;
  });
}

/**
 * Row 33: `n` connections that send the preface and SETTINGS, ACK the server's SETTINGS
 * (and answer its PINGs) and then idle. Resolves once each one got the server's SETTINGS
 * or was closed; a connection the server refuses gets SETTINGS + GOAWAY, then a close.
 */
export async function idleConnections(port: number, n: number, o: { localAddress?: string; concurrency?: number } = {}): Promise<FrameSocket[]> {
  return pool(
    Array.from({ length: n }, (_, i) => i),
    o.concurrency ?? 100,
    async () => {
      const fs = await FrameSocket.connect(port, { localAddress: o.localAddress, timeoutMs: 10_000 });
      await fs.waitFor(() => fs.settingsAt !== undefined || fs.isClosed, 10_000);
      return fs;
    },
  );
}

/** Whether the server turned the connection away (GOAWAY or close). */
export function wasRefused(fs: FrameSocket): boolean {
  return fs.goaway !== undefined || fs.isClosed;
}

/** Resolves true once `cond()` holds (checked every 20 ms), false at `timeoutMs`: for conditions over many sockets. */
export async function pollUntil(cond: () => boolean, timeoutMs: number): Promise<boolean> {
  const until = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() >= until) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}
