// The messages the pool (main thread) and its workers exchange, and how a thrown value
// crosses the thread boundary. Both sides import this file, so the shapes cannot drift.
import { Metadata, type MetadataValue } from "../metadata.js";
import type { MethodKind } from "../service/method.js";
import { Code, isCode, RpcError, type StatusDetail } from "../status.js";

/**
 * One message (request or response) in transit. Most travel as the object itself (structured
 * clone keeps bigint, Uint8Array, nested objects); messages whose schema keeps defaults on a
 * prototype travel as protobuf bytes (see codec.ts).
 */
export type Payload = { readonly value: unknown } | { readonly bytes: Uint8Array; readonly typeName: string };

/** The clone-safe facts about a call that a worker function sees through its context. */
export interface CallInfo {
  readonly method: { readonly path: string; readonly service: string; readonly name: string; readonly kind: MethodKind };
  /** Metadata.toJSON(): one entry per key, an array when a key repeats. */
  readonly metadata: Record<string, MetadataValue | MetadataValue[]>;
  readonly peer: string;
  readonly userAgent: string | undefined;
  /** The deadline in Date.now() milliseconds, if the call has one. */
  readonly deadline: number | undefined;
}

/** A FileDescriptorSet (the file declaring `typeName` and its imports), sent once per thread. */
export interface SchemaShipment {
  readonly typeName: string;
  readonly set: Uint8Array;
}

/** Main thread -> worker. */
export type ToWorker =
  | {
      readonly t: "run";
      readonly id: number;
      readonly fn: string;
      readonly stream: boolean;
      readonly request: Payload;
      readonly call: CallInfo;
      /** Set when responses must come back as bytes of this message type. */
      readonly responseType: string | undefined;
      readonly schemas: readonly SchemaShipment[] | undefined;
      /** Streams: messages the worker may send before it waits for more credit. */
      readonly credit: number;
    }
  | { readonly t: "cancel"; readonly id: number; readonly code: Code; readonly message: string }
  | { readonly t: "credit"; readonly id: number; readonly n: number };

/** Worker -> main thread. */
export type FromWorker =
  | { readonly t: "ready"; readonly exports: string[] }
  | { readonly t: "load-error"; readonly error: WireError }
  | { readonly t: "result"; readonly id: number; readonly value: Payload }
  | { readonly t: "message"; readonly id: number; readonly value: Payload }
  | { readonly t: "end"; readonly id: number }
  | { readonly t: "error"; readonly id: number; readonly error: WireError };

/** A thrown value in clone-safe form. */
export type WireError =
  | {
      readonly kind: "rpc";
      readonly code: number;
      readonly message: string;
      readonly details: readonly StatusDetail[];
      readonly metadata: [string, MetadataValue][] | undefined;
      readonly statusDetailsBin: Uint8Array | undefined;
    }
  | { readonly kind: "error"; readonly name: string; readonly message: string; readonly stack: string | undefined }
  | { readonly kind: "string"; readonly message: string }
  | { readonly kind: "other" };

/**
 * Whether a value is an RpcError. The user's module may load its own copy of the library
 * (another path to the same package), so the shape counts, not only the class.
 */
function isRpcError(err: unknown): err is RpcError {
  if (err instanceof RpcError) return true;
  const e = err as Partial<RpcError> | null;
  return e instanceof Error && e.name === "RpcError" && isCode(e.code) && typeof e.rawMessage === "string";
}

/** Worker side: what the main thread needs to rebuild `err`. */
export function toWireError(err: unknown): WireError {
  if (isRpcError(err)) {
    return {
      kind: "rpc",
      code: err.code,
      message: err.rawMessage,
      details: (err.details ?? []).map((d) => ({ typeUrl: d.typeUrl, value: d.value })),
      metadata: err.metadata ? [...err.metadata] : undefined,
      statusDetailsBin: err.statusDetailsBin,
    };
  }
  if (err instanceof Error) return { kind: "error", name: err.name, message: err.message, stack: err.stack };
  if (typeof err === "string") return { kind: "string", message: err };
  return { kind: "other" };
}

/**
 * Main side: a value that the core's fromError() maps exactly as it maps the original throw
 * (an RpcError keeps its status; an Error or a string becomes UNKNOWN with its text).
 */
export function fromWireError(wire: WireError): unknown {
  switch (wire.kind) {
    case "rpc": {
      const metadata = wire.metadata ? new Metadata(wire.metadata) : undefined;
      return new RpcError(wire.code, wire.message, { details: wire.details, metadata, statusDetailsBin: wire.statusDetailsBin });
    }
    case "error": {
      const err = new Error(wire.message);
      err.name = wire.name;
      if (wire.stack) err.stack = wire.stack;
      return err;
    }
    case "string":
      return wire.message;
    case "other":
      return new Error("handler failed");
  }
}

/** The RpcError a worker function sees as `ctx.signal.reason` after a cancel message. */
export function cancelReason(code: Code, message: string): RpcError {
  return new RpcError(isCode(code) ? code : Code.CANCELLED, message);
}
