import type { ServerCallContext } from "./context.js";
import type { CallHandler } from "../service/method.js";
import type { ServerCall } from "./server-call.js";

/**
 * A continuation-style server interceptor: runs around the handler, can read and
 * rewrite `ctx.metadata`, set trailing metadata, and short-circuit by throwing an
 * RpcError (or by returning without calling `next`, after sending a status).
 */
export type ServerInterceptor = (ctx: ServerCallContext, next: () => Promise<void>) => Promise<void>;

/** Builds, once per server, the function that runs a handler inside the interceptor chain. */
export function chainInterceptors(interceptors: readonly ServerInterceptor[]): (call: ServerCall<any, any>, handler: CallHandler) => Promise<void> | void {
  if (interceptors.length === 0) return (call, handler) => handler(call);
  return (call, handler) => {
    const step = (i: number): Promise<void> => {
      if (i === interceptors.length) return Promise.resolve(handler(call));
      let called = false;
      return interceptors[i]!(call, () => {
        if (called) return Promise.reject(new Error("next() called more than once by an interceptor"));
        called = true;
        return step(i + 1);
      });
    };
    return step(0);
  };
}
