// Shared helpers for the test/server API tests: start Switchboard servers on loopback,
// talk to them with @grpc/grpc-js (the real client) or a bare node:http2 client, and
// close everything at the end of each test so the process can exit.
import * as http2 from "node:http2";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { create, fromBinary, toBinary, type DescMessage, type MessageInitShape, type MessageShape } from "@bufbuild/protobuf";
import { Server, type ServerOptions } from "../../src/index.js";
import {
  SimpleRequestSchema,
  SimpleResponseSchema,
  StreamingInputCallRequestSchema,
  StreamingInputCallResponseSchema,
  StreamingOutputCallRequestSchema,
  StreamingOutputCallResponseSchema,
} from "../../examples/gen/grpc/testing/messages_pb.js";

const here = path.dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = path.resolve(here, "..", "..");
const TLS_DIR = path.join(REPO_ROOT, "test", "fixtures", "tls");

/** The TLS fixtures (PEM buffers). */
export const tls = {
  ca: readFileSync(path.join(TLS_DIR, "ca.pem")),
  serverCert: readFileSync(path.join(TLS_DIR, "server.pem")),
  serverKey: readFileSync(path.join(TLS_DIR, "server.key")),
  clientCert: readFileSync(path.join(TLS_DIR, "client.pem")),
  clientKey: readFileSync(path.join(TLS_DIR, "client.key")),
};

/** A per-test time bound for `it(name, T, fn)`. */
export const T = { timeout: 15_000 };

/** Rejects when `promise` does not settle within `ms`. */
export async function within<V>(promise: Promise<V>, ms: number, what = "operation"): Promise<V> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves once `condition()` holds; rejects after `ms`. */
export async function until(condition: () => boolean, ms = 3000, what = "condition"): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > ms) throw new Error(`${what} not reached within ${ms} ms`);
    await sleep(5);
  }
}

/** A promise with its resolve function, for holding handlers until a test lets them go. */
export function deferred<V = void>(): { promise: Promise<V>; resolve: (v: V) => void; reject: (e: unknown) => void } {
  let resolve!: (v: V) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<V>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

// ---- codecs for grpc-js raw requests -------------------------------------------------------

/** How a grpc-js client turns one message into bytes and back. */
export interface Codec<In, Out = In> {
  serialize(value: In): Buffer;
  deserialize(bytes: Buffer): Out;
}

/** Raw bytes in both directions. */
export const bytesCodec: Codec<Buffer> = {
  serialize: (b) => b,
  deserialize: (b) => b,
};

/** JSON text as bytes. */
export const jsonCodec: Codec<unknown> = {
  serialize: (v) => Buffer.from(JSON.stringify(v)),
  deserialize: (b) => JSON.parse(b.toString("utf8")) as unknown,
};

/** Protobuf via protobuf-es, for talking to typed (generated) services from grpc-js. */
export function protoCodec<D extends DescMessage>(schema: D): Codec<MessageInitShape<D>, MessageShape<D>> {
  return {
    serialize: (v) => Buffer.from(toBinary(schema, create(schema, v))),
    deserialize: (b) => fromBinary(schema, b),
  };
}

/** grpc.testing.TestService method paths and grpc-js codecs for its messages. */
export const TS = {
  unaryCall: "/grpc.testing.TestService/UnaryCall",
  streamingOutputCall: "/grpc.testing.TestService/StreamingOutputCall",
  streamingInputCall: "/grpc.testing.TestService/StreamingInputCall",
  fullDuplexCall: "/grpc.testing.TestService/FullDuplexCall",
  halfDuplexCall: "/grpc.testing.TestService/HalfDuplexCall",
  simpleRequest: protoCodec(SimpleRequestSchema),
  simpleResponse: protoCodec(SimpleResponseSchema),
  inputRequest: protoCodec(StreamingInputCallRequestSchema),
  inputResponse: protoCodec(StreamingInputCallResponseSchema),
  outputRequest: protoCodec(StreamingOutputCallRequestSchema),
  outputResponse: protoCodec(StreamingOutputCallResponseSchema),
};

// ---- grpc-js call helpers ----------------------------------------------------------------

export interface CallOptions {
  metadata?: grpc.Metadata;
  /** Milliseconds from now. */
  deadlineMs?: number;
  /** Receives the grpc-js call object (to cancel it, for instance). */
  onCall?: (call: grpc.Call) => void;
}

/** What a finished call produced. */
export interface CallResult<Res> {
  responses: Res[];
  /** Response headers (initial metadata); empty for trailers-only responses. */
  initial: grpc.Metadata | undefined;
  status: grpc.StatusObject;
}

/** The error a failed call rejects with: grpc-js's ServiceError plus what arrived before it. */
export type CallError<Res> = grpc.ServiceError & { responses: Res[]; initial: grpc.Metadata | undefined };

function callOptions(o: CallOptions): grpc.CallOptions {
  return o.deadlineMs === undefined ? {} : { deadline: Date.now() + o.deadlineMs };
}

function settle<Res>(
  call: grpc.ClientReadableStream<Res> | grpc.ClientDuplexStream<unknown, Res>,
  resolve: (r: CallResult<Res>) => void,
  reject: (e: CallError<Res>) => void,
): void {
  const responses: Res[] = [];
  let initial: grpc.Metadata | undefined;
  let status: grpc.StatusObject | undefined;
  let ended = false;
  let failure: grpc.ServiceError | undefined;
  const done = () => {
    if (failure) return reject(Object.assign(failure, { responses, initial }));
    if (status && ended) resolve({ responses, initial, status });
  };
  call.on("metadata", (md: grpc.Metadata) => (initial = md));
  call.on("data", (m: Res) => responses.push(m));
  call.on("error", (err: grpc.ServiceError) => {
    failure = err;
    done();
  });
  call.on("status", (s: grpc.StatusObject) => {
    status = s;
    done();
  });
  call.on("end", () => {
    ended = true;
    done();
  });
}

/** A unary call; resolves with one response, rejects with the CallError for a non-OK status. */
export function unary<Req, Res>(client: grpc.Client, method: string, request: Req, req: Codec<Req, unknown>, res: Codec<unknown, Res>, o: CallOptions = {}): Promise<CallResult<Res>> {
  return new Promise((resolve, reject) => {
    let initial: grpc.Metadata | undefined;
    let status: grpc.StatusObject | undefined;
    let outcome: { err: grpc.ServiceError | null; value: Res | undefined } | undefined;
    const done = () => {
      if (!outcome || !status) return;
      if (outcome.err) reject(Object.assign(outcome.err, { responses: [], initial }));
      else resolve({ responses: [outcome.value as Res], initial, status });
    };
    const call = client.makeUnaryRequest<Req, Res>(
      method,
      req.serialize,
      res.deserialize,
      request,
      o.metadata ?? new grpc.Metadata(),
      callOptions(o),
      (err, value) => {
        outcome = { err, value };
        done();
      },
    );
    call.on("metadata", (md) => (initial = md));
    call.on("status", (s) => {
      status = s;
      done();
    });
    o.onCall?.(call);
  });
}

/** A server-streaming call; collects every response. */
export function serverStream<Req, Res>(client: grpc.Client, method: string, request: Req, req: Codec<Req, unknown>, res: Codec<unknown, Res>, o: CallOptions = {}): Promise<CallResult<Res>> {
  return new Promise((resolve, reject) => {
    const call = client.makeServerStreamRequest<Req, Res>(method, req.serialize, res.deserialize, request, o.metadata ?? new grpc.Metadata(), callOptions(o));
    settle(call, resolve, reject);
    o.onCall?.(call);
  });
}

/** A client-streaming call sending `requests`, then half-closing. */
export function clientStream<Req, Res>(client: grpc.Client, method: string, requests: readonly Req[], req: Codec<Req, unknown>, res: Codec<unknown, Res>, o: CallOptions = {}): Promise<CallResult<Res>> {
  return new Promise((resolve, reject) => {
    let initial: grpc.Metadata | undefined;
    let status: grpc.StatusObject | undefined;
    let outcome: { err: grpc.ServiceError | null; value: Res | undefined } | undefined;
    const done = () => {
      if (!outcome || !status) return;
      if (outcome.err) reject(Object.assign(outcome.err, { responses: [], initial }));
      else resolve({ responses: [outcome.value as Res], initial, status });
    };
    const call = client.makeClientStreamRequest<Req, Res>(method, req.serialize, res.deserialize, o.metadata ?? new grpc.Metadata(), callOptions(o), (err, value) => {
      outcome = { err, value };
      done();
    });
    call.on("metadata", (md) => (initial = md));
    call.on("status", (s) => {
      status = s;
      done();
    });
    o.onCall?.(call);
    for (const r of requests) call.write(r);
    call.end();
  });
}

/** A bidi call sending all `requests` up front, then half-closing; collects every response. */
export function bidi<Req, Res>(client: grpc.Client, method: string, requests: readonly Req[], req: Codec<Req, unknown>, res: Codec<unknown, Res>, o: CallOptions = {}): Promise<CallResult<Res>> {
  return new Promise((resolve, reject) => {
    const call = client.makeBidiStreamRequest<Req, Res>(method, req.serialize, res.deserialize, o.metadata ?? new grpc.Metadata(), callOptions(o));
    settle(call, resolve, reject);
    o.onCall?.(call);
    for (const r of requests) call.write(r);
    call.end();
  });
}

/** Awaits a call that must fail, and checks its status code (and details, when given). */
export async function expectCode<Res>(promise: Promise<CallResult<Res>>, code: grpc.status, details?: string | RegExp): Promise<CallError<Res>> {
  let result: CallResult<Res>;
  try {
    result = await promise;
  } catch (err) {
    const e = err as CallError<Res>;
    if (typeof e.code !== "number") throw err;
    if (e.code !== code) {
      throw new Error(`expected status ${grpc.status[code]} but got ${grpc.status[e.code]} (${JSON.stringify(e.details)})`, { cause: err });
    }
    if (typeof details === "string") {
      if (e.details !== details) throw new Error(`expected details ${JSON.stringify(details)} but got ${JSON.stringify(e.details)}`);
    } else if (details && !details.test(e.details)) {
      throw new Error(`expected details matching ${details} but got ${JSON.stringify(e.details)}`);
    }
    return e;
  }
  throw new Error(`expected status ${grpc.status[code]} but the call succeeded with ${result.responses.length} response(s)`);
}

// ---- the helloworld Greeter through @grpc/proto-loader ---------------------------------------

const greeterPackage = protoLoader.loadSync(path.join(REPO_ROOT, "examples", "helloworld", "helloworld.proto"), {
  keepCase: true,
  defaults: true,
});
const greeterDefinition = greeterPackage["helloworld.Greeter"] as unknown as grpc.ServiceDefinition;
const GreeterClientCtor = grpc.makeGenericClientConstructor(greeterDefinition, "Greeter");

/** grpc-js Greeter stub methods, promisified. */
export interface GreeterClient {
  readonly client: grpc.Client;
  sayHello(name: string, o?: CallOptions): Promise<CallResult<{ message: string }>>;
  sayHelloStream(name: string, o?: CallOptions): Promise<CallResult<{ message: string }>>;
}

export const GREETER_SAY_HELLO = "/helloworld.Greeter/SayHello";
export const GREETER_SAY_HELLO_STREAM = "/helloworld.Greeter/SayHelloStream";

// proto-loader's serializers (as the generated stub would use them) wrapped as codecs.
const helloRequest = greeterDefinition["SayHello"]!;
const helloRequestCodec: Codec<{ name: string }, unknown> = {
  serialize: (v) => helloRequest.requestSerialize(v),
  deserialize: () => {
    throw new Error("not used");
  },
};
const helloReplyCodec: Codec<unknown, { message: string }> = {
  serialize: () => {
    throw new Error("not used");
  },
  deserialize: (b) => helloRequest.responseDeserialize(b) as { message: string },
};

function greeterClient(client: grpc.Client): GreeterClient {
  return {
    client,
    sayHello: (name, o) => unary(client, GREETER_SAY_HELLO, { name }, helloRequestCodec, helloReplyCodec, o),
    sayHelloStream: (name, o) => serverStream(client, GREETER_SAY_HELLO_STREAM, { name }, helloRequestCodec, helloReplyCodec, o),
  };
}

// ---- raw node:http2 --------------------------------------------------------------------------

/** Frames one message with the 5-byte gRPC prefix. */
export function frame(data: Uint8Array, compressed = false): Buffer {
  const out = Buffer.alloc(5 + data.byteLength);
  out[0] = compressed ? 1 : 0;
  out.writeUInt32BE(data.byteLength, 1);
  out.set(data, 5);
  return out;
}

/** Splits a buffer of gRPC frames into {flag, data} (the buffer must hold whole frames). */
export function unframe(buf: Buffer): { flag: number; data: Buffer }[] {
  const out: { flag: number; data: Buffer }[] = [];
  let off = 0;
  while (off + 5 <= buf.length) {
    const len = buf.readUInt32BE(off + 1);
    out.push({ flag: buf[off]!, data: buf.subarray(off + 5, off + 5 + len) });
    off += 5 + len;
  }
  if (off !== buf.length) throw new Error(`trailing ${buf.length - off} bytes are not a whole gRPC frame`);
  return out;
}

/** The gRPC request headers for a path, plus extras. */
export function grpcHeaders(method: string, extra: http2.OutgoingHttpHeaders = {}): http2.OutgoingHttpHeaders {
  return { ":method": "POST", ":path": method, "content-type": "application/grpc", te: "trailers", ...extra };
}

/** What a raw HTTP/2 exchange returned. */
export interface RawResponse {
  headers: http2.IncomingHttpHeaders;
  /** Whether the response headers ended the stream (trailers-only). */
  headersEndedStream: boolean;
  trailers: http2.IncomingHttpHeaders | undefined;
  /** The trailer fields as they came on the wire: name, value, name, value... */
  rawTrailers: string[];
  body: Buffer;
}

/** Sends one gRPC request on a node:http2 session and reads the whole response. */
export function rawRequest(session: http2.ClientHttp2Session, method: string, body: Buffer, extra: http2.OutgoingHttpHeaders = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const stream = session.request(grpcHeaders(method, extra));
    let headers: http2.IncomingHttpHeaders = {};
    let headersEndedStream = false;
    let trailers: http2.IncomingHttpHeaders | undefined;
    let rawTrailers: string[] = [];
    const chunks: Buffer[] = [];
    stream.on("response", (h, flags) => {
      headers = h;
      headersEndedStream = (flags & http2.constants.NGHTTP2_FLAG_END_STREAM) !== 0;
    });
    stream.on("trailers", (t: http2.IncomingHttpHeaders, _flags: number, raw?: string[]) => {
      trailers = t;
      rawTrailers = raw ?? [];
    });
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.on("error", reject);
    stream.on("close", () => resolve({ headers, headersEndedStream, trailers, rawTrailers, body: Buffer.concat(chunks) }));
    stream.end(body);
  });
}

// ---- the harness -------------------------------------------------------------------------

export interface Started {
  server: Server;
  port: number;
  /** `127.0.0.1:<port>` (or the address given), ready for grpc-js. */
  target: string;
}

/**
 * Owns every server and client a test creates; `close()` (run it in afterEach)
 * closes them all, bounded in time.
 */
export class Harness {
  private servers: Server[] = [];
  private clients: grpc.Client[] = [];
  private sessions: http2.ClientHttp2Session[] = [];

  /** Creates a server, lets `setup` register services, binds 127.0.0.1:0 (or `address`) and starts it. */
  async start(setup: (server: Server) => void, options: ServerOptions = {}, address = "127.0.0.1:0"): Promise<Started> {
    const server = this.track(new Server(options));
    setup(server);
    const port = await server.addInsecurePort(address);
    server.start();
    return { server, port, target: address.startsWith("unix:") ? address : `127.0.0.1:${port}` };
  }

  /** Registers a server created by the test so close() stops it. */
  track(server: Server): Server {
    this.servers.push(server);
    return server;
  }

  /** A grpc-js client for raw requests (makeUnaryRequest and friends). */
  client(target: string, credentials = grpc.credentials.createInsecure(), options: grpc.ChannelOptions = {}): grpc.Client {
    const c = new grpc.Client(target, credentials, options);
    this.clients.push(c);
    return c;
  }

  /** A grpc-js Greeter client generated by @grpc/proto-loader from helloworld.proto. */
  greeter(target: string, credentials = grpc.credentials.createInsecure(), options: grpc.ChannelOptions = {}): GreeterClient {
    const c = new GreeterClientCtor(target, credentials, options);
    this.clients.push(c);
    return greeterClient(c);
  }

  /** A bare node:http2 session to `authority` (e.g. http://127.0.0.1:port). */
  h2(authority: string, options: http2.ClientSessionOptions = {}): http2.ClientHttp2Session {
    const s = http2.connect(authority, options);
    s.on("error", () => {});
    this.sessions.push(s);
    return s;
  }

  async close(): Promise<void> {
    for (const c of this.clients.splice(0)) c.close();
    for (const s of this.sessions.splice(0)) s.destroy();
    const servers = this.servers.splice(0);
    await within(Promise.all(servers.map((s) => s.stop(0))), 5000, "server.stop(0) in cleanup");
  }
}
