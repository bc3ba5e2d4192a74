// The servers the CLI tests talk to, both serving clitest.Echo (test/cli/fixtures/clitest/echo.proto)
// with health and reflection: Switchboard in this process, and @grpc/grpc-js with @grpc/reflection
// and grpc-health-check (the npm packages grpc-node users deploy).
import * as path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { create } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { ReflectionService as GrpcJsReflection } from "@grpc/reflection";
import { HealthImplementation, protoPath as healthProtoPath } from "grpc-health-check";
import {
  addReflection,
  detail,
  ErrorInfoSchema,
  HealthService,
  OVERALL,
  ReflectionService,
  RpcError,
  Server,
  ServerCredentials,
  ServerReflectionV1Alpha,
  ServiceStatus,
  type ServerCallContext,
  type ServiceImpl,
} from "../../src/index.js";
import { Greeter } from "../../examples/gen/helloworld/helloworld_pb.js";
import { greeter } from "../../examples/helloworld/serve.js";
import { Echo, EchoRequestSchema, type EchoRequest } from "./gen/clitest/echo_pb.js";
import { REPO_ROOT, tls, within } from "../server/helpers.js";

export const FIXTURES = path.join(REPO_ROOT, "test", "cli", "fixtures");

/** Request metadata (x-* keys) as the Echo reply reports it: text values, -bin values in base64. */
function seenMetadata(ctx: ServerCallContext): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of ctx.metadata) {
    if (key.startsWith("x-")) out[key] = typeof value === "string" ? value : Buffer.from(value).toString("base64");
  }
  return out;
}

/** x-echo-initial comes back in the response headers, x-echo-trailing-bin in the trailers. */
async function echoHeaders(ctx: ServerCallContext): Promise<void> {
  const trailing = ctx.metadata.get("x-echo-trailing-bin");
  if (trailing !== undefined) ctx.setTrailingMetadata([["x-echo-trailing-bin", trailing]]);
  const initial = ctx.metadata.get("x-echo-initial");
  if (initial !== undefined) await ctx.sendInitialMetadata([["x-echo-initial", initial]]);
}

async function delay(ms: number, ctx: ServerCallContext): Promise<void> {
  if (ms > 0) await sleep(ms, undefined, { signal: ctx.signal });
}

function failIfAsked(r: EchoRequest): void {
  // Rich details: one of the google.rpc error model (known to every client) and the request
  // itself (a type the CLI learns by reflection).
  if (r.failCode) throw new RpcError(r.failCode, r.failMessage, [create(ErrorInfoSchema, { reason: "ECHO_FAILED", domain: "clitest" }), detail(EchoRequestSchema, r)]);
}

export const echo: ServiceImpl<typeof Echo> = {
  async unary(r, ctx) {
    await echoHeaders(ctx);
    await delay(r.delayMs, ctx);
    failIfAsked(r);
    return { text: r.text, count: 1, metadata: seenMetadata(ctx), at: r.at, mood: r.mood, big: r.extra.case === "big" ? r.extra.value : 0n };
  },
  async *serverStream(r, ctx) {
    await echoHeaders(ctx);
    for (let i = 1; i <= r.repeat; i++) {
      await delay(r.delayMs, ctx);
      yield { text: `${r.text} #${i}`, count: i };
    }
    failIfAsked(r);
  },
  async clientStream(requests, ctx) {
    await echoHeaders(ctx);
    const texts: string[] = [];
    for await (const r of requests) {
      failIfAsked(r);
      texts.push(r.text);
    }
    return { text: texts.join(" "), count: texts.length };
  },
  async *bidi(requests, ctx) {
    await echoHeaders(ctx);
    let n = 0;
    for await (const r of requests) {
      failIfAsked(r);
      yield { text: r.text.toUpperCase(), count: ++n };
    }
  },
};

/** Health of the test servers: the server ("") and clitest.Echo serve, clitest.Sick does not. */
export const SICK = "clitest.Sick";

export interface Running {
  target: string;
  port: number;
  close(): Promise<void>;
}

export interface OurServerOptions {
  /** Which reflection versions to register (default both); "none" for no reflection at all. */
  reflection?: "both" | "v1alpha" | "none";
  health?: boolean;
  tls?: boolean;
}

/** Switchboard serving Echo + Greeter, health and reflection on 127.0.0.1:0. */
export async function startOurServer(options: OurServerOptions = {}): Promise<Running> {
  const server = new Server();
  server.addService(Echo, echo);
  server.addService(Greeter, greeter);
  if (options.health !== false) {
    new HealthService([
      [OVERALL, []],
      [Echo, []],
      [SICK, [new ServiceStatus(false)]],
    ]).register(server);
  }
  const reflection = options.reflection ?? "both";
  if (reflection === "both") addReflection(server);
  // An older server: grpc.reflection.v1 answers UNIMPLEMENTED.
  if (reflection === "v1alpha") server.addService(ServerReflectionV1Alpha, new ReflectionService(server.services).v1alpha);
  const credentials = options.tls ? ServerCredentials.ssl({ keyCertPairs: [{ privateKey: tls.serverKey, certChain: tls.serverCert }] }) : undefined;
  const port = credentials ? await server.addSecurePort("127.0.0.1:0", credentials) : await server.addInsecurePort("127.0.0.1:0");
  server.start();
  return { target: `127.0.0.1:${port}`, port, close: () => within(server.stop(0), 5000, "server.stop") };
}

// ---- @grpc/grpc-js -------------------------------------------------------------------------

type GrpcRequest = { text: string; repeat: number; delay_ms: number; fail_code: number; fail_message: string; at: unknown; mood: string; big?: string };

function grpcjsEcho(): grpc.UntypedServiceImplementation {
  const fail = (r: GrpcRequest) => (r.fail_code ? Object.assign(new Error(r.fail_message), { code: r.fail_code, details: r.fail_message }) : undefined);
  const seen = (md: grpc.Metadata) => {
    const out: Record<string, string> = {};
    for (const [key, values] of Object.entries(md.getMap())) {
      if (key.startsWith("x-")) out[key] = typeof values === "string" ? values : values.toString("base64");
    }
    return out;
  };
  return {
    Unary(call: grpc.ServerUnaryCall<GrpcRequest, unknown>, callback: grpc.sendUnaryData<unknown>) {
      const r = call.request;
      setTimeout(() => {
        const err = fail(r);
        if (err) return callback(err);
        callback(null, { text: r.text, count: 1, metadata: seen(call.metadata), at: r.at, mood: r.mood, big: r.big ?? "0" });
      }, r.delay_ms);
    },
    async ServerStream(call: grpc.ServerWritableStream<GrpcRequest, unknown>) {
      const r = call.request;
      for (let i = 1; i <= r.repeat && !call.cancelled; i++) {
        await sleep(r.delay_ms);
        call.write({ text: `${r.text} #${i}`, count: i });
      }
      const err = fail(r);
      if (err) call.emit("error", err);
      else call.end();
    },
    ClientStream(call: grpc.ServerReadableStream<GrpcRequest, unknown>, callback: grpc.sendUnaryData<unknown>) {
      const texts: string[] = [];
      call.on("data", (r: GrpcRequest) => texts.push(r.text));
      call.on("end", () => callback(null, { text: texts.join(" "), count: texts.length }));
      call.on("error", () => {});
    },
    Bidi(call: grpc.ServerDuplexStream<GrpcRequest, unknown>) {
      let n = 0;
      call.on("data", (r: GrpcRequest) => call.write({ text: r.text.toUpperCase(), count: ++n }));
      call.on("end", () => call.end());
      call.on("error", () => {});
    },
  };
}

/** @grpc/grpc-js serving the same Echo, with @grpc/reflection and grpc-health-check. */
export async function startGrpcJsServer(): Promise<Running> {
  const options = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true };
  const definition = protoLoader.loadSync([path.join(FIXTURES, "clitest", "echo.proto"), healthProtoPath], { ...options, includeDirs: [FIXTURES] });
  const loaded = grpc.loadPackageDefinition(definition) as unknown as { clitest: { Echo: { service: grpc.ServiceDefinition } } };
  const server = new grpc.Server();
  server.addService(loaded.clitest.Echo.service, grpcjsEcho());
  new HealthImplementation({ "": "SERVING", "clitest.Echo": "SERVING", [SICK]: "NOT_SERVING" }).addToServer(server);
  new GrpcJsReflection(definition).addToServer(server);
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p)));
  });
  return {
    target: `127.0.0.1:${port}`,
    port,
    close: () =>
      within(
        new Promise<void>((resolve) => {
          server.forceShutdown();
          resolve();
        }),
        5000,
        "grpc-js shutdown",
      ),
  };
}
