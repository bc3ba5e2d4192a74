// grpclib's `Configuration` on Server and Channel: the HTTP/2 window sizes
// (http2_stream_window_size -> initialWindowSize, http2_connection_window_size ->
// connectionWindowSize) as they appear on the wire and as they take effect, and
// _http2_max_pings_without_data -> keepaliveMaxPingsWithoutData (pings pause after that many
// without HEADERS or DATA sent, and resume once some are).
import { afterEach, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as http2 from "node:http2";
import * as net from "node:net";
import { once } from "node:events";
import { Channel, createClient, ErrorCode, Server, SwitchboardError, unaryUnaryRpcMethodHandler, type ServerOptions } from "../../src/index.js";
import { Greeter } from "../../examples/gen/helloworld/helloworld_pb.js";
import { advertisedSetting, pollUntil, SETTINGS_INITIAL_WINDOW_SIZE } from "../reliability/connection-attacks.js";
import { dataFrames, FLAG, FRAME, FrameSocket, headersFrame, requestBlock } from "../reliability/frames.js";
import { grpcMessage } from "../reliability/harness.js";
import { Harness, T } from "./helpers.js";

const h = new Harness();
const cleanup: (() => void)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0)) fn();
  await h.close();
});

const MiB = 1024 * 1024;
const H2_DEFAULT_WINDOW = 65_535;

/** A server with /test.Raw/Len: answers the request's length as a 4-byte big-endian number. */
async function lenServer(options: ServerOptions = {}) {
  return h.start(
    (s) =>
      s.addRegisteredMethodHandlers("test.Raw", {
        Len: unaryUnaryRpcMethodHandler((req: Uint8Array) => {
          const out = Buffer.alloc(4);
          out.writeUInt32BE(req.byteLength);
          return out;
        }),
      }),
    options,
  );
}

/** Connection-level WINDOW_UPDATE increments the server sent. */
function connectionWindowUpdates(fs: FrameSocket): number[] {
  return fs.frames.filter((f) => f.type === FRAME.WINDOW_UPDATE && f.streamId === 0).map((f) => f.payload!.readUInt32BE(0) & 0x7fffffff);
}

/** Sends a whole `bytes`-byte Len request in one write and waits for the answer. */
async function burst(port: number, bytes: number): Promise<FrameSocket> {
  const fs = await FrameSocket.connect(port);
  cleanup.push(() => fs.destroy());
  await fs.serverSettings();
  // The server's SETTINGS are ACKed by now (FrameSocket does it on arrival); its window update is in too.
  await fs.waitFor(() => fs.frames.some((f) => f.type === FRAME.SETTINGS && f.flags & FLAG.ACK), 3000);
  fs.write(Buffer.concat([headersFrame(1, requestBlock("/test.Raw/Len")), dataFrames(1, grpcMessage(Buffer.alloc(bytes - 5)), true)]));
  await fs.streamDone(1, 5000);
  return fs;
}

describe("Server window sizes (grpclib http2_stream_window_size / http2_connection_window_size)", () => {
  it("initialWindowSize 1 MiB is SETTINGS_INITIAL_WINDOW_SIZE on the wire; connectionWindowSize 2 MiB is a WINDOW_UPDATE of 2 MiB - 65,535 on stream 0", T, async () => {
    const { port } = await lenServer({ initialWindowSize: MiB, connectionWindowSize: 2 * MiB });
    const fs = await FrameSocket.connect(port);
    cleanup.push(() => fs.destroy());
    await fs.serverSettings();
    assert.ok(await fs.waitFor(() => connectionWindowUpdates(fs).length > 0, 3000), "a connection WINDOW_UPDATE");
    assert.equal(advertisedSetting(fs, SETTINGS_INITIAL_WINDOW_SIZE), MiB);
    assert.deepEqual(connectionWindowUpdates(fs), [2 * MiB - H2_DEFAULT_WINDOW]);
  });

  it("by default neither is sent: the HTTP/2 default 65,535 applies", T, async () => {
    const { port } = await lenServer();
    const fs = await FrameSocket.connect(port);
    cleanup.push(() => fs.destroy());
    await fs.serverSettings();
    assert.equal(advertisedSetting(fs, SETTINGS_INITIAL_WINDOW_SIZE), undefined);
    // Nothing else follows the server's SETTINGS: its ACK of ours is the next frame either way.
    await fs.waitFor(() => fs.frames.some((f) => f.type === FRAME.SETTINGS && f.flags & FLAG.ACK), 3000);
    assert.deepEqual(connectionWindowUpdates(fs), []);
  });

  it("they take effect: reading a 400 KiB request, the server hands window back on the stream as it goes with the default 64 KiB window, and needs to hand back none with 1 MiB (nghttp2 returns window at half the window)", T, async () => {
    const small = await lenServer();
    const a = await burst(small.port, 400 * 1024);
    const big = await lenServer({ initialWindowSize: MiB, connectionWindowSize: MiB });
    const b = await burst(big.port, 400 * 1024);
    const streamUpdates = (fs: FrameSocket) => fs.frames.filter((f) => f.type === FRAME.WINDOW_UPDATE && f.streamId === 1).length;
    assert.equal(a.grpcStatus(1), 0, `default windows: grpc-status ${a.grpcStatus(1)} ${a.trailer(1, "grpc-message")}`);
    assert.equal(b.grpcStatus(1), 0, `1 MiB windows: grpc-status ${b.grpcStatus(1)} ${b.trailer(1, "grpc-message")}`);
    assert.ok(streamUpdates(a) >= 5, `default windows: ${streamUpdates(a)} WINDOW_UPDATEs on the stream`);
    assert.equal(streamUpdates(b), 0, "1 MiB windows: no WINDOW_UPDATE needed for 400 KiB");
  });
});

/** A raw TCP peer that plays an HTTP/2 server just enough to record the client's preface frames. */
async function recordClientFrames(): Promise<{ port: number; frames: { type: number; flags: number; streamId: number; payload: Buffer }[] }> {
  const frames: { type: number; flags: number; streamId: number; payload: Buffer }[] = [];
  const server = net.createServer((socket) => {
    socket.on("error", () => {});
    socket.write(Buffer.from([0, 0, 0, FRAME.SETTINGS, 0, 0, 0, 0, 0]));
    let buf = Buffer.alloc(0);
    let prefaceSeen = false;
    socket.on("data", (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (!prefaceSeen) {
        if (buf.length < 24) return;
        buf = buf.subarray(24);
        prefaceSeen = true;
      }
      while (buf.length >= 9) {
        const len = buf.readUIntBE(0, 3);
        if (buf.length < 9 + len) break;
        const frame = { type: buf[3]!, flags: buf[4]!, streamId: buf.readUInt32BE(5) & 0x7fffffff, payload: Buffer.from(buf.subarray(9, 9 + len)) };
        frames.push(frame);
        if (frame.type === FRAME.SETTINGS && !(frame.flags & FLAG.ACK)) socket.write(Buffer.from([0, 0, 0, FRAME.SETTINGS, FLAG.ACK, 0, 0, 0, 0]));
        buf = buf.subarray(9 + len);
      }
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  cleanup.push(() => server.close());
  return { port: (server.address() as net.AddressInfo).port, frames };
}

describe("Channel window sizes", () => {
  it("initialWindowSize 1 MiB is in the channel's SETTINGS; connectionWindowSize 2 MiB is a WINDOW_UPDATE of 2 MiB - 65,535 on stream 0", T, async () => {
    const peer = await recordClientFrames();
    const channel = new Channel(`127.0.0.1:${peer.port}`, { initialWindowSize: MiB, connectionWindowSize: 2 * MiB });
    cleanup.push(() => void channel.close());
    await channel.connect();
    const settings = () => peer.frames.find((f) => f.type === FRAME.SETTINGS && !(f.flags & FLAG.ACK));
    const update = () => peer.frames.find((f) => f.type === FRAME.WINDOW_UPDATE && f.streamId === 0);
    assert.ok(await pollUntil(() => settings() !== undefined && update() !== undefined, 3000), "client SETTINGS and WINDOW_UPDATE");
    const p = settings()!.payload;
    const values = new Map<number, number>();
    for (let off = 0; off + 6 <= p.length; off += 6) values.set(p.readUInt16BE(off), p.readUInt32BE(off + 2));
    assert.equal(values.get(SETTINGS_INITIAL_WINDOW_SIZE), MiB);
    assert.equal(update()!.payload.readUInt32BE(0), 2 * MiB - H2_DEFAULT_WINDOW);
  });
});

/** PING frames (not ACKs) the server sent on `fs`. */
function pingsReceived(fs: FrameSocket): number {
  return fs.frames.filter((f) => f.type === FRAME.PING && !(f.flags & FLAG.ACK)).length;
}

describe("keepaliveMaxPingsWithoutData (grpclib _http2_max_pings_without_data)", () => {
  it("server: with 2, keepalive pings stop after 2 on a connection that gets no HEADERS or DATA (while a server without the limit sent 8), and resume once a call is answered", T, async () => {
    const limited = await lenServer({ keepaliveTimeMs: 40, keepaliveMaxPingsWithoutData: 2 });
    const unlimited = await lenServer({ keepaliveTimeMs: 40 });
    const a = await FrameSocket.connect(limited.port);
    const b = await FrameSocket.connect(unlimited.port);
    cleanup.push(() => a.destroy(), () => b.destroy());
    await Promise.all([a.serverSettings(), b.serverSettings()]);
    // The control connection measures the time: 8 pings there means 8 intervals passed here too.
    assert.ok(await b.waitFor(() => pingsReceived(b) >= 8, 5000), `control: ${pingsReceived(b)} pings`);
    assert.equal(pingsReceived(a), 2, "the limited server paused after 2 pings without data");
    // A call: the server sends HEADERS and DATA, so it may ping again.
    a.write(Buffer.concat([headersFrame(1, requestBlock("/test.Raw/Len")), dataFrames(1, grpcMessage(Buffer.from("x")), true)]));
    assert.ok(await a.streamDone(1, 3000));
    assert.equal(a.grpcStatus(1), 0);
    assert.ok(await a.waitFor(() => pingsReceived(a) >= 4, 3000), `pings resumed after the call: ${pingsReceived(a)}`);
  });

  it("Channel: with 2, keepalive pings stop after 2 while no call is made (a channel without the limit sent 8), and resume after a call's HEADERS", T, async () => {
    const pings = new Map<string, number>();
    const server = http2.createServer();
    server.on("session", (session) => {
      const key = String(session.socket.remotePort);
      pings.set(key, 0);
      session.on("ping", () => pings.set(key, (pings.get(key) ?? 0) + 1));
      session.on("error", () => {});
    });
    server.on("stream", (stream) => {
      stream.respond({ ":status": 200, "content-type": "application/grpc", "grpc-status": "12", "grpc-message": "nothing here" }, { endStream: true });
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    cleanup.push(() => server.close());
    const target = `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
    const limited = new Channel(target, { keepaliveTimeMs: 40, keepaliveMaxPingsWithoutData: 2 });
    const unlimited = new Channel(target, { keepaliveTimeMs: 40 });
    cleanup.push(() => void limited.close(), () => void unlimited.close());
    const limitedSession = await limited.getSession(true);
    const unlimitedSession = await unlimited.getSession(true);
    const countOf = (s: { socket: { localPort?: number } }) => pings.get(String(s.socket.localPort)) ?? 0;
    assert.ok(await pollUntil(() => countOf(unlimitedSession) >= 8, 5000), `control: ${countOf(unlimitedSession)} pings`);
    assert.equal(countOf(limitedSession), 2, "the limited channel paused after 2 pings without data");
    const client = createClient(Greeter, limited);
    await assert.rejects(client.sayHello({ name: "x" }, { timeout: 3000 }), /nothing here/);
    assert.ok(await pollUntil(() => countOf(limitedSession) >= 4, 3000), `pings resumed after the call: ${countOf(limitedSession)}`);
  });

  it("a negative or fractional count -> ERR_SB_BAD_OPTION", () => {
    for (const bad of [-1, 1.5]) {
      assert.throws(
        () => new Server({ keepaliveMaxPingsWithoutData: bad }),
        (err: unknown) => err instanceof SwitchboardError && err.code === ErrorCode.BAD_OPTION,
      );
    }
  });
});
