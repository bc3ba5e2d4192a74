// Runs a JSON-RPC method on the existing WorkerPool (src/execution), for CPU-bound work that
// would otherwise stall every other request on the event loop. The pool runs exported
// functions of a module; the JSON-RPC arguments reach them as one array.

import type { ServerCallContext } from "../call/context.js";
import type { WorkerFunctionName, WorkerPool } from "../execution/worker-pool.js";
import { Metadata } from "../metadata.js";

/**
 * A method body for `RPCDispatcher.addMethod` that runs the module function `fn` on `pool`
 * as `fn(args, ctx)`: `args` is the bound argument list (positional order, or named params
 * put in declared order), `ctx` a WorkerContext whose method is `jsonrpc/<fn>`. Declare the
 * parameter names with `addMethod(workerMethod(pool, "fib"), { name: "fib", params: ["n"] })`
 * to get arity checks and named params; without them any positional list is passed through.
 * Pool failures (closed, queue full) and errors thrown on the thread become -32000 errors
 * with their message.
 */
export function workerMethod<M extends object>(pool: WorkerPool<M>, fn: WorkerFunctionName<M>): (...args: unknown[]) => Promise<unknown> {
  const handler = pool.unary(fn) as unknown as (request: unknown, ctx: ServerCallContext) => Promise<unknown>;
  const method = { path: `jsonrpc/${fn}`, service: "jsonrpc", name: fn, kind: "unary" as const };
  return async (...args: unknown[]) => {
    // only what the pool reads of a call: a JSON-RPC request has no metadata, peer or deadline
    const ctx = {
      method,
      metadata: new Metadata(),
      peer: "jsonrpc",
      userAgent: undefined,
      deadline: undefined,
      signal: new AbortController().signal,
    } as unknown as ServerCallContext;
    return await handler(args, ctx);
  };
}
