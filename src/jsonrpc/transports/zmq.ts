// JSON-RPC over ZeroMQ the way tinyrpc does it: the server is a ROUTER socket, the client a
// REQ socket. `zeromq` is loaded lazily (zmq-load.ts).
//
// Envelope: a ROUTER receives [identity, ...anything the peer put before its body, body].
// The LAST frame is the message and ALL earlier frames are the reply route, echoed unchanged:
// REQ sends [id, "", body], REQ with correlation [id, requestId, "", body], a bare DEALER
// [id, body]. Never assume a fixed frame count.
//
// Size limit: a message over `maxMessageBytes` never reaches RPCServer; the transport answers
// it itself, inside the same envelope, with `tooLargeReply` (default: a JSON-RPC -32600 error
// with id null, see framing.ts), so a lock-step REQ peer is not left hanging. Far larger
// messages (over `hardMaxMessageBytes`) are refused by libzmq itself (ZMQ_MAXMSGSIZE), which
// drops that peer's connection without a reply: that bound keeps a hostile peer from making
// the process buffer arbitrary amounts.
import { ErrorCode, SwitchboardError } from "../../errors.js";
import type { ClientTransport, IncomingMessage, ServerTransport } from "../transport.js";
import { jsonRpcTooLargeReply, limitOption, type TooLargeReply } from "./framing.js";
import { importZeromq, type Zmq } from "./zmq-load.js";

type Router = InstanceType<Zmq["Router"]>;
type Request = InstanceType<Zmq["Request"]>;

/** The frames before the message: where the reply goes. */
export type ZmqEnvelope = readonly Uint8Array[];

export interface ZmqServerOptions {
  /** Largest message answered normally (default 4 MiB); larger ones get `tooLargeReply`. */
  maxMessageBytes?: number;
  /** Reply to an oversized message (default: JSON-RPC -32600 error); null sends an empty frame. */
  tooLargeReply?: TooLargeReply;
  /** libzmq's own limit (ZMQ_MAXMSGSIZE): beyond it the peer is dropped (default 4x maxMessageBytes). */
  hardMaxMessageBytes?: number;
  /** How long close() lets unsent replies flush, in ms (default 500). */
  lingerMs?: number;
}

const EMPTY = new Uint8Array(0);

export class ZmqServerTransport implements ServerTransport<ZmqEnvelope> {
  private closed = false;
  /** zeromq allows one pending receive() per socket: receiveMessage() calls are chained. */
  private receiving: Promise<unknown> = Promise.resolve();
  /** Likewise one pending send(). */
  private sending: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly socket: Router,
    /** The bound endpoint as libzmq reports it (`tcp://127.0.0.1:PORT` after binding port 0). */
    readonly endpoint: string,
    private readonly maxMessageBytes: number,
    private readonly tooLargeReply: TooLargeReply,
  ) {}

  /** Binds a ROUTER socket, e.g. `bind("tcp://127.0.0.1:0")`; read the port from `.port`. */
  static async bind(endpoint: string, options: ZmqServerOptions = {}): Promise<ZmqServerTransport> {
    const max = limitOption(options.maxMessageBytes);
    const hard = options.hardMaxMessageBytes ?? Math.min(Number.MAX_SAFE_INTEGER, max * 4);
    if (!Number.isSafeInteger(hard) || hard < max) {
      throw new SwitchboardError(ErrorCode.BAD_OPTION, `hardMaxMessageBytes must be an integer >= maxMessageBytes (${max}), got ${String(hard)}`);
    }
    const zmq = await importZeromq();
    // Not `mandatory`: a reply to a peer that has gone away is dropped rather than blocking.
    const socket = new zmq.Router({ maxMessageSize: hard, linger: options.lingerMs ?? 500 });
    try {
      await socket.bind(endpoint);
    } catch (e) {
      socket.close();
      throw new SwitchboardError(ErrorCode.BIND_FAILED, `cannot bind ZeroMQ ROUTER to ${endpoint}: ${(e as Error).message}`, { cause: e });
    }
    const tooLarge = options.tooLargeReply === undefined ? jsonRpcTooLargeReply : options.tooLargeReply;
    return new ZmqServerTransport(socket, socket.lastEndpoint ?? endpoint, max, tooLarge);
  }

  /** The bound TCP port (undefined for ipc:// and inproc:// endpoints). */
  get port(): number | undefined {
    const m = /^tcp:\/\/.*:(\d+)$/.exec(this.endpoint);
    return m ? Number(m[1]) : undefined;
  }

  receiveMessage(): Promise<IncomingMessage<ZmqEnvelope> | undefined> {
    const next = this.receiving.then(() => this.receiveOne());
    this.receiving = next.catch(() => undefined);
    return next;
  }

  private async receiveOne(): Promise<IncomingMessage<ZmqEnvelope> | undefined> {
    for (;;) {
      if (this.closed) return undefined;
      let frames: Buffer[];
      try {
        frames = await this.socket.receive();
      } catch (e) {
        if (this.closed) return undefined;
        throw new SwitchboardError(ErrorCode.TRANSPORT, `ZeroMQ receive failed: ${(e as Error).message}`, { cause: e });
      }
      // A ROUTER always prepends the identity, so there are at least two frames.
      const message = frames[frames.length - 1]!;
      const context: ZmqEnvelope = frames.slice(0, -1);
      if (message.length > this.maxMessageBytes) {
        // Answered here, in the peer's envelope; then keep receiving.
        const reply = this.tooLargeReply ? this.tooLargeReply(message.length, this.maxMessageBytes) : EMPTY;
        try {
          await this.sendReply(context, reply);
        } catch (e) {
          if (this.closed) return undefined;
          // One peer's undeliverable refusal must not stop the receive loop; say so and go on.
          process.emitWarning(`ZeroMQ transport: could not refuse an oversized message: ${(e as Error).message}`, { code: "SWITCHBOARD_JSONRPC" });
        }
        continue;
      }
      return { context, message };
    }
  }

  /** Sends `[...envelope, reply]`; an empty reply is an empty last frame (a notification's answer). */
  sendReply(context: ZmqEnvelope, reply: Uint8Array): Promise<void> {
    if (this.closed) return Promise.reject(new SwitchboardError(ErrorCode.TRANSPORT_CLOSED, "ZeroMQ server transport is closed"));
    const next = this.sending.then(() => this.socket.send([...context, reply]));
    this.sending = next.catch(() => undefined);
    return next.catch((e: unknown) => {
      throw new SwitchboardError(this.closed ? ErrorCode.TRANSPORT_CLOSED : ErrorCode.TRANSPORT, `ZeroMQ send failed: ${(e as Error).message}`, { cause: e });
    });
  }

  /** Closes the socket; pending receiveMessage() calls resolve undefined. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.sending;
    this.socket.close();
  }
}

export interface ZmqClientOptions {
  /** Reply timeout per call in ms (default: wait forever, like tinyrpc). */
  timeoutMs?: number;
  /** Largest accepted reply (default 4 MiB; larger replies are dropped by libzmq, so the call times out). */
  maxMessageBytes?: number;
}

/**
 * A REQ socket. REQ is lock-step, so calls are queued and sent one at a time, and the reply
 * is always read (also for expectReply=false: the server answers notifications with an empty
 * frame). The socket uses ZMQ_REQ_RELAXED + ZMQ_REQ_CORRELATE: after a timeout the next
 * request can be sent at once (plain REQ would be stuck in EFSM), and a late reply to the
 * abandoned request is recognized by its request-id frame and discarded. Servers that echo
 * the whole envelope (ours, tinyrpc's) handle the extra frame transparently.
 */
export class ZmqClientTransport implements ClientTransport {
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(
    private readonly socket: Request,
    readonly endpoint: string,
    private readonly timeoutMs: number | undefined,
  ) {}

  static async connect(endpoint: string, options: ZmqClientOptions = {}): Promise<ZmqClientTransport> {
    if (options.timeoutMs !== undefined && !(Number.isSafeInteger(options.timeoutMs) && options.timeoutMs > 0)) {
      throw new SwitchboardError(ErrorCode.BAD_OPTION, `timeoutMs must be a positive integer, got ${String(options.timeoutMs)}`);
    }
    const max = limitOption(options.maxMessageBytes);
    const zmq = await importZeromq();
    const socket = new zmq.Request({
      correlate: true,
      relaxed: true,
      linger: 0,
      maxMessageSize: max,
      receiveTimeout: options.timeoutMs ?? -1,
    });
    try {
      socket.connect(endpoint);
    } catch (e) {
      socket.close();
      throw new SwitchboardError(ErrorCode.BAD_ADDRESS, `cannot connect ZeroMQ REQ to ${endpoint}: ${(e as Error).message}`, { cause: e });
    }
    return new ZmqClientTransport(socket, endpoint, options.timeoutMs);
  }

  sendMessage(message: Uint8Array, expectReply: boolean): Promise<Uint8Array | undefined> {
    const call = this.queue.then(() => this.exchange(message));
    this.queue = call.catch(() => undefined);
    return expectReply ? call : call.then(() => undefined);
  }

  private async exchange(message: Uint8Array): Promise<Uint8Array> {
    if (this.closed) throw new SwitchboardError(ErrorCode.TRANSPORT_CLOSED, "ZeroMQ client transport is closed");
    try {
      const deadline = this.timeoutMs === undefined ? undefined : performance.now() + this.timeoutMs;
      if (this.timeoutMs !== undefined) this.socket.receiveTimeout = this.timeoutMs;
      await this.socket.send(message);
      for (;;) {
        try {
          const frames = await this.socket.receive();
          return frames[frames.length - 1] ?? EMPTY;
        } catch (e) {
          // With `correlate`, a late reply to an earlier, timed-out request is dropped inside
          // the receive, which then reports EAGAIN at once: wait on for the time that is left.
          const left = deadline === undefined ? 0 : Math.ceil(deadline - performance.now());
          if (this.closed || (e as { code?: string }).code !== "EAGAIN" || left <= 0) throw e;
          this.socket.receiveTimeout = left;
        }
      }
    } catch (e) {
      if (this.closed) throw new SwitchboardError(ErrorCode.TRANSPORT_CLOSED, "ZeroMQ client transport is closed", { cause: e });
      if ((e as { code?: string }).code === "EAGAIN") {
        throw new SwitchboardError(ErrorCode.TRANSPORT, `no reply from ${this.endpoint} within ${this.timeoutMs} ms`, { cause: e });
      }
      throw new SwitchboardError(ErrorCode.TRANSPORT, `ZeroMQ request to ${this.endpoint} failed: ${(e as Error).message}`, { cause: e });
    }
  }

  /** Closes the socket; queued and in-flight calls fail with TRANSPORT_CLOSED. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.socket.close();
  }
}
