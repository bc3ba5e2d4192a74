import type { Deadline } from "../deadline.js";
import type { Metadata } from "../metadata.js";
import type { ClientMethod } from "./client-call.js";

/** What a client interceptor sees of a call before it starts. */
export interface ClientCallInfo {
  readonly method: ClientMethod<any, any>;
  /** Request metadata; changes made before `next()` are sent. */
  readonly metadata: Metadata;
  readonly deadline: Deadline | undefined;
}

/**
 * A continuation-style client interceptor. `next()` sends the request and resolves when
 * the call ends OK (rejects with the RpcError otherwise). Throwing before `next()` fails
 * the call with that error without touching the network.
 */
export type ClientInterceptor = (call: ClientCallInfo, next: () => Promise<void>) => Promise<void>;

/** Runs the interceptors around `open`, outermost first. */
export function chainClientInterceptors(interceptors: readonly ClientInterceptor[]): (call: ClientCallInfo, open: () => Promise<void>) => Promise<void> {
  if (interceptors.length === 0) return (_call, open) => open();
  return (call, open) => {
    const step = (i: number): Promise<void> => (i === interceptors.length ? open() : interceptors[i]!(call, () => step(i + 1)));
    return step(0);
  };
}
