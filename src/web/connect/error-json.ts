// Connect's JSON error: {"code", "message", "details": [{"type", "value"}]}, built from a gRPC
// status (grpc-status, grpc-message, grpc-status-details-bin).
import type { OutgoingHttpHeaders } from "node:http2";
import { decodeGrpcMessage } from "../../grpc/percent.js";
import { decodeStatusDetails } from "../../grpc/status-details.js";
import { typeNameOf } from "../../rich-details.js";
import { connectCodeName } from "./codes.js";

/** The JSON form of a Connect error. */
export interface ConnectErrorJson {
  code: string;
  message?: string;
  details?: { type: string; value: string }[];
}

/** The gRPC status code in a header record (grpc-status), or UNKNOWN when it is missing or malformed. */
export function statusCodeOf(headers: OutgoingHttpHeaders): number {
  const value = headers["grpc-status"];
  const code = Number(value);
  return value === undefined || !Number.isInteger(code) || code < 0 ? 2 : code;
}

/**
 * The Connect error for the status in `headers` (undefined for OK). Rich details come from
 * grpc-status-details-bin when it is a google.rpc.Status: each Any becomes
 * `{type: full message name, value: unpadded base64}`.
 */
export function errorJson(headers: OutgoingHttpHeaders): ConnectErrorJson | undefined {
  const code = statusCodeOf(headers);
  if (code === 0) return undefined;
  const out: ConnectErrorJson = { code: connectCodeName(code) };
  const message = headers["grpc-message"];
  if (message !== undefined && String(message) !== "") out.message = decodeGrpcMessage(String(message));
  const bin = headers["grpc-status-details-bin"];
  if (bin !== undefined) {
    const status = decodeStatusDetails(Buffer.from(String(bin), "base64"));
    if (status !== undefined && status.details.length > 0) {
      out.details = status.details.map((d) => ({ type: typeNameOf(d.typeUrl), value: Buffer.from(d.value).toString("base64").replace(/=+$/, "") }));
    }
  }
  return out;
}
