// The transport interface of the gRPC layer: the few members of an HTTP/2 session and
// server stream that dispatch, ServerCall, the connection guard and keepalive use. node:http2's
// ServerHttp2Session/ServerHttp2Stream and our engine's H2ServerSession/H2ServerStream
// (src/h2) both satisfy it, so the layer above runs unchanged on either engine.
import type { OutgoingHttpHeaders } from "node:http2";
import type { Socket } from "node:net";
import type { TLSSocket } from "node:tls";

type Listener = (...args: any[]) => void;

/** The HTTP/2 engines: "switchboard" (our own, src/h2) or "node" (node:http2). */
export type Transport = "switchboard" | "node";

/** The engine used without a `transport` option: SWITCHBOARD_TRANSPORT when it names one, else ours. */
export function defaultTransport(): Transport {
  return process.env["SWITCHBOARD_TRANSPORT"] === "node" ? "node" : "switchboard";
}

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

/** What the gRPC client uses of one client-side stream. */
export interface ClientStreamLike {
  readonly destroyed: boolean;
  readonly closed: boolean;
  readonly rstCode: number | undefined;
  readonly writableEnded: boolean;
  write(chunk: Uint8Array): boolean;
  end(chunk?: Uint8Array): unknown;
  pause(): unknown;
  resume(): unknown;
  close(code?: number, callback?: () => void): void;
  on(event: string, listener: Listener): unknown;
  once(event: string, listener: Listener): unknown;
  off(event: string, listener: Listener): unknown;
}

/** What the gRPC client uses of one client connection. */
export interface ClientSessionLike extends SessionLike {
  readonly pendingSettingsAck: boolean;
  request(headers: OutgoingHttpHeaders, options?: { endStream?: boolean }): ClientStreamLike;
  ref(): void;
  unref(): void;
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
