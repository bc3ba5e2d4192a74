import type { DescService } from "@bufbuild/protobuf";
import type { ServerCallContext } from "../call/context.js";
import { ErrorCode, SwitchboardError } from "../errors.js";
import type { Server } from "../server/server.js";
import type { MethodKind } from "../service/method.js";
import { streamStreamRpcMethodHandler, unaryStreamRpcMethodHandler, type RpcMethodHandler } from "../service/raw.js";
import { requestStreaming, type Handler } from "./handler.js";
import { bytesCodec, protobufCodec, type MessageCodec } from "./messages.js";
import { RpcQueue, type HandleRpcOptions } from "./queue.js";
import { runRpc, type Route } from "./run.js";

/** How a GrpcServer is bound to its Switchboard Server. */
export interface GrpcServerOptions {
  /**
   * The services whose RPCs this script handles, as protobuf-es descriptors: the SR OS
   * custom-proto configuration. Their requests reach handlers parsed and responses are
   * checked against the response type; an RPC of theirs with no handler added still reaches
   * `handleRpc()`, which answers UNIMPLEMENTED and rejects with NotImplementedError.
   */
  services?: readonly DescService[];
  /** How long an RPC may wait for a `handleRpc()` to take it; then the client gets UNAVAILABLE. Default 30 000. */
  pendingTimeoutMs?: number;
  /** How many RPCs may wait for `handleRpc()` at once; more get RESOURCE_EXHAUSTED. Default 100. */
  maxPendingRpcs?: number;
}

/** What `addHandler()` accepts besides the names and the handler. */
export interface AddHandlerOptions {
  /** The gRPC package of the service (SR OS `package=`); none for a service without one. */
  package?: string;
  /**
   * The call type of an RPC outside `services` (its messages are then bytes). Default
   * "unary". For RPCs of `services` the descriptor decides; a different kind is an error.
   */
  kind?: MethodKind;
}

interface Method {
  readonly kind: MethodKind;
  readonly codec: MessageCodec;
}

const KINDS: readonly MethodKind[] = ["unary", "server_streaming", "client_streaming", "bidi_streaming"];

/**
 * The SR OS `grpcserver` module over a Switchboard Server. On SR OS the router owns the gRPC
 * server and starts the script for each RPC; here the script binds to a Server it created
 * (ports, TLS, start and stop stay the Server's), adds handlers, and calls `handleRpc()`
 * for each RPC it wants to handle.
 */
export class GrpcServer {
  readonly server: Server;
  private readonly queue: RpcQueue;
  /** Every method this facade serves, by path: those of `services` and those added as bytes. */
  private readonly methods = new Map<string, Method>();
  private readonly described = new Set<string>();
  private readonly routes = new Map<string, Route>();

  constructor(server: Server, options: GrpcServerOptions = {}) {
    this.server = server;
    this.queue = new RpcQueue({
      pendingTimeoutMs: positive(options.pendingTimeoutMs, 30_000, "pendingTimeoutMs"),
      maxPending: positive(options.maxPendingRpcs, 100, "maxPendingRpcs"),
    });
    server.onStop(() => this.queue.stop());
    for (const service of options.services ?? []) {
      if (!service || typeof service.typeName !== "string" || !Array.isArray(service.methods)) {
        throw new SwitchboardError(ErrorCode.BAD_OPTION, "services must be protobuf-es service descriptors (GenService)");
      }
      const handlers: Record<string, RpcMethodHandler> = {};
      for (const m of service.methods) {
        const method: Method = { kind: m.methodKind, codec: protobufCodec(m.input, m.output) };
        this.methods.set(`/${service.typeName}/${m.name}`, method);
        handlers[m.name] = this.methodHandler(method);
      }
      // Registered methods win over generic handlers, like any other registration.
      server.addRegisteredMethodHandlers(service.typeName, handlers);
      this.described.add(service.typeName);
    }
  }

  /**
   * Adds (or replaces) the handler for `package.service/rpc` (SR OS `add_handler`). RPCs are
   * matched to handlers when `handleRpc()` takes them, so a handler added later serves the
   * RPCs taken after that.
   */
  addHandler(service: string, rpc: string, handler: Handler, options: AddHandlerOptions = {}): void {
    name(service, "service");
    name(rpc, "rpc");
    if (options.package !== undefined) name(options.package, "package");
    if (typeof handler !== "function") throw new SwitchboardError(ErrorCode.BAD_HANDLER, `the handler for ${rpc} must be a function`);
    if (options.kind !== undefined && !KINDS.includes(options.kind)) {
      throw new SwitchboardError(ErrorCode.BAD_HANDLER, `kind must be one of ${KINDS.join(", ")}`);
    }
    const serviceName = options.package ? `${options.package}.${service}` : service;
    const path = `/${serviceName}/${rpc}`;
    let method = this.methods.get(path);
    if (method === undefined) {
      if (this.described.has(serviceName)) throw new SwitchboardError(ErrorCode.BAD_HANDLER, `service ${serviceName} has no rpc ${rpc}`);
      method = { kind: options.kind ?? "unary", codec: bytesCodec };
      this.server.addRegisteredMethodHandlers(serviceName, { [rpc]: this.methodHandler(method) });
      this.methods.set(path, method);
    } else if (options.kind !== undefined && options.kind !== method.kind) {
      throw new SwitchboardError(ErrorCode.BAD_HANDLER, `${path} is ${method.kind}, not ${options.kind}`);
    }
    this.routes.set(path, { handler, kind: method.kind, codec: method.codec });
  }

  /**
   * Handles one RPC (SR OS `handle_rpc`): takes the next RPC that arrived — waiting for one if
   * none has — runs its handler and sends the response(s) and status. Resolves once the RPC
   * was handled (an `abort()` included). Rejects with NotImplementedError when no handler was
   * added for it, with the handler's own exception (the client got INTERNAL), with a
   * ResponseTypeError for a response that does not fit, with an RpcError when the call ended
   * under the handler, with ERR_SB_STOPPED once the server stops, with ERR_SB_WAIT_TIMEOUT
   * after `timeoutMs` without an RPC. Call it again (e.g. in a loop) for the next RPC.
   */
  handleRpc(options: HandleRpcOptions = {}): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const settle = (failure?: unknown) => {
        if (settled) return;
        settled = true;
        if (failure === undefined) resolve();
        else reject(failure);
      };
      this.queue.take(settle, options, reject);
    });
  }

  /**
   * The core handler for one facade method. Every method is registered response-streaming: a
   * unary response is one message on the same HTTP/2 stream, and a streaming handler lets the
   * facade end any RPC with any status (abort(OK) without a message too) and notice a failed
   * send. The request side keeps the method's real call type, so the core still refuses a
   * second message on a unary request.
   */
  private methodHandler(method: Method): RpcMethodHandler {
    const serve = (input: unknown, ctx: ServerCallContext) => this.serve(input, ctx);
    return requestStreaming(method.kind)
      ? streamStreamRpcMethodHandler(serve, method.codec.decode)
      : unaryStreamRpcMethodHandler(serve, method.codec.decode);
  }

  private async *serve(input: unknown, ctx: ServerCallContext): AsyncGenerator<Uint8Array, void, undefined> {
    const settle = await this.queue.admit(ctx);
    yield* runRpc(this.routes.get(ctx.method.path), input, ctx, settle);
  }
}

function name(value: unknown, what: string): void {
  if (typeof value !== "string" || value === "" || value.includes("/")) {
    throw new SwitchboardError(ErrorCode.BAD_HANDLER, `${what} must be a non-empty name without "/", got ${JSON.stringify(value)}`);
  }
}

function positive(value: number | undefined, fallback: number, what: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) throw new SwitchboardError(ErrorCode.BAD_OPTION, `${what} must be a positive number`);
  return value;
}
