/**
 * The catalogue of programming and configuration errors Switchboard throws, each with a
 * stable code a user can search for. Call failures are RpcErrors, not these.
 */
export const ErrorCode = {
  ALREADY_STARTED: "ERR_SB_ALREADY_STARTED",
  NOT_STARTED: "ERR_SB_NOT_STARTED",
  STOPPED: "ERR_SB_STOPPED",
  BAD_ADDRESS: "ERR_SB_BAD_ADDRESS",
  BIND_FAILED: "ERR_SB_BIND_FAILED",
  DUPLICATE_METHOD: "ERR_SB_DUPLICATE_METHOD",
  BAD_HANDLER: "ERR_SB_BAD_HANDLER",
  BAD_METADATA: "ERR_SB_BAD_METADATA",
  BAD_OPTION: "ERR_SB_BAD_OPTION",
  CALL_STATE: "ERR_SB_CALL_STATE",
  BAD_COMPRESSION: "ERR_SB_BAD_COMPRESSION",
  BAD_MESSAGE: "ERR_SB_BAD_MESSAGE",
  // the switchboard command line (src/cli)
  CLI_USAGE: "ERR_SB_CLI_USAGE",
  CLI_INPUT: "ERR_SB_CLI_INPUT",
  UNKNOWN_SYMBOL: "ERR_SB_UNKNOWN_SYMBOL",
  BAD_DESCRIPTOR: "ERR_SB_BAD_DESCRIPTOR",
  BAD_DETAIL: "ERR_SB_BAD_DETAIL",
  /** A .proto file that does not parse or link (src/protofile): `file.proto:LINE:COL: message`. */
  BAD_PROTO: "ERR_SB_BAD_PROTO",
  // SR OS grpcserver facade (src/sros)
  NO_HANDLER: "ERR_SB_NO_HANDLER",
  BAD_RESPONSE: "ERR_SB_BAD_RESPONSE",
  WAIT_TIMEOUT: "ERR_SB_WAIT_TIMEOUT",
  NOT_BOUND: "ERR_SB_NOT_BOUND",
  // worker-pool execution model (src/execution)
  WORKER_START: "ERR_SB_WORKER_START",
  // JSON-RPC front (src/jsonrpc)
  TRANSPORT_CLOSED: "ERR_SB_TRANSPORT_CLOSED",
  TRANSPORT: "ERR_SB_TRANSPORT",
  MESSAGE_TOO_LARGE: "ERR_SB_MESSAGE_TOO_LARGE",
  BAD_REPLY: "ERR_SB_BAD_REPLY",
  // RPyC front (src/rpyc)
  /** The peer sent bytes that are not RPyC: a bad frame, bad brine or a malformed message. */
  RPYC_PROTOCOL: "ERR_SB_RPYC_PROTOCOL",
  /** The RPyC connection is closed. */
  RPYC_CLOSED: "ERR_SB_RPYC_CLOSED",
  /** The peer did not answer an RPyC request within syncRequestTimeout. */
  RPYC_TIMEOUT: "ERR_SB_RPYC_TIMEOUT",
  /** Authentication of an RPyC connection failed. */
  RPYC_AUTH: "ERR_SB_RPYC_AUTH",
  /** Registry: no server of that service name was found. */
  RPYC_DISCOVERY: "ERR_SB_RPYC_DISCOVERY",
  // scale-out (src/etcd, src/cluster, resolvers)
  /** No etcd endpoint answered (all down, unreachable or timed out). */
  ETCD_UNAVAILABLE: "ERR_SB_ETCD_UNAVAILABLE",
  /** etcd refused the request (e.g. "etcdserver: requested lease not found"). */
  ETCD_REQUEST: "ERR_SB_ETCD_REQUEST",
  /** A resolved target has no address right now (nothing registered, or every address failed). */
  NO_ADDRESSES: "ERR_SB_NO_ADDRESSES",
  /** A worker process of a cluster could not start or kept crashing. */
  CLUSTER: "ERR_SB_CLUSTER",
  /** The admin server would listen beyond loopback without a token (set one, or allowUnauthenticated). */
  ADMIN_UNPROTECTED: "ERR_SB_ADMIN_UNPROTECTED",
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** A misuse of the API or a configuration error, with a stable `code`. */
export class SwitchboardError extends Error {
  override readonly name = "SwitchboardError";
  constructor(readonly code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(`${message} [${code}]`, options);
  }
}
