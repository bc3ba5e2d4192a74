import { create, fromBinary, isMessage, toBinary, type DescField, type DescMessage, type DescOneof } from "@bufbuild/protobuf";
import { reflect, type ReflectList, type ReflectMap, type ReflectMessage } from "@bufbuild/protobuf/reflect";
import { ResponseTypeError } from "./errors.js";

/**
 * How one RPC's messages reach and leave a handler: parsed protobuf-es messages when the
 * service's descriptor is known, raw bytes otherwise.
 */
export interface MessageCodec {
  /** Request bytes to what the handler gets; absent: the handler gets the bytes. */
  readonly decode?: (bytes: Uint8Array) => unknown;
  /** A handler's response to bytes; throws ResponseTypeError when it does not fit. */
  encode(response: unknown, rpc: string): Uint8Array;
}

/** Bytes in, bytes out: for methods added without a descriptor. */
export const bytesCodec: MessageCodec = {
  encode(response, rpc) {
    if (response instanceof Uint8Array) return response;
    throw new ResponseTypeError(rpc, `expected a Uint8Array, got ${describe(response)}`);
  },
};

/**
 * Parsed messages: requests are protobuf-es messages; a response may be a message or a plain
 * object with its fields (what SR OS handlers return as a dict). protobuf-es's `create()` takes
 * almost anything (a number for a string field is written as its text), so the response is
 * checked first, the way Python's protobuf refuses a wrong type instead of converting it.
 */
export function protobufCodec(input: DescMessage, output: DescMessage): MessageCodec {
  return {
    decode: (bytes) => fromBinary(input, bytes),
    encode(response, rpc) {
      try {
        checkShape(output, response, output.name);
        const message = isMessage(response, output) ? response : create(output, response as never);
        checkValues(reflect(output, message, false), output.name);
        return toBinary(output, message);
      } catch (err) {
        throw new ResponseTypeError(rpc, err instanceof Error ? err.message : String(err), { cause: err });
      }
    },
  };
}

/** Objects where messages go, and only fields the message has (create() would drop the others silently). */
function checkShape(desc: DescMessage, value: unknown, path: string): void {
  if (!isPlainObject(value)) throw new TypeError(`${path}: expected a ${desc.typeName} (an object), got ${describe(value)}`);
  const typeName = (value as { $typeName?: unknown }).$typeName;
  if (typeName !== undefined && typeName !== desc.typeName) throw new TypeError(`${path}: expected a ${desc.typeName}, got a ${String(typeName)}`);
  for (const [key, v] of Object.entries(value)) {
    if (key === "$typeName" || key === "$unknown" || v === undefined) continue;
    const member = desc.members.find((m) => m.localName === key);
    if (!member) throw new TypeError(`${path}: ${desc.typeName} has no field "${key}"`);
    if (member.kind === "oneof") checkOneof(member, v, `${path}.${key}`);
    else checkFieldShape(member, v, `${path}.${key}`);
  }
}

function checkOneof(oneof: DescOneof, value: unknown, path: string): void {
  if (!isPlainObject(value)) throw new TypeError(`${path}: expected { case, value }, got ${describe(value)}`);
  const { case: which, value: v } = value as { case?: unknown; value?: unknown };
  if (which === undefined) return;
  const field = oneof.fields.find((f) => f.localName === which);
  if (!field) throw new TypeError(`${path}: ${String(which)} is not a member of oneof ${oneof.name}`);
  checkFieldShape(field, v, `${path}.${field.localName}`);
}

function checkFieldShape(field: DescField, value: unknown, path: string): void {
  switch (field.fieldKind) {
    case "message":
      // Well-known types have their own local forms (wrappers unboxed, Struct as JSON);
      // checkValues() still checks their values.
      if (!field.message.typeName.startsWith("google.protobuf.")) checkShape(field.message, value, path);
      return;
    case "list":
      if (!Array.isArray(value)) throw new TypeError(`${path}: expected an array, got ${describe(value)}`);
      if (field.listKind === "message") value.forEach((item, i) => checkShape(field.message, item, `${path}[${i}]`));
      return;
    case "map":
      if (!isPlainObject(value)) throw new TypeError(`${path}: expected an object (map), got ${describe(value)}`);
      if (field.mapKind === "message") for (const [k, v] of Object.entries(value as object)) checkShape(field.message, v, `${path}[${k}]`);
      return;
    default:
      return;
  }
}

/** Every set value against its field type, by writing it into a fresh message through the checking reflect API. */
function checkValues(message: ReflectMessage, path: string): void {
  const fresh = reflect(message.desc);
  for (const field of message.fields) {
    if (!message.isSet(field)) continue;
    const where = `${path}.${field.localName}`;
    try {
      switch (field.fieldKind) {
        case "scalar":
        case "enum":
          fresh.set(field, message.get(field));
          break;
        case "message":
          checkValues(message.get(field) as ReflectMessage, where);
          break;
        case "list": {
          const target = fresh.get(field) as ReflectList;
          for (const item of message.get(field) as ReflectList) {
            if (field.listKind === "message") checkValues(item as ReflectMessage, where);
            else target.add(item);
          }
          break;
        }
        case "map": {
          const target = fresh.get(field) as ReflectMap;
          for (const [k, v] of message.get(field) as ReflectMap) {
            if (field.mapKind === "message") checkValues(v as ReflectMessage, `${where}[${String(k)}]`);
            else target.set(k, v);
          }
          break;
        }
      }
    } catch (err) {
      if (err instanceof TypeError) throw err;
      throw new TypeError(`${where}: ${(err as Error).message}`, { cause: err });
    }
  }
}

function isPlainObject(value: unknown): value is object {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (value instanceof Uint8Array) return "bytes";
  if (typeof value === "object") return `a ${(value as object).constructor?.name ?? "object"}`;
  return `${typeof value} ${JSON.stringify(value) ?? String(value)}`;
}

