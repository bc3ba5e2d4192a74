// Python's repr() of the values in values.ts, for messages the peer shows its user
// ("cannot access 'x'") and for HANDLE_REPR on objects that define no __repr__ of their own.
import { PyComplex, PyFloat, PyFrozenSet, PySlice, Ellipsis, NotImplemented } from "./values.js";

export function floatRepr(v: number): string {
  if (Number.isNaN(v)) return "nan";
  if (v === Infinity) return "inf";
  if (v === -Infinity) return "-inf";
  if (Object.is(v, -0)) return "-0.0";
  const abs = Math.abs(v);
  if (abs !== 0 && (abs >= 1e16 || abs < 1e-4)) {
    // Python: 1e+16, 1.5e-05 (exponent at least two digits)
    const [mant, exp] = v.toExponential().split("e") as [string, string];
    const sign = exp.startsWith("-") ? "-" : "+";
    const digits = exp.replace(/^[-+]/, "").padStart(2, "0");
    return `${mant}e${sign}${digits}`;
  }
  const s = String(v);
  return Number.isInteger(v) ? `${s}.0` : s;
}

export function strRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === quote || ch === "\\") out += `\\${ch}`;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, "0")}`;
    else out += ch;
  }
  return out + quote;
}

function bytesRepr(b: Uint8Array): string {
  const quote = b.includes(0x27) && !b.includes(0x22) ? '"' : "'";
  let out = `b${quote}`;
  for (const c of b) {
    if (c === quote.charCodeAt(0) || c === 0x5c) out += `\\${String.fromCharCode(c)}`;
    else if (c === 0x0a) out += "\\n";
    else if (c === 0x0d) out += "\\r";
    else if (c === 0x09) out += "\\t";
    else if (c < 0x20 || c >= 0x7f) out += `\\x${c.toString(16).padStart(2, "0")}`;
    else out += String.fromCharCode(c);
  }
  return out + quote;
}

export function pyRepr(value: unknown, depth = 0): string {
  if (depth > 50) return "...";
  if (value === null || value === undefined) return "None";
  switch (typeof value) {
    case "boolean":
      return value ? "True" : "False";
    case "number":
      return Number.isSafeInteger(value) && !Object.is(value, -0) ? String(value) : floatRepr(value);
    case "bigint":
      return value.toString();
    case "string":
      return strRepr(value);
    case "function":
      return `<function ${value.name || "<anonymous>"}>`;
    case "object":
      break;
    default:
      return String(value);
  }
  if (value instanceof PyFloat) return floatRepr(value.value);
  if (value instanceof Uint8Array) return bytesRepr(value);
  if (Array.isArray(value)) {
    const items = value.map((v) => pyRepr(v, depth + 1));
    return items.length === 1 ? `(${items[0]},)` : `(${items.join(", ")})`;
  }
  if (value instanceof PyFrozenSet) return value.size === 0 ? "frozenset()" : `frozenset({${value.items.map((v) => pyRepr(v, depth + 1)).join(", ")}})`;
  if (value instanceof PySlice) return `slice(${pyRepr(value.start, depth + 1)}, ${pyRepr(value.stop, depth + 1)}, ${pyRepr(value.step, depth + 1)})`;
  if (value instanceof PyComplex) {
    const imag = `${floatRepr(value.imag).replace(/\.0$/, "")}j`;
    if (value.real === 0 && !Object.is(value.real, -0)) return imag;
    const re = floatRepr(value.real).replace(/\.0$/, "");
    return `(${re}${imag.startsWith("-") ? "" : "+"}${imag})`;
  }
  if (value === Ellipsis) return "Ellipsis";
  if (value === NotImplemented) return "NotImplemented";
  const ctor = (value as { constructor?: { name?: string } }).constructor;
  return `<${ctor?.name || "object"} object>`;
}
