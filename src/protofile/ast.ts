// What the parser hands the linker: the FileDescriptorProto as far as one file can tell (type
// names as written, options not yet interpreted), plus where each element was written, so
// errors found while linking still point at a line and column.
import type { DescriptorProto, EnumDescriptorProto, FieldDescriptorProto, FileDescriptorProto, MethodDescriptorProto } from "@bufbuild/protobuf/wkt";
import type { Pos } from "./tokenizer.js";

export type Syntax = "proto2" | "proto3" | "editions";

/** A value on the right of `option x = ...` or `[default = ...]`. */
export type OptionValue =
  | { kind: "ident"; text: string; negative: boolean; pos: Pos }
  | { kind: "int"; value: bigint; negative: boolean; pos: Pos }
  | { kind: "float"; value: number; negative: boolean; pos: Pos }
  | { kind: "string"; bytes: Uint8Array; pos: Pos }
  /** `{ ... }`: protobuf text format, re-joined from the tokens between the braces. */
  | { kind: "aggregate"; text: string; pos: Pos };

export interface OptionNamePart {
  name: string;
  /** `(pkg.ext)`: a custom option, found by name lookup. */
  extension: boolean;
  pos: Pos;
}

/** Which options message an option statement sets. */
export type OptionTarget = "file" | "message" | "field" | "oneof" | "enum" | "enum_value" | "service" | "method" | "extension_range";

/** An object of the descriptor with an `options` field. */
export interface OptionsHolder {
  options?: unknown;
}

export interface OptionStatement {
  target: OptionTarget;
  holders: OptionsHolder[];
  /** protoc's name scope: custom option names resolve relative to it. */
  relativeTo: string;
  name: OptionNamePart[];
  value: OptionValue;
}

export interface FieldRef {
  field: FieldDescriptorProto;
  /** The full name type names resolve relative to (protoc: the field's full name). */
  relativeTo: string;
  /** Where the type name was written; set when it must be resolved. */
  typePos?: Pos;
  extendeePos?: Pos;
  namePos: Pos;
  numberPos: Pos;
  /** The message declaring the field; undefined for an extension. */
  message?: DescriptorProto;
  /** Full name of the message, or of the scope an extension is declared in. */
  scope: string;
  /** A default value whose form depends on the (not yet resolved) type. */
  pendingDefault?: { text: string; pos: Pos };
  /** The position of `[json_name = ...]`, to reject it on extensions. */
  jsonNamePos?: Pos;
  isMapEntryField?: boolean;
}

export interface MethodRef {
  method: MethodDescriptorProto;
  relativeTo: string;
  inputPos: Pos;
  outputPos: Pos;
}

export interface MessageRef {
  message: DescriptorProto;
  fullName: string;
  pos: Pos;
  /** Positions of each `extensions` / `reserved` statement's first range. */
  rangePos: Pos;
}

export interface EnumRef {
  enumType: EnumDescriptorProto;
  fullName: string;
  pos: Pos;
  valuePos: Pos[];
}

export type SymbolKind = "package" | "message" | "enum" | "enum_value" | "service" | "method" | "field" | "oneof" | "extension";

export interface Definition {
  fullName: string;
  kind: SymbolKind;
  pos: Pos;
}

export interface ParsedFile {
  /** The name imports use (relative to an import path). */
  name: string;
  /** How errors name the file: the path it was read from. */
  display: string;
  syntax: Syntax;
  proto: FileDescriptorProto;
  /** Where each `import` was written, in the order of proto.dependency. */
  importPos: Pos[];
  fields: FieldRef[];
  methods: MethodRef[];
  messages: MessageRef[];
  enums: EnumRef[];
  options: OptionStatement[];
  definitions: Definition[];
}
