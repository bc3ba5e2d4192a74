// The client half shared by the byte-stream transports: frames requests onto a writable
// stream and matches replies from the readable one by order. The server answers every
// message (an empty frame for a notification), so even a message sent without expecting a
// reply occupies its place in the reply order and its reply is read and dropped.
import type { Readable, Writable } from "node:stream";
import { ErrorCode, SwitchboardError } from "../../errors.js";
import type { ClientTransport } from "../transport.js";
import { encodeFrame, FrameDecoder, framingOption, limitOption, type Framing } from "./framing.js";

export interface StreamClientOptions {
  /** Must match the server: `"line"` (default) or `"length"`. */
  framing?: Framing;
  /** Largest accepted reply (default 4 MiB); a larger one fails the call and closes the stream. */
  maxMessageBytes?: number;
  /** Per-call reply timeout in ms (default none). A late reply is still read and dropped. */
  timeoutMs?: number;
}

/** Validates client options (before connecting, so a bad option never opens a connection). */
export function checkStreamClientOptions(options: StreamClientOptions): void {
  framingOption(options.framing);
  limitOption(options.maxMessageBytes);
  if (options.timeoutMs !== undefined && !(Number.isFinite(options.timeoutMs) && options.timeoutMs > 0)) {
    throw new SwitchboardError(ErrorCode.BAD_OPTION, `timeoutMs must be a positive number, got ${String(options.timeoutMs)}`);
  }
}

interface Pending {
  resolve: ((reply: Uint8Array) => void) | undefined;
  reject: ((error: Error) => void) | undefined;
  timer: NodeJS.Timeout | undefined;
}

export class StreamClient implements ClientTransport {
  private readonly framing: Framing;
  private readonly decoder: FrameDecoder;
  private readonly timeoutMs: number | undefined;
  private readonly pending: Pending[] = [];
  private closedReason: Error | undefined;

  protected constructor(
    private readonly input: Readable,
    private readonly output: Writable,
    options: StreamClientOptions,
    private readonly teardown: () => void,
  ) {
    checkStreamClientOptions(options);
    this.framing = framingOption(options.framing);
    this.decoder = new FrameDecoder(this.framing, limitOption(options.maxMessageBytes));
    this.timeoutMs = options.timeoutMs;
    input.on("data", (chunk: Buffer) => this.onData(chunk));
    const gone = (e?: Error) =>
      this.fail(new SwitchboardError(ErrorCode.TRANSPORT_CLOSED, `connection closed by the peer${e ? `: ${e.message}` : ""}`, e ? { cause: e } : undefined));
    input.once("end", () => gone());
    input.once("close", () => gone());
    input.on("error", gone);
    output.on("error", gone);
  }

  private onData(chunk: Buffer): void {
    for (const frame of this.decoder.push(chunk)) {
      if (frame.kind === "oversized") {
        this.fail(new SwitchboardError(ErrorCode.MESSAGE_TOO_LARGE, `reply of ${frame.size} bytes exceeds the limit of ${this.decoder.maxMessageBytes}`));
        this.teardown();
        return;
      }
      const waiter = this.pending.shift();
      if (!waiter) {
        this.fail(new SwitchboardError(ErrorCode.BAD_REPLY, "the server sent a reply to no request"));
        this.teardown();
        return;
      }
      if (waiter.timer) clearTimeout(waiter.timer);
      waiter.resolve?.(Buffer.from(frame.message)); // a copy: the frame may view a shared chunk
    }
  }

  private fail(error: Error): void {
    if (!this.closedReason) this.closedReason = error;
    for (const waiter of this.pending.splice(0)) {
      if (waiter.timer) clearTimeout(waiter.timer);
      waiter.reject?.(this.closedReason);
    }
  }

  sendMessage(message: Uint8Array, expectReply: boolean): Promise<Uint8Array | undefined> {
    if (this.closedReason) return Promise.reject(this.closedReason);
    if (this.framing === "line" && message.includes(0x0a)) {
      return Promise.reject(new SwitchboardError(ErrorCode.TRANSPORT, "a line-framed message cannot contain a newline byte"));
    }
    const waiter: Pending = { resolve: undefined, reject: undefined, timer: undefined };
    this.pending.push(waiter);
    this.output.write(encodeFrame(this.framing, message));
    if (!expectReply) return Promise.resolve(undefined);
    return new Promise<Uint8Array>((resolve, reject) => {
      waiter.resolve = resolve;
      waiter.reject = reject;
      if (this.timeoutMs !== undefined) {
        const ms = this.timeoutMs;
        waiter.timer = setTimeout(() => {
          // Keep the slot: the late reply still arrives in this position and is dropped.
          waiter.resolve = undefined;
          waiter.reject = undefined;
          reject(new SwitchboardError(ErrorCode.TRANSPORT, `no reply within ${ms} ms`));
        }, ms);
      }
    });
  }

  async close(): Promise<void> {
    this.fail(new SwitchboardError(ErrorCode.TRANSPORT_CLOSED, "transport closed"));
    this.teardown();
  }
}
