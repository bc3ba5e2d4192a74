// Memory load: idle HTTP/2 connections and held-open streams, with plain node:http2 (no gRPC
// client in the way). Driven over stdin so the harness can read the server's memory between
// steps:
//   taskset -c 1 node --import tsx bench/load/hold.ts --port N --conns C --streams S
//   prints "warm"       after a small connect/hold/close cycle (server code paths warmed up)
//   stdin "connect"  -> opens C connections, each past the SETTINGS exchange and one PING; prints "connected"
//   stdin "open"     -> opens S Hold calls spread over the connections, each past its first
//                       response message (the handler is running); prints "opened {json}"
//   stdin closed     -> destroys everything and exits
import http2 from "node:http2";
import { createInterface } from "node:readline";
import { path, requests } from "../lib/workload.js";

function arg(name: string): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = Number(process.argv[i + 1]);
  if (i < 0 || !Number.isInteger(v) || v < 0) throw new Error(`--${name} N is required`);
  return v;
}

const port = arg("port");
const holdBody = requests.hold();
const sessions: http2.ClientHttp2Session[] = [];

function connect(): Promise<http2.ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    session.once("error", reject);
    session.once("remoteSettings", () => {
      session.ping((err) => (err ? reject(err) : resolve(session)));
    });
  });
}

/** Opens one Hold call; resolves once its first message arrived, rejects if it ends or fails. */
function hold(session: http2.ClientHttp2Session): Promise<http2.ClientHttp2Stream> {
  return new Promise((resolve, reject) => {
    const stream = session.request({
      ":method": "POST",
      ":path": path("Hold"),
      "content-type": "application/grpc",
      te: "trailers",
    });
    stream.once("data", () => resolve(stream));
    stream.once("error", reject);
    stream.once("close", () => reject(new Error(`Hold stream closed (rst code ${stream.rstCode})`)));
    stream.end(holdBody);
  });
}

async function openAll(conns: http2.ClientHttp2Session[], streams: number): Promise<{ opened: number; failed: number; firstError?: string }> {
  const results = await Promise.allSettled(Array.from({ length: streams }, (_, i) => hold(conns[i % conns.length]!)));
  const failed = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
  return { opened: results.length - failed.length, failed: failed.length, ...(failed[0] ? { firstError: String(failed[0].reason) } : {}) };
}

function destroyAll(list: http2.ClientHttp2Session[]): void {
  for (const s of list.splice(0)) s.destroy();
}

// Warm-up: a few connections and held calls, then everything closed again.
{
  const warm = await Promise.all(Array.from({ length: 10 }, connect));
  await openAll(warm, 50);
  destroyAll(warm);
  await new Promise((r) => setTimeout(r, 300));
}
process.stdout.write("warm\n");

const lines = createInterface({ input: process.stdin });
lines.on("line", (line) => {
  void (async () => {
    try {
      switch (line.trim()) {
        case "connect":
          sessions.push(...(await Promise.all(Array.from({ length: arg("conns") }, connect))));
          process.stdout.write("connected\n");
          break;
        case "open":
          process.stdout.write(`opened ${JSON.stringify(await openAll(sessions, arg("streams")))}\n`);
          break;
      }
    } catch (err) {
      process.stdout.write(`failed ${err instanceof Error ? err.message : String(err)}\n`);
    }
  })();
});
lines.on("close", () => {
  destroyAll(sessions);
  process.exit(0);
});
