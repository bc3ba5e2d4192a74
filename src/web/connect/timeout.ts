// Connect-Timeout-Ms: at most 10 digits of milliseconds, turned into gRPC's grpc-timeout.
import { formatTimeout } from "../../deadline.js";

/** The grpc-timeout for a Connect-Timeout-Ms value, or an error message for a malformed one. */
export function connectTimeout(value: string | undefined): { grpcTimeout?: string; error?: string } {
  if (value === undefined) return {};
  if (!/^\d{1,10}$/.test(value)) return { error: `invalid Connect-Timeout-Ms ${JSON.stringify(value)}: 1 to 10 digits of milliseconds` };
  return { grpcTimeout: formatTimeout(Number(value)) };
}
