// Parsed files -> complete FileDescriptorProtos and a registry, file by file in dependency
// order as protoc's DescriptorBuilder does: type names resolved by protobuf's scoping rules
// (MESSAGE/ENUM set accordingly), enum defaults checked, json_name derived, options interpreted,
// and the checks protoc makes that a registry would not (field numbers, reserved names and
// numbers, extension ranges, enum aliases, proto3 rules), each reported at its line and column.
import { createFileRegistry, isFieldSet, type DescExtension, type DescFile, type FileRegistry } from "@bufbuild/protobuf";
import { FieldDescriptorProto_Label as Label, FieldDescriptorProto_Type as Type, FieldDescriptorProtoSchema, type DescriptorProto, type FileDescriptorProto } from "@bufbuild/protobuf/wkt";
import type { FieldRef, ParsedFile } from "./ast.js";
import { protoError } from "./errors.js";
import { interpretOptions, needsRegistry } from "./options.js";
import { MAX_FIELD_NUMBER } from "./parser.js";
import { SymbolTable } from "./symbols.js";
import type { Pos } from "./tokenizer.js";

/** A file to link: parsed from source, or a built-in descriptor (the well-known types). */
export type LinkInput = { parsed: ParsedFile } | { builtin: DescFile };

export interface Linked {
  /** Every file, each after its imports (a valid FileDescriptorSet order). */
  files: FileDescriptorProto[];
  registry: FileRegistry;
}

/** Links `inputs`, given each after its imports. Throws ERR_SB_BAD_PROTO at the first error. */
export function link(inputs: readonly LinkInput[]): Linked {
  const table = new SymbolTable();
  const built = new Map<string, DescFile>();
  const registries: FileRegistry[] = [];
  const files: FileDescriptorProto[] = [];
  const extensionNumbers = new Map<string, Map<number, string>>();
  for (const input of inputs) {
    if ("builtin" in input) {
      const dup = table.add(input.builtin.proto);
      if (dup) throw protoError(input.builtin.proto.name, undefined, dup.message);
      built.set(input.builtin.proto.name, input.builtin);
      registries.push(createFileRegistry(input.builtin.proto, (n) => built.get(n)));
      files.push(input.builtin.proto);
      continue;
    }
    const file = input.parsed;
    const dup = table.add(file.proto, file.definitions);
    if (dup) throw protoError(file.display, dup.pos, dup.message);
    new FileLinker(file, table, extensionNumbers).link();
    const resolve = (name: string) => built.get(name);
    if (file.options.length > 0) {
      // Custom options may be extensions the file itself declares: it is linked once without
      // them to find those, then again with every option in place.
      const first = needsRegistry(file) ? tryRegistry(file, resolve) : undefined;
      interpretOptions({ file, registry: first, findExtension: (name, relativeTo, at) => findExtension(table, first!, file, name, relativeTo, at) });
    }
    const registry = tryRegistry(file, resolve);
    checkAfterOptions(file);
    built.set(file.name, registry.getFile(file.name)!);
    registries.push(registry);
    files.push(file.proto);
  }
  return { files, registry: createFileRegistry(...registries) };
}

function tryRegistry(file: ParsedFile, resolve: (name: string) => DescFile | undefined): FileRegistry {
  try {
    return createFileRegistry(file.proto, resolve);
  } catch (err) {
    throw protoError(file.display, undefined, (err as Error).message);
  }
}

function findExtension(table: SymbolTable, registry: FileRegistry, file: ParsedFile, name: string, relativeTo: string, at: Pos): DescExtension {
  const found = table.lookup(name, relativeTo, file.name, false);
  if (!found.sym) throw protoError(file.display, at, found.error.startsWith(`"${name}" is not defined`) ? `Option "(${name})" unknown. Ensure that your proto definition file imports the proto which defines the option.` : found.error);
  if (found.sym.kind !== "extension") throw protoError(file.display, at, `"${name}" is not an extension: option names in parentheses must name an extension of an options message.`);
  const ext = registry.getExtension(found.fullName);
  if (!ext) throw protoError(file.display, at, `Extension "${found.fullName}" is not available to this file.`);
  return ext;
}

class FileLinker {
  constructor(
    private readonly file: ParsedFile,
    private readonly table: SymbolTable,
    private readonly extensionNumbers: Map<string, Map<number, string>>,
  ) {}

  link(): void {
    for (const ref of this.file.fields) this.linkField(ref);
    for (const m of this.file.methods) {
      m.method.inputType = this.messageType(m.method.inputType, m.relativeTo, m.inputPos);
      m.method.outputType = this.messageType(m.method.outputType, m.relativeTo, m.outputPos);
    }
    for (const m of this.file.messages) this.checkMessage(m.message, m.fullName, m.pos);
    for (const e of this.file.enums) {
      for (const [i, v] of e.enumType.value.entries()) {
        if (e.enumType.reservedName.includes(v.name)) this.fail(e.valuePos[i], `Enum value "${v.name}" is reserved.`);
        if (e.enumType.reservedRange.some((r) => v.number >= r.start && v.number <= r.end)) this.fail(e.valuePos[i], `Enum value "${v.name}" uses reserved number ${v.number}.`);
      }
    }
  }

  private linkField(ref: FieldRef): void {
    const field = ref.field;
    if (ref.typePos) {
      const found = this.table.lookup(field.typeName, ref.relativeTo, this.file.name, true);
      if (!found.sym) this.fail(ref.typePos, found.error);
      if (found.sym.kind !== "message" && found.sym.kind !== "enum") this.fail(ref.typePos, `"${field.typeName}" is not a type.`);
      field.typeName = `.${found.fullName}`;
      if (!isFieldSet(field, FieldDescriptorProtoSchema.field.type)) field.type = found.sym.kind === "message" ? Type.MESSAGE : Type.ENUM;
      if (found.sym.kind === "enum" && this.file.syntax === "proto3" && !field.extendee) {
        const enumFile = this.table.file(found.sym.file);
        if (enumFile && enumFile.syntax !== "proto3" && enumFile.syntax !== "editions") {
          this.fail(ref.typePos, `Enum type "${found.fullName}" is not a proto3 enum, but is used in "${ref.scope}" which is a proto3 message type.`);
        }
      }
      if (ref.pendingDefault) {
        const { text, pos } = ref.pendingDefault;
        if (found.sym.kind === "message") this.fail(pos, "Messages can't have default values.");
        if (!found.sym.enumType?.value.some((v) => v.name === text)) this.fail(pos, `Enum type "${found.fullName}" has no value named "${text}".`);
        field.defaultValue = text;
      }
    }
    if (ref.extendeePos) {
      field.extendee = this.messageType(field.extendee, ref.relativeTo, ref.extendeePos);
      this.checkExtension(ref);
    }
    if (!isFieldSet(field, FieldDescriptorProtoSchema.field.jsonName)) field.jsonName = jsonName(field.name);
  }

  private checkExtension(ref: FieldRef): void {
    const field = ref.field;
    if (ref.jsonNamePos) this.fail(ref.jsonNamePos, "option json_name is not allowed on extension fields.");
    if (field.label === Label.REQUIRED) this.fail(ref.namePos, `The extension ${ref.relativeTo} cannot be required.`);
    this.checkNumber(field.number, ref.numberPos);
    const extendee = field.extendee.slice(1);
    const target = this.table.lookup(field.extendee, "", this.file.name, true).sym?.message;
    if (target && !target.extensionRange.some((r) => field.number >= r.start && field.number < r.end)) {
      this.fail(ref.numberPos, `"${extendee}" does not declare ${field.number} as an extension number.`);
    }
    if (this.file.syntax === "proto3" && !/^\.google\.protobuf\.\w+Options$/.test(field.extendee)) {
      this.fail(ref.extendeePos, "Extensions in proto3 are only allowed for defining options.");
    }
    let used = this.extensionNumbers.get(extendee);
    if (!used) this.extensionNumbers.set(extendee, (used = new Map()));
    const other = used.get(field.number);
    if (other) this.fail(ref.numberPos, `Extension number ${field.number} has already been used in "${extendee}" by extension "${other}".`);
    used.set(field.number, ref.relativeTo);
  }

  /** A method's input or output type, or an extendee: must name a message. */
  private messageType(name: string, relativeTo: string, at: Pos): string {
    const found = this.table.lookup(name, relativeTo, this.file.name, true);
    if (!found.sym) this.fail(at, found.error);
    if (found.sym.kind !== "message") this.fail(at, `"${name}" is not a message type.`);
    return `.${found.fullName}`;
  }

  private checkMessage(message: DescriptorProto, fullName: string, at: Pos): void {
    const byNumber = new Map<number, string>();
    const positions = new Map(this.file.fields.filter((f) => f.message === message).map((f) => [f.field, f]));
    for (const field of message.field) {
      const ref = positions.get(field);
      const numberPos = ref?.numberPos ?? at;
      this.checkNumber(field.number, numberPos);
      const other = byNumber.get(field.number);
      if (other !== undefined) this.fail(numberPos, `Field number ${field.number} has already been used in "${fullName}" by field "${other}".`);
      byNumber.set(field.number, field.name);
      if (message.reservedRange.some((r) => field.number >= r.start && field.number < r.end)) this.fail(numberPos, `Field "${field.name}" uses reserved number ${field.number}.`);
      if (message.reservedName.includes(field.name)) this.fail(ref?.namePos ?? at, `Field name "${field.name}" is reserved.`);
      const range = message.extensionRange.find((r) => field.number >= r.start && field.number < r.end);
      if (range) this.fail(numberPos, `Extension range ${range.start} to ${range.end - 1} includes field "${field.name}" (${field.number}).`);
    }
    for (const r of message.extensionRange) {
      if (r.start <= 0) this.fail(at, "Extension numbers must be positive integers.");
      if (r.end <= r.start) this.fail(at, "Extension range end number must be greater than start number.");
      const reserved = message.reservedRange.find((x) => x.start < r.end && r.start < x.end);
      if (reserved) this.fail(at, `Extension range ${r.start} to ${r.end - 1} overlaps with reserved range ${reserved.start} to ${reserved.end - 1}.`);
    }
    for (const r of message.reservedRange) {
      if (r.start <= 0) this.fail(at, "Reserved numbers must be positive integers.");
      if (r.end <= r.start) this.fail(at, "Reserved range end number must be greater than start number.");
    }
    if (this.file.syntax === "proto3") {
      const names = new Map<string, string>();
      for (const field of message.field) {
        const json = jsonName(field.name).toLowerCase();
        const other = names.get(json);
        if (other !== undefined) this.fail(positions.get(field)?.namePos ?? at, `The JSON camel-case name of field "${field.name}" conflicts with field "${other}". This is not allowed in proto3.`);
        names.set(json, field.name);
      }
    }
  }

  private checkNumber(number: number, at: Pos): void {
    if (number <= 0) this.fail(at, "Field numbers must be positive integers.");
    if (number > MAX_FIELD_NUMBER) this.fail(at, `Field numbers cannot be greater than ${MAX_FIELD_NUMBER}.`);
    if (number >= 19000 && number <= 19999) this.fail(at, "Field numbers 19000 through 19999 are reserved for the protocol buffer library implementation.");
  }

  private fail(at: Pos | undefined, message: string): never {
    throw protoError(this.file.display, at, message);
  }
}

/** Checks that depend on interpreted options: enum aliases. */
function checkAfterOptions(file: ParsedFile): void {
  for (const e of file.enums) {
    if (e.enumType.options?.allowAlias) continue;
    // Values are named in their enum's parent scope.
    const scope = e.fullName.slice(0, Math.max(0, e.fullName.lastIndexOf(".")));
    const full = (name: string) => (scope ? `${scope}.${name}` : name);
    const byNumber = new Map<number, string>();
    for (const [i, v] of e.enumType.value.entries()) {
      const other = byNumber.get(v.number);
      if (other !== undefined) {
        throw protoError(file.display, e.valuePos[i], `"${full(v.name)}" uses the same enum value as "${full(other)}". If this is intended, set 'option allow_alias = true;' to the enum definition.`);
      }
      byNumber.set(v.number, v.name);
    }
  }
}

/** protoc's ToJsonName: underscores dropped, the ASCII letter after each one upper-cased. */
export function jsonName(name: string): string {
  let out = "";
  let upper = false;
  for (const c of name) {
    if (c === "_") upper = true;
    else {
      out += upper && c >= "a" && c <= "z" ? c.toUpperCase() : c;
      upper = false;
    }
  }
  return out;
}
