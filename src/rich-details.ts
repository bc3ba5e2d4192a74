// Rich error details: turning protobuf-es messages into the Any entries of a google.rpc.Status
// and back. protobuf-es v2 messages are plain objects that know their type name ($typeName)
// but not their schema, so packing a bare message needs a registry of schemas. The registry
// here starts with the google.rpc error model and grows with registerDetailType(); the same
// registry decodes what a client receives.
import { create, createMutableRegistry, isMessage, toBinary, type DescMessage, type Message, type Registry } from "@bufbuild/protobuf";
import { AnySchema, anyUnpack, type Any } from "@bufbuild/protobuf/wkt";
import { ErrorCode, SwitchboardError } from "./errors.js";
import { file_google_rpc_error_details } from "./gen/google/rpc/error_details_pb.js";
import type { StatusDetail } from "./status.js";

/**
 * One rich error detail as RpcError accepts it:
 * - a protobuf-es message whose type is registered (the google.rpc error details are),
 * - a `google.protobuf.Any` message, taken as already packed (so Any stand-ins received by a
 *   client can be sent on unchanged, never wrapped in a second Any),
 * - a `StatusDetail` (`{ typeUrl, value }`), e.g. from `detail(Schema, message)`.
 */
export type DetailInput = StatusDetail | Message;

// Process-wide, like Go's protoregistry.GlobalTypes or Python's default descriptor pool:
// detail types are registered once at startup, then any RpcError can carry them.
const registry = createMutableRegistry(file_google_rpc_error_details);

/**
 * The detail types RpcError packs and `err.decodedDetails` decodes: ErrorInfo, RetryInfo,
 * DebugInfo, QuotaFailure, PreconditionFailure, BadRequest, RequestInfo, ResourceInfo, Help
 * and LocalizedMessage from google.rpc, plus whatever registerDetailType() added. Combine it
 * with your own schemas for `err.unpackDetails(createRegistry(detailTypes, MySchema))`.
 */
export const detailTypes: Registry = registry;

/**
 * Makes messages of these types usable as bare RpcError details and decodes them in
 * `err.decodedDetails`. A schema whose type name is already known replaces the earlier
 * one — e.g. google.rpc types generated from googleapis in your own project.
 */
export function registerDetailType(...schemas: DescMessage[]): void {
  for (const schema of schemas) registry.add(schema);
}

/** The type URL protobuf uses for a type name (Any's convention, also grpc-go's and grpcio's). */
export function typeUrlOf(typeName: string): string {
  return `type.googleapis.com/${typeName}`;
}

/** The type name in a type URL: everything after the last "/" (Any's rule; the host is not checked). */
export function typeNameOf(typeUrl: string): string {
  return typeUrl.slice(typeUrl.lastIndexOf("/") + 1);
}

/** Packs one detail for the wire; throws ERR_SB_BAD_DETAIL when it cannot be packed. */
export function packDetail(input: DetailInput): StatusDetail {
  if (isMessage(input)) {
    if (isMessage(input, AnySchema)) return { typeUrl: input.typeUrl, value: input.value };
    const schema = registry.getMessage(input.$typeName);
    if (!schema) {
      throw new SwitchboardError(
        ErrorCode.BAD_DETAIL,
        `cannot pack an error detail of type ${input.$typeName}: its schema is not registered; call registerDetailType(schema) once at startup, or pass detail(schema, message)`,
      );
    }
    return { typeUrl: typeUrlOf(input.$typeName), value: toBinary(schema, input) };
  }
  const d = input as Partial<StatusDetail> | null;
  if (d && typeof d.typeUrl === "string" && d.value instanceof Uint8Array) return input;
  throw new SwitchboardError(ErrorCode.BAD_DETAIL, "an error detail must be a protobuf-es message or { typeUrl, value }");
}

/**
 * Decodes one detail with `types`. What cannot be decoded — an unknown type, or bytes that
 * are not a valid message of the type they claim — stays a google.protobuf.Any with the type
 * URL and bytes as received, so nothing is lost and `anyUnpack(any, yourRegistry)` works later.
 */
export function unpackDetail(d: StatusDetail, types: Registry): Message {
  const any: Any = create(AnySchema, { typeUrl: d.typeUrl, value: d.value });
  try {
    return anyUnpack(any, types) ?? any;
  } catch {
    return any;
  }
}
