import {
  create,
  fromBinary,
  fromJsonString,
  isMessage,
  toBinary,
  toJsonString,
  type DescMessage,
  type JsonReadOptions,
  type JsonWriteOptions,
} from "@bufbuild/protobuf";
import { ErrorCode, SwitchboardError } from "../errors.js";
import type { MethodDefinition } from "../service/method.js";

/**
 * How messages become bytes and back (grpclib `CodecBase`). The codec is chosen per call
 * by the content subtype: `application/grpc+{contentSubtype}`. `schema` is the method's
 * protobuf message type, or undefined for methods registered without one (raw handlers,
 * method maps), where the codec decides the shape on its own.
 */
export interface Codec {
  readonly contentSubtype: string;
  encode(message: unknown, schema: DescMessage | undefined): Uint8Array;
  decode(data: Uint8Array, schema: DescMessage | undefined): unknown;
}

/** Protocol Buffers binary, the gRPC default (`application/grpc`, `application/grpc+proto`). */
export const protoCodec: Codec = {
  contentSubtype: "proto",
  encode(message, schema) {
    if (schema) return toBinary(schema, isMessage(message, schema) ? message : create(schema, (message ?? {}) as never));
    if (message instanceof Uint8Array) return message;
    throw new SwitchboardError(ErrorCode.BAD_MESSAGE, "the proto codec needs a schema or bytes");
  },
  decode(data, schema) {
    return schema ? fromBinary(schema, data) : data;
  },
};

/** Options of the JSON codec: protobuf-es JSON read/write options (registry for Any, unknown fields, ...). */
export interface JsonCodecOptions {
  read?: Partial<JsonReadOptions>;
  write?: Partial<JsonWriteOptions>;
}

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * JSON (`application/grpc+json`): the protobuf JSON mapping for methods with a schema,
 * plain `JSON.stringify` / `JSON.parse` for methods without one (grpclib's JSON example).
 */
export function jsonCodec(options: JsonCodecOptions = {}): Codec {
  return {
    contentSubtype: "json",
    encode(message, schema) {
      if (!schema) return utf8.encode(JSON.stringify(message ?? null));
      const full = isMessage(message, schema) ? message : create(schema, (message ?? {}) as never);
      return utf8.encode(toJsonString(schema, full, options.write));
    },
    decode(data, schema) {
      const text = fromUtf8.decode(data);
      return schema ? fromJsonString(schema, text, options.read) : JSON.parse(text);
    },
  };
}

/** The codecs a server accepts when none are configured: protobuf and JSON. */
export function defaultCodecs(): Codec[] {
  return [protoCodec, jsonCodec()];
}

/** Codecs by lower-case content subtype; later ones replace earlier ones with the same subtype. */
export function codecMap(codecs: Iterable<Codec>): Map<string, Codec> {
  const map = new Map<string, Codec>();
  for (const c of codecs) {
    if (!c || typeof c.contentSubtype !== "string" || typeof c.encode !== "function" || typeof c.decode !== "function") {
      throw new SwitchboardError(ErrorCode.BAD_OPTION, "a codec needs contentSubtype, encode() and decode()");
    }
    map.set(c.contentSubtype.toLowerCase(), c);
  }
  return map;
}

/**
 * The content subtype of a gRPC content type: `application/grpc` -> "proto",
 * `application/grpc+json; charset=utf-8` -> "json". Assumes the `application/grpc` prefix was checked.
 */
export function contentSubtype(contentType: string): string {
  const semi = contentType.indexOf(";");
  const base = semi === -1 ? contentType : contentType.slice(0, semi);
  const plus = base.indexOf("+");
  return plus === -1 ? "proto" : base.slice(plus + 1).trim().toLowerCase();
}

/** The request content type a client sends for `codec`. */
export function contentTypeFor(codec: Codec | undefined): string {
  return codec === undefined || codec.contentSubtype === "proto" ? "application/grpc" : `application/grpc+${codec.contentSubtype}`;
}

const withCodecCache = new WeakMap<MethodDefinition, Map<Codec, MethodDefinition>>();

/** `def` with its messages (de)serialized by `codec` instead of its own functions; made once per pair. */
export function withCodec(def: MethodDefinition, codec: Codec): MethodDefinition {
  let byCodec = withCodecCache.get(def);
  if (!byCodec) withCodecCache.set(def, (byCodec = new Map()));
  let out = byCodec.get(codec);
  if (!out) {
    const { input, output } = def;
    out = { ...def, deserialize: (bytes) => codec.decode(bytes, input), serialize: (message) => codec.encode(message, output) };
    byCodec.set(codec, out);
  }
  return out;
}
