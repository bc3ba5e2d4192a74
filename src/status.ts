import { fromBinary, toBinary, type DescMessage, type Message, type MessageShape, type Registry } from "@bufbuild/protobuf";
import type { Metadata } from "./metadata.js";
import { detailTypes, packDetail, typeNameOf, typeUrlOf, unpackDetail, type DetailInput } from "./rich-details.js";

/** The 17 gRPC status codes (doc/statuscodes.md in the gRPC repository). */
export enum Code {
  OK = 0,
  CANCELLED = 1,
  UNKNOWN = 2,
  INVALID_ARGUMENT = 3,
  DEADLINE_EXCEEDED = 4,
  NOT_FOUND = 5,
  ALREADY_EXISTS = 6,
  PERMISSION_DENIED = 7,
  RESOURCE_EXHAUSTED = 8,
  FAILED_PRECONDITION = 9,
  ABORTED = 10,
  OUT_OF_RANGE = 11,
  UNIMPLEMENTED = 12,
  INTERNAL = 13,
  UNAVAILABLE = 14,
  DATA_LOSS = 15,
  UNAUTHENTICATED = 16,
}

/** The canonical upper-case name of a status code, e.g. "NOT_FOUND". */
export function codeName(code: number): string {
  return Code[code] ?? `CODE_${code}`;
}

/** Whether a value is one of the 17 defined status codes. */
export function isCode(value: unknown): value is Code {
  return typeof value === "number" && Number.isInteger(value) && value >= 0 && value <= 16;
}

/** Options carried by an RpcError besides code and message. */
export interface RpcErrorOptions {
  /** Trailing metadata to send with (or received with) the status. */
  metadata?: Metadata;
  /**
   * Rich error details: protobuf messages packed as google.protobuf.Any into the
   * google.rpc.Status sent in `grpc-status-details-bin` (see DetailInput for what is accepted).
   */
  details?: readonly DetailInput[];
  /** A pre-encoded google.rpc.Status, sent as-is in `grpc-status-details-bin`. */
  statusDetailsBin?: Uint8Array;
  cause?: unknown;
}

/** One rich error detail: an `Any`-packable message (type URL + encoded value). */
export interface StatusDetail {
  typeUrl: string;
  value: Uint8Array;
}

/**
 * The error a handler throws to end a call with a status, and the error a client
 * sees for a non-OK status. Its code is never OK.
 *
 * The third argument is either the options or, as a shorthand, just the rich details:
 * `new RpcError(Code.INVALID_ARGUMENT, "bad name", [create(BadRequestSchema, { ... })])`.
 */
export class RpcError extends Error {
  override readonly name = "RpcError";
  readonly code: Code;
  /** The raw status message as sent on the wire (before any prefix). */
  readonly rawMessage: string;
  readonly metadata: Metadata | undefined;
  /** The rich details as packed on the wire: type URL and encoded message. */
  readonly details: readonly StatusDetail[];
  readonly statusDetailsBin: Uint8Array | undefined;
  #decoded: Message[] | undefined;

  /** Throws ERR_SB_BAD_DETAIL for a message detail whose type is not registered (registerDetailType). */
  constructor(code: Code, message = "", options: RpcErrorOptions | readonly DetailInput[] = {}) {
    if (isDetailList(options)) options = { details: options };
    // A status of OK cannot describe a failure; treat it as UNKNOWN like grpc-go's status package.
    const effective = code === Code.OK || !isCode(code) ? Code.UNKNOWN : code;
    super(message ? `${codeName(effective)}: ${message}` : codeName(effective), options.cause === undefined ? undefined : { cause: options.cause });
    this.code = effective;
    this.rawMessage = message;
    this.metadata = options.metadata;
    this.details = options.details?.map(packDetail) ?? [];
    this.statusDetailsBin = options.statusDetailsBin;
  }

  /**
   * Every rich detail, decoded: registered types (the google.rpc error model and
   * registerDetailType()) as typed messages, anything else as a google.protobuf.Any stand-in
   * with the type URL and bytes as received. Narrow with `isMessage(d, BadRequestSchema)`.
   * Decoded once, on first read, with the types registered at that moment.
   */
  get decodedDetails(): readonly Message[] {
    return (this.#decoded ??= this.unpackDetails());
  }

  /** Like decodedDetails, with a registry of your choice (decoded afresh on each call). */
  unpackDetails(types: Registry = detailTypes): Message[] {
    return this.details.map((d) => unpackDetail(d, types));
  }

  /**
   * Decodes the rich error details of one message type, e.g.
   * `err.findDetails(BadRequestSchema)`; details of other types are skipped.
   */
  findDetails<Desc extends DescMessage>(schema: Desc): MessageShape<Desc>[] {
    const out: MessageShape<Desc>[] = [];
    for (const d of this.details) {
      if (typeNameOf(d.typeUrl) === schema.typeName) out.push(fromBinary(schema, d.value));
    }
    return out;
  }
}

// Array.isArray narrows to any[] and leaves readonly arrays in the else branch; this does not.
function isDetailList(value: RpcErrorOptions | readonly DetailInput[]): value is readonly DetailInput[] {
  return Array.isArray(value);
}

/** A rich error detail from a protobuf message of any type, registered or not. */
export function detail<Desc extends DescMessage>(schema: Desc, message: MessageShape<Desc>): StatusDetail {
  return { typeUrl: typeUrlOf(schema.typeName), value: toBinary(schema, message) };
}

/** The status a finished call reports: code, message and optional rich details. */
export interface Status {
  code: Code;
  message: string;
  details?: readonly StatusDetail[];
  statusDetailsBin?: Uint8Array;
}

/** The wire status of an RpcError: its raw message (without the code-name prefix), details and all. */
export function statusOf(err: RpcError): Status {
  return { code: err.code, message: err.rawMessage, details: err.details, statusDetailsBin: err.statusDetailsBin };
}

/**
 * Turns anything a handler threw into a status: an RpcError keeps its code, an abort
 * reason keeps CANCELLED / DEADLINE_EXCEEDED, anything else becomes `fallback`
 * (UNKNOWN by default) with the error's message.
 */
export function fromError(err: unknown, fallback: Code = Code.UNKNOWN): RpcError {
  if (err instanceof RpcError) return err;
  if (err instanceof Error && err.name === "AbortError" && err.cause instanceof RpcError) return err.cause;
  if (err instanceof Error) return new RpcError(fallback, err.message, { cause: err });
  return new RpcError(fallback, typeof err === "string" ? err : "handler failed", { cause: err });
}
