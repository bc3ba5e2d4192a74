import type { ServerCallContext } from "../call/context.js";
import type { MethodKind } from "../service/method.js";
import { Code, RpcError } from "../status.js";
import { abortStatusOf, Context } from "./context.js";
import { AbortError, NotImplementedError, ResponseTypeError } from "./errors.js";
import { responseStreaming, type Handler } from "./handler.js";
import type { MessageCodec } from "./messages.js";
import type { Settle } from "./queue.js";

/** A handler added for one RPC, with its call type and message codec. */
export interface Route {
  readonly handler: Handler;
  readonly kind: MethodKind;
  readonly codec: MessageCodec;
}

/**
 * Handles one taken RPC the way SR OS does, yielding the encoded responses for the core to
 * send (every facade method is response-streaming on the core, see GrpcServer), then reports
 * to the `handleRpc()` that took it through `settle`:
 *
 * - no route: the client gets UNIMPLEMENTED, handleRpc() a NotImplementedError;
 * - `context.abort(code, details)`: the client gets that status, handleRpc() succeeds;
 * - the handler throws, or returns what does not fit the response type: the client gets
 *   INTERNAL, handleRpc() the exception (a ResponseTypeError for a bad response);
 * - the call ends under the handler (client cancel, deadline, server stop, a failed send):
 *   handleRpc() gets the call's RpcError (the seed's RpcError).
 */
export async function* runRpc(route: Route | undefined, input: unknown, ctx: ServerCallContext, settle: Settle): AsyncGenerator<Uint8Array, void, undefined> {
  const rpc = ctx.method.path;
  let failure: { error: unknown } | undefined;
  const fail = (error: unknown) => (failure ??= { error });
  try {
    // Cancelled between being taken and starting: nothing to run (the finally reports it).
    if (!ctx.isActive()) return;
    if (!route) {
      fail(new NotImplementedError(rpc));
      throw new RpcError(Code.UNIMPLEMENTED, `no handler for ${rpc}`);
    }
    const context = new Context(ctx);
    try {
      const result = await route.handler(input as never, context);
      if (responseStreaming(route.kind)) {
        for await (const response of iterableOf(result, rpc)) {
          // A handler that caught its own AbortError sends nothing more.
          if (abortStatusOf(context)) break;
          yield route.codec.encode(response, rpc);
        }
      } else if (!abortStatusOf(context)) {
        yield route.codec.encode(result, rpc);
      }
    } catch (err) {
      if (!(err instanceof AbortError)) fail(err);
    }
    // abort() set the status: it stands even if the handler failed afterwards.
    const status = abortStatusOf(context);
    if (status) {
      if (status.code !== Code.OK) throw new RpcError(status.code, status.details);
      ctx.setCode(Code.OK);
      ctx.setDetails(status.details);
    } else if (failure) {
      throw new RpcError(Code.INTERNAL, internalDetails(failure.error));
    }
  } finally {
    // Reached with the call already over only when it ended under the handler; the core
    // stops pulling responses (this generator returns at its yield) when a send fails.
    if (!ctx.isActive()) fail(ctx.signal.reason ?? new RpcError(Code.CANCELLED, "the call ended before it was handled"));
    settle(failure === undefined ? undefined : (failure.error ?? new Error(`the handler for ${rpc} threw ${String(failure.error)}`)));
  }
}

function iterableOf(result: unknown, rpc: string): Iterable<unknown> | AsyncIterable<unknown> {
  const r = result as { [Symbol.asyncIterator]?: unknown; [Symbol.iterator]?: unknown } | null | undefined;
  if (r != null && (typeof r[Symbol.asyncIterator] === "function" || typeof r[Symbol.iterator] === "function") && typeof r !== "string") {
    return r as Iterable<unknown>;
  }
  throw new ResponseTypeError(rpc, "a streaming handler must return an iterable of responses (e.g. be a generator)");
}

/** The INTERNAL status message: the error's own message, as the core reports handler failures. */
function internalDetails(error: unknown): string {
  if (error instanceof ResponseTypeError) return error.message;
  return `exception in the handler: ${error instanceof Error ? error.message : String(error)}`;
}
