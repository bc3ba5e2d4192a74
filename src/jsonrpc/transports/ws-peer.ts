// The view of a `ws` WebSocket that our public types expose. Declaring it here keeps `ws`'s
// own declarations (and so @types/ws) out of the published .d.ts: a consumer type-checks
// without installing them, while the object handed out is the real `ws` WebSocket.

/** One WebSocket connection: the members of `ws`'s WebSocket that callers may use. */
export interface WebSocketPeer {
  /** 0 connecting, 1 open, 2 closing, 3 closed. */
  readonly readyState: number;
  /** Whether reading from the connection is paused (backpressure: too many unanswered messages). */
  readonly isPaused: boolean;
  /** The subprotocol the handshake agreed on, or "". */
  readonly protocol: string;
  /** Starts the closing handshake. */
  close(code?: number, reason?: string | Buffer): void;
  /** Cuts the connection at once. */
  terminate(): void;
  on(event: "message", listener: (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => void): this;
  on(event: "close", listener: (code: number, reason: Buffer) => void): this;
  on(event: "error", listener: (error: Error) => void): this;
  once(event: "message", listener: (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => void): this;
  once(event: "close", listener: (code: number, reason: Buffer) => void): this;
  once(event: "error", listener: (error: Error) => void): this;
  off(event: "message" | "close" | "error", listener: (...args: any[]) => void): this;
}
