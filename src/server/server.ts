import * as http2 from "node:http2";
import type { Http2Session } from "node:http2";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import type { DescService } from "@bufbuild/protobuf";
import { chainInterceptors, type ServerInterceptor } from "../call/interceptors.js";
import { NEEDS_ASYNC, type CallEnv, type ServerCall } from "../call/server-call.js";
import type { RecvRequestHandler, ServerEvents } from "../call/events.js";
import { ErrorCode, SwitchboardError } from "../errors.js";
import { EventBus, eventFields, type EventTarget } from "../events.js";
import { createStreamListener, type DispatchCore } from "../grpc/dispatch.js";
import { isUnaryRequest, type MethodDefinition } from "../service/method.js";
import type { GenericRpcHandler, RpcMethodHandler } from "../service/raw.js";
import { Router, type ServiceInterceptor } from "../service/router.js";
import { typedMethods, type ServiceImpl, type StreamServiceImpl } from "../service/typed.js";
import { Code, RpcError, statusOf } from "../status.js";
import { parseAddress } from "./address.js";
import { ServerCredentials } from "./credentials.js";
import { bindListener, http2Settings, type Listener } from "./listener.js";
import { resolveOptions, type ResolvedServerOptions, type ServerOptions } from "./options.js";
import { keepAlive } from "../http2/keepalive.js";
import { ConnectionGuard } from "./connection-guard.js";

type State = "new" | "serving" | "stopping" | "stopped";

/**
 * A gRPC server on node:http2 (grpcio `server()`, grpclib `Server`): register
 * services, bind ports, start, and stop gracefully.
 */
export class Server implements AsyncDisposable, EventTarget<ServerEvents> {
  /** grpclib server events: `listen(server, "recvRequest", fn)`; free while nobody listens. */
  readonly events = new EventBus<ServerEvents>();
  private readonly options: ResolvedServerOptions;
  private readonly router = new Router();
  private readonly listeners: Listener[] = [];
  private readonly inMemory: http2.Http2Server[] = [];
  private readonly sessions = new Set<Http2Session>();
  /** Raw connections, including ones that never finish the TLS or HTTP/2 handshake. */
  private readonly sockets = new Set<Duplex>();
  private readonly calls = new Set<ServerCall>();
  private readonly runHandler: ReturnType<typeof chainInterceptors>;
  private readonly hasInterceptors: boolean;
  private readonly onStream: ReturnType<typeof createStreamListener>;
  private state: State = "new";
  private running = 0;
  private stopping: Promise<void> | undefined;
  private readonly terminated: Promise<void>;
  private markTerminated!: () => void;
  private callsDrained: (() => void) | undefined;
  private readonly stopHooks: (() => void)[] = [];
  /** Typed services registered so far (what reflection describes). */
  private readonly typedServices: DescService[] = [];

  constructor(options: ServerOptions = {}) {
    this.options = resolveOptions(options);
    const continuation: ServerInterceptor[] = [];
    const service: ServiceInterceptor[] = [];
    for (const i of options.interceptors ?? []) {
      if (typeof i === "function") continuation.push(i);
      else if (i && typeof i.interceptService === "function") service.push(i);
      else throw new SwitchboardError(ErrorCode.BAD_OPTION, "an interceptor must be a function (ctx, next) or an object with interceptService()");
    }
    this.router.setServiceInterceptors(service);
    for (const h of options.handlers ?? []) this.router.addGeneric(h);
    this.runHandler = chainInterceptors(continuation);
    this.hasInterceptors = continuation.length > 0;
    this.terminated = new Promise((resolve) => (this.markTerminated = resolve));
    const env: CallEnv = {
      maxReceiveMessageLength: this.options.maxReceiveMessageLength,
      maxSendMessageLength: this.options.maxSendMessageLength,
      defaultCompression: this.options.compression,
      onCallEnd: (call) => this.onCallEnd(call),
      events: this.events,
    };
    const core: DispatchCore = {
      router: this.router,
      env,
      maxHeaderListSize: this.options.maxHeaderListSize,
      maxDeadlineMs: this.options.maxDeadlineMs,
      codecs: this.options.codecs,
      refusal: () => (this.state === "serving" ? undefined : this.state === "new" ? "server is not started" : "server is shutting down"),
      admit: () => {
        if (this.running >= this.options.maximumConcurrentRpcs) return false;
        this.running++;
        return true;
      },
      run: (call, def) => this.run(call, def),
    };
    this.onStream = createStreamListener(core);
  }

  /** Registers a generated service with context-style handlers `(request, ctx) => response`. */
  addService<S extends DescService>(service: S, impl: ServiceImpl<S>): this {
    for (const def of typedMethods(service, impl, "context")) this.router.add(def);
    this.typedServices.push(service);
    return this;
  }

  /** Registers a generated service with grpclib stream-style handlers `async (stream) => {...}`. */
  addStreamService<S extends DescService>(service: S, impl: StreamServiceImpl<S>): this {
    for (const def of typedMethods(service, impl, "stream")) this.router.add(def);
    this.typedServices.push(service);
    return this;
  }

  /** The typed services registered so far, in registration order. */
  get services(): readonly DescService[] {
    return this.typedServices;
  }

  /** Runs `fn` when stop() begins, before new calls are refused (health flips to NOT_SERVING here). */
  onStop(fn: () => void): this {
    this.stopHooks.push(fn);
    return this;
  }

  /** Registers ready method definitions (the core form every other registration becomes). */
  addMethods(defs: Iterable<MethodDefinition>): this {
    for (const def of defs) this.router.add(def);
    return this;
  }

  /** grpcio `add_generic_rpc_handlers`: asked in order for methods not registered otherwise. */
  addGenericRpcHandlers(handlers: Iterable<GenericRpcHandler>): this {
    for (const h of handlers) this.router.addGeneric(h);
    return this;
  }

  /** grpcio `add_registered_method_handlers`: these win over generic handlers. */
  addRegisteredMethodHandlers(serviceName: string, handlers: Record<string, RpcMethodHandler>): this {
    for (const [name, handler] of Object.entries(handlers)) {
      this.router.add(this.router.definitionFor(`/${serviceName}/${name}`, handler));
    }
    return this;
  }

  /** Binds a plaintext port; resolves to the bound port (useful with port 0). */
  addInsecurePort(address: string): Promise<number> {
    return this.addPort(address, ServerCredentials.insecure());
  }

  /** Binds a TLS (or mTLS) port; resolves to the bound port. */
  addSecurePort(address: string, credentials: ServerCredentials): Promise<number> {
    return this.addPort(address, credentials);
  }

  private async addPort(address: string, credentials: ServerCredentials): Promise<number> {
    if (this.state === "stopping" || this.state === "stopped") throw new SwitchboardError(ErrorCode.STOPPED, "cannot add a port to a stopped server");
    const listener = await bindListener(parseAddress(address), credentials, this.options);
    this.wire(listener.server);
    this.listeners.push(listener);
    return listener.port;
  }

  /**
   * An HTTP/2 server that listens nowhere: hand it connections with `emit("connection", duplex)`.
   * The in-memory test channel uses this; the server is started if it was not yet.
   */
  attachInMemory(): http2.Http2Server {
    const h2 = http2.createServer({ settings: http2Settings(this.options), maxHeaderListPairs: this.options.maxHeaderListPairs });
    this.wire(h2);
    this.inMemory.push(h2);
    if (this.state === "new") this.start();
    return h2;
  }

  private wire(server: http2.Http2Server | http2.Http2SecureServer): void {
    server.on("connection", (socket: Duplex) => {
      // Small frames must not wait for the peer's delayed ACK (Nagle): gRPC calls are latency-bound.
      (socket as Partial<Socket>).setNoDelay?.(true);
      this.sockets.add(socket);
      socket.once("close", () => this.sockets.delete(socket));
    });
    server.on("session", (session: Http2Session) => this.onSession(session));
    server.on("stream", this.onStream);
    // Errors of one connection or handshake must never reach the process as an unhandled 'error'.
    server.on("error", () => {});
    server.on("sessionError", () => {});
    server.on("tlsClientError", () => {});
  }

  /** Starts serving calls. May be called once; a second call throws. */
  start(): void {
    if (this.state !== "new") throw new SwitchboardError(ErrorCode.ALREADY_STARTED, "server.start() may only be called once");
    this.state = "serving";
  }

  /** The ports bound so far, in the order they were added. */
  get ports(): number[] {
    return this.listeners.map((l) => l.port);
  }

  /** Calls currently running. */
  get activeCalls(): number {
    return this.calls.size;
  }

  /**
   * Stops the server: new calls are refused at once (UNAVAILABLE) and connections
   * get GOAWAY; running calls may finish until `graceMs` passes, then they are
   * cancelled. Resolves when every connection and port is closed.
   */
  stop(graceMs = 0): Promise<void> {
    this.stopping ??= this.shutdown(graceMs);
    return this.stopping;
  }

  /** Resolves true once the server has stopped, or false if `timeoutMs` passes first. */
  waitForTermination(timeoutMs?: number): Promise<boolean> {
    if (timeoutMs === undefined) return this.terminated.then(() => true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      void this.terminated.then(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  private async shutdown(graceMs: number): Promise<void> {
    for (const hook of this.stopHooks) {
      try {
        hook();
      } catch {
        // A failing hook must not keep the server from stopping.
      }
    }
    this.state = "stopping";
    const closed = this.listeners.map((l) => new Promise<void>((resolve) => l.server.close(() => resolve())));
    for (const session of this.sessions) if (!session.closed) session.close();
    if (this.calls.size > 0 && graceMs > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, graceMs);
        this.callsDrained = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.callsDrained = undefined;
    }
    const reason = new RpcError(Code.UNAVAILABLE, "server is shutting down");
    for (const call of this.calls) {
      call.finish(statusOf(reason), undefined);
      call.cancelled(reason);
    }
    // Let nghttp2 flush the trailers just written before connections are cut.
    await waitFor(() => this.sessions.size === 0, 250);
    for (const session of this.sessions) session.destroy();
    // Connections that never became sessions (a half-done handshake) would hold close() forever.
    for (const socket of this.sockets) socket.destroy();
    await Promise.all(closed);
    this.state = "stopped";
    this.markTerminated();
  }

  private onSession(session: Http2Session): void {
    this.sessions.add(session);
    session.on("error", () => {});
    session.once("close", () => this.sessions.delete(session));
    if (this.options.connectionWindowSize !== undefined) {
      try {
        session.setLocalWindowSize(this.options.connectionWindowSize);
      } catch {
        // Only fails on a session that is already closing.
      }
    }
    keepAlive(session, this.options.keepaliveTimeMs, this.options.keepaliveTimeoutMs);
    new ConnectionGuard(session, this.options.guard, { afterMs: this.options.handshakeTimeoutMs, timeoutMs: this.options.keepaliveTimeoutMs });
    // Until the client's SETTINGS arrive, silence ends the connection (a peer that never speaks).
    session.setTimeout(this.options.handshakeTimeoutMs, () => session.destroy());
    session.once("remoteSettings", () => session.setTimeout(0));
    if (this.state === "stopping" || this.state === "stopped") session.close();
  }

  private run(call: ServerCall, def: MethodDefinition): void {
    this.calls.add(call);
    call.guard?.callStarted();
    if (call.events?.has("recvRequest")) {
      recvRequest(call, def).then(
        (handler) => {
          if (call.finished) return;
          if (handler === def.handler) this.begin(call, def);
          else this.begin(call, { ...def, handler, unary: undefined });
        },
        (err: unknown) => call.complete(err ?? new Error("a RecvRequest listener failed without a reason")),
      );
      return;
    }
    this.begin(call, def);
  }

  private begin(call: ServerCall, def: MethodDefinition): void {
    // Unary-request handlers start once the whole request is in, like grpc-go's and C-core's.
    if (isUnaryRequest(def.kind)) call.whenRequestComplete(() => this.invoke(call, def));
    else this.invoke(call, def);
  }

  private invoke(call: ServerCall, def: MethodDefinition): void {
    if (def.unary && !this.hasInterceptors && call.events === undefined) {
      // Fast path for plain unary handlers: no promises unless the handler returns one.
      let request: unknown;
      try {
        request = call.takeUnarySync();
      } catch (err) {
        return call.complete(err);
      }
      if (request !== NEEDS_ASYNC) {
        let response: unknown;
        try {
          response = def.unary(request, call);
        } catch (err) {
          return call.complete(err ?? new Error("handler threw without a reason"));
        }
        if (isThenable(response)) {
          response.then(
            (r) => call.respondUnary(r),
            (err: unknown) => call.complete(err ?? new Error("handler rejected without a reason")),
          );
        } else {
          call.respondUnary(response);
        }
        return;
      }
    }
    let result: Promise<void> | void;
    try {
      result = this.runHandler(call, def.handler);
    } catch (err) {
      call.complete(err ?? new Error("handler threw without a reason"));
      return;
    }
    if (isThenable(result)) {
      result.then(
        () => call.complete(),
        (err: unknown) => call.complete(err ?? new Error("handler rejected without a reason")),
      );
    } else {
      call.complete();
    }
  }

  private onCallEnd(call: ServerCall): void {
    if (this.calls.delete(call)) call.guard?.callEnded(call.resetByClient);
    this.running--;
    if (this.calls.size === 0) this.callsDrained?.();
  }
}

/** Runs the RecvRequest listeners; returns the handler to run (theirs if they swapped it). */
async function recvRequest(call: ServerCall, def: MethodDefinition): Promise<MethodDefinition["handler"]> {
  const event = await call.events!.dispatch(
    "recvRequest",
    eventFields(
      // The original handler is called with the ServerCall, which is a ServerStream.
      { metadata: call.metadata, handler: def.handler as RecvRequestHandler },
      { method: def.path, methodInfo: call.method, deadline: call.deadline, contentType: call.contentType, userAgent: call.userAgent, peer: call.peer },
    ),
  );
  if (event.metadata !== call.metadata) call.replaceMetadata(event.metadata);
  return event.handler as MethodDefinition["handler"];
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && typeof value === "object" && typeof (value as { then?: unknown }).then === "function";
}

function waitFor(condition: () => boolean, maxMs: number): Promise<void> {
  return new Promise((resolve) => {
    const started = Date.now();
    const check = () => {
      if (condition() || Date.now() - started >= maxMs) resolve();
      else setTimeout(check, 5);
    };
    check();
  });
}
