// One RPyC connection, either side: the protocol is symmetric, so a server's connection and a
// client's are the same class with a different root object.
//
// Every request from the peer gets exactly one reply or exception record (HANDLE_CLOSE aside,
// which rpyc never answers); requests run concurrently, so a handler awaiting a callback into
// the peer does not stop this connection from serving the peer's nested requests, and no
// connection ever waits for another. Only bytes that are not RPyC (a bad frame, bad brine, a
// message that is not (type, seq, payload)) end the connection.
import type { Duplex } from "node:stream";
import { ErrorCode, SwitchboardError } from "../errors.js";
import {
  HANDLE_BUFFITER,
  HANDLE_CALL,
  HANDLE_CALLATTR,
  HANDLE_CLOSE,
  HANDLE_CMP,
  HANDLE_CTXEXIT,
  HANDLE_DEL,
  HANDLE_DELATTR,
  HANDLE_DIR,
  HANDLE_GETATTR,
  HANDLE_GETROOT,
  HANDLE_HASH,
  HANDLE_INSPECT,
  HANDLE_INSTANCECHECK,
  HANDLE_OLDSLICING,
  HANDLE_PICKLE,
  HANDLE_PING,
  HANDLE_REPR,
  HANDLE_SETATTR,
  HANDLE_STR,
  LABEL_LOCAL_REF,
  LABEL_REMOTE_REF,
  LABEL_TUPLE,
  LABEL_VALUE,
  MSG_EXCEPTION,
  MSG_REPLY,
  MSG_REQUEST,
} from "./consts.js";
import { builtinDunders, compare, delAttr, dirOf, getAttr, hashOf, invoke, reprOf, setAttr, strOf } from "./access.js";
import { loadMessage } from "./brine.js";
import { LOCAL_ATTRS, resolveConfig, type ProtocolConfig } from "./config.js";
import { encodeMessageFrame, FrameDecoder } from "./frame.js";
import { makeNetref, netrefCell, type Netref, type NetrefOwner, type RefCell } from "./netref.js";
import { BoundMethod, instanceIdOf, isByRef, ObjectTable, type IdPack } from "./objects.js";
import { dumpException, loadException, PyError } from "./py-errors.js";
import { isDumpable, type PyValue } from "./values.js";

/** The proxy cache's key of an id_pack (ids may be bigints, so not a number). */
function proxyKey(name: unknown, cls: unknown, inst: unknown): string {
  return `${String(name)}|${String(cls)}|${String(inst)}`;
}

/** A handler's result that must not be answered (HANDLE_CLOSE). */
const NO_REPLY = Symbol("no reply");

interface Pending {
  resolve(value: unknown): void;
  reject(err: unknown): void;
  timer: NodeJS.Timeout | undefined;
}

interface ProxyEntry {
  readonly ref: WeakRef<Netref>;
  readonly cell: RefCell;
}

/** Where a connection's root object comes from: a Service instance, or any object. */
export interface ConnectionRoot {
  onConnect?(conn: Connection): void | Promise<void>;
  onDisconnect?(conn: Connection): void | Promise<void>;
}

export interface ConnectionOptions {
  config?: Partial<ProtocolConfig>;
}

/** Pauses reading when this much reply data waits to be written (a peer that does not read). */
const WRITE_HIGH_WATER = 4 * 1024 * 1024;
/**
 * Read bytes reach the decoder in slices of at most this size, and no further slice is decoded
 * while replies back up: a zlib frame inflates up to ~1000x, so one 64 KiB read of small
 * compressed requests could otherwise produce ~64 MiB of replies for a peer that never reads.
 */
const FEED_SLICE = 8 * 1024;

export class Connection implements NetrefOwner {
  readonly config: ProtocolConfig;
  private readonly decoder: FrameDecoder;
  private readonly objects = new ObjectTable();
  private readonly proxies = new Map<string, ProxyEntry>();
  private readonly finalizer = new FinalizationRegistry<{ key: string; cell: RefCell }>((held) => this.finalize(held));
  private readonly pending = new Map<number, Pending>();
  private seq = 0;
  private closedFlag = false;
  private started = false;
  private readonly closedPromise: Promise<void>;
  private resolveClosed!: () => void;
  /** Read bytes not yet decoded (kept while the peer is not reading our replies). */
  private unread: Buffer | undefined;
  /** Our replies wait beyond WRITE_HIGH_WATER: reading and decoding stop until 'drain'. */
  private writeBlocked = false;

  constructor(
    readonly stream: Duplex,
    readonly localRoot: object,
    options: ConnectionOptions = {},
  ) {
    this.config = resolveConfig(options.config);
    this.decoder = new FrameDecoder({ maxFrameBytes: this.config.maxFrameBytes });
    this.closedPromise = new Promise((resolve) => (this.resolveClosed = resolve));
  }

  /** Resolves once the connection has ended and its objects were released. */
  get closed(): Promise<void> {
    return this.closedPromise;
  }

  get isClosed(): boolean {
    return this.closedFlag;
  }

  /** How many of our objects the peer holds (diagnostics, leak tests). */
  get exportedCount(): number {
    return this.objects.size;
  }

  /** Whether the peer still holds `obj`: we sent it and the peer has not released it. */
  holds(obj: object): boolean {
    return this.objects.has(obj);
  }

  /** How many proxies of the peer's objects are alive here. */
  get proxyCount(): number {
    return this.proxies.size;
  }

  /** Runs the root's onConnect, then serves the stream until it ends. */
  async start(): Promise<void> {
    if (this.started) throw new SwitchboardError(ErrorCode.ALREADY_STARTED, "the connection was already started");
    this.started = true;
    const s = this.stream;
    s.on("error", (err) => this.fail(err));
    s.on("close", () => this.cleanup());
    s.on("end", () => this.cleanup());
    // the stream may have ended before we listened: its events are gone
    if (s.destroyed || s.readableEnded) {
      this.cleanup();
      return;
    }
    s.pause();
    const root = this.localRoot as ConnectionRoot;
    try {
      if (typeof root.onConnect === "function") await root.onConnect(this);
    } catch (err) {
      this.log("error", "onConnect failed; closing the connection", err);
      this.destroy();
      return;
    }
    if (this.closedFlag) return;
    s.on("data", (chunk: Buffer) => this.onData(chunk));
    s.on("drain", () => {
      if (this.closedFlag || !this.writeBlocked) return;
      this.writeBlocked = false;
      this.pump();
      if (!this.writeBlocked && !this.closedFlag) s.resume();
    });
    s.resume();
  }

  /** The peer's root object (HANDLE_GETROOT). */
  get root(): Promise<Netref> {
    return this.syncRequest(HANDLE_GETROOT, []) as Promise<Netref>;
  }

  /** HANDLE_PING: the peer echoes `data`. */
  async ping(data: string | Uint8Array = "x".repeat(520), timeoutSeconds = 3): Promise<void> {
    const echoed = await this.syncRequest(HANDLE_PING, [data], timeoutSeconds);
    const same = typeof data === "string" ? echoed === data : echoed instanceof Uint8Array && Buffer.compare(echoed, data) === 0;
    if (!same) throw new PyError("ValueError", ["echo mismatch"]);
  }

  /** Tells the peer (HANDLE_CLOSE, not answered), then ends the stream. Idempotent. */
  async close(): Promise<void> {
    if (!this.closedFlag && this.started) {
      try {
        this.sendRequest(HANDLE_CLOSE, [LABEL_VALUE, []]);
      } catch {
        // the stream is already gone
      }
      this.stream.end();
      // a peer that keeps the socket open must not keep us waiting
      const timer = setTimeout(() => this.destroy(), 1000);
      timer.unref();
      void this.closedPromise.then(() => clearTimeout(timer));
    } else if (!this.started) this.destroy();
    await this.closedPromise;
  }

  /** Ends the connection at once, without telling the peer. */
  destroy(): void {
    this.stream.destroy();
    this.cleanup();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  // ---- incoming ----

  private onData(chunk: Buffer): void {
    this.unread = this.unread === undefined ? chunk : Buffer.concat([this.unread, chunk]);
    this.pump();
  }

  /** Decodes and dispatches read bytes slice by slice until they are used up or replies back up. */
  private pump(): void {
    while (this.unread !== undefined && !this.closedFlag && !this.writeBlocked) {
      const all = this.unread;
      const slice = all.length > FEED_SLICE ? all.subarray(0, FEED_SLICE) : all;
      this.unread = slice === all ? undefined : all.subarray(FEED_SLICE);
      this.feed(slice);
    }
  }

  private feed(chunk: Buffer): void {
    let payloads: Buffer[];
    try {
      payloads = this.decoder.push(chunk);
    } catch (err) {
      return this.protocolError(err);
    }
    if (payloads.length === 0) return;
    if (payloads.length === 1) return this.dispatch(payloads[0]!);
    // several requests in one read: their immediate replies leave in one write
    const s = this.stream as Duplex & { cork?(): void; uncork?(): void };
    s.cork?.();
    try {
      for (const p of payloads) {
        if (this.closedFlag) break;
        this.dispatch(p);
      }
    } finally {
      s.uncork?.();
    }
  }

  private dispatch(payload: Buffer): void {
    let msg;
    try {
      msg = loadMessage(payload);
    } catch (err) {
      return this.protocolError(err);
    }
    const { msgType, seq, payload: body } = msg;
    if (msgType === MSG_REQUEST) return this.handleRequest(seq, body);
    if (msgType === MSG_REPLY || msgType === MSG_EXCEPTION) {
      const p = typeof seq === "number" ? this.pending.get(seq) : undefined;
      if (!p) return; // a reply nobody waits for (timed out): dropped, as rpyc does
      this.pending.delete(seq as number);
      if (p.timer) clearTimeout(p.timer);
      if (msgType === MSG_EXCEPTION) return p.reject(loadException(body));
      let value: unknown;
      try {
        value = this.unbox(body);
      } catch (err) {
        return p.reject(err);
      }
      return p.resolve(value);
    }
    this.protocolError(new SwitchboardError(ErrorCode.RPYC_PROTOCOL, `unknown rpyc message type ${msgType}`));
  }

  private handleRequest(seq: number | bigint, raw: PyValue): void {
    let result: unknown;
    try {
      if (!Array.isArray(raw) || raw.length !== 2) throw new PyError("ValueError", ["a request is (handler, args)"]);
      const args = this.unbox(raw[1]);
      if (!Array.isArray(args)) throw new PyError("TypeError", ["request arguments are not a tuple"]);
      result = this.runHandler(raw[0], args);
    } catch (err) {
      this.reply(seq, MSG_EXCEPTION, err);
      return;
    }
    if (result === NO_REPLY) return;
    if (result instanceof Promise)
      result.then(
        (value) => this.reply(seq, MSG_REPLY, value),
        (err) => this.reply(seq, MSG_EXCEPTION, err),
      );
    else this.reply(seq, MSG_REPLY, result);
  }

  private reply(seq: number | bigint, type: typeof MSG_REPLY | typeof MSG_EXCEPTION, value: unknown): void {
    if (this.closedFlag) return;
    let frame: Buffer;
    try {
      frame =
        type === MSG_REPLY
          ? encodeMessageFrame(MSG_REPLY, seq, this.box(value))
          : encodeMessageFrame(MSG_EXCEPTION, seq, dumpException(value, this.config));
    } catch (err) {
      // the result could not be encoded: the caller still gets an answer
      frame = encodeMessageFrame(MSG_EXCEPTION, seq, dumpException(err, this.config));
    }
    if (type === MSG_EXCEPTION) this.log("debug", `request ${String(seq)} failed`, value);
    this.write(frame);
  }

  private write(frame: Buffer): void {
    const s = this.stream;
    if (s.destroyed || s.writableEnded) return;
    s.write(frame);
    // a peer that sends but does not read: stop reading (and decoding) until it drains
    if (s.writableLength > WRITE_HIGH_WATER && !this.writeBlocked) {
      this.writeBlocked = true;
      s.pause();
    }
  }

  /** The local object a request is about. */
  private local(value: unknown): object {
    if ((typeof value === "object" && value !== null) || typeof value === "function") return value;
    throw new PyError("TypeError", ["the request does not name an object of this side"]);
  }

  private runHandler(handler: unknown, args: unknown[]): unknown {
    const cfg = this.config;
    switch (handler) {
      case HANDLE_PING:
        return args[0];
      case HANDLE_CLOSE:
        this.stream.end();
        this.cleanup();
        return NO_REPLY;
      case HANDLE_GETROOT:
        return this.localRoot;
      case HANDLE_GETATTR:
        return getAttr(cfg, this.local(args[0]), args[1]);
      case HANDLE_DELATTR:
        return delAttr(cfg, this.local(args[0]), args[1]);
      case HANDLE_SETATTR:
        return setAttr(cfg, this.local(args[0]), args[1], args[2]);
      case HANDLE_CALL:
        return invoke(this.local(args[0]), this.tuple(args[1]), this.kwargs(args[2]));
      case HANDLE_CALLATTR: {
        const fn = getAttr(cfg, this.local(args[0]), args[1]);
        return invoke(this.local(fn), this.tuple(args[2]), this.kwargs(args[3]));
      }
      case HANDLE_REPR:
        return reprOf(this.local(args[0]));
      case HANDLE_STR:
        return strOf(this.local(args[0]));
      case HANDLE_CMP:
        return compare(cfg, this.local(args[0]), args[1], args[2] ?? "__cmp__");
      case HANDLE_HASH: {
        const obj = this.local(args[0]);
        return hashOf(obj, instanceIdOf(obj));
      }
      case HANDLE_DIR:
        return dirOf(cfg, this.local(args[0]));
      case HANDLE_PICKLE:
        throw new PyError("ValueError", ["pickling is disabled"]);
      case HANDLE_DEL: {
        const count = args.length > 1 ? args[1] : 1;
        // Number("x") would be NaN, and a NaN count would keep the object forever
        if ((typeof count !== "number" || !Number.isInteger(count)) && typeof count !== "bigint") throw new PyError("TypeError", ["the HANDLE_DEL count must be an int"]);
        this.objects.release(this.local(args[0]), Number(count));
        return null;
      }
      case HANDLE_INSPECT:
        return this.inspect(args[0]);
      case HANDLE_BUFFITER:
        return this.buffiter(this.local(args[0]), Number(args[1]));
      case HANDLE_OLDSLICING:
        throw new PyError("NotImplementedError", ["HANDLE_OLDSLICING is Python 2's; use __getitem__ with a slice"]);
      case HANDLE_CTXEXIT: {
        const exit = getAttr(cfg, this.local(args[0]), "__exit__");
        // (type, value, traceback): no Python class exists on this side, so the exception stands for its type
        const exc = args[1] ?? null;
        return invoke(this.local(exit), [exc, exc, null], []);
      }
      case HANDLE_INSTANCECHECK:
        return false;
      default:
        throw new PyError("KeyError", [typeof handler === "number" || typeof handler === "bigint" ? handler : String(handler)]);
    }
  }

  private tuple(value: unknown): unknown[] {
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value)) throw new PyError("TypeError", ["arguments must be a tuple"]);
    return value;
  }

  private kwargs(value: unknown): Array<[string, unknown]> {
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value)) throw new PyError("TypeError", ["keyword arguments must be a tuple of (name, value) pairs"]);
    return value.map((pair: unknown) => {
      if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== "string") throw new PyError("TypeError", ["keyword arguments must be (name, value) pairs"]);
      return [pair[0], pair[1]] as [string, unknown];
    });
  }

  /** HANDLE_INSPECT: (name, doc) for each callable the object has, so the peer can build a proxy class. */
  private inspect(idPack: unknown): PyValue[] {
    const obj = this.objects.get(idPack);
    const names = new Set<string>();
    for (let p: object | null = obj; p !== null && p !== Object.prototype && p !== Function.prototype; p = Object.getPrototypeOf(p))
      for (const n of Object.getOwnPropertyNames(p)) {
        if (n === "constructor") continue;
        const d = Object.getOwnPropertyDescriptor(p, n);
        if (d && typeof d.value === "function") names.add(n);
      }
    for (const n of builtinDunders(obj)) names.add(n);
    if (typeof obj === "function" || obj instanceof BoundMethod || typeof (obj as { __call__?: unknown }).__call__ === "function") names.add("__call__");
    return [...names].filter((n) => !LOCAL_ATTRS.has(n)).map((n) => [n, null]);
  }

  /** HANDLE_BUFFITER: up to `count` items from an iterator, as a tuple. */
  private async buffiter(obj: object, count: number): Promise<unknown[]> {
    const out: unknown[] = [];
    const next = getAttr(this.config, obj, "__next__");
    for (let i = 0; i < count; i++) {
      try {
        out.push(await invoke(this.local(next), [], []));
      } catch (err) {
        if (err instanceof PyError && err.pyType === "StopIteration") break;
        throw err;
      }
    }
    return out;
  }

  // ---- boxing ----

  /** How a value travels (rpyc's _box): by value when it is brine, else by reference. */
  box(obj: unknown): PyValue {
    switch (typeof obj) {
      case "undefined":
      case "boolean":
      case "number":
      case "bigint":
      case "string":
        return [LABEL_VALUE, obj as PyValue];
      case "function": {
        const cell = netrefCell(obj);
        if (cell && cell.owner === this) return [LABEL_LOCAL_REF, cell.idPack];
        return [LABEL_REMOTE_REF, this.objects.export(obj)];
      }
      case "object":
        break;
      default:
        return [LABEL_REMOTE_REF, this.objects.export(Object(obj) as object)];
    }
    if (obj === null) return [LABEL_VALUE, null];
    if (isByRef(obj)) return [LABEL_REMOTE_REF, this.objects.export(obj)];
    if (Array.isArray(obj)) {
      if (isDumpable(obj)) return [LABEL_VALUE, obj as PyValue];
      return [LABEL_TUPLE, obj.map((item) => this.box(item))];
    }
    if (isDumpable(obj)) return [LABEL_VALUE, obj as PyValue];
    return [LABEL_REMOTE_REF, this.objects.export(obj)];
  }

  /** rpyc's _unbox: a value, a tuple of boxes, one of our own objects, or a proxy of the peer's. */
  unbox(pkg: PyValue): unknown {
    if (!Array.isArray(pkg) || pkg.length !== 2) throw new PyError("ValueError", ["a box is (label, value)"]);
    const [label, value] = pkg as readonly PyValue[];
    switch (label) {
      case LABEL_VALUE:
        return value;
      case LABEL_TUPLE:
        if (!Array.isArray(value)) throw new PyError("ValueError", ["LABEL_TUPLE holds a tuple of boxes"]);
        return value.map((item: PyValue) => this.unbox(item));
      case LABEL_LOCAL_REF:
        return this.objects.get(value);
      case LABEL_REMOTE_REF:
        return this.proxyOf(value);
      default:
        throw new PyError("ValueError", [`invalid label ${String(label)}`]);
    }
  }

  private proxyOf(value: PyValue): Netref {
    if (!Array.isArray(value) || value.length !== 3) throw new PyError("ValueError", ["an id_pack is (name, class_id, instance_id)"]);
    const [name, cls, inst] = value as readonly PyValue[];
    const key = proxyKey(name, cls, inst);
    const entry = this.proxies.get(key);
    const existing = entry?.ref.deref();
    if (entry && existing && !entry.cell.released) {
      entry.cell.refcount++;
      return existing;
    }
    const cell: RefCell = { owner: this, idPack: [String(name), cls as number, inst as number] as IdPack, refcount: 1, released: false };
    const proxy = makeNetref(cell);
    this.proxies.set(key, { ref: new WeakRef(proxy), cell });
    this.finalizer.register(proxy, { key, cell }, cell);
    return proxy;
  }

  /** A proxy was garbage-collected: give the peer its references back. */
  private finalize({ key, cell }: { key: string; cell: RefCell }): void {
    if (this.proxies.get(key)?.cell === cell) this.proxies.delete(key);
    this.releaseCell(cell);
  }

  private releaseCell(cell: RefCell): void {
    if (cell.released) return;
    cell.released = true;
    if (this.closedFlag) return;
    try {
      this.sendRequest(HANDLE_DEL, [LABEL_TUPLE, [[LABEL_LOCAL_REF, cell.idPack as unknown as PyValue], [LABEL_VALUE, cell.refcount]]]);
    } catch (err) {
      this.log("debug", "HANDLE_DEL not sent", err);
    }
  }

  /** Releases a proxy now (HANDLE_DEL with every reference it holds); using it afterwards throws. */
  release(ref: Netref): void {
    const cell = netrefCell(ref);
    if (!cell || cell.owner !== this) throw new TypeError("not a netref of this connection");
    const key = proxyKey(...cell.idPack);
    if (this.proxies.get(key)?.cell === cell) this.proxies.delete(key);
    this.finalizer.unregister(cell);
    this.releaseCell(cell);
  }

  // ---- outgoing ----

  private sendRequest(handler: number, boxedArgs: PyValue): number {
    if (this.closedFlag) throw new SwitchboardError(ErrorCode.RPYC_CLOSED, "the rpyc connection is closed");
    const seq = this.seq++;
    this.write(encodeMessageFrame(MSG_REQUEST, seq, [handler, boxedArgs]));
    return seq;
  }

  /** Sends a request and waits for its answer (at most syncRequestTimeout seconds, or `timeoutSeconds`). */
  syncRequest(handler: number, args: readonly unknown[], timeoutSeconds = this.config.syncRequestTimeout): Promise<unknown> {
    return new Promise((resolve, reject) => {
      let seq: number;
      try {
        seq = this.sendRequest(handler, this.box([...args]));
      } catch (err) {
        reject(err);
        return;
      }
      const pending: Pending = { resolve, reject, timer: undefined };
      if (Number.isFinite(timeoutSeconds) && timeoutSeconds > 0) {
        pending.timer = setTimeout(() => {
          this.pending.delete(seq);
          reject(new PyError("TimeoutError", ["result expired"]));
        }, timeoutSeconds * 1000);
      }
      this.pending.set(seq, pending);
    });
  }

  // ---- end of life ----

  private protocolError(err: unknown): void {
    this.log("warn", "not RPyC: closing the connection", err);
    this.destroy();
  }

  private fail(err: Error): void {
    const code = (err as { code?: string }).code;
    if (code !== "ECONNRESET" && code !== "EPIPE") this.log("warn", "connection error", err);
    this.cleanup();
  }

  private cleanup(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    this.unread = undefined;
    if (!this.stream.destroyed) this.stream.destroy();
    const closedError = new SwitchboardError(ErrorCode.RPYC_CLOSED, "the rpyc connection closed");
    for (const p of this.pending.values()) {
      if (p.timer) clearTimeout(p.timer);
      p.reject(closedError);
    }
    this.pending.clear();
    this.objects.clear();
    for (const { cell } of this.proxies.values()) {
      cell.released = true;
      this.finalizer.unregister(cell);
    }
    this.proxies.clear();
    const root = this.localRoot as ConnectionRoot;
    if (!this.started || typeof root.onDisconnect !== "function") return this.resolveClosed();
    // onDisconnect may be sync or async, and may throw either way: `closed` resolves after it all the same
    void (async () => root.onDisconnect!(this))()
      .catch((err: unknown) => this.log("error", "onDisconnect failed", err))
      .then(() => this.resolveClosed());
  }

  private log(level: "debug" | "warn" | "error", message: string, err?: unknown): void {
    const logger = this.config.logger;
    const fn = logger?.[level];
    if (fn) fn.call(logger, `${this.config.connid ?? "rpyc"}: ${message}`, err);
  }
}
