// ctx.abort() and ctx.abortWithStatus(): the error every call context (gRPC's ServerCall, the
// JSON-RPC bridge's LocalCall) throws to end a call with a status.
import { Metadata, type MetadataInit } from "../metadata.js";
import type { DetailInput } from "../rich-details.js";
import { RpcError, type Status } from "../status.js";
import type { Code } from "../status.js";

export function abortError(code: Code, details = "", options: { metadata?: MetadataInit; details?: readonly DetailInput[] } = {}): RpcError {
  return new RpcError(code, details, {
    metadata: options.metadata === undefined ? undefined : new Metadata(options.metadata),
    details: options.details,
  });
}

export function statusError(status: Status & { metadata?: MetadataInit }): RpcError {
  return new RpcError(status.code, status.message, {
    metadata: status.metadata === undefined ? undefined : new Metadata(status.metadata),
    details: status.details,
    statusDetailsBin: status.statusDetailsBin,
  });
}
