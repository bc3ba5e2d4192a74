// JSON-RPC over WebSocket, the client side (tinyrpc's HttpWebSocketClientTransport). Replies
// carry no correlation at the transport level, so calls on one connection are sent one at a
// time: reply N always belongs to request N. Open several transports for parallel calls.
import { WebSocket } from "ws";
import { ErrorCode, SwitchboardError } from "../../errors.js";
import { DEFAULT_MAX_MESSAGE_BYTES, type ClientTransport } from "../transport.js";
import type { WebSocketPeer } from "./ws-peer.js";

/** Options of `WebSocketClientTransport.connect()`. */
export interface WebSocketClientTransportOptions {
  /** Limit in ms for the opening handshake and for each call. Default: none. */
  timeoutMs?: number;
  /** Extra headers for the upgrade request. */
  headers?: Record<string, string>;
  /** Frame type of requests. Default `text` (JSON); `binary` for binary protocols. */
  frame?: "text" | "binary";
  /** Replies above this many bytes close the connection (1009). Default 4 MiB. */
  maxReplyBytes?: number;
}

interface Waiting {
  resolve(reply: Buffer): void;
  reject(error: Error): void;
}

/** A `ClientTransport` over one WebSocket connection, one call in flight at a time. */
export class WebSocketClientTransport implements ClientTransport {
  readonly #socket: WebSocket;
  readonly #timeoutMs: number | undefined;
  readonly #binary: boolean;
  #tail: Promise<unknown> = Promise.resolve();
  #waiting: Waiting | undefined;
  #broken: SwitchboardError | undefined;

  private constructor(socket: WebSocket, options: WebSocketClientTransportOptions) {
    this.#socket = socket;
    this.#timeoutMs = options.timeoutMs;
    this.#binary = options.frame === "binary";
    socket.on("message", (data) => this.#onReply(Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data)));
    socket.on("close", (code, reason) => {
      const text = reason.toString();
      const err =
        code === 1009
          ? new SwitchboardError(ErrorCode.MESSAGE_TOO_LARGE, `WebSocket closed with 1009 (message too big)${text ? `: ${text}` : ""}`)
          : new SwitchboardError(ErrorCode.TRANSPORT_CLOSED, `WebSocket closed with ${code}${text ? `: ${text}` : ""}`);
      this.#fail(err);
    });
    // Failures are followed by "close", which rejects the call; keep the cause for the message.
    socket.on("error", (err) => this.#fail(new SwitchboardError(ErrorCode.TRANSPORT, `WebSocket failed: ${err.message}`, { cause: err })));
  }

  /** The underlying connection (a `ws` WebSocket). */
  get socket(): WebSocketPeer {
    return this.#socket;
  }

  /** Opens the connection and resolves once the handshake completed. */
  static connect(url: string | URL, options: WebSocketClientTransportOptions = {}): Promise<WebSocketClientTransport> {
    const socket = new WebSocket(url, {
      maxPayload: options.maxReplyBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
      perMessageDeflate: false,
      ...(options.headers ? { headers: options.headers } : {}),
      ...(options.timeoutMs !== undefined ? { handshakeTimeout: options.timeoutMs } : {}),
    });
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => {
        socket.off("open", onOpen);
        socket.terminate();
        reject(new SwitchboardError(ErrorCode.TRANSPORT, `WebSocket connect to ${String(url)} failed: ${err.message}`, { cause: err }));
      };
      const onOpen = (): void => {
        socket.off("error", onError);
        resolve(new WebSocketClientTransport(socket, options));
      };
      socket.once("error", onError);
      socket.once("open", onOpen);
    });
  }

  /**
   * Sends one message as one frame and reads one frame back, also when `expectReply` is false
   * (servers in tinyrpc's model answer notifications with an empty frame; the frame must be
   * consumed or it would be taken for the next call's reply). Calls queue behind each other.
   * A call that times out closes the connection, since its late reply could not be told apart.
   */
  sendMessage(message: Uint8Array, expectReply: boolean): Promise<Uint8Array | undefined> {
    const call = this.#tail.then(() => this.#exchange(message));
    this.#tail = call.catch(() => {});
    return expectReply ? call : call.then(() => undefined);
  }

  /** Closes the connection (1000); queued calls fail with TRANSPORT_CLOSED. */
  async close(): Promise<void> {
    this.#fail(new SwitchboardError(ErrorCode.TRANSPORT_CLOSED, "WebSocket client transport is closed"));
    if (this.#socket.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      this.#socket.once("close", () => resolve());
      this.#socket.close(1000);
    });
  }

  #exchange(message: Uint8Array): Promise<Buffer> {
    if (this.#broken) return Promise.reject(this.#broken);
    return new Promise<Buffer>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const done = (): void => {
        clearTimeout(timer);
        this.#waiting = undefined;
      };
      this.#waiting = {
        resolve: (reply) => {
          done();
          resolve(reply);
        },
        reject: (err) => {
          done();
          reject(err);
        },
      };
      if (this.#timeoutMs !== undefined) {
        timer = setTimeout(() => {
          this.#fail(new SwitchboardError(ErrorCode.TRANSPORT, `WebSocket call timed out after ${this.#timeoutMs} ms; connection closed`));
          this.#socket.terminate();
        }, this.#timeoutMs);
      }
      this.#socket.send(message, { binary: this.#binary }, (err) => {
        if (err) this.#fail(new SwitchboardError(ErrorCode.TRANSPORT, `WebSocket send failed: ${err.message}`, { cause: err }));
      });
    });
  }

  #onReply(reply: Buffer): void {
    if (this.#waiting) return this.#waiting.resolve(reply);
    // A frame nobody asked for would shift every later reply onto the wrong call.
    this.#fail(new SwitchboardError(ErrorCode.BAD_REPLY, "WebSocket server sent a frame with no call waiting; connection closed"));
    this.#socket.terminate();
  }

  /** Marks the connection unusable (first reason wins) and fails the call in flight. */
  #fail(err: SwitchboardError): void {
    this.#broken ??= err;
    this.#waiting?.reject(this.#broken);
  }
}
