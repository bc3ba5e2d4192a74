// Debian's python3-h2 as a strict HTTP/2 client against the server: h2 validates every frame
// and header block it receives (validate_inbound_headers), so any protocol slip on our side
// surfaces as a ProtocolError in the peer. Unary, server streaming through small windows,
// client streaming with large bodies, and many concurrent streams; over h2c and TLS (ALPN h2).
// The peer runs as an async child process (the server shares this process's event loop).
import * as assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { after, before, describe, it } from "node:test";
import { M, startServer, TRANSPORT, type ConformanceServer } from "./conformance/harness.js";

const run = promisify(execFile);
const PYTHON = "/usr/bin/python3";
const here = path.dirname(fileURLToPath(import.meta.url));
const TLS_DIR = path.resolve(here, "..", "fixtures", "tls");

// The peer: one connection, one scenario; prints one JSON line with the outcome.
const PEER = String.raw`
import json, socket, ssl, sys, time
import h2.config, h2.connection, h2.events, h2.exceptions, h2.settings

host, port, mode, scenario, ca = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
deadline = time.monotonic() + 30

def frame(b):
    return bytes([0]) + len(b).to_bytes(4, "big") + b

def unframe(buf):
    out, off = [], 0
    while off < len(buf):
        if len(buf) - off < 5:
            raise ValueError("truncated gRPC prefix")
        n = int.from_bytes(buf[off + 1:off + 5], "big")
        if len(buf) - off - 5 < n:
            raise ValueError("truncated gRPC message")
        out.append(buf[off + 5:off + 5 + n])
        off += 5 + n
    return out

sock = socket.create_connection((host, port), timeout=10)
alpn = None
if mode == "tls":
    ctx = ssl.create_default_context(cafile=ca)
    ctx.set_alpn_protocols(["h2"])
    sock = ctx.wrap_socket(sock, server_hostname="localhost")
    alpn = sock.selected_alpn_protocol()
    if alpn != "h2":
        print(json.dumps({"ok": False, "error": "ALPN selected %r" % alpn})); sys.exit(0)

config = h2.config.H2Configuration(client_side=True, header_encoding=None, validate_inbound_headers=True)
conn = h2.connection.H2Connection(config=config)
local = {}
if scenario == "server-stream-small-window":
    local = {h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 1024}
conn.initiate_connection()
if local:
    conn.update_settings(local)
sock.sendall(conn.data_to_send())

streams = {}

def request(path, body=None, end=True):
    sid = conn.get_next_available_stream_id()
    hdrs = [(b":method", b"POST"), (b":scheme", b"https" if mode == "tls" else b"http"), (b":path", path.encode()),
            (b":authority", ("localhost:%d" % port).encode()), (b"content-type", b"application/grpc"), (b"te", b"trailers")]
    conn.send_headers(sid, hdrs, end_stream=False)
    streams[sid] = {"headers": None, "trailers": None, "data": bytearray(), "ended": False, "reset": None}
    if body is not None:
        send_body(sid, body, end)
    return sid

def pump(block=True):
    sock.settimeout(max(0.05, deadline - time.monotonic()) if block else 0.0)
    try:
        data = sock.recv(65536)
    except (BlockingIOError, ssl.SSLWantReadError):
        return
    except socket.timeout:
        raise TimeoutError("timed out waiting for the server")
    if not data:
        raise ConnectionError("server closed the connection")
    for ev in conn.receive_data(data):
        if isinstance(ev, h2.events.ResponseReceived):
            streams[ev.stream_id]["headers"] = dict(ev.headers)
        elif isinstance(ev, h2.events.TrailersReceived):
            streams[ev.stream_id]["trailers"] = dict(ev.headers)
        elif isinstance(ev, h2.events.DataReceived):
            streams[ev.stream_id]["data"] += ev.data
            conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
        elif isinstance(ev, h2.events.StreamEnded):
            streams[ev.stream_id]["ended"] = True
        elif isinstance(ev, h2.events.StreamReset):
            streams[ev.stream_id]["reset"] = int(ev.error_code)
            streams[ev.stream_id]["ended"] = True
        elif isinstance(ev, h2.events.ConnectionTerminated):
            raise ConnectionError("GOAWAY %s" % ev.error_code)
    out = conn.data_to_send()
    if out:
        sock.sendall(out)

def send_body(sid, body, end):
    off = 0
    while off < len(body):
        room = min(conn.local_flow_control_window(sid), conn.max_outbound_frame_size, len(body) - off)
        if room <= 0:
            pump()
            continue
        conn.send_data(sid, body[off:off + room])
        off += room
        sock.sendall(conn.data_to_send())
    if end:
        conn.end_stream(sid)
        sock.sendall(conn.data_to_send())

def wait(sids):
    while not all(streams[s]["ended"] for s in sids):
        if time.monotonic() > deadline:
            raise TimeoutError("streams not finished")
        pump()

def check(sid):
    s = streams[sid]
    if s["reset"] is not None:
        raise AssertionError("stream %d reset with %d" % (sid, s["reset"]))
    if s["headers"] is None or s["headers"].get(b":status") != b"200":
        raise AssertionError("stream %d headers %r" % (sid, s["headers"]))
    if s["trailers"] is None or s["trailers"].get(b"grpc-status") != b"0":
        raise AssertionError("stream %d trailers %r" % (sid, s["trailers"]))
    return unframe(bytes(s["data"]))

result = {"ok": True, "alpn": alpn}
try:
    if scenario == "unary":
        sid = request("${M.echo}", frame(b"hello from python-h2"))
        wait([sid])
        msgs = check(sid)
        assert msgs == [b"hello from python-h2"], msgs
        result["messages"] = len(msgs)
    elif scenario == "server-stream-small-window":
        sid = request("${M.stream}", frame(b"300 2000"))
        wait([sid])
        msgs = check(sid)
        assert len(msgs) == 300 and all(len(m) == 2000 for m in msgs), (len(msgs), set(len(m) for m in msgs))
        result["messages"] = len(msgs)
    elif scenario == "client-stream-large":
        chunk = frame(b"z" * 65536)
        sid = request("${M.collect}", chunk * 96)
        wait([sid])
        msgs = check(sid)
        assert msgs == [str(96 * 65536).encode()], msgs
        result["bytes"] = 96 * 65536
    elif scenario == "concurrent":
        n = min(100, conn.remote_settings.max_concurrent_streams)
        sids = []
        for i in range(n):
            sids.append(request("${M.echo}", frame(("call-%d" % i).encode())))
        wait(sids)
        for i, sid in enumerate(sids):
            assert check(sid) == [("call-%d" % i).encode()]
        result["streams"] = n
    else:
        raise ValueError("unknown scenario " + scenario)
    conn.close_connection()
    sock.sendall(conn.data_to_send())
except h2.exceptions.ProtocolError as e:
    result = {"ok": False, "error": "h2 ProtocolError: %s: %s" % (type(e).__name__, e)}
except Exception as e:
    result = {"ok": False, "error": "%s: %s" % (type(e).__name__, e)}
print(json.dumps(result))
`;

function peerAvailable(): string | undefined {
  if (!existsSync(PYTHON)) return `${PYTHON} not found`;
  return undefined;
}

const missing = peerAvailable();
const mustRun = process.env["CI"] === "true";

async function runPeer(port: number, mode: "h2c" | "tls", scenario: string): Promise<Record<string, unknown>> {
  try {
    const { stdout } = await run(PYTHON, ["-c", PEER, "127.0.0.1", String(port), mode, scenario, path.join(TLS_DIR, "ca.pem")], { timeout: 40_000 });
    const line = stdout.trim().split("\n").pop() ?? "";
    return JSON.parse(line) as Record<string, unknown>;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    if (/No module named 'h2'/.test(e.stderr ?? "")) throw new Error("python3-h2 is not installed (apt-get install python3-h2)");
    throw new Error(`python peer failed: ${e.message}\n${e.stderr ?? ""}`);
  }
}

describe(`python3-h2 as a strict client (transport ${TRANSPORT})`, () => {
  if (missing) {
    it("python3-h2 peer available", () => {
      if (mustRun) assert.fail(`python3-h2 peer missing under CI: ${missing}`);
    });
    console.log(`# SKIP python-h2 tests: ${missing}`);
    return;
  }

  for (const mode of ["h2c", "tls"] as const) {
    describe(mode === "h2c" ? "h2c (prior knowledge)" : "TLS with ALPN h2", () => {
      let server: ConformanceServer;
      before(async () => {
        server = await startServer({}, mode === "tls" ? { tls: { key: readFileSync(path.join(TLS_DIR, "server.key")), cert: readFileSync(path.join(TLS_DIR, "server.pem")) } } : {});
      });
      after(() => server.stop(0));

      it("unary call: grpc-status 0 in trailers, no ProtocolError", { timeout: 45_000 }, async () => {
        const r = await runPeer(server.port, mode, "unary");
        assert.equal(r["ok"], true, String(r["error"]));
        if (mode === "tls") assert.equal(r["alpn"], "h2");
      });

      it("server streaming 300 x 2000 bytes through a 1024-byte client window (WINDOW_UPDATE traffic)", { timeout: 45_000 }, async () => {
        const r = await runPeer(server.port, mode, "server-stream-small-window");
        assert.equal(r["ok"], true, String(r["error"]));
        assert.equal(r["messages"], 300);
      });

      it("client streaming 6 MiB in 64 KiB messages under the server's windows", { timeout: 45_000 }, async () => {
        const r = await runPeer(server.port, mode, "client-stream-large");
        assert.equal(r["ok"], true, String(r["error"]));
      });

      it("100 concurrent streams on one connection", { timeout: 45_000 }, async () => {
        const r = await runPeer(server.port, mode, "concurrent");
        assert.equal(r["ok"], true, String(r["error"]));
        assert.equal(r["streams"], 100);
      });
    });
  }
});
