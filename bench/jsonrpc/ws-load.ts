// WebSocket load for the JSON-RPC scenarios (h2load speaks no WebSocket): `connections`
// connections, each keeping `depth` requests in flight (a new one goes out as each reply
// arrives), until `count` replies in all. Every reply is parsed and checked (id known, result
// right); any wrong or missing reply fails the run. Bounded by count and by `timeoutMs`.
// The client is a small one on a raw TCP socket (see RawWs): a `ws` client costs about as much
// CPU per call as the servers under test, and the one load CPU would be the limit.
//   taskset -c 1 node --import tsx bench/jsonrpc/ws-load.ts
//   stdin: {"port":N,"connections":4,"depth":32,"count":100000,"warmup":5000,"timeoutMs":60000}
//   stdout: one JSON result per command
import { createHash, randomBytes } from "node:crypto";
import { connect, type Socket } from "node:net";
import { percentile } from "../lib/stats.js";
import { cpuMicros, serveCommands } from "../load/loop.js";
import { wsRequest } from "./workload.js";

interface Command {
  port: number;
  connections: number;
  depth: number;
  count: number;
  warmup: number;
  timeoutMs: number;
}

/**
 * A minimal WebSocket client on a raw TCP socket: the upgrade handshake, then masked text
 * frames out and unmasked frames in. Much cheaper per message than a `ws` client, so the one
 * load CPU is not what limits the server under test; replies that arrive together are answered
 * with one write. Each frame's payload is masked with the connection's random key (RFC 6455).
 */
class RawWs {
  private buffer: Buffer = Buffer.alloc(0);
  private readonly mask = randomBytes(4);
  private out: Buffer[] = [];
  onText: (text: string) => void = () => {};
  onClose: (why: string) => void = () => {};

  private constructor(private readonly socket: Socket) {
    socket.on("data", (chunk: Buffer) => this.read(chunk));
    socket.on("close", () => this.onClose("connection closed"));
    socket.on("error", () => {});
  }

  static open(port: number): Promise<RawWs> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, "127.0.0.1");
      socket.setNoDelay(true);
      const key = randomBytes(16).toString("base64");
      socket.once("error", reject);
      socket.once("connect", () =>
        socket.write(`GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`),
      );
      let head = "";
      const onData = (chunk: Buffer): void => {
        head += chunk.toString("latin1");
        const end = head.indexOf("\r\n\r\n");
        if (end < 0) return;
        socket.off("data", onData);
        socket.off("error", reject);
        const accept = createHash("sha1").update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest("base64");
        if (!head.startsWith("HTTP/1.1 101") || !head.toLowerCase().includes(`sec-websocket-accept: ${accept.toLowerCase()}`)) {
          socket.destroy();
          reject(new Error(`WebSocket upgrade refused: ${head.split("\r\n")[0]}`));
          return;
        }
        const ws = new RawWs(socket);
        const rest = Buffer.from(head.slice(end + 4), "latin1");
        resolve(ws);
        if (rest.length) ws.read(rest);
      };
      socket.on("data", onData);
    });
  }

  /** Queues one text frame; `flush()` writes every queued frame at once. */
  queue(text: string): void {
    const payload = Buffer.from(text);
    const n = payload.length;
    const headLen = n < 126 ? 2 : n < 65536 ? 4 : 10;
    const frame = Buffer.allocUnsafe(headLen + 4 + n);
    frame[0] = 0x81;
    if (n < 126) frame[1] = 0x80 | n;
    else if (n < 65536) {
      frame[1] = 0x80 | 126;
      frame.writeUInt16BE(n, 2);
    } else {
      frame[1] = 0x80 | 127;
      frame.writeBigUInt64BE(BigInt(n), 2);
    }
    this.mask.copy(frame, headLen);
    const m = this.mask;
    for (let i = 0; i < n; i++) frame[headLen + 4 + i] = payload[i]! ^ m[i & 3]!;
    this.out.push(frame);
  }

  flush(): void {
    if (this.out.length === 0) return;
    this.socket.write(this.out.length === 1 ? this.out[0]! : Buffer.concat(this.out));
    this.out = [];
  }

  close(): void {
    this.socket.destroy();
  }

  private read(chunk: Buffer): void {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    let off = 0;
    const b = this.buffer;
    while (b.length - off >= 2) {
      const opcode = b[off]! & 0x0f;
      const fin = (b[off]! & 0x80) !== 0;
      let len = b[off + 1]! & 0x7f;
      let head = 2;
      if (len === 126) {
        if (b.length - off < 4) break;
        len = b.readUInt16BE(off + 2);
        head = 4;
      } else if (len === 127) {
        if (b.length - off < 10) break;
        len = Number(b.readBigUInt64BE(off + 2));
        head = 10;
      }
      if (b.length - off < head + len) break;
      const payload = b.subarray(off + head, off + head + len);
      off += head + len;
      if (opcode === 0x8) return this.onClose(`close frame ${len >= 2 ? payload.readUInt16BE(0) : ""}`);
      if (opcode === 0x1 || opcode === 0x2) {
        if (!fin) return this.onClose("fragmented reply (not expected from these servers)");
        this.onText(payload.toString("utf8"));
      }
    }
    this.buffer = off === b.length ? Buffer.alloc(0) : b.subarray(off);
    this.flush();
  }
}

/** Runs `total` calls over the sockets; resolves with the wall time, or rejects on the first wrong reply. */
function drive(sockets: RawWs[], depth: number, total: number, timeoutMs: number, latencies: number[] | undefined): Promise<number> {
  return new Promise((resolve, reject) => {
    let sent = 0;
    let received = 0;
    let done = false;
    const t0 = performance.now();
    const timer = setTimeout(() => fail(new Error(`only ${received}/${total} replies within ${timeoutMs} ms`)), timeoutMs);
    const finish = (): void => {
      done = true;
      clearTimeout(timer);
      for (const ws of sockets) {
        ws.onText = () => {};
        ws.onClose = () => {};
      }
    };
    function fail(err: Error): void {
      if (done) return;
      finish();
      reject(err);
    }
    for (const ws of sockets) {
      // id -> [expected result, send time]
      const pending = new Map<number, [unknown, number]>();
      let nextId = 0;
      const queueOne = (): void => {
        const { text, result } = wsRequest(nextId);
        pending.set(nextId++, [result, performance.now()]);
        sent++;
        ws.queue(text);
      };
      ws.onText = (text) => {
        let reply: { jsonrpc?: unknown; id?: unknown; result?: unknown };
        try {
          reply = JSON.parse(text) as typeof reply;
        } catch {
          return fail(new Error(`reply is not JSON: ${text.slice(0, 120)}`));
        }
        const entry = typeof reply.id === "number" ? pending.get(reply.id) : undefined;
        if (reply.jsonrpc !== "2.0" || !entry || reply.result !== entry[0]) return fail(new Error(`unexpected reply ${text.slice(0, 160)}`));
        pending.delete(reply.id as number);
        latencies?.push(performance.now() - entry[1]);
        if (++received === total) {
          finish();
          resolve(performance.now() - t0);
          return;
        }
        if (sent < total) queueOne();
      };
      ws.onClose = (why) => fail(new Error(`${why} after ${received}/${total} replies`));
      // the first `depth` requests of every connection go out at once
      for (let d = 0; d < depth && sent < total; d++) queueOne();
      ws.flush();
    }
  });
}

serveCommands<Command>(async ({ port, connections, depth, count, warmup, timeoutMs }) => {
  const sockets = await Promise.all(Array.from({ length: connections }, () => RawWs.open(port)));
  try {
    if (warmup > 0) await drive(sockets, depth, warmup, timeoutMs, undefined);
    const latencies: number[] = [];
    const cpu0 = cpuMicros();
    const ms = await drive(sockets, depth, count, timeoutMs, latencies);
    const cpuUs = cpuMicros() - cpu0;
    return {
      calls: count,
      seconds: ms / 1000,
      perSec: count / (ms / 1000),
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      clientCpuUsPerCall: cpuUs / count,
    };
  } finally {
    for (const ws of sockets) ws.close();
  }
});
