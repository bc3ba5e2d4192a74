// The server half shared by the byte-stream transports (TCP, unix sockets, stdio): one framed
// duplex stream whose messages go to a shared queue, and whose replies are written back in
// message order, so a pipelining client can match replies to requests by position.
import type { Readable, Writable } from "node:stream";
import { ErrorCode, SwitchboardError } from "../../errors.js";
import type { IncomingMessage } from "../transport.js";
import { encodeFrame, FrameDecoder, type Framing, type TooLargeReply } from "./framing.js";

/** Where a stream message came from; opaque to RPCServer, passed back to sendReply. */
export interface StreamContext {
  readonly connection: StreamConnection;
  /** @internal the reply slot of this message */
  readonly slot: ReplySlot;
}

interface ReplySlot {
  reply: Uint8Array | undefined;
  /** Handed to RPCServer (not only queued); only delivered slots are waited for on close. */
  delivered: boolean;
  closeAfter: boolean;
}

/** FIFO of incoming messages with waiting readers; closing resolves the readers with undefined. */
export class MessageQueue<T> {
  private items: T[] = [];
  private waiters: ((item: T | undefined) => void)[] = [];
  private closedFlag = false;

  get closed(): boolean {
    return this.closedFlag;
  }

  push(item: T): boolean {
    if (this.closedFlag) return false;
    const waiter = this.waiters.shift();
    if (waiter) waiter(item);
    else this.items.push(item);
    return true;
  }

  next(): Promise<T | undefined> {
    const item = this.items.shift();
    if (item !== undefined) return Promise.resolve(item);
    if (this.closedFlag) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Stops the queue; returns what was queued and never read. */
  close(): T[] {
    this.closedFlag = true;
    for (const waiter of this.waiters.splice(0)) waiter(undefined);
    return this.items.splice(0);
  }
}

export interface StreamConnectionOptions {
  framing: Framing;
  maxMessageBytes: number;
  tooLargeReply: TooLargeReply;
  /** Unanswered messages after which reading pauses (backpressure on pipelining clients). */
  maxPipelined: number;
}

/**
 * One framed stream. Messages are numbered by arrival; replies may come in any order from
 * RPCServer but are written in arrival order. An oversized message cannot be skipped safely,
 * so it gets the too-large reply (after the earlier replies) and the stream is ended.
 */
export class StreamConnection {
  private readonly decoder: FrameDecoder;
  private readonly slots: ReplySlot[] = [];
  private unanswered = 0;
  private reading = true;
  private inputEnded = false;
  private endedFlag = false;
  private readonly ended: Promise<void>;
  private resolveEnded!: () => void;

  constructor(
    private readonly input: Readable,
    private readonly output: Writable,
    private readonly options: StreamConnectionOptions,
    private readonly deliver: (message: IncomingMessage<StreamContext>) => boolean,
    /** Ends the output side (socket.end(), or nothing for process.stdout). */
    private readonly endOutput: () => void,
  ) {
    this.decoder = new FrameDecoder(options.framing, options.maxMessageBytes);
    this.ended = new Promise((resolve) => (this.resolveEnded = resolve));
    input.on("data", this.onData);
    input.once("end", () => {
      this.inputEnded = true;
      this.flush();
    });
    input.once("close", () => {
      this.inputEnded = true;
      this.flush();
    });
    output.once("close", () => this.finish());
    output.on("error", () => this.finish());
    output.on("drain", () => this.resumeIfRoom());
    input.on("error", () => this.finish());
  }

  /** Nothing to answer: no message waiting for its reply, no reply waiting to be written. */
  get idle(): boolean {
    return this.unanswered === 0 && this.slots.length === 0;
  }

  /** Resolves once the connection is finished (all replies written, or the peer went away). */
  get done(): Promise<void> {
    return this.ended;
  }

  private readonly onData = (chunk: Buffer | string): void => {
    const bytes = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
    for (const frame of this.decoder.push(bytes)) {
      if (!this.reading) break;
      if (frame.kind === "message") {
        const slot: ReplySlot = { reply: undefined, delivered: false, closeAfter: false };
        this.slots.push(slot);
        this.unanswered++;
        slot.delivered = this.deliver({ context: { connection: this, slot }, message: frame.message });
        if (!slot.delivered) this.stopReading();
      } else {
        const builder = this.options.tooLargeReply;
        this.slots.push({ reply: builder ? builder(frame.size, this.options.maxMessageBytes) : undefined, delivered: true, closeAfter: true });
        this.stopReading();
      }
    }
    // Backpressure: a client pipelining faster than we answer, or not reading its replies (the
    // output stays full), stops being read until it catches up.
    if (this.reading && (this.unanswered >= this.options.maxPipelined || this.output.writableNeedDrain)) this.input.pause();
    this.flush();
  };

  /** Stops reading (transport closing or stream unusable); delivered messages still get replies. */
  stopReading(): void {
    if (!this.reading) return;
    this.reading = false;
    this.input.off("data", this.onData);
    this.input.pause();
    // Messages read but never handed to RPCServer will get no reply: drop their slots so the
    // replies that do come are still written and the stream ends after them.
    let i = this.slots.length;
    while (i > 0 && !this.slots[i - 1]!.delivered) i--;
    this.unanswered -= this.slots.length - i;
    this.slots.length = i;
    this.inputEnded = true;
    this.flush();
  }

  reply(slot: ReplySlot, reply: Uint8Array): void {
    if (slot.reply !== undefined) throw new SwitchboardError(ErrorCode.TRANSPORT, "sendReply called twice for one message");
    if (this.options.framing === "line" && reply.includes(0x0a)) {
      throw new SwitchboardError(ErrorCode.TRANSPORT, "a line-framed reply cannot contain a newline byte");
    }
    slot.reply = reply;
    this.unanswered--;
    this.flush();
    this.resumeIfRoom();
  }

  private resumeIfRoom(): void {
    if (this.reading && !this.endedFlag && this.unanswered < this.options.maxPipelined && !this.output.writableNeedDrain && this.input.isPaused()) this.input.resume();
  }

  private flush(): void {
    if (this.endedFlag) return;
    while (this.slots.length > 0) {
      const head = this.slots[0]!;
      if (!head.delivered) break;
      if (head.reply === undefined && !head.closeAfter) break;
      this.slots.shift();
      if (head.reply !== undefined) this.output.write(encodeFrame(this.options.framing, head.reply));
      if (head.closeAfter) {
        this.end();
        return;
      }
    }
    if (this.inputEnded && this.slots.length === 0) this.end();
  }

  private end(): void {
    if (this.endedFlag) return;
    this.stopReading();
    this.endOutput();
    this.finish();
  }

  private finish(): void {
    if (this.endedFlag) return;
    this.endedFlag = true;
    this.slots.length = 0;
    this.input.off("data", this.onData);
    this.resolveEnded();
  }
}
