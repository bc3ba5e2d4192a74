// The label values of the grpc-ecosystem (go-grpc-prometheus) metrics, shared by the server
// and client families and by OpenTelemetry.
import type { MethodKind } from "../service/method.js";

/** go-grpc-prometheus `grpc_type` names for our method kinds. */
export const GRPC_TYPE: Readonly<Record<MethodKind, string>> = {
  unary: "unary",
  client_streaming: "client_stream",
  server_streaming: "server_stream",
  bidi_streaming: "bidi_stream",
};

/**
 * The one label set every request for an unregistered path counts under, so a scanner that
 * tries a million paths adds one series, not a million. The call type of such a request is
 * not known, hence `grpc_type="unknown"`.
 */
export const OTHER_LABELS: Readonly<RpcLabels> = Object.freeze({ grpc_type: "unknown", grpc_service: "other", grpc_method: "other" });

/** The labels every per-method series carries. */
export interface RpcLabels {
  readonly grpc_type: string;
  readonly grpc_service: string;
  readonly grpc_method: string;
}

/** The go-grpc-prometheus default histogram buckets (the Prometheus client default), in seconds. */
export const DEFAULT_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
