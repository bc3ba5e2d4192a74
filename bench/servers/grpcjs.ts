// The Bench service on @grpc/grpc-js, loading bench/bench.proto at runtime; default server options.
//   node --expose-gc --import tsx bench/servers/grpcjs.ts --port 0
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { portArg, serveControl } from "./control.js";

interface Payload {
  body: Buffer;
}
interface StreamRequest {
  count: number;
  size: number;
}
interface StreamSummary {
  messages: number;
  bytes: number;
}

export function loadBenchService(): grpc.ServiceDefinition {
  const definition = protoLoader.loadSync(fileURLToPath(new URL("../bench.proto", import.meta.url)), {
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
  });
  const pkg = grpc.loadPackageDefinition(definition) as unknown as { bench: { Bench: grpc.ServiceClientConstructor } };
  return pkg.bench.Bench.service;
}

const handlers = {
  Unary(call: grpc.ServerUnaryCall<Payload, Payload>, callback: grpc.sendUnaryData<Payload>): void {
    callback(null, { body: call.request.body });
  },
  ServerStream(call: grpc.ServerWritableStream<StreamRequest, Payload>): void {
    const { count, size } = call.request;
    const message = { body: Buffer.alloc(size) };
    let sent = 0;
    let cancelled = false;
    call.on("cancelled", () => {
      cancelled = true;
    });
    const pump = (): void => {
      while (sent < count && !cancelled) {
        sent++;
        if (!call.write(message)) {
          call.once("drain", pump);
          return;
        }
      }
      if (!cancelled) call.end();
    };
    pump();
  },
  ClientStream(call: grpc.ServerReadableStream<Payload, StreamSummary>, callback: grpc.sendUnaryData<StreamSummary>): void {
    let messages = 0;
    let bytes = 0;
    call.on("data", (r: Payload) => {
      messages++;
      bytes += r.body.length;
    });
    call.on("end", () => callback(null, { messages, bytes }));
    call.on("error", () => {});
  },
  PingPong(call: grpc.ServerDuplexStream<Payload, Payload>): void {
    call.on("data", (r: Payload) => call.write({ body: r.body }));
    call.on("end", () => call.end());
    call.on("error", () => {});
  },
  Hold(call: grpc.ServerWritableStream<StreamRequest, Payload>): void {
    call.write({ body: Buffer.alloc(call.request.size) });
    // Nothing else: the call stays open until the client cancels it.
    call.on("error", () => {});
  },
};

const server = new grpc.Server();
server.addService(loadBenchService(), handlers as unknown as grpc.UntypedServiceImplementation);
server.bindAsync(`127.0.0.1:${portArg()}`, grpc.ServerCredentials.createInsecure(), (err, port) => {
  if (err) {
    process.stderr.write(`bind failed: ${err.message}\n`);
    process.exit(1);
  }
  serveControl(port, () => {
    server.forceShutdown();
    process.exit(0);
  });
});
