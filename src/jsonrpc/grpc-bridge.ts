// The gRPC bridge: the protobuf services registered on a gRPC `Server` also answer JSON-RPC,
// one implementation behind both protocols in one process. Each method is the JSON-RPC method
// `package.Service.Method` (the fully-qualified service name, a dot, the method name as in
// the .proto), e.g. `helloworld.Greeter.SayHello`.
//
// Calls take the gRPC path without HTTP/2: the method is looked up as for a gRPC call
// (registered methods, generic handlers, service interceptors), its handler runs inside the
// server's interceptors with a full ServerCallContext, and errors follow the server's policy
// (onError, exposeErrors). Messages use the protobuf JSON mapping (protobuf-es fromJson /
// toJson): int64 as strings, bytes as base64, enums by name, well-known types in their JSON
// forms; unknown fields are refused unless `read.ignoreUnknownFields` is set.
//
// Params and results, by call type:
// - unary: named params are the request message, positional params `[message]`; absent
//   params or `[]` are the empty message. The result is the response message.
// - server streaming: the same params; the result is the array of response messages, sent
//   once the stream has ended (a JSON-RPC reply is one message).
// - client streaming: positional params are the request messages, named params
//   `{"messages": [...]}`; absent params are none. The result is the response message.
// - bidi streaming: the requests as for client streaming, all available at once and then the
//   end of the stream; the result is the array of responses.
// Streams are collected rather than refused because most of them are finite (a paged listing,
// an upload): they work as they are. A stream that only ends when the client goes away (such
// as grpc.health.v1.Health/Watch) cannot be answered in one reply: leave its service out with
// `services`, or give bridged calls a deadline (`deadlineMs`). The answer of one call is bounded
// by `maxStreamMessages` and `maxResponseBytes` (RESOURCE_EXHAUSTED past either).
//
// Errors: params that are not the request message -> -32602 (data: what is wrong); a gRPC
// status -> code -32000 - status (NOT_FOUND -32005, ..., UNAUTHENTICATED -32016), message the
// status message, data `{ grpcCode, grpcStatus, details? }` (see GrpcStatusData); a method the
// server no longer finds (a service interceptor refused it) -> -32601.
//
// What handlers see: empty invocation metadata, peer "jsonrpc", content type
// "application/json", no user agent, no TLS identity, and no deadline unless `deadlineMs` is
// set. Initial and trailing metadata a handler sends are accepted and not transmitted (JSON-RPC
// has no place for them). Not applied to bridged calls: server events (listen(server, ...)),
// which describe HTTP/2 gRPC calls, and maximumConcurrentRpcs (the JSON-RPC server's spawn hook
// bounds its own work). Once server.stop() begins new bridged calls get UNAVAILABLE (-32014);
// calls still running when it has finished are cancelled with UNAVAILABLE.
import { fromBinary, toBinary, toJson, type DescMessage, type JsonReadOptions, type JsonWriteOptions } from "@bufbuild/protobuf";
import { Deadline, MAX_TIMER_MS } from "../deadline.js";
import { ErrorCode, SwitchboardError } from "../errors.js";
import { Metadata } from "../metadata.js";
import type { Server } from "../server/server.js";
import type { MethodDefinition } from "../service/method.js";
import { Code, RpcError } from "../status.js";
import { RPCDispatcher } from "./dispatcher.js";
import { JSONRPCError, JSONRPCErrorCode } from "./errors.js";
import { LocalCall } from "./grpc-bridge/local-call.js";
import { bridgeRegistry, decodeRequests, ParamsProblem } from "./grpc-bridge/messages.js";
import { statusToJSONRPCError } from "./grpc-bridge/status.js";
import { DEFAULT_MAX_MESSAGE_BYTES } from "./transport.js";

export { GRPC_STATUS_CODE_BASE, jsonrpcCodeOfStatus, type GrpcStatusData } from "./grpc-bridge/status.js";

export interface GrpcBridgeOptions {
  /** Fully-qualified names of the services to expose (e.g. "helloworld.Greeter"); default: every service with protobuf schemas. */
  services?: readonly string[];
  /**
   * protobuf-es JSON read options. `ignoreUnknownFields` is false by default (an unknown field
   * is -32602); `registry` adds types for google.protobuf.Any and extensions to those the
   * bridge knows (the services' files and their imports, the google.rpc error details).
   */
  read?: Partial<JsonReadOptions>;
  /** protobuf-es JSON write options: `alwaysEmitImplicit`, `enumAsInteger`, `useProtoFieldName`, `registry`. */
  write?: Partial<JsonWriteOptions>;
  /** A deadline for every bridged call, in ms (JSON-RPC requests carry none); default none. */
  deadlineMs?: number;
  /** Most messages in one call's request list or response list; default 10 000. */
  maxStreamMessages?: number;
  /** Most bytes (protobuf-encoded) of one call's responses together; default 4 MiB, the transports' message limit. */
  maxResponseBytes?: number;
}

const DEFAULT_MAX_STREAM_MESSAGES = 10_000;

function positiveInteger(name: string, value: number | undefined, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value <= 0 || value > max) throw new SwitchboardError(ErrorCode.BAD_OPTION, `${name} must be a positive integer up to ${max}, not ${String(value)}`);
  return value;
}

/** A registered method the bridge can serve: one with protobuf schemas for its messages. */
type Bridged = MethodDefinition & { readonly input: DescMessage; readonly output: DescMessage };

/**
 * Registers every method of the protobuf services on `server` (or of `options.services`) on
 * `dispatcher` as `package.Service.Method`, and returns those names. Register the services on
 * the server first: methods added later are not picked up. Throws BAD_OPTION for a named
 * service the server does not have, DUPLICATE_METHOD if a name is already taken.
 */
export function exposeGrpcServer(dispatcher: RPCDispatcher, server: Server, options: GrpcBridgeOptions = {}): string[] {
  const path = server.localCallPath();
  const maxMessages = positiveInteger("maxStreamMessages", options.maxStreamMessages, DEFAULT_MAX_STREAM_MESSAGES);
  const maxBytes = positiveInteger("maxResponseBytes", options.maxResponseBytes, DEFAULT_MAX_MESSAGE_BYTES);
  const deadlineMs = options.deadlineMs === undefined ? undefined : positiveInteger("deadlineMs", options.deadlineMs, 0, MAX_TIMER_MS);

  const all = [...path.definitions()].filter((d): d is Bridged => d.input !== undefined && d.output !== undefined);
  let chosen = all;
  if (options.services !== undefined) {
    const wanted = new Set(options.services);
    const known = new Set(all.map((d) => d.service));
    for (const name of wanted) {
      if (!known.has(name)) {
        throw new SwitchboardError(ErrorCode.BAD_OPTION, `the server has no protobuf service ${JSON.stringify(name)} to expose (services: ${[...known].join(", ") || "none"})`);
      }
    }
    chosen = all.filter((d) => wanted.has(d.service));
  }

  const schemas = chosen.flatMap((d) => [d.input, d.output]);
  const read: Partial<JsonReadOptions> = { ...options.read, registry: bridgeRegistry(schemas, options.read?.registry) };
  const write: Partial<JsonWriteOptions> = { ...options.write, registry: bridgeRegistry(schemas, options.write?.registry) };
  // Rich error details are written like responses.
  const registry = write.registry!;

  // Bridged calls still running when the server has stopped end as its gRPC calls did.
  const running = new Set<LocalCall>();
  void server.waitForTermination().then(() => {
    const reason = new RpcError(Code.UNAVAILABLE, "server is shutting down");
    for (const call of running) call.cancelled(reason);
  });

  const names: string[] = [];
  for (const def of chosen) {
    const name = `${def.service}.${def.name}`;
    const { input, output } = def;
    const toJsonValue = (bytes: Uint8Array) => {
      try {
        return toJson(output, fromBinary(output, bytes), write);
      } catch (err) {
        throw new RpcError(Code.INTERNAL, `could not write the response as JSON: ${(err as Error).message}`, { cause: err });
      }
    };
    const method = async (params: unknown): Promise<unknown> => {
      if (path.stopping()) throw statusToJSONRPCError({ code: Code.UNAVAILABLE, message: "server is shutting down" }, registry);
      const metadata = new Metadata();
      const found = path.lookup(def.path, () => metadata);
      if (found === undefined) throw JSONRPCError.standard(JSONRPCErrorCode.METHOD_NOT_FOUND, `the server has no handler for ${def.path}`);
      const decoded = decodeRequests(found.kind, input, params, read, maxMessages);
      if (decoded instanceof ParamsProblem) throw JSONRPCError.standard(JSONRPCErrorCode.INVALID_PARAMS, decoded.text);
      let requests = decoded;
      if (found.input !== input) {
        // A handler swapped in by a service interceptor reads its requests its own way.
        try {
          requests = decoded.map((m) => found.deserialize(toBinary(input, m as never)));
        } catch (err) {
          throw statusToJSONRPCError({ code: Code.INTERNAL, message: `could not parse request message: ${(err as Error).message}` }, registry, err);
        }
      }
      const call = new LocalCall(
        {
          def: found,
          requests,
          metadata,
          peer: "jsonrpc",
          contentType: "application/json",
          deadline: deadlineMs === undefined ? undefined : Deadline.after(deadlineMs),
          maxMessages,
          maxBytes,
          toJson: toJsonValue,
        },
        path,
      );
      running.add(call);
      let outcome;
      try {
        outcome = await call.start();
      } finally {
        running.delete(call);
      }
      if (!outcome.ok) throw statusToJSONRPCError(outcome.status, registry, outcome.cause);
      const streaming = found.kind === "server_streaming" || found.kind === "bidi_streaming";
      return streaming ? outcome.responses : outcome.responses[0];
    };
    dispatcher.addMethod(method, { name, rawParams: true });
    names.push(name);
  }
  return names;
}

/** A new dispatcher serving the server's protobuf services (see exposeGrpcServer); mount it with addSubdispatch. */
export function grpcDispatcher(server: Server, options: GrpcBridgeOptions = {}): RPCDispatcher {
  const dispatcher = new RPCDispatcher();
  exposeGrpcServer(dispatcher, server, options);
  return dispatcher;
}
