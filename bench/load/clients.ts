// The two gRPC clients the load processes drive, behind one small interface: Switchboard's
// client (src/client, generated stubs in bench/gen) and @grpc/grpc-js (bench.proto at runtime).
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { Channel, createClient } from "../../src/index.js";
import { Bench } from "../gen/bench_pb.js";

/** sb: our client on our engine; sbnode: our client on node:http2; grpcjs: @grpc/grpc-js. */
export type ClientKind = "sb" | "sbnode" | "grpcjs";

/** One bidi PingPong call: `ping` sends a message and resolves with the echo. */
export interface PingPongCall {
  ping(body: Uint8Array): Promise<void>;
  /** Half-closes and waits for the OK status. */
  finish(): Promise<void>;
}

export interface BenchClient {
  unary(body: Uint8Array): Promise<void>;
  pingPong(): Promise<PingPongCall>;
  close(): Promise<void>;
}

function sbClient(port: number, transport: "switchboard" | "node"): BenchClient {
  const channel = new Channel(`127.0.0.1:${port}`, { transport });
  const client = createClient(Bench, channel);
  return {
    async unary(body) {
      await client.unary({ body });
    },
    async pingPong() {
      const call = client.pingPong.open();
      await call.sendRequest();
      return {
        async ping(body) {
          await call.sendMessage({ body });
          if ((await call.recvMessage()) === null) throw new Error("PingPong ended early");
        },
        async finish() {
          await call.end();
          while ((await call.recvMessage()) !== null);
          await call.recvTrailingMetadata();
        },
      };
    },
    async close() {
      await channel[Symbol.asyncDispose]();
    },
  };
}

interface GrpcBenchClient extends grpc.Client {
  Unary(request: { body: Uint8Array }, callback: (err: grpc.ServiceError | null) => void): grpc.ClientUnaryCall;
  PingPong(): grpc.ClientDuplexStream<{ body: Uint8Array }, { body: Buffer }>;
}

let grpcCtor: (new (address: string, credentials: grpc.ChannelCredentials) => GrpcBenchClient) | undefined;

function grpcjsClient(port: number): BenchClient {
  if (!grpcCtor) {
    const definition = protoLoader.loadSync(fileURLToPath(new URL("../bench.proto", import.meta.url)), {
      keepCase: true,
      longs: String,
      enums: String,
      defaults: true,
    });
    const pkg = grpc.loadPackageDefinition(definition) as unknown as { bench: { Bench: typeof grpcCtor } };
    grpcCtor = pkg.bench.Bench;
  }
  const client = new grpcCtor!(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  return {
    unary(body) {
      return new Promise((resolve, reject) => {
        client.Unary({ body }, (err) => (err ? reject(err) : resolve()));
      });
    },
    async pingPong() {
      const call = client.PingPong();
      const waiting: { resolve: () => void; reject: (e: Error) => void }[] = [];
      let failure: Error | undefined;
      const ended = new Promise<void>((resolve, reject) => {
        call.on("status", (s: grpc.StatusObject) => (s.code === grpc.status.OK ? resolve() : reject(new Error(`PingPong status ${s.code} ${s.details}`))));
      });
      ended.catch(() => {});
      call.on("data", () => waiting.shift()?.resolve());
      call.on("error", (err: Error) => {
        failure = err;
        for (const w of waiting.splice(0)) w.reject(err);
      });
      return {
        ping(body) {
          if (failure) return Promise.reject(failure);
          return new Promise<void>((resolve, reject) => {
            waiting.push({ resolve, reject });
            call.write({ body });
          });
        },
        async finish() {
          call.end();
          await ended;
        },
      };
    },
    async close() {
      client.close();
    },
  };
}

export function benchClient(kind: ClientKind, port: number): BenchClient {
  return kind === "sb" ? sbClient(port, "switchboard") : kind === "sbnode" ? sbClient(port, "node") : grpcjsClient(port);
}

export function clientKindArg(): ClientKind {
  const i = process.argv.indexOf("--client");
  const kind = process.argv[i + 1];
  if (i < 0 || (kind !== "sb" && kind !== "sbnode" && kind !== "grpcjs")) throw new Error("--client sb|sbnode|grpcjs is required");
  return kind;
}
