import * as http2 from "node:http2";
import type { Http2Session } from "node:http2";
import * as net from "node:net";
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
import { parseAddress, type ListenHandle, type ListenTarget } from "./address.js";
import { ServerCredentials } from "./credentials.js";
import { bindListener, http2Settings, reusePortSupported, type Listener, type ListenOptions } from "./listener.js";
import { resolveOptions, type ResolvedServerOptions, type ServerErrorContext, type ServerOptions } from "./options.js";
import { keepAlive } from "../http2/keepalive.js";
import { ConnectionGuard } from "./connection-guard.js";
import { sessionInfo } from "./session-info.js";

/**
 * Options of the grpclib form `server.start(host, port, options)` / `server.start(options)`
 * (grpclib `Server.start(host, port, *, path, ssl, reuse_address, reuse_port, sock, backlog)`).
 */
export interface StartOptions {
  /** A Unix socket path to listen on (grpclib `path=`); host and port are omitted then. */
  path?: string;
  /**
   * An already-bound socket (grpclib `sock=`): a listening `net.Server` (its socket is taken
   * over: stop the Switchboard server, not the net.Server) or `{ fd }`, e.g. `{ fd: 3 }` from
   * systemd socket activation. Host, port and path are omitted then.
   */
  sock?: ListenHandle;
  /** Pending connections the kernel queues (listen(2) backlog; Node's default is 511, grpclib's 100). */
  backlog?: number;
  /** TLS for this port (grpclib `ssl=`); plaintext when omitted. */
  ssl?: ServerCredentials;
  /** SO_REUSEADDR (grpclib `reuse_address=`). Node.js always sets it on TCP listening sockets on Unix, so only `false` is refused. */
  reuseAddress?: boolean;
  /** SO_REUSEPORT (grpclib `reuse_port=`): several servers share one TCP port. Needs Node.js >= 22.12 on Linux or BSD; refused (ERR_SB_BAD_OPTION) elsewhere. */
  reusePort?: boolean;
}

/** Progress of a unary-request call whose request is not complete yet (see Server.sweepIdle). */
interface IdleWatch {
  /** DATA chunks seen so far, and at the last sweep. */
  chunks: number;
  seen: number;
  /** performance.now() when progress was last seen. */
  since: number;
  readonly onData: () => void;
}

/** GOAWAY debug data for a connection refused by the limits. */
const TOO_MANY_CONNECTIONS = "too_many_connections";
/** How long a refused plaintext connection may linger so its GOAWAY is read, not lost to a reset. */
const REFUSAL_LINGER_MS = 1000;

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
  /** Unary-request calls whose request is not complete: no slot yet, watched for idleness. */
  private readonly waiting = new Map<ServerCall, IdleWatch | null>();
  /** Unary-request calls that took a maximumConcurrentRpcs slot (streaming-request calls always hold one). */
  private readonly slotted = new Set<ServerCall>();
  private sweepTimer: NodeJS.Timeout | undefined;
  /** A start() is binding or done: a second one throws. */
  private startCalled = false;
  private connectionCount = 0;
  private readonly connectionsPerIp = new Map<string, number>();
  private refusedCount = 0;

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
      statusDetailsCodec: this.options.statusDetailsCodec,
      reportError: this.options.onError ? (err, call) => this.report(err, { source: "handler", method: call.method.path, peer: call.peer }) : undefined,
    };
    const core: DispatchCore = {
      router: this.router,
      env,
      maxHeaderListSize: this.options.maxHeaderListSize,
      maxDeadlineMs: this.options.maxDeadlineMs,
      codecs: this.options.codecs,
      refusal: () => (this.state === "serving" ? undefined : this.state === "new" ? "server is not started" : "server is shutting down"),
      admit: (def) => {
        if (this.running >= this.options.maximumConcurrentRpcs) return false;
        // A unary-request call takes its slot once its request is complete (requestComplete).
        if (!isUnaryRequest(def.kind)) this.running++;
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
  attachInMemory(): http2.Http2Server {
    const h2 = http2.createServer({ settings: http2Settings(this.options), maxHeaderListPairs: this.options.maxHeaderListPairs });
    // In-memory connections use no file descriptor and come from the process itself: not counted.
    this.wire(h2, { counted: false, secure: false });
    this.inMemory.push(h2);
    if (this.state === "new") this.start();
    return h2;
  }

  private wire(server: http2.Http2Server | http2.Http2SecureServer, o: { counted: boolean; secure: boolean }): void {
    // node:http2 (or node:tls) installed its own 'connection' listener when the server was
    // created; it runs from ours, so a connection over the limits never becomes a session
    // (and a TLS one never costs a handshake).
    const nodeListeners = server.listeners("connection") as ((socket: Duplex) => void)[];
    server.removeAllListeners("connection");
    server.on("connection", (socket: Duplex) => {
      if (o.counted && !this.admitConnection(socket as Socket, o.secure)) return;
      for (const listener of nodeListeners) listener.call(server, socket);
      // Small frames must not wait for the peer's delayed ACK (Nagle): gRPC calls are latency-bound.
      (socket as Partial<Socket>).setNoDelay?.(true);
      this.sockets.add(socket);
      socket.once("close", () => this.sockets.delete(socket));
    });
    server.on("session", (session: Http2Session) => this.onSession(session));
    server.on("stream", this.onStream);
    // Errors of one connection or handshake must never reach the process as an unhandled
    // 'error'; they go to onError. Socket errors (ECONNRESET, EPIPE) reach us as the error
    // node destroys the session with.
    server.on("error", (err: Error) => this.report(err, { source: "server" }));
    server.on("sessionError", (err: Error, session: Http2Session) => {
      if (this.options.onError) this.report(err, { source: isSocketError(err) ? "socket" : "session", peer: peerOfSession(session) });
    });
    server.on("tlsClientError", (err: Error, socket: Socket) => {
      if (this.options.onError) this.report(err, { source: "tls", peer: peerOfSocket(socket) });
    });
  }

  private isStopping(): boolean {
    return this.state === "stopping" || this.state === "stopped";
  }

  /** Counts a new connection against maxConnections / maxConnectionsPerIp; refuses it when over. */
  private admitConnection(socket: Socket, secure: boolean): boolean {
    const { maxConnections, maxConnectionsPerIp } = this.options;
    // Unix-socket clients have no address: only the total applies to them.
    const perIp = Number.isFinite(maxConnectionsPerIp) && socket.remoteAddress !== undefined;
    const ip = perIp ? normalizeIp(socket.remoteAddress!) : "";
    const fromIp = perIp ? (this.connectionsPerIp.get(ip) ?? 0) : 0;
    if (this.connectionCount >= maxConnections || fromIp >= maxConnectionsPerIp) {
      this.refuse(socket, secure);
      return false;
    }
    this.connectionCount++;
    if (perIp) this.connectionsPerIp.set(ip, fromIp + 1);
    socket.once("close", () => {
      this.connectionCount--;
      if (!perIp) return;
      const n = (this.connectionsPerIp.get(ip) ?? 1) - 1;
      if (n > 0) this.connectionsPerIp.set(ip, n);
      else this.connectionsPerIp.delete(ip);
    });
    return true;
  }

  /**
   * Turns a connection away before it becomes a session: plaintext gets the server preface
   * and GOAWAY ENHANCE_YOUR_CALM "too_many_connections" (an HTTP/2 client sees why, and
   * gRPC clients back off); TLS is closed before its handshake, which would cost more than
   * the answer is worth.
   */
  private refuse(socket: Socket, secure: boolean): void {
    this.refusedCount++;
    socket.on("error", ignoreError);
    // Tracked like any connection, so stop() does not wait for its linger.
    this.sockets.add(socket);
    socket.once("close", () => this.sockets.delete(socket));
    if (secure) {
      socket.destroy();
      return;
    }
    // Read and drop what the client sends: closing with unread input would reset the
    // connection and could destroy the GOAWAY before the client reads it.
    socket.resume();
    socket.end(REFUSAL);
    const timer = setTimeout(() => socket.destroy(), REFUSAL_LINGER_MS);
    timer.unref();
    socket.once("close", () => clearTimeout(timer));
  }

  /** Connections open now on this server's ports (in-memory ones not counted). */
  get openConnections(): number {
    return this.connectionCount;
  }

  /** Connections refused so far by maxConnections / maxConnectionsPerIp. */
  get refusedConnections(): number {
    return this.refusedCount;
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
          if (this.state === "new") this.state = "serving";
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
      } catch (err) {
        // A failing hook must not keep the server from stopping.
        this.report(err, { source: "server" });
      }
    }
    this.state = "stopping";
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
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
    // node forwards a session's 'error' to the server's 'sessionError' (reported in wire()).
    session.on("error", ignoreError);
    // Errors arrive when the socket may already be gone: learn the peer while it is there.
    if (this.options.onError) sessionInfo(session);
    session.once("close", () => this.sessions.delete(session));
    if (this.options.connectionWindowSize !== undefined) {
      try {
        session.setLocalWindowSize(this.options.connectionWindowSize);
      } catch {
        // Only fails on a session that is already closing.
      }
    }
    const pings = keepAlive(session, this.options.keepaliveTimeMs, this.options.keepaliveTimeoutMs, { maxPingsWithoutData: this.options.keepaliveMaxPingsWithoutData });
    new ConnectionGuard(session, this.options.guard, { afterMs: this.options.handshakeTimeoutMs, timeoutMs: this.options.keepaliveTimeoutMs }, pings);
    // Until the client's SETTINGS arrive, silence ends the connection (a peer that never speaks).
    session.setTimeout(this.options.handshakeTimeoutMs, () => session.destroy());
    session.once("remoteSettings", () => session.setTimeout(0));
    if (this.state === "stopping" || this.state === "stopped") session.close();
  }

  private run(call: ServerCall, def: MethodDefinition): void {
    this.calls.add(call);
    call.guard?.callStarted();
    if (isUnaryRequest(def.kind)) this.watch(call);
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
    this.unwatch(call);
    if (this.running >= this.options.maximumConcurrentRpcs) {
      call.complete(new RpcError(Code.RESOURCE_EXHAUSTED, "too many concurrent calls on this server"));
      return;
    }
    this.running++;
    this.slotted.add(call);
    this.invoke(call, def);
  }

  // ---- request idle timeout -------------------------------------------------------------
  //
  // One sweep over the waiting calls every timeout/8 (at most 1 s) instead of a timer per
  // call: a call whose request completes at once (nearly all) costs one Map insert and
  // delete. A call still waiting at a sweep gets a 'data' counter; one that shows no new
  // DATA for requestIdleTimeoutMs is ended. It ends between the timeout and the timeout plus
  // two sweep intervals after its last progress, never earlier.

  private watch(call: ServerCall): void {
    if (!Number.isFinite(this.options.requestIdleTimeoutMs)) return;
    this.waiting.set(call, null);
    if (this.sweepTimer === undefined) {
      this.sweepTimer = setInterval(() => this.sweepIdle(), Math.min(1000, Math.max(10, this.options.requestIdleTimeoutMs / 8)));
      this.sweepTimer.unref();
    }
  }

  private unwatch(call: ServerCall): void {
    const watch = this.waiting.get(call);
    if (watch === undefined) return;
    this.waiting.delete(call);
    if (watch) call.stream.off("data", watch.onData);
  }

  private sweepIdle(): void {
    const now = performance.now();
    const limit = this.options.requestIdleTimeoutMs;
    for (const [call, watch] of this.waiting) {
      if (watch === null) {
        const w: IdleWatch = { chunks: 0, seen: 0, since: now, onData: () => w.chunks++ };
        call.stream.on("data", w.onData);
        this.waiting.set(call, w);
      } else if (watch.chunks !== watch.seen) {
        watch.seen = watch.chunks;
        watch.since = now;
      } else if (now - watch.since >= limit) {
        this.expireIdle(call);
      }
    }
  }

  /** The request made no progress for requestIdleTimeoutMs: CANCELLED, then the stream is reset. */
  private expireIdle(call: ServerCall): void {
    this.unwatch(call);
    const reason = new RpcError(
      Code.CANCELLED,
      `request idle for ${this.options.requestIdleTimeoutMs} ms: no request data and no end of stream (requestIdleTimeoutMs)`,
    );
    // Trailers-only status with END_STREAM; the client, which has not ended its side, then gets RST_STREAM NO_ERROR.
    call.finish(statusOf(reason), undefined);
    call.cancelled(reason);
  }

  // ---- errors --------------------------------------------------------------------------

  /** A handler (or RecvRequest listener) failed: reported unless it is an RpcError, then sent as the call's status. */
  private fail(call: ServerCall, err: unknown): void {
    if (!(err instanceof RpcError) && !isCallAbort(err)) {
      this.report(err, { source: "handler", method: call.method.path, peer: call.peer });
      if (!this.options.exposeErrors && call.code === Code.OK) err = new RpcError(Code.UNKNOWN, "Internal error", { cause: err });
    }
    call.complete(err);
  }

  /** Hands an error to onError; a hook that throws or rejects becomes a process warning, never a crash. */
  private report(err: unknown, context: ServerErrorContext): void {
    const hook = this.options.onError;
    if (hook === undefined) return;
    try {
      const result = hook(err, context);
      if (isThenable(result)) result.then(undefined, hookFailed);
    } catch (hookErr) {
      hookFailed(hookErr);
    }
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
      if (this.waiting.size > 0) this.unwatch(call);
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

/** Where start(host, port, options) / start(options) binds. */
function startTarget(host: string | undefined, port: number | undefined, o: StartOptions): ListenTarget {
  const bad = (message: string) => new SwitchboardError(ErrorCode.BAD_OPTION, `server.start(): ${message}`);
  if (o.path !== undefined && o.sock !== undefined) throw bad("give path or sock, not both");
  if (o.path !== undefined || o.sock !== undefined) {
    if (host !== undefined || port !== undefined) throw bad(`host and port must be omitted with ${o.path !== undefined ? "path" : "sock"}`);
    if (o.path !== undefined) {
      if (typeof o.path !== "string" || o.path === "") throw bad("path must be a non-empty string");
      return { kind: "unix", path: o.path };
    }
    const sock = o.sock!;
    if (sock instanceof net.Server) {
      if (!sock.listening) throw bad("sock must be a listening net.Server (call listen() on it first)");
    } else if (typeof sock !== "object" || sock === null || !Number.isInteger((sock as { fd?: unknown }).fd) || (sock as { fd: number }).fd < 0) {
      throw bad("sock must be a listening net.Server or { fd } with a bound socket's file descriptor");
    }
    return { kind: "handle", handle: sock };
  }
  if (port === undefined) throw bad("needs a port (0 for any free one), a path or a sock");
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw bad(`bad port ${String(port)}`);
  if (host !== undefined && typeof host !== "string") throw bad("host must be a string or undefined");
  return { kind: "tcp", host: host === "" ? undefined : host, port };
}

/** The socket options of start(), checked against what this Node.js can do. */
function listenOptions(target: ListenTarget, o: StartOptions): ListenOptions {
  const bad = (message: string) => new SwitchboardError(ErrorCode.BAD_OPTION, `server.start(): ${message}`);
  const out: ListenOptions = {};
  if (o.backlog !== undefined) {
    if (!Number.isInteger(o.backlog) || o.backlog <= 0) throw bad(`backlog must be a positive integer, not ${String(o.backlog)}`);
    out.backlog = o.backlog;
  }
  if (o.reuseAddress === false) throw bad("reuseAddress: false cannot be honoured: Node.js (libuv) always sets SO_REUSEADDR on TCP listening sockets");
  if (o.reusePort) {
    if (target.kind !== "tcp") throw bad("reusePort applies to TCP host/port listeners only");
    if (!reusePortSupported()) throw bad(`reusePort needs Node.js >= 22.12 (or >= 23.1); this is ${process.versions.node}`);
    out.reusePort = true;
  }
  return out;
}

/** The server preface (empty SETTINGS) and GOAWAY(last stream 0, ENHANCE_YOUR_CALM, "too_many_connections"). */
const REFUSAL: Buffer = (() => {
  const debug = Buffer.from(TOO_MANY_CONNECTIONS);
  const settings = Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]);
  const goaway = Buffer.alloc(9 + 8 + debug.length);
  goaway.writeUIntBE(8 + debug.length, 0, 3);
  goaway[3] = 7; // GOAWAY
  goaway.writeUInt32BE(0, 9); // last stream id
  goaway.writeUInt32BE(http2.constants.NGHTTP2_ENHANCE_YOUR_CALM, 13);
  debug.copy(goaway, 17);
  return Buffer.concat([settings, goaway]);
})();

/** IPv4 clients of a dual-stack listener appear as ::ffff:a.b.c.d; one address, one count. */
function normalizeIp(address: string): string {
  return address.startsWith("::ffff:") ? address.slice(7) : address;
}

/** An error of the connection's socket (read/write system call) rather than of HTTP/2. */
function isSocketError(err: Error): boolean {
  return typeof (err as NodeJS.ErrnoException).syscall === "string";
}

function peerOfSession(session: Http2Session): string | undefined {
  try {
    return sessionInfo(session).peer;
  } catch {
    return undefined;
  }
}

function peerOfSocket(socket: Socket | undefined): string | undefined {
  const address = socket?.remoteAddress;
  if (address === undefined) return undefined;
  return socket!.remoteFamily === "IPv6" ? `ipv6:[${address}]:${socket!.remotePort}` : `ipv4:${address}:${socket!.remotePort}`;
}

/** An AbortError whose cause is the call's own end (the handler awaited something tied to ctx.signal). */
function isCallAbort(err: unknown): boolean {
  return err instanceof Error && err.name === "AbortError" && err.cause instanceof RpcError;
}

function hookFailed(err: unknown): void {
  process.emitWarning(`the server's onError hook failed: ${err instanceof Error ? err.message : String(err)}`, { type: "SwitchboardWarning", code: "SB_ON_ERROR_FAILED" });
}

function ignoreError(): void {
  // Reported elsewhere (or nothing to report): a listener only keeps 'error' from being unhandled.
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
