// Errors of the etcd client: stable codes a user can search for, in SwitchboardError's style.
import { ErrorCode, SwitchboardError } from "../errors.js";
import { Code, RpcError } from "../status.js";

/** The etcd codes of the ErrorCode catalogue, by short name. */
export const EtcdErrorCode = {
  /** No etcd endpoint answered (all down, unreachable or timed out). */
  UNAVAILABLE: ErrorCode.ETCD_UNAVAILABLE,
  /** etcd answered with an error (e.g. "etcdserver: requested lease not found"). */
  REQUEST: ErrorCode.ETCD_REQUEST,
} as const;
export type EtcdErrorCode = (typeof EtcdErrorCode)[keyof typeof EtcdErrorCode];

/** An etcd operation that failed; `grpcCode` is the status etcd (or the connection) ended the call with. */
export class EtcdError extends SwitchboardError {
  constructor(
    code: EtcdErrorCode | ErrorCode,
    message: string,
    readonly grpcCode?: Code,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
  }
}

/** True for failures that another endpoint or a later retry may not have: the connection, not the request. */
export function isConnectionFailure(err: unknown): boolean {
  return err instanceof RpcError && (err.code === Code.UNAVAILABLE || err.code === Code.DEADLINE_EXCEEDED);
}

/** Turns a call failure into an EtcdError naming the operation and the endpoint(s) tried. */
export function etcdError(op: string, where: string, err: unknown): EtcdError {
  if (err instanceof EtcdError) return err;
  if (err instanceof RpcError) {
    const code = isConnectionFailure(err) ? EtcdErrorCode.UNAVAILABLE : EtcdErrorCode.REQUEST;
    return new EtcdError(code, `etcd ${op} failed (${where}): ${err.message}`, err.code, { cause: err });
  }
  return new EtcdError(EtcdErrorCode.REQUEST, `etcd ${op} failed (${where}): ${(err as Error)?.message ?? String(err)}`, undefined, { cause: err });
}
