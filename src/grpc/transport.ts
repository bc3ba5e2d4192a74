// The transport interface of the gRPC layer: the few members of an HTTP/2 session and
// server stream that dispatch, ServerCall, the connection guard and keepalive use. node:http2's
// ServerHttp2Session/ServerHttp2Stream and our engine's H2ServerSession/H2ServerStream
// (src/h2) both satisfy it, so the layer above runs unchanged on either engine.
import type { OutgoingHttpHeaders } from "node:http2";
import type { Socket } from "node:net";
import type { TLSSocket } from "node:tls";

type Listener = (...args: any[]) => void;

/** What the gRPC layer uses of one HTTP/2 connection (server or client side). */
export interface SessionLike {
  readonly socket: Socket | TLSSocket;
  readonly closed: boolean;
  readonly destroyed: boolean;
  close(callback?: () => void): void;
  destroy(error?: Error, code?: number): void;
  goaway(code?: number, lastStreamID?: number, opaqueData?: NodeJS.ArrayBufferView): void;
  ping(callback: (err: Error | null, duration: number, payload: Buffer) => void): boolean;
  setTimeout(msecs: number, callback?: () => void): void;
  setLocalWindowSize(windowSize: number): void;
  on(event: string, listener: Listener): unknown;
  once(event: string, listener: Listener): unknown;
  off(event: string, listener: Listener): unknown;
}

export interface RespondOptions {
  endStream?: boolean;
  waitForTrailers?: boolean;
  sendDate?: boolean;
}

/** What the gRPC layer uses of one server-side stream. */
export interface ServerStreamLike {
  readonly session: SessionLike | undefined;
  readonly destroyed: boolean;
  readonly closed: boolean;
  readonly rstCode: number | undefined;
  respond(headers?: OutgoingHttpHeaders, options?: RespondOptions): void;
  write(chunk: Uint8Array): boolean;
  end(): unknown;
  cork(): void;
  uncork(): void;
  pause(): unknown;
  resume(): unknown;
  close(code?: number, callback?: () => void): void;
  sendTrailers(headers: OutgoingHttpHeaders): void;
  on(event: string, listener: Listener): unknown;
  once(event: string, listener: Listener): unknown;
  off(event: string, listener: Listener): unknown;
}
