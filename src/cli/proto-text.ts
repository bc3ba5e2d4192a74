// Descriptors as proto-like text for `switchboard describe` and `ls -l`. Type references are
// fully qualified with a leading dot (valid proto syntax, and unambiguous), as grpcurl prints them.
import { ScalarType, type AnyDesc, type DescEnum, type DescEnumValue, type DescExtension, type DescField, type DescMessage, type DescMethod, type DescOneof, type DescService } from "@bufbuild/protobuf";
import { FieldDescriptorProto_Label, FieldDescriptorProto_Type } from "@bufbuild/protobuf/wkt";

const INDENT = "  ";
const MAX_FIELD_NUMBER = 536_870_911;

/** `NAME is a KIND:` and the text of any descriptor. */
export function describe(desc: AnyDesc): string {
  const [what, text] = describeBody(desc);
  return `${fullName(desc)} is ${what}:\n${text}`;
}

function describeBody(desc: AnyDesc): [string, string] {
  switch (desc.kind) {
    case "service":
      return ["a service", serviceText(desc)];
    case "rpc":
      return ["a method", `${methodLine(desc)}\n`];
    case "message":
      return ["a message", messageText(desc, "")];
    case "enum":
      return ["an enum", enumText(desc, "")];
    case "enum_value":
      return ["an enum value", `${enumValueLine(desc)}\n`];
    case "field":
      return ["a field", `${fieldLine(desc, isProto2(desc.parent))}\n`];
    case "oneof":
      return ["a oneof", oneofText(desc, "")];
    case "extension":
      return ["an extension", extendText(desc.extendee, [desc], "")];
    case "file":
      return ["a file", `// ${desc.name}.proto\n`];
  }
}

function fullName(desc: AnyDesc): string {
  switch (desc.kind) {
    case "rpc":
      return `${desc.parent.typeName}.${desc.name}`;
    case "field":
    case "oneof":
      return `${desc.parent.typeName}.${desc.name}`;
    case "enum_value": {
      const scope = desc.parent.typeName.slice(0, Math.max(0, desc.parent.typeName.lastIndexOf(".")));
      return scope ? `${scope}.${desc.name}` : desc.name;
    }
    case "file":
      return desc.proto.name;
    default:
      return desc.typeName;
  }
}

export function serviceText(service: DescService): string {
  const lines = [`service ${service.name} {`];
  if (service.deprecated) lines.push(`${INDENT}option deprecated = true;`);
  for (const m of service.methods) lines.push(INDENT + methodLine(m));
  lines.push("}");
  return lines.join("\n") + "\n";
}

/** `rpc Name(.pkg.In) returns (stream .pkg.Out);` */
export function methodLine(m: DescMethod): string {
  const input = `${m.methodKind === "client_streaming" || m.methodKind === "bidi_streaming" ? "stream " : ""}.${m.input.typeName}`;
  const output = `${m.methodKind === "server_streaming" || m.methodKind === "bidi_streaming" ? "stream " : ""}.${m.output.typeName}`;
  return `rpc ${m.name}(${input}) returns (${output})${m.deprecated ? " { option deprecated = true; }" : ";"}`;
}

function messageText(message: DescMessage, indent: string): string {
  const inner = indent + INDENT;
  const proto2 = isProto2(message);
  const lines = [`${indent}message ${message.name} {`];
  for (const member of message.members) {
    if (member.kind === "oneof") lines.push(oneofText(member, inner).trimEnd());
    else lines.push(inner + fieldLine(member, proto2));
  }
  for (const nested of message.nestedMessages) {
    if (!nested.proto.options?.mapEntry) lines.push(messageText(nested, inner).trimEnd());
  }
  for (const e of message.nestedEnums) lines.push(enumText(e, inner).trimEnd());
  for (const [extendee, exts] of byExtendee(message.nestedExtensions)) lines.push(extendText(extendee, exts, inner).trimEnd());
  for (const r of message.proto.extensionRange) lines.push(`${inner}extensions ${range(r.start, r.end - 1)};`);
  const reserved = message.proto.reservedRange.map((r) => range(r.start, r.end - 1));
  if (reserved.length) lines.push(`${inner}reserved ${reserved.join(", ")};`);
  if (message.proto.reservedName.length) lines.push(`${inner}reserved ${message.proto.reservedName.map((n) => JSON.stringify(n)).join(", ")};`);
  lines.push(`${indent}}`);
  return lines.join("\n") + "\n";
}

function oneofText(oneof: DescOneof, indent: string): string {
  const lines = [`${indent}oneof ${oneof.name} {`];
  for (const f of oneof.fields) lines.push(indent + INDENT + fieldLine(f, false));
  lines.push(`${indent}}`);
  return lines.join("\n") + "\n";
}

function enumText(e: DescEnum, indent: string): string {
  const lines = [`${indent}enum ${e.name} {`];
  if (e.proto.options?.allowAlias) lines.push(`${indent}${INDENT}option allow_alias = true;`);
  for (const v of e.values) lines.push(indent + INDENT + enumValueLine(v));
  // Enum reserved ranges are inclusive, unlike message ones.
  const reserved = e.proto.reservedRange.map((r) => range(r.start, r.end));
  if (reserved.length) lines.push(`${indent}${INDENT}reserved ${reserved.join(", ")};`);
  lines.push(`${indent}}`);
  return lines.join("\n") + "\n";
}

function enumValueLine(v: DescEnumValue): string {
  return `${v.name} = ${v.number}${v.deprecated ? " [deprecated = true]" : ""};`;
}

function extendText(extendee: DescMessage, exts: readonly DescExtension[], indent: string): string {
  const lines = [`${indent}extend .${extendee.typeName} {`];
  for (const x of exts) lines.push(indent + INDENT + fieldLine(x, isProto2(x)));
  lines.push(`${indent}}`);
  return lines.join("\n") + "\n";
}

/** `repeated .pkg.Type name = 3 [deprecated = true];` */
function fieldLine(field: DescField | DescExtension, proto2: boolean): string {
  const options: string[] = [];
  const def = field.proto.defaultValue;
  if (def) options.push(`default = ${field.proto.type === FieldDescriptorProto_Type.STRING || field.proto.type === FieldDescriptorProto_Type.BYTES ? JSON.stringify(def) : def}`);
  if (field.deprecated) options.push("deprecated = true");
  return `${label(field, proto2)}${typeOf(field)} ${field.name} = ${field.number}${options.length ? ` [${options.join(", ")}]` : ""};`;
}

function label(field: DescField | DescExtension, proto2: boolean): string {
  if (field.fieldKind === "list") return "repeated ";
  if (field.fieldKind === "map" || field.oneof) return "";
  if (field.proto.label === FieldDescriptorProto_Label.REQUIRED) return "required ";
  if (field.proto.proto3Optional || proto2) return "optional ";
  return "";
}

function typeOf(field: DescField | DescExtension): string {
  if (field.fieldKind === "map") {
    const value = field.mapKind === "scalar" ? scalarName(field.scalar) : `.${field.mapKind === "enum" ? field.enum.typeName : field.message.typeName}`;
    return `map<${scalarName(field.mapKey)}, ${value}>`;
  }
  if (field.message) return `.${field.message.typeName}`;
  if (field.enum) return `.${field.enum.typeName}`;
  return scalarName(field.scalar!);
}

function scalarName(t: ScalarType): string {
  return ScalarType[t].toLowerCase();
}

function isProto2(desc: DescMessage | DescExtension): boolean {
  const syntax = desc.file.proto.syntax;
  return syntax === "" || syntax === "proto2";
}

function range(start: number, end: number): string {
  if (start === end) return String(start);
  return `${start} to ${end >= MAX_FIELD_NUMBER ? "max" : end}`;
}

function byExtendee(exts: readonly DescExtension[]): Map<DescMessage, DescExtension[]> {
  const map = new Map<DescMessage, DescExtension[]>();
  for (const x of exts) {
    const list = map.get(x.extendee);
    if (list) list.push(x);
    else map.set(x.extendee, [x]);
  }
  return map;
}
