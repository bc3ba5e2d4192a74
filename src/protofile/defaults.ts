// `[default = ...]` as protoc writes it into FieldDescriptorProto.default_value. protoc parses the
// value into the field's type and prints it back (DefaultValueAsString): integers in decimal
// (hex, octal and "-0" normalized), doubles and floats as C's shortest round-trip "%g" at double
// or float precision ("1e+10", "inf", "nan"), bools as true/false, strings as they are, bytes
// C-escaped.
import { FieldDescriptorProto_Type as Type } from "@bufbuild/protobuf/wkt";
import type { OptionValue } from "./ast.js";
import type { Pos } from "./tokenizer.js";

type Fail = (at: Pos, message: string) => never;

const INT_MAX: Partial<Record<Type, bigint>> = {
  [Type.INT32]: 2n ** 31n - 1n,
  [Type.SINT32]: 2n ** 31n - 1n,
  [Type.SFIXED32]: 2n ** 31n - 1n,
  [Type.INT64]: 2n ** 63n - 1n,
  [Type.SINT64]: 2n ** 63n - 1n,
  [Type.SFIXED64]: 2n ** 63n - 1n,
  [Type.UINT32]: 2n ** 32n - 1n,
  [Type.FIXED32]: 2n ** 32n - 1n,
  [Type.UINT64]: 2n ** 64n - 1n,
  [Type.FIXED64]: 2n ** 64n - 1n,
};
const UNSIGNED = new Set([Type.UINT32, Type.FIXED32, Type.UINT64, Type.FIXED64]);

/** The default_value text for a scalar field of `type`. */
export function formatDefault(type: Type, value: OptionValue, fail: Fail): string {
  const max = INT_MAX[type];
  if (max !== undefined) {
    if (value.kind !== "int") return fail(value.pos, "Expected integer for field default value.");
    if (value.negative && UNSIGNED.has(type)) return fail(value.pos, "Unsigned field can't have negative default value.");
    if (value.value > max + (value.negative ? 1n : 0n)) return fail(value.pos, "Integer out of range.");
    return String(value.negative ? -value.value : value.value);
  }
  switch (type) {
    case Type.FLOAT:
    case Type.DOUBLE: {
      let n: number;
      if (value.kind === "int") n = Number(value.value);
      else if (value.kind === "float") n = value.value;
      else if (value.kind === "ident" && (value.text === "inf" || value.text === "nan")) n = value.text === "inf" ? Infinity : NaN;
      else return fail(value.pos, "Expected number.");
      if (value.negative) n = -n;
      return type === Type.FLOAT ? simpleFtoa(Math.fround(n)) : simpleDtoa(n);
    }
    case Type.BOOL:
      if (value.kind !== "ident" || (value.text !== "true" && value.text !== "false")) return fail(value.pos, 'Expected "true" or "false".');
      return value.text;
    case Type.STRING:
      if (value.kind !== "string") return fail(value.pos, "Expected string for field default value.");
      return new TextDecoder().decode(value.bytes);
    case Type.BYTES:
      if (value.kind !== "string") return fail(value.pos, "Expected string for field default value.");
      return cEscape(value.bytes);
    default:
      return fail(value.pos, "Messages can't have default values.");
  }
}

/** protoc's SimpleDtoa: "%.15g", or "%.17g" when that does not read back as the same double. */
export function simpleDtoa(n: number): string {
  if (n === Infinity) return "inf";
  if (n === -Infinity) return "-inf";
  if (Number.isNaN(n)) return "nan";
  const short = formatG(n, 15);
  return Number(short) === n ? short : formatG(n, 17);
}

/** protoc's SimpleFtoa: "%.6g", or "%.9g" when that does not read back as the same float. */
export function simpleFtoa(n: number): string {
  if (n === Infinity) return "inf";
  if (n === -Infinity) return "-inf";
  if (Number.isNaN(n)) return "nan";
  const short = formatG(n, 6);
  return Math.fround(Number(short)) === n ? short : formatG(n, 9);
}

/** C's printf("%.<precision>g"). */
function formatG(n: number, precision: number): string {
  if (n === 0) return Object.is(n, -0) ? "-0" : "0";
  const [mantissa, exp] = n.toExponential(precision - 1).split("e") as [string, string];
  const e = Number(exp);
  if (e < -4 || e >= precision) {
    const digits = stripZeros(mantissa);
    return `${digits}e${e < 0 ? "-" : "+"}${String(Math.abs(e)).padStart(2, "0")}`;
  }
  return stripZeros(n.toFixed(precision - 1 - e));
}

function stripZeros(s: string): string {
  return s.includes(".") ? s.replace(/\.?0+$/, "") : s;
}

/** protoc's CEscape: \n \r \t \" \' \\ by name, other non-printable bytes as 3-digit octal. */
export function cEscape(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) {
    if (b === 0x0a) out += "\\n";
    else if (b === 0x0d) out += "\\r";
    else if (b === 0x09) out += "\\t";
    else if (b === 0x22) out += '\\"';
    else if (b === 0x27) out += "\\'";
    else if (b === 0x5c) out += "\\\\";
    else if (b < 0x20 || b >= 0x7f) out += `\\${b.toString(8).padStart(3, "0")}`;
    else out += String.fromCharCode(b);
  }
  return out;
}
