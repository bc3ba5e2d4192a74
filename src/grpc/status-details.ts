import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { AnySchema } from "@bufbuild/protobuf/wkt";
import { StatusSchema } from "../gen/google/rpc/status_pb.js";
import type { StatusDetail } from "../status.js";

/** Encodes a google.rpc.Status for the `grpc-status-details-bin` trailer. */
export function encodeStatusDetails(code: number, message: string, details: readonly StatusDetail[]): Uint8Array {
  return toBinary(
    StatusSchema,
    create(StatusSchema, {
      code,
      message,
      details: details.map((d) => create(AnySchema, { typeUrl: d.typeUrl, value: d.value })),
    }),
  );
}

/** Decodes `grpc-status-details-bin`; undefined when the bytes are not a google.rpc.Status. */
export function decodeStatusDetails(bytes: Uint8Array): { code: number; message: string; details: StatusDetail[] } | undefined {
  try {
    const s = fromBinary(StatusSchema, bytes);
    return { code: s.code, message: s.message, details: s.details.map((a) => ({ typeUrl: a.typeUrl, value: a.value })) };
  } catch {
    return undefined;
  }
}
