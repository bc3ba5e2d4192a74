// Connect's names for the gRPC status codes and the HTTP status a unary error is sent with.
import { Code } from "../../status.js";

const NAMES: Record<number, string> = {
  [Code.CANCELLED]: "canceled",
  [Code.UNKNOWN]: "unknown",
  [Code.INVALID_ARGUMENT]: "invalid_argument",
  [Code.DEADLINE_EXCEEDED]: "deadline_exceeded",
  [Code.NOT_FOUND]: "not_found",
  [Code.ALREADY_EXISTS]: "already_exists",
  [Code.PERMISSION_DENIED]: "permission_denied",
  [Code.RESOURCE_EXHAUSTED]: "resource_exhausted",
  [Code.FAILED_PRECONDITION]: "failed_precondition",
  [Code.ABORTED]: "aborted",
  [Code.OUT_OF_RANGE]: "out_of_range",
  [Code.UNIMPLEMENTED]: "unimplemented",
  [Code.INTERNAL]: "internal",
  [Code.UNAVAILABLE]: "unavailable",
  [Code.DATA_LOSS]: "data_loss",
  [Code.UNAUTHENTICATED]: "unauthenticated",
};

/** HTTP statuses of the Connect protocol's error table. */
const HTTP: Record<number, number> = {
  [Code.CANCELLED]: 499,
  [Code.UNKNOWN]: 500,
  [Code.INVALID_ARGUMENT]: 400,
  [Code.DEADLINE_EXCEEDED]: 504,
  [Code.NOT_FOUND]: 404,
  [Code.ALREADY_EXISTS]: 409,
  [Code.PERMISSION_DENIED]: 403,
  [Code.RESOURCE_EXHAUSTED]: 429,
  [Code.FAILED_PRECONDITION]: 400,
  [Code.ABORTED]: 409,
  [Code.OUT_OF_RANGE]: 400,
  [Code.UNIMPLEMENTED]: 501,
  [Code.INTERNAL]: 500,
  [Code.UNAVAILABLE]: 503,
  [Code.DATA_LOSS]: 500,
  [Code.UNAUTHENTICATED]: 401,
};

/** The Connect name of a non-OK code ("not_found"); codes outside the table are "unknown". */
export function connectCodeName(code: number): string {
  return NAMES[code] ?? "unknown";
}

/** The HTTP status of a unary Connect error with this code. */
export function connectHttpStatus(code: number): number {
  return HTTP[code] ?? 500;
}
