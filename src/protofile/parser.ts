// A .proto file -> the FileDescriptorProto protoc's parser would build from it, before linking:
// proto2, proto3 and editions; package; import/public/weak; options (aggregate `{...}` values
// kept as text format); messages with nested types, labels, proto3 `optional` (synthetic oneof),
// map<K,V> (a nested *Entry message), oneofs, groups, reserved, extension ranges, extend blocks;
// enums; services. Type names stay as written: the linker resolves them across files.
import { create, isFieldSet } from "@bufbuild/protobuf";
import {
  DescriptorProto_ExtensionRangeSchema,
  DescriptorProto_ReservedRangeSchema,
  DescriptorProtoSchema,
  Edition,
  EnumDescriptorProto_EnumReservedRangeSchema,
  EnumDescriptorProtoSchema,
  EnumValueDescriptorProtoSchema,
  FieldDescriptorProto_Label as Label,
  FieldDescriptorProto_Type as Type,
  FieldDescriptorProtoSchema,
  FileDescriptorProtoSchema,
  MessageOptionsSchema,
  MethodDescriptorProtoSchema,
  MethodOptionsSchema,
  OneofDescriptorProtoSchema,
  ServiceDescriptorProtoSchema,
  type DescriptorProto,
  type EnumDescriptorProto,
  type FieldDescriptorProto,
} from "@bufbuild/protobuf/wkt";
import type { Definition, FieldRef, OptionNamePart, OptionsHolder, OptionTarget, OptionValue, ParsedFile, Syntax } from "./ast.js";
import { formatDefault } from "./defaults.js";
import { TokenReader } from "./token-reader.js";
import type { Pos, Token } from "./tokenizer.js";

export const SCALAR_TYPES: Readonly<Record<string, Type>> = {
  double: Type.DOUBLE,
  float: Type.FLOAT,
  int64: Type.INT64,
  uint64: Type.UINT64,
  int32: Type.INT32,
  fixed64: Type.FIXED64,
  fixed32: Type.FIXED32,
  bool: Type.BOOL,
  string: Type.STRING,
  bytes: Type.BYTES,
  uint32: Type.UINT32,
  sfixed32: Type.SFIXED32,
  sfixed64: Type.SFIXED64,
  sint32: Type.SINT32,
  sint64: Type.SINT64,
};

/** Field numbers: 1..2^29-1. */
export const MAX_FIELD_NUMBER = 536_870_911;
const INT32_MAX = 2_147_483_647;
/** `to max` until the message's options are known (message_set_wire_format changes it). */
const MAX_SENTINEL = -1;

const LABELS: Readonly<Record<string, Label>> = { optional: Label.OPTIONAL, required: Label.REQUIRED, repeated: Label.REPEATED };

/** Where fields, nested types and groups of the statement being parsed go. */
interface FieldContext {
  /** Full name of the enclosing message, or the package for a top-level extend. */
  scope: string;
  message?: DescriptorProto;
  /** Where a group's or map entry's message goes: the message's nested types or the file's messages. */
  nestedTypes: DescriptorProto[];
  /** Where the field goes: the message's fields or a list of extensions. */
  fields: FieldDescriptorProto[];
  extendee?: { name: string; pos: Pos };
  oneofIndex?: number;
}

/** Parses one .proto file; throws a SwitchboardError (ERR_SB_BAD_PROTO) at the first error. */
export function parseProto(source: string, name: string, display: string = name): ParsedFile {
  return new Parser(source, name, display).parseFile();
}

class Parser extends TokenReader {
  private readonly file: ParsedFile;
  private syntax: Syntax = "proto2";

  constructor(source: string, name: string, display: string) {
    super(source, display);
    this.file = {
      name,
      display,
      syntax: "proto2",
      proto: create(FileDescriptorProtoSchema, { name }),
      importPos: [],
      fields: [],
      methods: [],
      messages: [],
      enums: [],
      options: [],
      definitions: [],
    };
  }

  parseFile(): ParsedFile {
    const proto = this.file.proto;
    if (this.at("syntax") || this.at("edition")) this.parseSyntax();
    let packageSeen = false;
    while (!this.atEnd()) {
      const t = this.tok;
      if (this.tryConsume(";")) continue;
      if (this.at("message")) this.parseMessage(this.pkg(), proto.messageType);
      else if (this.at("enum")) this.parseEnum(this.pkg(), proto.enumType);
      else if (this.at("service")) this.parseService();
      else if (this.at("extend")) this.parseExtend({ scope: this.pkg(), nestedTypes: proto.messageType, fields: proto.extension });
      else if (this.at("import")) this.parseImport();
      else if (this.at("option")) this.parseOptionStatement("file", [proto], this.pkg() ? `${this.pkg()}.dummy` : "dummy");
      else if (this.at("package")) {
        if (packageSeen) this.fail(t, "Multiple package definitions.");
        // Names declared so far were scoped without it (protoc would rescope them; we say so instead).
        if (this.file.definitions.length > 0) this.fail(t, "The package statement must come before the definitions of the file.");
        packageSeen = true;
        this.next();
        proto.package = this.dottedName("package name");
        const parts = proto.package.split(".");
        for (let i = 1; i <= parts.length; i++) this.define(parts.slice(0, i).join("."), "package", t);
        this.expect(";");
      } else if (this.at("syntax") || this.at("edition")) {
        this.fail(t, `"${t.text}" must be the first statement of the file.`);
      } else {
        this.fail(t, 'Expected top-level statement (e.g. "message").');
      }
    }
    this.file.syntax = this.syntax;
    return this.file;
  }

  // ---- file-level statements ----------------------------------------------------------------

  private parseSyntax(): void {
    const keyword = this.next();
    this.expect("=");
    const value = this.next();
    if (value.kind !== "string") this.fail(value, keyword.text === "edition" ? "Expected edition string." : "Expected syntax identifier.");
    const text = new TextDecoder().decode(value.bytes);
    this.expect(";");
    if (keyword.text === "syntax") {
      if (text === "proto2" || text === "proto3") this.syntax = text;
      else if (text === "editions") this.fail(value, 'Use `edition = "2023";` (a year) for editions, not syntax = "editions".');
      else this.fail(value, `Unrecognized syntax identifier "${text}".  This parser only recognizes "proto2" and "proto3".`);
      if (text === "proto3") this.file.proto.syntax = "proto3";
      return;
    }
    const edition = (Edition as unknown as Record<string, number>)[`EDITION_${text}`];
    if (!/^\d{4}$/.test(text) || edition === undefined) this.fail(value, `Unknown edition "${text}".`);
    this.syntax = "editions";
    this.file.proto.syntax = "editions";
    this.file.proto.edition = edition;
  }

  private parseImport(): void {
    const start = this.next();
    const proto = this.file.proto;
    let kind: "public" | "weak" | undefined;
    if (this.tryConsume("public")) kind = "public";
    else if (this.tryConsume("weak")) kind = "weak";
    const name = this.string("a file name");
    if (proto.dependency.includes(name)) this.fail(start, `Import "${name}" was listed twice.`);
    if (kind === "public") proto.publicDependency.push(proto.dependency.length);
    if (kind === "weak") proto.weakDependency.push(proto.dependency.length);
    proto.dependency.push(name);
    this.file.importPos.push(start);
    this.expect(";");
  }

  // ---- messages -----------------------------------------------------------------------------

  private parseMessage(scope: string, list: DescriptorProto[]): DescriptorProto {
    this.next();
    const nameTok = this.identifier("message name");
    const message = create(DescriptorProtoSchema, { name: nameTok.text });
    list.push(message);
    const fullName = join(scope, nameTok.text);
    this.define(fullName, "message", nameTok);
    this.parseMessageBody(message, fullName, nameTok);
    return message;
  }

  /** `{ ... }` of a message or group. */
  private parseMessageBody(message: DescriptorProto, fullName: string, at: Pos): void {
    this.file.messages.push({ message, fullName, pos: at, rangePos: at });
    this.expect("{");
    const ctx: FieldContext = { scope: fullName, message, nestedTypes: message.nestedType, fields: message.field };
    while (!this.tryConsume("}")) {
      if (this.atEnd()) this.fail(this.tok, "Reached end of input in message definition (missing '}').");
      if (this.tryConsume(";")) continue;
      if (this.at("message")) this.parseMessage(fullName, message.nestedType);
      else if (this.at("enum")) this.parseEnum(fullName, message.enumType);
      else if (this.at("extensions")) this.parseExtensions(message, fullName);
      else if (this.at("reserved")) this.parseReserved(message);
      else if (this.at("extend")) this.parseExtend({ scope: fullName, message: undefined, nestedTypes: message.nestedType, fields: message.extension });
      else if (this.at("option")) this.parseOptionStatement("message", [message], fullName);
      else if (this.at("oneof")) this.parseOneof(message, fullName);
      else this.parseField(ctx);
    }
    this.finishRanges(message);
    this.addSyntheticOneofs(message);
  }

  /** `to max` in extension and reserved ranges: 2^29-1, or INT32_MAX-1 for a message set. */
  private finishRanges(message: DescriptorProto): void {
    const messageSet = this.file.options.some(
      (o) => o.holders[0] === message && o.name.length === 1 && o.name[0]!.name === "message_set_wire_format" && o.value.kind === "ident" && o.value.text === "true",
    );
    const end = messageSet ? INT32_MAX : MAX_FIELD_NUMBER + 1;
    for (const r of [...message.extensionRange, ...message.reservedRange]) if (r.end === MAX_SENTINEL) r.end = end;
  }

  /** protoc's synthetic oneofs for proto3 `optional` fields: `_name`, prefixed with X until unique. */
  private addSyntheticOneofs(message: DescriptorProto): void {
    const names = new Set([...message.field.map((f) => f.name), ...message.oneofDecl.map((o) => o.name)]);
    for (const field of message.field) {
      if (!field.proto3Optional) continue;
      let name = `_${field.name}`;
      while (names.has(name)) name = `X${name}`;
      names.add(name);
      field.oneofIndex = message.oneofDecl.length;
      message.oneofDecl.push(create(OneofDescriptorProtoSchema, { name }));
    }
  }

  private parseOneof(message: DescriptorProto, scope: string): void {
    this.next();
    const nameTok = this.identifier("oneof name");
    const oneof = create(OneofDescriptorProtoSchema, { name: nameTok.text });
    const index = message.oneofDecl.length;
    message.oneofDecl.push(oneof);
    const fullName = join(scope, nameTok.text);
    this.define(fullName, "oneof", nameTok);
    this.expect("{");
    const ctx: FieldContext = { scope, message, nestedTypes: message.nestedType, fields: message.field, oneofIndex: index };
    let count = 0;
    while (!this.tryConsume("}")) {
      if (this.atEnd()) this.fail(this.tok, "Reached end of input in oneof definition (missing '}').");
      if (this.tryConsume(";")) continue;
      if (this.at("option")) {
        this.parseOptionStatement("oneof", [oneof], fullName);
        continue;
      }
      this.parseField(ctx);
      count++;
    }
    if (count === 0) this.fail(nameTok, "Oneof must have at least one field.");
  }

  private parseExtend(ctx: FieldContext): void {
    const start = this.next();
    const extendeePos = this.tok;
    const extendee = this.typeName("extendee type");
    this.expect("{");
    let count = 0;
    while (!this.tryConsume("}")) {
      if (this.atEnd()) this.fail(this.tok, "Reached end of input in extend definition (missing '}').");
      if (this.tryConsume(";")) continue;
      if (this.at("option") || this.at("message") || this.at("enum") || this.at("oneof")) this.fail(this.tok, `"${this.tok.text}" is not allowed in an extend block.`);
      this.parseField({ ...ctx, extendee: { name: extendee, pos: extendeePos } });
      count++;
    }
    if (count === 0) this.fail(start, "Expected at least one field in an extend block.");
  }

  private parseField(ctx: FieldContext): void {
    const start = this.tok;
    let label: Label | undefined;
    let proto3Optional = false;
    if (this.tok.kind === "ident" && this.tok.text in LABELS) {
      const labelTok = this.next();
      if (ctx.oneofIndex !== undefined) this.fail(labelTok, "Fields in oneofs must not have labels (required / optional / repeated).");
      label = LABELS[labelTok.text]!;
      if (this.syntax === "proto3" && label === Label.REQUIRED) this.fail(this.tok, "Required fields are not allowed in proto3.");
      if (this.syntax === "editions" && label !== Label.REPEATED) {
        this.fail(labelTok, `Label "${labelTok.text}" is not supported in editions: singular fields have explicit presence by default; use features.field_presence instead.`);
      }
      if (this.syntax === "proto3" && label === Label.OPTIONAL) proto3Optional = true;
    }

    // The type: map<K, V>, group, a scalar, or a message/enum name.
    const typeTok = this.tok;
    if (this.at("map")) {
      this.next();
      if (this.at("<")) return this.parseMapField(ctx, start, label);
      return this.parseFieldRest(ctx, label, proto3Optional, { name: "map", pos: typeTok });
    }
    if (this.at("group")) {
      this.next();
      return this.parseGroup(ctx, start, typeTok, label);
    }
    if (label === undefined && ctx.oneofIndex === undefined && this.syntax === "proto2") {
      this.fail(start, 'Expected "required", "optional", or "repeated".');
    }
    const scalar = this.tok.kind === "ident" ? SCALAR_TYPES[this.tok.text] : undefined;
    if (scalar !== undefined) {
      this.next();
      return this.parseFieldRest(ctx, label, proto3Optional, { scalar });
    }
    const name = this.typeName("field type");
    this.parseFieldRest(ctx, label, proto3Optional, { name, pos: typeTok });
  }

  private parseFieldRest(
    ctx: FieldContext,
    label: Label | undefined,
    proto3Optional: boolean,
    type: { scalar: Type } | { name: string; pos: Pos },
  ): void {
    const nameTok = this.identifier("field name");
    this.expect("=");
    const numberTok = this.tok;
    const number = this.fieldNumber();
    const field = create(FieldDescriptorProtoSchema, { name: nameTok.text, number, label: label ?? Label.OPTIONAL });
    if ("scalar" in type) field.type = type.scalar;
    else field.typeName = type.name;
    if (proto3Optional) field.proto3Optional = true;
    const ref = this.addField(ctx, field, nameTok, numberTok, "scalar" in type ? undefined : type.pos);
    if (this.at("[")) this.parseFieldOptions(ref);
    this.expect(";");
  }

  private addField(ctx: FieldContext, field: FieldDescriptorProto, nameTok: Token, numberTok: Pos, typePos: Pos | undefined): FieldRef {
    if (ctx.oneofIndex !== undefined) field.oneofIndex = ctx.oneofIndex;
    if (ctx.extendee) field.extendee = ctx.extendee.name;
    ctx.fields.push(field);
    const fullName = join(ctx.scope, field.name);
    this.define(fullName, ctx.extendee ? "extension" : "field", nameTok);
    const ref: FieldRef = { field, relativeTo: fullName, namePos: nameTok, numberPos: numberTok, scope: ctx.scope };
    if (typePos) ref.typePos = typePos;
    if (ctx.extendee) ref.extendeePos = ctx.extendee.pos;
    else if (ctx.message) ref.message = ctx.message;
    this.file.fields.push(ref);
    return ref;
  }

  private parseGroup(ctx: FieldContext, start: Pos, groupPos: Pos, label: Label | undefined): void {
    if (this.syntax === "proto3") this.fail(groupPos, "Groups are not supported in proto3 syntax.");
    if (this.syntax === "editions") this.fail(groupPos, "Group syntax is not supported in editions: use a message field with features.message_encoding = DELIMITED.");
    if (label === undefined && ctx.oneofIndex === undefined) this.fail(start, 'Expected "required", "optional", or "repeated".');
    const nameTok = this.identifier("group name");
    if (!/^[A-Z]/.test(nameTok.text)) this.fail(nameTok, "Group names must start with a capital letter.");
    this.expect("=");
    const numberTok = this.tok;
    const number = this.fieldNumber();
    const groupFullName = join(ctx.scope, nameTok.text);
    const field = create(FieldDescriptorProtoSchema, {
      name: nameTok.text.toLowerCase(),
      number,
      label: label ?? Label.OPTIONAL,
      type: Type.GROUP,
      typeName: `.${groupFullName}`,
    });
    const ref = this.addField(ctx, field, nameTok, numberTok, undefined);
    if (this.at("[")) this.parseFieldOptions(ref);
    const message = create(DescriptorProtoSchema, { name: nameTok.text });
    ctx.nestedTypes.push(message);
    this.define(groupFullName, "message", nameTok);
    this.parseMessageBody(message, groupFullName, nameTok);
  }

  private parseMapField(ctx: FieldContext, start: Pos, label: Label | undefined): void {
    if (label !== undefined) this.fail(start, "Field labels (required/optional/repeated) are not allowed on map fields.");
    if (ctx.oneofIndex !== undefined) this.fail(start, "Map fields are not allowed in oneofs.");
    if (ctx.extendee) this.fail(start, "Map fields are not allowed to be extensions.");
    this.expect("<");
    const keyName = this.typeName("map key type");
    const key = SCALAR_TYPES[keyName];
    if (key === undefined || key === Type.FLOAT || key === Type.DOUBLE || key === Type.BYTES) {
      this.fail(start, "Key in map fields cannot be float/double, bytes or message types.");
    }
    this.expect(",");
    const valueTok = this.tok;
    const valueName = this.typeName("map value type");
    this.expect(">");
    const nameTok = this.identifier("field name");
    this.expect("=");
    const numberTok = this.tok;
    const number = this.fieldNumber();

    const entryName = mapEntryName(nameTok.text);
    const entryFullName = join(ctx.scope, entryName);
    const entry = create(DescriptorProtoSchema, { name: entryName, options: create(MessageOptionsSchema, { mapEntry: true }) });
    const keyField = create(FieldDescriptorProtoSchema, { name: "key", number: 1, label: Label.OPTIONAL, type: key });
    const valueField = create(FieldDescriptorProtoSchema, { name: "value", number: 2, label: Label.OPTIONAL });
    const valueScalar = SCALAR_TYPES[valueName];
    if (valueScalar !== undefined) valueField.type = valueScalar;
    else valueField.typeName = valueName;
    const entryCtx: FieldContext = { scope: entryFullName, message: entry, nestedTypes: entry.nestedType, fields: entry.field };
    this.define(entryFullName, "message", nameTok);
    this.addField(entryCtx, keyField, nameTok, numberTok, undefined).isMapEntryField = true;
    this.addField(entryCtx, valueField, nameTok, numberTok, valueScalar === undefined ? valueTok : undefined).isMapEntryField = true;
    this.file.messages.push({ message: entry, fullName: entryFullName, pos: nameTok, rangePos: nameTok });

    const field = create(FieldDescriptorProtoSchema, { name: nameTok.text, number, label: Label.REPEATED, type: Type.MESSAGE, typeName: `.${entryFullName}` });
    const ref = this.addField(ctx, field, nameTok, numberTok, undefined);
    if (this.at("[")) this.parseFieldOptions(ref);
    this.expect(";");
    ctx.nestedTypes.push(entry);
  }

  /** `[a = 1, (b).c = "x", default = 5, json_name = "x"]` */
  private parseFieldOptions(ref: FieldRef): void {
    this.expect("[");
    const field = ref.field;
    let defaultSeen = false;
    do {
      const at = this.tok;
      if (this.at("default") || this.at("json_name")) {
        const which = this.next().text;
        if (this.at("=")) {
          this.next();
          if (which === "default") {
            if (defaultSeen) this.fail(at, 'Already set option "default".');
            defaultSeen = true;
            this.parseDefault(ref, at);
          }
          else {
            if (ref.jsonNamePos) this.fail(at, 'Already set option "json_name".');
            ref.jsonNamePos = at;
            field.jsonName = this.string("string for JSON name");
          }
          continue;
        }
        // `default.x = ...` or the like: an ordinary option name that happens to start so.
        this.parseOptionRest("field", [field], ref.relativeTo, [{ name: which, extension: false, pos: at }]);
        continue;
      }
      this.parseOptionRest("field", [field], ref.relativeTo, []);
    } while (this.tryConsume(","));
    this.expect("]");
  }

  private parseDefault(ref: FieldRef, at: Pos): void {
    const field = ref.field;
    if (this.syntax === "proto3") this.fail(this.tok, "Explicit default values are not allowed in proto3.");
    if (field.label === Label.REPEATED) this.fail(at, "Repeated fields can't have default values.");
    if (field.type === Type.GROUP || field.type === Type.MESSAGE) this.fail(at, "Messages can't have default values.");
    if (!isFieldSet(field, FieldDescriptorProtoSchema.field.type)) {
      // A message or an enum: known once linked. Keep the token as written.
      const t = this.next();
      ref.pendingDefault = { text: t.text, pos: t };
      return;
    }
    const value = this.optionValue(true);
    field.defaultValue = formatDefault(field.type, value, (pos, message) => this.fail(pos, message));
  }

  // ---- reserved and extension ranges -------------------------------------------------------

  private parseExtensions(message: DescriptorProto, scope: string): void {
    this.next();
    if (this.syntax === "proto3") this.fail(this.tok, "Extension ranges are not allowed in proto3.");
    const ranges = [];
    do {
      const [start, end] = this.range(MAX_SENTINEL, false);
      const r = create(DescriptorProto_ExtensionRangeSchema, { start, end: end === MAX_SENTINEL ? end : end + 1 });
      ranges.push(r);
      message.extensionRange.push(r);
    } while (this.tryConsume(","));
    if (this.at("[")) {
      this.next();
      do this.parseOptionRest("extension_range", ranges, scope, []);
      while (this.tryConsume(","));
      this.expect("]");
    }
    this.expect(";");
  }

  private parseReserved(message: DescriptorProto): void {
    this.next();
    if (this.tok.kind === "string" || this.tok.kind === "ident") {
      message.reservedName.push(...this.reservedNames());
      return;
    }
    do {
      const [start, end] = this.range(MAX_SENTINEL, false);
      message.reservedRange.push(create(DescriptorProto_ReservedRangeSchema, { start, end: end === MAX_SENTINEL ? end : end + 1 }));
    } while (this.tryConsume(","));
    this.expect(";");
  }

  private reservedNames(): string[] {
    const names: string[] = [];
    do {
      const t = this.tok;
      if (t.kind === "ident" && this.syntax !== "editions") this.fail(t, "Reserved names must be string literals. (Only editions supports identifiers.)");
      if (t.kind === "string" && this.syntax === "editions") this.fail(t, "Reserved names must be identifiers in editions, not string literals.");
      const name = t.kind === "ident" ? this.next().text : this.string("field name");
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) this.fail(t, `Reserved name "${name}" is not a valid identifier.`);
      names.push(name);
    } while (this.tryConsume(","));
    this.expect(";");
    return names;
  }

  /** `N`, `N to M` or `N to max` (inclusive); `max` is returned as `max`. */
  private range(max: number, signed: boolean): [number, number] {
    const start = this.integer(signed, "field number range");
    if (!this.tryConsume("to")) return [start, start];
    if (this.tryConsume("max")) return [start, max];
    return [start, this.integer(signed, "field number range end")];
  }

  // ---- enums --------------------------------------------------------------------------------

  private parseEnum(scope: string, list: EnumDescriptorProto[]): void {
    this.next();
    const nameTok = this.identifier("enum name");
    const enumType = create(EnumDescriptorProtoSchema, { name: nameTok.text });
    list.push(enumType);
    const fullName = join(scope, nameTok.text);
    this.define(fullName, "enum", nameTok);
    const ref = { enumType, fullName, pos: nameTok as Pos, valuePos: [] as Pos[] };
    this.file.enums.push(ref);
    this.expect("{");
    while (!this.tryConsume("}")) {
      if (this.atEnd()) this.fail(this.tok, "Reached end of input in enum definition (missing '}').");
      if (this.tryConsume(";")) continue;
      if (this.at("option")) {
        this.parseOptionStatement("enum", [enumType], fullName);
        continue;
      }
      if (this.at("reserved")) {
        this.next();
        if (this.tok.kind === "string" || this.tok.kind === "ident") {
          enumType.reservedName.push(...this.reservedNames());
          continue;
        }
        do {
          const [start, end] = this.range(INT32_MAX, true);
          enumType.reservedRange.push(create(EnumDescriptorProto_EnumReservedRangeSchema, { start, end }));
        } while (this.tryConsume(","));
        this.expect(";");
        continue;
      }
      const valueTok = this.identifier("enum constant name");
      this.expect("=");
      const numberTok = this.tok;
      const number = this.integer(true, "integer");
      if (enumType.value.length === 0 && number !== 0 && this.syntax === "proto3") this.fail(numberTok, "The first enum value must be zero in proto3.");
      const value = create(EnumValueDescriptorProtoSchema, { name: valueTok.text, number });
      enumType.value.push(value);
      ref.valuePos.push(numberTok);
      // Enum values are siblings of their enum (C++ scoping).
      this.define(join(scope, valueTok.text), "enum_value", valueTok);
      if (this.at("[")) {
        this.next();
        do this.parseOptionRest("enum_value", [value], join(scope, valueTok.text), []);
        while (this.tryConsume(","));
        this.expect("]");
      }
      this.expect(";");
    }
    if (enumType.value.length === 0) this.fail(nameTok, "Enums must contain at least one value.");
  }

  // ---- services -----------------------------------------------------------------------------

  private parseService(): void {
    this.next();
    const nameTok = this.identifier("service name");
    const service = create(ServiceDescriptorProtoSchema, { name: nameTok.text });
    this.file.proto.service.push(service);
    const fullName = join(this.pkg(), nameTok.text);
    this.define(fullName, "service", nameTok);
    this.expect("{");
    while (!this.tryConsume("}")) {
      if (this.atEnd()) this.fail(this.tok, "Reached end of input in service definition (missing '}').");
      if (this.tryConsume(";")) continue;
      if (this.at("option")) {
        this.parseOptionStatement("service", [service], fullName);
        continue;
      }
      if (!this.at("rpc")) this.fail(this.tok, 'Expected "rpc" or "option".');
      this.next();
      const methodTok = this.identifier("method name");
      const method = create(MethodDescriptorProtoSchema, { name: methodTok.text });
      service.method.push(method);
      const methodName = join(fullName, methodTok.text);
      this.define(methodName, "method", methodTok);
      this.expect("(");
      if (this.tryConsume("stream")) method.clientStreaming = true;
      const inputPos = this.tok;
      method.inputType = this.typeName("message type");
      this.expect(")");
      this.expect("returns");
      this.expect("(");
      if (this.tryConsume("stream")) method.serverStreaming = true;
      const outputPos = this.tok;
      method.outputType = this.typeName("message type");
      this.expect(")");
      this.file.methods.push({ method, relativeTo: methodName, inputPos, outputPos });
      if (this.tryConsume("{")) {
        // protoc gives a method with a body options, even an empty one.
        method.options ??= create(MethodOptionsSchema);
        while (!this.tryConsume("}")) {
          if (this.atEnd()) this.fail(this.tok, "Reached end of input in method options (missing '}').");
          if (this.tryConsume(";")) continue;
          if (!this.at("option")) this.fail(this.tok, 'Expected "option" in a method body.');
          this.parseOptionStatement("method", [method], methodName);
        }
      } else {
        this.expect(";");
      }
    }
  }

  // ---- options ------------------------------------------------------------------------------

  /** `option NAME = VALUE;` */
  private parseOptionStatement(target: OptionTarget, holders: OptionsHolder[], relativeTo: string): void {
    this.next();
    this.parseOptionRest(target, holders, relativeTo, []);
    this.expect(";");
  }

  /** NAME = VALUE, where `parts` already holds the name's first parts if the caller read them. */
  private parseOptionRest(target: OptionTarget, holders: OptionsHolder[], relativeTo: string, parts: OptionNamePart[]): void {
    if (parts.length === 0 || this.at(".")) {
      if (parts.length > 0) this.next();
      do {
        const at = this.tok;
        if (this.tryConsume("(")) {
          let name = this.tryConsume(".") ? "." : "";
          name += this.dottedName("option name");
          this.expect(")");
          parts.push({ name, extension: true, pos: at });
        } else {
          parts.push({ name: this.identifier("option name").text, extension: false, pos: at });
        }
      } while (this.tryConsume("."));
    }
    this.expect("=");
    this.file.options.push({ target, holders, relativeTo, name: parts, value: this.optionValue(false) });
  }

  // ---- scope ----------------------------------------------------------------------------------

  private pkg(): string {
    return this.file.proto.package ?? "";
  }

  private define(fullName: string, kind: Definition["kind"], pos: Pos): void {
    this.file.definitions.push({ fullName, kind, pos: { line: pos.line, col: pos.col } });
  }
}

/** protoc's MapEntryName: `foo_bar` -> `FooBarEntry`. */
export function mapEntryName(field: string): string {
  let out = "";
  let upper = true;
  for (const c of field) {
    if (c === "_") upper = true;
    else {
      out += upper && c >= "a" && c <= "z" ? c.toUpperCase() : c;
      upper = false;
    }
  }
  return `${out}Entry`;
}

export function join(scope: string, name: string): string {
  return scope ? `${scope}.${name}` : name;
}
