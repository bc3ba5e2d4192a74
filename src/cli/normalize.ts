// Repairs FileDescriptorProtos that protoc would have completed. Descriptors made by protobufjs
// (what @grpc/reflection serves for grpc-js servers) keep type names as written in the .proto
// ("Mood", "google.protobuf.Timestamp") and carry no json_name; protobuf-es refuses the first and
// would map every field to the JSON key "" without the second. Type names are resolved by
// protobuf's scoping rules (innermost scope first); json_name is derived as protoc does.
import { isFieldSet } from "@bufbuild/protobuf";
import { FieldDescriptorProtoSchema, FieldDescriptorProto_Type as Type, type DescriptorProto, type FieldDescriptorProto, type FileDescriptorProto } from "@bufbuild/protobuf/wkt";
import { jsonName } from "../protofile/linker.js";

/**
 * Rewrites relative type names in `files` (in place) to ".full.Name" (unknown names are left for
 * the registry to report) and fills in missing json_names. Complete descriptors are unchanged.
 */
export function normalizeDescriptors(files: readonly FileDescriptorProto[]): void {
  const messages = new Set<string>();
  const enums = new Set<string>();
  const collect = (scope: string, list: readonly DescriptorProto[]) => {
    for (const m of list) {
      const name = join(scope, m.name);
      messages.add(name);
      for (const e of m.enumType) enums.add(join(name, e.name));
      collect(name, m.nestedType);
    }
  };
  for (const f of files) {
    for (const e of f.enumType) enums.add(join(f.package, e.name));
    collect(f.package, f.messageType);
  }

  const resolve = (name: string, scope: string): { name: string; kind?: "message" | "enum" } => {
    if (!name || name.startsWith(".")) return { name };
    for (let s = scope; ; s = s.slice(0, Math.max(0, s.lastIndexOf(".")))) {
      const candidate = join(s, name);
      if (messages.has(candidate)) return { name: `.${candidate}`, kind: "message" };
      if (enums.has(candidate)) return { name: `.${candidate}`, kind: "enum" };
      if (!s) return { name };
    }
  };
  const fixField = (field: FieldDescriptorProto, scope: string) => {
    if (!isFieldSet(field, FieldDescriptorProtoSchema.field.jsonName)) field.jsonName = jsonName(field.name);
    const t = resolve(field.typeName, scope);
    field.typeName = t.name;
    // A parsed descriptor may leave the type out when it names a message or an enum.
    if (t.kind && !isFieldSet(field, FieldDescriptorProtoSchema.field.type)) field.type = t.kind === "message" ? Type.MESSAGE : Type.ENUM;
    field.extendee = resolve(field.extendee, scope).name;
  };
  const fixMessage = (m: DescriptorProto, scope: string) => {
    const name = join(scope, m.name);
    for (const f of m.field) fixField(f, name);
    for (const x of m.extension) fixField(x, name);
    for (const n of m.nestedType) fixMessage(n, name);
  };
  for (const f of files) {
    for (const m of f.messageType) fixMessage(m, f.package);
    for (const x of f.extension) fixField(x, f.package);
    for (const s of f.service) {
      const scope = join(f.package, s.name);
      for (const m of s.method) {
        m.inputType = resolve(m.inputType, scope).name;
        m.outputType = resolve(m.outputType, scope).name;
      }
    }
  }
}

function join(scope: string, name: string): string {
  return scope ? `${scope}.${name}` : name;
}
