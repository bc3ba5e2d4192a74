// The server of the web suites: WebTestService (test/web/fixtures/webtest.proto) on a Server
// with gRPC-Web, Connect and HTTP/1.1 on, on either engine (SWITCHBOARD_TRANSPORT).
import { create } from "@bufbuild/protobuf";
import { Code, RpcError, Server, type ServerOptions } from "../../src/index.js";
import { ErrorInfoSchema } from "../../src/gen/google/rpc/error_details_pb.js";
import { SayResponseSchema, WebTestService, type SayRequest } from "./gen/webtest_pb.js";

/** A started test server and its port. */
export interface WebServer {
  readonly server: Server;
  readonly port: number;
  readonly url: string;
  stop(): Promise<void>;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(t);
      reject(signal.reason);
    }, { once: true });
  });
}

/** Fails a call with the named code and an ErrorInfo detail when `fail` is set. */
function maybeFail(req: SayRequest): void {
  if (req.fail === "") return;
  const code = Code[req.fail as keyof typeof Code];
  throw new RpcError(typeof code === "number" ? code : Code.UNKNOWN, `failed as asked: ${req.fail}`, {
    details: [create(ErrorInfoSchema, { reason: "ASKED", domain: "webtest", metadata: { name: req.name } })],
  });
}

/** Starts the test server on 127.0.0.1 port 0. */
export async function startWebServer(options: ServerOptions = {}): Promise<WebServer> {
  // http1 explicit: node:http2's cleartext ports sniff for HTTP/1.1 only when asked.
  const web = options.web === false ? false : { http1: true, ...(typeof options.web === "object" ? options.web : {}) };
  const server = new Server({ ...options, web });
  server.addService(WebTestService, {
    async say(req, ctx) {
      if (req.delayMs > 0) await sleep(req.delayMs, ctx.signal);
      maybeFail(req);
      ctx.setTrailingMetadata({ "x-trailer": "t1" });
      await ctx.sendInitialMetadata({ "x-header": "h1" });
      return create(SayResponseSchema, { message: `hello ${req.name}`, padding: "x".repeat(Math.max(0, req.count)) });
    },
    update(req) {
      maybeFail(req);
      return { message: `updated ${req.name}` };
    },
    async *sayMany(req, ctx) {
      for (let i = 0; i < req.count; i++) {
        if (req.delayMs > 0) await sleep(req.delayMs, ctx.signal);
        yield { message: `hello ${req.name} #${i}` };
      }
      maybeFail(req);
    },
    async collect(reqs) {
      const names: string[] = [];
      for await (const r of reqs) names.push(r.name);
      return { message: names.join(",") };
    },
  });
  const port = await server.start("127.0.0.1", 0);
  return { server, port, url: `http://127.0.0.1:${port}`, stop: () => server.stop() };
}
