// The Server: registration, the start/stop lifecycle and the call path (run -> begin -> invoke).
// Connection limits, the request idle sweep, error reporting, per-session setup and the grpclib
// start() options live in modules beside it, so this file reads as the order a call goes through.
import * as http2 from "node:http2";
import type { Server as NetServer } from "node:net";
import { createH2Server } from "../h2/index.js";
import type { SessionLike } from "../grpc/transport.js";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import type { DescService } from "@bufbuild/protobuf";
import { chainInterceptors, type ServerInterceptor } from "../call/interceptors.js";
import { NEEDS_ASYNC, type CallEnv, type ServerCall } from "../call/server-call.js";
import type { RecvRequestHandler, ServerEvents } from "../call/events.js";
import { ObserverSet, type ServerObserver } from "../call/observer.js";
import type { AdminServer } from "../admin/admin-server.js";
import { OwnedAdmin } from "../admin/attach.js";
import { ErrorCode, SwitchboardError } from "../errors.js";
import { EventBus, eventFields, type EventTarget } from "../events.js";
import { createStreamListener, type DispatchCore } from "../grpc/dispatch.js";
import { createWebListener, type WebStreamListener } from "../web/front.js";
import { createHttp1Server } from "../web/http1.js";
import { adoptReplayedPeer, replaySocket, sniffProtocol } from "../web/sniff.js";
import * as net from "node:net";
import type { Metadata } from "../metadata.js";
import { isUnaryRequest, type CallHandler, type MethodDefinition } from "../service/method.js";
import type { GenericRpcHandler, RpcMethodHandler } from "../service/raw.js";
import { Router, type ServiceInterceptor } from "../service/router.js";
import { typedMethods, type ServiceImpl, type StreamServiceImpl } from "../service/typed.js";
import { Code, RpcError, statusOf } from "../status.js";
import { parseAddress, type ListenTarget } from "./address.js";
import { ConnectionLimits } from "./connection-limits.js";
import { ServerCredentials } from "./credentials.js";
import { isCallAbort, report, reportServerErrors } from "./error-report.js";
import { IdleSweep } from "./idle-sweep.js";
import { bindListener, engineOptions, http2Settings, type Listener, type ListenOptions } from "./listener.js";
import { resolveOptions, type ResolvedServerOptions, type ServerErrorHook, type ServerOptions } from "./options.js";
import { sessionInfo } from "./session-info.js";
import { setUpSession } from "./session-setup.js";
import { listenOptions, startTarget, type StartOptions } from "./start-options.js";
import { ignoreError, isThenable, waitFor } from "./util.js";


type State = "new" | "serving" | "stopping" | "stopped";

/**
 * @internal What another front of the same server (the JSON-RPC bridge) needs to run its
 * methods without HTTP/2, so that they behave as for gRPC calls: the same lookup (generic
 * handlers, service interceptors), interceptor chain and error policy.
 */
export interface LocalCallPath {
  /** The registered methods. */
  definitions(): Iterable<MethodDefinition>;
  /** The method serving a path, found as for a gRPC call. */
  lookup(path: string, metadata: () => Metadata): MethodDefinition | undefined;
  /** Runs a handler inside the server's interceptors. */
  readonly run: (call: ServerCall, handler: CallHandler) => Promise<void> | void;
  readonly onError: ServerErrorHook | undefined;
  readonly exposeErrors: boolean;
  /** stop() has begun: new calls are refused. */
  stopping(): boolean;
}

/**
 * A gRPC server on node:http2 (grpcio `server()`, grpclib `Server`): register
 * services, bind ports, start, and stop gracefully.
 */
export class Server implements AsyncDisposable, EventTarget<ServerEvents> {
  /** grpclib server events: `listen(server, "recvRequest", fn)`; free while nobody listens. */
  readonly events = new EventBus<ServerEvents>();
  /** @internal Metrics, channelz and the dashboard (see observe()). */
  readonly observers = new ObserverSet();
  private readonly options: ResolvedServerOptions;
  private readonly router = new Router();
  private readonly listeners: Listener[] = [];
  private readonly inMemory: NetServer[] = [];
  private readonly sessions = new Set<SessionLike>();
  /** Raw connections, including ones that never finish the TLS or HTTP/2 handshake. */
  private readonly sockets = new Set<Duplex>();
  private readonly calls = new Set<ServerCall>();
  private readonly runHandler: ReturnType<typeof chainInterceptors>;
  private readonly hasInterceptors: boolean;
  private readonly onStream: WebStreamListener;
  private state: State = "new";
  private running = 0;
  private stopping: Promise<void> | undefined;
  private readonly terminated: Promise<void>;
  private markTerminated!: () => void;
  private callsDrained: (() => void) | undefined;
  private readonly stopHooks: (() => void)[] = [];
  /** Typed services registered so far (what reflection describes). */
  private readonly typedServices: DescService[] = [];
  /** Unary-request calls waiting for the rest of their request (requestIdleTimeoutMs). */
  private readonly idle: IdleSweep;
  /** Unary-request calls that took a maximumConcurrentRpcs slot (streaming-request calls always hold one). */
  private readonly slotted = new Set<ServerCall>();
  /** A start() is binding or done: a second one throws. */
  private startCalled = false;
  /** maxConnections / maxConnectionsPerIp over the connections of bound ports. */
  private readonly limits: ConnectionLimits;
  /** The admin server of `options.admin` (dashboard, /metrics, /health). */
  private readonly ownedAdmin: OwnedAdmin | undefined;

  constructor(options: ServerOptions = {}) {
    this.options = resolveOptions(options);
    this.idle = new IdleSweep(this.options.requestIdleTimeoutMs);
    this.limits = new ConnectionLimits(this.options, (socket) => this.track(socket));
    if (options.admin) this.ownedAdmin = new OwnedAdmin(this, options.admin, this.options.onError);
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
      observers: this.observers,
      statusDetailsCodec: this.options.statusDetailsCodec,
      reportError: this.options.onError ? (err, call) => report(this.options.onError, err, { source: "handler", method: call.method.path, peer: call.peer }) : undefined,
    };
    const core: DispatchCore = {
      router: this.router,
      env,
      maxHeaderListSize: this.options.maxHeaderListSize,
      maxDeadlineMs: this.options.maxDeadlineMs,
      codecs: this.options.codecs,
      observers: this.observers,
      refusal: () => (this.state === "serving" ? undefined : this.state === "new" ? "server is not started" : "server is shutting down"),
      draining: () => this.state === "stopping",
      lookupFailed: (err, path) => {
        report(this.options.onError, err, { source: "handler", method: path });
        return this.options.exposeErrors ? (err instanceof Error ? err.message : String(err)) : "Internal error";
      },
      admit: (def) => {
        if (this.running >= this.options.maximumConcurrentRpcs) return false;
        // A unary-request call takes its slot once its request is complete (requestComplete).
        if (!isUnaryRequest(def.kind)) this.running++;
        return true;
      },
      run: (call, def) => this.run(call, def),
    };
    const web = this.options.web;
    this.onStream = web.grpcWeb || web.connect || web.http1 ? createWebListener(core, web) : createStreamListener(core);
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

  /** @internal The call path without HTTP/2, for another front of this server (see LocalCallPath). */
  localCallPath(): LocalCallPath {
    return {
      definitions: () => this.router.definitions(),
      lookup: (path, metadata) => this.router.lookup(path, metadata),
      run: this.runHandler,
      onError: this.options.onError,
      exposeErrors: this.options.exposeErrors,
      stopping: () => this.isStopping(),
    };
  }

  /**
   * Tells `observer` about every call and connection from now on (metrics, channelz, the
   * dashboard use this); returns a function that stops it. Costs nothing while none is added.
   */
  observe(observer: ServerObserver): () => void {
    return this.observers.add(observer);
  }

  /** Connections that finished their handshake and are open now (in-memory ones included). */
  get openSessions(): number {
    return this.sessions.size;
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
    return this.bind(parseAddress(address), credentials);
  }

  private async bind(target: ListenTarget, credentials: ServerCredentials, listen?: ListenOptions): Promise<number> {
    if (this.isStopping()) throw new SwitchboardError(ErrorCode.STOPPED, "cannot add a port to a stopped server");
    const listener = await bindListener(target, credentials, this.options, listen);
    if (this.isStopping()) {
      // stop() began while we were binding: it would never close this listener.
      listener.server.close();
      throw new SwitchboardError(ErrorCode.STOPPED, "the server was stopped while the port was being bound");
    }
    this.wire(listener.server, { counted: true, secure: credentials.secure });
    this.listeners.push(listener);
    return listener.port;
  }

  /**
   * An HTTP/2 server that listens nowhere: hand it connections with `emit("connection", duplex)`.
   * The in-memory test channel uses this; the server is started if it was not yet.
   */
  attachInMemory(): NetServer {
    const h2 =
      this.options.transport === "switchboard"
        ? createH2Server(engineOptions(this.options))
        : http2.createServer({ settings: http2Settings(this.options), maxHeaderListPairs: this.options.maxHeaderListPairs });
    // In-memory connections use no file descriptor and come from the process itself: not counted.
    this.wire(h2, { counted: false, secure: false });
    this.inMemory.push(h2);
    if (this.state === "new") this.start();
    return h2;
  }

  private wire(server: NetServer, o: { counted: boolean; secure: boolean }): void {
    // node:http2 (or node:tls) installed its own 'connection' listener when the server was
    // created; it runs from ours, so a connection over the limits never becomes a session
    // (and a TLS one never costs a handshake).
    const nodeListeners = server.listeners("connection") as ((socket: Duplex) => void)[];
    server.removeAllListeners("connection");
    // HTTP/1.1 (gRPC-Web, Connect) on the same port: by preface sniffing in cleartext, by ALPN over TLS.
    const http1 = this.options.web.http1 ? createHttp1Server(this.onStream, { maxHeaderSize: this.options.maxHeaderListSize, headersTimeoutMs: this.options.handshakeTimeoutMs }, o.secure) : undefined;
    server.on("connection", (socket: Duplex) => {
      if (o.counted && !this.limits.admit(socket as Socket, o.secure)) return;
      // Small frames must not wait for the peer's delayed ACK (Nagle): gRPC calls are latency-bound.
      (socket as Partial<Socket>).setNoDelay?.(true);
      this.track(socket);
      if (http1 === undefined || o.secure || (this.options.transport === "node" && !this.options.web.http1Explicit)) {
        for (const listener of nodeListeners) listener.call(server, socket);
        return;
      }
      sniffProtocol(socket, this.options.handshakeTimeoutMs, (kind) => {
        if (kind === "http1") http1.emit("connection", socket);
        else {
          // node:http2 reads the native handle and would miss the sniffed bytes: it gets a replaying Duplex.
          const h2 = this.options.transport === "node" && socket instanceof net.Socket ? replaySocket(socket) : socket;
          for (const listener of nodeListeners) listener.call(server, h2);
        }
      });
    });
    if (http1 !== undefined && o.secure) server.on("unknownProtocol", (socket: Duplex) => http1.emit("connection", socket));
    if (http1 !== undefined && !o.secure && this.options.transport === "node") server.on("session", adoptReplayedPeer);
    server.on("session", (session: SessionLike) => this.onSession(session));
    server.on("stream", this.onStream);
    reportServerErrors(server, this.options.onError);
  }

  /** Keeps a raw connection until it closes, so stop() can cut it. */
  private track(socket: Duplex): void {
    this.sockets.add(socket);
    socket.once("close", () => this.sockets.delete(socket));
  }

  private isStopping(): boolean {
    return this.state === "stopping" || this.state === "stopped";
  }

  /** Connections open now on this server's ports (in-memory ones not counted). */
  get openConnections(): number {
    return this.limits.open;
  }

  /** Connections refused so far by maxConnections / maxConnectionsPerIp. */
  get refusedConnections(): number {
    return this.limits.refused;
  }

  /**
   * Starts serving calls.
   *
   * - `start()` (grpcio): serve on the ports added with addInsecurePort / addSecurePort.
   * - `await start(host, port, options?)` (grpclib `Server.start`): binds `host:port` (host
   *   undefined: all interfaces; port 0: any free port), then serves; resolves to the bound port.
   * - `await start({ path })` / `await start({ sock })`: a Unix socket path or an already-bound socket.
   *
   * May be called once; a second call throws ERR_SB_ALREADY_STARTED.
   */
  start(): void;
  start(host: string | undefined, port: number | undefined, options?: StartOptions): Promise<number>;
  start(options: StartOptions): Promise<number>;
  start(hostOrOptions?: string | StartOptions, port?: number, options?: StartOptions): void | Promise<number> {
    if (arguments.length === 0) {
      this.claimStart();
      this.state = "serving";
      this.ownedAdmin?.start();
      return;
    }
    const opts = typeof hostOrOptions === "object" && hostOrOptions !== null ? hostOrOptions : (options ?? {});
    const host = typeof hostOrOptions === "string" ? hostOrOptions : undefined;
    try {
      const target = startTarget(host, typeof hostOrOptions === "object" ? undefined : port, opts);
      const listen = listenOptions(target, opts);
      this.claimStart();
      return this.bind(target, opts.ssl ?? ServerCredentials.insecure(), listen).then(
        (bound) => {
          if (this.state === "new") {
            this.state = "serving";
            this.ownedAdmin?.start();
          }
          return bound;
        },
        (err: unknown) => {
          // Nothing was started: the caller may fix the address and try again.
          this.startCalled = false;
          throw err;
        },
      );
    } catch (err) {
      return Promise.reject(err);
    }
  }

  private claimStart(): void {
    if (this.state !== "new" || this.startCalled) throw new SwitchboardError(ErrorCode.ALREADY_STARTED, "server.start() may only be called once");
    this.startCalled = true;
  }

  /** The ports bound so far, in the order they were added. */
  get ports(): number[] {
    return this.listeners.map((l) => l.port);
  }

  /** @internal channelz: each bound port's address as its net.Server reports it (a path for Unix sockets, null once closed). */
  get listenAddresses(): ReturnType<NetServer["address"]>[] {
    return this.listeners.map((l) => l.server.address());
  }

  /** Calls currently running. */
  get activeCalls(): number {
    return this.calls.size;
  }

  /** Where the server is in its life: new, serving (after start()), stopping (stop() began) or stopped. */
  get lifecycle(): "new" | "serving" | "stopping" | "stopped" {
    return this.state;
  }

  /** The admin server of the `admin` option once it listens (undefined without the option, or before start()). */
  get admin(): Promise<AdminServer> | undefined {
    return this.ownedAdmin?.ready;
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
      } catch (err) {
        // A failing hook must not keep the server from stopping.
        report(this.options.onError, err, { source: "server" });
      }
    }
    this.state = "stopping";
    this.idle.stop();
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
    // The dashboard stays up through the drain, so an operator can watch it.
    await this.ownedAdmin?.close();
    this.state = "stopped";
    this.markTerminated();
  }

  private onSession(session: SessionLike): void {
    this.sessions.add(session);
    // node forwards a session's 'error' to the server's 'sessionError' (see reportServerErrors).
    session.on("error", ignoreError);
    // Errors arrive when the socket may already be gone: learn the peer while it is there.
    if (this.options.onError) sessionInfo(session);
    session.once("close", () => {
      this.sessions.delete(session);
      if (this.observers.active) this.observers.sessionClosed(session);
    });
    if (this.observers.active) this.observers.sessionOpened(session);
    setUpSession(session, this.options);
    if (this.state === "stopping" || this.state === "stopped") session.close();
  }

  private run(call: ServerCall, def: MethodDefinition): void {
    this.calls.add(call);
    call.guard?.callStarted();
    if (isUnaryRequest(def.kind)) this.idle.watch(call);
    if (call.events?.has("recvRequest")) {
      recvRequest(call, def).then(
        (handler) => {
          if (call.finished) return;
          if (handler === def.handler) this.begin(call, def);
          else this.begin(call, { ...def, handler, unary: undefined });
        },
        (err: unknown) => this.fail(call, err ?? new Error("a RecvRequest listener failed without a reason")),
      );
      return;
    }
    this.begin(call, def);
  }

  private begin(call: ServerCall, def: MethodDefinition): void {
    // Unary-request handlers start once the whole request is in, like grpc-go's and C-core's.
    if (isUnaryRequest(def.kind)) call.whenRequestComplete(() => this.requestComplete(call, def));
    else this.invoke(call, def);
  }

  /** A unary-request call's request is in: it takes its slot (or is refused) and its handler starts. */
  private requestComplete(call: ServerCall, def: MethodDefinition): void {
    this.idle.unwatch(call);
    if (this.running >= this.options.maximumConcurrentRpcs) {
      call.complete(new RpcError(Code.RESOURCE_EXHAUSTED, "too many concurrent calls on this server"));
      return;
    }
    this.running++;
    this.slotted.add(call);
    this.invoke(call, def);
  }

  // ---- errors --------------------------------------------------------------------------

  /** A handler (or RecvRequest listener) failed: reported unless it is an RpcError, then sent as the call's status. */
  private fail(call: ServerCall, err: unknown): void {
    if (!(err instanceof RpcError) && !isCallAbort(err)) {
      report(this.options.onError, err, { source: "handler", method: call.method.path, peer: call.peer });
      if (!this.options.exposeErrors && call.code === Code.OK) err = new RpcError(Code.UNKNOWN, "Internal error", { cause: err });
    }
    call.complete(err);
  }

  private invoke(call: ServerCall, def: MethodDefinition): void {
    if (def.unary && !this.hasInterceptors && call.events === undefined) {
      // Fast path for plain unary handlers: no promises unless the handler returns one.
      let request: unknown;
      try {
        request = call.takeUnarySync();
      } catch (err) {
        return this.fail(call, err);
      }
      if (request !== NEEDS_ASYNC) {
        let response: unknown;
        try {
          response = def.unary(request, call);
        } catch (err) {
          return this.fail(call, err ?? new Error("handler threw without a reason"));
        }
        if (isThenable(response)) {
          response.then(
            (r) => call.respondUnary(r),
            (err: unknown) => this.fail(call, err ?? new Error("handler rejected without a reason")),
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
      this.fail(call, err ?? new Error("handler threw without a reason"));
      return;
    }
    if (isThenable(result)) {
      result.then(
        () => call.complete(),
        (err: unknown) => this.fail(call, err ?? new Error("handler rejected without a reason")),
      );
    } else {
      call.complete();
    }
  }

  private onCallEnd(call: ServerCall): void {
    if (this.calls.delete(call)) call.guard?.callEnded(call.resetByClient);
    if (!isUnaryRequest(call.method.kind)) {
      this.running--;
    } else {
      if (this.idle.size > 0) this.idle.unwatch(call);
      if (this.slotted.delete(call)) this.running--;
    }
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
