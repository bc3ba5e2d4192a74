// The Bench service on Switchboard (src/), default server options apart from the HTTP/2 engine:
// `--transport switchboard` (our engine, src/h2) or `--transport node` (node:http2); without
// the flag the server's own default applies (SWITCHBOARD_TRANSPORT, else node).
//   node --expose-gc --import tsx bench/servers/switchboard.ts --port 0 --transport switchboard
import { Server, type ServerOptions, type ServiceImpl } from "../../src/index.js";
import { Bench } from "../gen/bench_pb.js";
import { portArg, serveControl } from "./control.js";

export const bench: ServiceImpl<typeof Bench> = {
  unary(request) {
    return { body: request.body };
  },
  async *serverStream(request, ctx) {
    const message = { body: new Uint8Array(request.size) };
    for (let i = 0; i < request.count && ctx.isActive(); i++) yield message;
  },
  async clientStream(requests) {
    let messages = 0;
    let bytes = 0;
    for await (const r of requests) {
      messages++;
      bytes += r.body.length;
    }
    return { messages, bytes };
  },
  async *pingPong(requests) {
    for await (const r of requests) yield { body: r.body };
  },
  async *hold(request, ctx) {
    yield { body: new Uint8Array(request.size) };
    if (ctx.signal.aborted) return;
    await new Promise<void>((resolve) => ctx.signal.addEventListener("abort", () => resolve(), { once: true }));
  },
};

function transportArg(): ServerOptions["transport"] {
  const i = process.argv.indexOf("--transport");
  if (i < 0) return undefined;
  const value = process.argv[i + 1];
  if (value !== "switchboard" && value !== "node") throw new Error(`bad --transport ${value} (switchboard or node)`);
  return value;
}

const transport = transportArg();
const server = new Server(transport === undefined ? {} : { transport });
server.addService(Bench, bench);
const port = await server.addInsecurePort(`127.0.0.1:${portArg()}`);
server.start();
serveControl(port, () => {
  void server.stop(0).finally(() => process.exit(0));
  setTimeout(() => process.exit(0), 1000).unref();
});
