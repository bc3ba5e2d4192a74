// Error reporting: hands failures to the server's onError hook with where they happened and
// from which peer. One place, so that no server, session, socket or TLS error is either lost
// or able to crash the process, and a failing hook itself never does either.
import type { Server as NetServer, Socket } from "node:net";
import type { SessionLike } from "../grpc/transport.js";
import { RpcError } from "../status.js";
import type { ServerErrorContext, ServerErrorHook } from "./options.js";
import { sessionInfo } from "./session-info.js";
import { isThenable } from "./util.js";

/** Hands an error to onError; a hook that throws or rejects becomes a process warning, never a crash. */
export function report(hook: ServerErrorHook | undefined, err: unknown, context: ServerErrorContext): void {
  if (hook === undefined) return;
  try {
    const result = hook(err, context);
    if (isThenable(result)) result.then(undefined, hookFailed);
  } catch (hookErr) {
    hookFailed(hookErr);
  }
}

/**
 * Sends a listening server's errors to onError. Errors of one connection or handshake must
 * never reach the process as an unhandled 'error'; socket errors (ECONNRESET, EPIPE) reach
 * us as the error node destroys the session with.
 */
export function reportServerErrors(server: NetServer, hook: ServerErrorHook | undefined): void {
  server.on("error", (err: Error) => report(hook, err, { source: "server" }));
  // The peer is looked up only when someone listens.
  server.on("sessionError", (err: Error, session: SessionLike) => {
    if (hook) report(hook, err, { source: isSocketError(err) ? "socket" : "session", peer: peerOfSession(session) });
  });
  server.on("tlsClientError", (err: Error, socket: Socket) => {
    if (hook) report(hook, err, { source: "tls", peer: peerOfSocket(socket) });
  });
}

/** An AbortError whose cause is the call's own end (the handler awaited something tied to ctx.signal). */
export function isCallAbort(err: unknown): boolean {
  return err instanceof Error && err.name === "AbortError" && err.cause instanceof RpcError;
}

/** An error of the connection's socket (read/write system call) rather than of HTTP/2. */
function isSocketError(err: Error): boolean {
  return typeof (err as NodeJS.ErrnoException).syscall === "string";
}

function peerOfSession(session: SessionLike): string | undefined {
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

function hookFailed(err: unknown): void {
  process.emitWarning(`the server's onError hook failed: ${err instanceof Error ? err.message : String(err)}`, { type: "SwitchboardWarning", code: "SB_ON_ERROR_FAILED" });
}
