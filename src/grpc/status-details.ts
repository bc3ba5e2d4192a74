import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { AnySchema } from "@bufbuild/protobuf/wkt";
import { ErrorCode, SwitchboardError } from "../errors.js";
import { StatusSchema } from "../gen/google/rpc/status_pb.js";
import type { Code, StatusDetail } from "../status.js";

/**
 * How rich error details travel in the `grpc-status-details-bin` trailer (grpclib
 * `StatusDetailsCodecBase`). The default, protoStatusDetailsCodec, is the gRPC convention
 * every implementation reads: a google.rpc.Status whose `details` are the Any entries.
 * Give Server, Channel or channelFor `statusDetailsCodec` to use another encoding, or
 * `null` to neither send nor decode details.
 */
export interface StatusDetailsCodec {
  /** The trailer's bytes for a non-OK status with at least one detail. */
  encode(code: Code, message: string, details: readonly StatusDetail[]): Uint8Array;
  /**
   * The details in a received trailer. Bytes it does not understand: return undefined or
   * throw; the call keeps its code and message, with no details and the raw bytes in
   * `err.statusDetailsBin`.
   */
  decode(code: Code, message: string, bytes: Uint8Array): readonly StatusDetail[] | undefined;
}

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

/** The default codec: google.rpc.Status, as grpc-go, grpc-java, grpcio and grpc-js read it. */
export const protoStatusDetailsCodec: StatusDetailsCodec = Object.freeze({
  encode: (code: Code, message: string, details: readonly StatusDetail[]) => encodeStatusDetails(code, message, details),
  decode: (_code: Code, _message: string, bytes: Uint8Array) => decodeStatusDetails(bytes)?.details,
});

/** Checks a `statusDetailsCodec` option: undefined (the default codec), null (none) or a codec. */
export function checkStatusDetailsCodec(value: unknown, owner: string): StatusDetailsCodec | null {
  if (value === undefined) return protoStatusDetailsCodec;
  if (value === null) return null;
  const c = value as Partial<StatusDetailsCodec>;
  if (typeof c !== "object" || typeof c.encode !== "function" || typeof c.decode !== "function") {
    throw new SwitchboardError(ErrorCode.BAD_OPTION, `${owner} statusDetailsCodec must be null or an object with encode(code, message, details) and decode(code, message, bytes)`);
  }
  return c as StatusDetailsCodec;
}

/**
 * The details in a received trailer, decoded by `codec`; [] when there is no codec, it
 * throws, or it returns anything but a list of `{ typeUrl: string, value: Uint8Array }`.
 * The bytes come from the peer: nothing here may fail the call.
 */
export function decodeDetailsWith(codec: StatusDetailsCodec | null, code: Code, message: string, bytes: Uint8Array): StatusDetail[] {
  if (codec === null) return [];
  let decoded: unknown;
  try {
    decoded = codec.decode(code, message, bytes);
  } catch {
    return [];
  }
  if (!Array.isArray(decoded)) return [];
  const out: StatusDetail[] = [];
  for (const d of decoded as unknown[]) {
    const e = d as Partial<StatusDetail> | null;
    if (!e || typeof e.typeUrl !== "string" || !(e.value instanceof Uint8Array)) return [];
    out.push({ typeUrl: e.typeUrl, value: e.value });
  }
  return out;
}
