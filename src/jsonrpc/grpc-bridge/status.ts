// gRPC status -> JSON-RPC error, for methods served through the gRPC bridge. Each status code
// gets its own code in the range JSON-RPC 2.0 leaves to implementations (-32000 to -32099):
// -32000 - grpcCode, so NOT_FOUND (5) is -32005 and a client can branch on the code alone;
// `data` names the status and carries the rich details in the protobuf JSON mapping of Any.
import { create, toJson, type JsonValue, type Registry } from "@bufbuild/protobuf";
import { AnySchema } from "@bufbuild/protobuf/wkt";
import { decodeStatusDetails } from "../../grpc/status-details.js";
import { codeName, type Code, type StatusDetail } from "../../status.js";
import { JSONRPCError } from "../errors.js";

/** The JSON-RPC error code of gRPC status code 0; status `c` is answered with `GRPC_STATUS_CODE_BASE - c`. */
export const GRPC_STATUS_CODE_BASE = -32000;

/** The JSON-RPC error code a gRPC status code maps to: -32001 (CANCELLED) to -32016 (UNAUTHENTICATED). */
export function jsonrpcCodeOfStatus(code: Code): number {
  return GRPC_STATUS_CODE_BASE - code;
}

/** `error.data` of a gRPC status answered over JSON-RPC. */
export interface GrpcStatusData {
  /** The gRPC status code, e.g. 5. */
  readonly grpcCode: number;
  /** Its canonical name, e.g. "NOT_FOUND". */
  readonly grpcStatus: string;
  /**
   * The rich error details (google.rpc.Status details), each in the JSON mapping of
   * google.protobuf.Any: `{"@type": "type.googleapis.com/google.rpc.BadRequest", ...fields}`.
   * A detail whose type is not known is `{"@type": url, "value": "<base64 of its bytes>"}`.
   */
  readonly details?: JsonValue[];
}

/** The status as the bridge ends a call with it: code, message and details as on the wire. */
export interface BridgeStatus {
  readonly code: Code;
  readonly message: string;
  readonly details?: readonly StatusDetail[] | undefined;
  readonly statusDetailsBin?: Uint8Array | undefined;
}

/**
 * The JSON-RPC error for a non-OK status: code `-32000 - status`, message the status message
 * (the code name when it is empty, since a JSON-RPC message should say something), data
 * `GrpcStatusData`. `registry` resolves detail types (with the google.rpc error model).
 */
export function statusToJSONRPCError(status: BridgeStatus, registry: Registry, cause?: unknown): JSONRPCError {
  let details = status.details ?? [];
  if (details.length === 0 && status.statusDetailsBin !== undefined) details = decodeStatusDetails(status.statusDetailsBin)?.details ?? [];
  const data: GrpcStatusData = {
    grpcCode: status.code,
    grpcStatus: codeName(status.code),
    ...(details.length > 0 ? { details: details.map((d) => detailJson(d, registry)) } : {}),
  };
  return new JSONRPCError(jsonrpcCodeOfStatus(status.code), status.message || codeName(status.code), data, cause === undefined ? undefined : { cause });
}

function detailJson(d: StatusDetail, registry: Registry): JsonValue {
  try {
    return toJson(AnySchema, create(AnySchema, { typeUrl: d.typeUrl, value: d.value }), { registry });
  } catch {
    // The type is not in the registry (or its bytes do not decode): keep what is known.
    return { "@type": d.typeUrl, value: Buffer.from(d.value).toString("base64") };
  }
}
